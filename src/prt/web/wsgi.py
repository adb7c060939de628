"""WSGI entry point: ``prt.web.wsgi:application`` (``prt serve`` serves it through prt.web.server)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prt.web.settings")
application = get_wsgi_application()
