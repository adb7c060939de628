from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "prt.web.audit"
    label = "audit"
    verbose_name = "Audit trail"
