"""Django's PostgreSQL backend, its health check costing no round trip when the connection is quiet,
and the hot path's statements prepared on the server (base.py)."""
