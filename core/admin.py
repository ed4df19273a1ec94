"""Admin for projects, memberships, tokens and the (read-only) audit trail."""

from django.contrib import admin
from django.utils.html import format_html

from .admin_base import ProjectScopedAdmin
from .context import Actor
from .models import ApiToken, AuditEvent, Membership, Project
from .roles import Capability
from .selectors import has_capability, project_ids_with
from .services import PROJECT_EDITABLE, api_token_revoke, membership_grant, membership_revoke, project_update


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
    """Members see their projects; project admins change the name, description and approvals required."""

    project_field = "pk"
    list_display = ["slug", "name", "required_approvals", "created_at"]
    search_fields = ["slug", "name"]
    fields = ["slug", "name", "description", "required_approvals", "created_at"]
    readonly_fields = ["slug", "created_at"]
    inlines = [MembershipInline]

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return False
        actor = Actor.from_request(request)
        return has_capability(actor=actor, project=obj, capability=Capability.MANAGE_POLICIES)

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in PROJECT_EDITABLE}
        if changes:
            project_update(actor=Actor.from_request(request), project=Project.objects.get(pk=obj.pk), **changes)


@admin.register(Membership)
class MembershipAdmin(ProjectScopedAdmin):
    """Project admins grant and revoke roles here; each change goes through the audited services."""

    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__slug"]
    list_select_related = ["user", "project"]
    fields = ["project", "user", "role"]
    autocomplete_fields = []

    def _managed(self, request) -> set[int]:
        return project_ids_with(actor=Actor.from_request(request), capability=Capability.MANAGE_MEMBERS)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser or bool(self._managed(request))

    def has_delete_permission(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        managed = self._managed(request)
        return bool(managed) if obj is None else obj.project_id in managed

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project" and not request.user.is_superuser:
            kwargs["queryset"] = Project.objects.filter(pk__in=self._managed(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        membership = membership_grant(
            actor=Actor.from_request(request), project=obj.project, user=obj.user, role=obj.role
        )
        obj.pk = membership.pk

    def delete_model(self, request, obj):
        membership_revoke(actor=Actor.from_request(request), membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            membership_revoke(actor=Actor.from_request(request), membership=membership)


@admin.register(ApiToken)
class ApiTokenAdmin(ProjectScopedAdmin):
    """Project admins see their projects' tokens and revoke them (the secret itself is never stored)."""

    list_display = ["prefix", "user", "project", "name", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["project"]
    search_fields = ["prefix", "user__username", "name"]
    list_select_related = ["user", "project"]
    exclude = ["key_hash"]
    capability = Capability.MANAGE_MEMBERS
    actions = ["revoke_tokens"]

    @admin.action(description="Revoke the selected tokens")
    def revoke_tokens(self, request, queryset):
        actor = Actor.from_request(request)
        for token in queryset:
            api_token_revoke(actor=actor, token=token)
        self.message_user(request, f"{queryset.count()} token(s) revoked.")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
