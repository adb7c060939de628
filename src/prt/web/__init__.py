"""The trial platform's web edge: a Django project (settings module ``prt.web.settings``).

Apps, each small and explicit: :mod:`prt.web.accounts` (sites, users, roles, login throttling),
:mod:`prt.web.participants`, :mod:`prt.web.audit` (append-only trail) and :mod:`prt.web.diary`
(daily pain). The web calls the domain packages (``prt.instruments``, ``prt.trial``, ...) and never
re-implements them; the domain packages never import it (tests/test_architecture.py).
Importing this package does not import Django, so ``prt --help`` stays fast. See docs/web.md.
"""
