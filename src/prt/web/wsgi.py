"""WSGI entry point for gunicorn (``prt serve``): ``prt.web.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prt.web.settings")
application = get_wsgi_application()
