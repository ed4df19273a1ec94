"""Admin for projects, memberships, tokens and the (read-only) audit trail."""

from django.contrib import admin
from django.utils.html import format_html

from .admin_base import ProjectScopedAdmin
from .models import ApiToken, AuditEvent, Membership, Project
from .roles import Capability


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(ProjectScopedAdmin):
    project_field = "pk"
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    readonly_fields = ["slug", "name", "description", "created_at"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(ProjectScopedAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__slug"]
    list_select_related = ["user", "project"]


@admin.register(ApiToken)
class ApiTokenAdmin(ProjectScopedAdmin):
    list_display = [
        "prefix",
        "user",
        "project",
        "name",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["project"]
    search_fields = ["prefix", "user__username", "name"]
    list_select_related = ["user", "project"]
    exclude = ["key_hash"]
    capability = Capability.MANAGE_MEMBERS


@admin.register(AuditEvent)
class AuditEventAdmin(ProjectScopedAdmin):
    """The audit trail, read-only for everyone: the database refuses changes on PostgreSQL anyway."""

    project_field = "project_id"
    capability = Capability.READ_AUDIT
    list_display = [
        "sequence",
        "occurred_at",
        "action",
        "object_label",
        "project_slug",
        "actor_username",
        "actor_via",
    ]
    list_filter = ["action", "project_slug"]
    search_fields = ["action", "object_id", "object_repr", "actor_username", "request_id"]
    date_hierarchy = "occurred_at"
    ordering = ["-sequence"]
    readonly_fields = [
        "sequence",
        "occurred_at",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "project_slug",
        "actor_username",
        "actor_user_id",
        "actor_via",
        "request_id",
        "client_ip",
        "before_json",
        "after_json",
        "prev_hash",
        "hash",
    ]
    exclude = ["project_id"]

    @admin.display(description="object")
    def object_label(self, event):
        return format_html("{} <small>{}:{}</small>", event.object_repr, event.object_type, event.object_id)

    def _object_project_id(self, obj):
        return obj.project_id
