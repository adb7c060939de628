"""The program app's API operations (a django-ninja router mounted on ``prt.web.api.api``)."""

from ninja import Router

router = Router(tags=["program"])
