"""Participants in the admin: every add and change is audited; a change needs a reason."""

from django import forms
from django.contrib import admin
from django.db import transaction

from prt.web.audit import trail
from prt.web.participants.models import Participant


class ParticipantAdminForm(forms.ModelForm):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Why this saved participant is changed (kept in the audit trail).")

    class Meta:
        model = Participant
        fields = ("study_id", "site", "user", "status")

    def clean(self):
        data = super().clean()
        changed = [name for name in self.changed_data if name != "reason"]
        if self.instance.pk and changed and not (data.get("reason") or "").strip():
            self.add_error("reason", "A reason is required to change a participant already saved.")
        return data


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    form = ParticipantAdminForm
    list_display = ("study_id", "site", "status")
    list_filter = ("site", "status")
    search_fields = ("study_id",)
    readonly_fields = ("arm", "created_at")  # the arm is set by randomization only

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = trail.snapshot(Participant.objects.get(pk=obj.pk)) if change else None
            super().save_model(request, obj, form, change)
            changes = trail.diff(before, trail.snapshot(obj))
            if changes:
                trail.record(request.user, "update" if change else "create", obj, changes,
                             form.cleaned_data.get("reason", ""))

    def has_delete_permission(self, request, obj=None):
        return False  # trial records are withdrawn, never deleted
