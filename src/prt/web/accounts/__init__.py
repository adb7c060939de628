"""Sites, users and their roles at each site; login throttling (docs/web.md)."""
