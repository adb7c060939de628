"""The audit trail in the admin: searchable, and read-only for everyone, superusers included."""

from django.contrib import admin

from prt.web.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "model", "object_id", "reason")
    list_filter = ("action", "model")
    search_fields = ("object_id", "model", "reason", "actor__username")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
