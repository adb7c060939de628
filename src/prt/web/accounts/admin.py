"""Admin (the admin role): sites, users and their roles. Sign-in throttled like the login page."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from prt.web.accounts.forms import AdminSignInForm
from prt.web.accounts.models import LoginThrottle, Membership, Site, User

admin.site.login_form = AdminSignInForm
admin.site.site_header = "PRT trial administration"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "timezone")
    search_fields = ("code", "name")


@admin.register(User)
class PrtUserAdmin(UserAdmin):
    inlines = [MembershipInline]

    def has_delete_permission(self, request, obj=None):
        return False  # users are deactivated, never deleted: the audit trail names them


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "site", "role")
    list_filter = ("site", "role")
    search_fields = ("user__username",)


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    """Locked usernames; an admin unlocks one by deleting its row."""

    list_display = ("username", "failures", "locked_until")
    readonly_fields = ("username", "failures", "first_failure_at", "locked_until")

    def has_add_permission(self, request):
        return False
