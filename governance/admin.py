"""Admin for projects, memberships, tokens and the (read-only) audit trail."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from .admin_base import ProjectScopedAdmin, badge
from .context import Actor
from .errors import DomainError
from .models import ApiToken, AuditEvent, Membership, Policy, PolicyRule, Project, ReviewQueueItem
from .policies import policy_save
from .policy_engine import describe
from .review import with_review_summary
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


@admin.register(ReviewQueueItem)
class ReviewQueueAdmin(ProjectScopedAdmin):
    """Versions waiting for a decision, oldest first, with their headline evidence and failing rules."""

    project_field = "dataset__project"
    list_display = ["version_link", "status", "created_at", "registered_by", "quality", "privacy", "verdict"]
    list_filter = ["status", "dataset__project"]
    list_select_related = ["dataset__project", "registered_by"]
    ordering = ["created_at"]
    list_display_links = None

    def get_queryset(self, request):
        pending = super().get_queryset(request).filter(status__in=["pending_review", "needs_rereview"])
        return with_review_summary(pending)

    @admin.display(description="version")
    def version_link(self, version):
        url = reverse("admin:registry_datasetversion_change", args=[version.pk])
        return format_html('<a href="{}">{}</a>', url, version)

    @admin.display(description="quality")
    def quality(self, version):
        value = (version.latest_metrics or {}).get("quality.overall")
        return badge("—" if value is None else f"{value:.3f}", None if value is None else value >= 0.8)

    @admin.display(description="privacy")
    def privacy(self, version):
        metrics = version.latest_metrics or {}
        copies, dcr = metrics.get("privacy.exact_copies"), metrics.get("privacy.dcr_baseline_protection")
        if copies is None and dcr is None:
            return badge("not evaluated", None)
        text = (
            f"{copies if copies is not None else '—'} copies · DCR {dcr:.2f}" if dcr is not None else f"{copies} copies"
        )
        return badge(text, copies == 0 and (dcr is None or dcr >= 0.3))

    @admin.display(description="policy")
    def verdict(self, version):
        if version.latest_verdict is None:
            return badge("no check", None)
        failing = [o for o in version.latest_outcomes or [] if o["verdict"] != "pass"]
        rules = format_html_join(
            ", ",
            '<span title="{}">{}{}</span>',
            ((describe(o), o["metric"], " ⛔" if o["severity"] == "block" else "") for o in failing),
        )
        return format_html(
            "{}<br><small>{}</small>", badge(version.latest_verdict.upper(), version.latest_verdict == "pass"), rules
        )


class PolicyRuleInline(admin.TabularInline):
    model = PolicyRule
    extra = 1
    min_num = 1
    validate_min = True
    fields = ["position", "metric", "operator", "threshold", "severity", "explanation"]

    def has_add_permission(self, request, obj=None):
        return PolicyAdmin.can_manage(request, obj)

    def has_change_permission(self, request, obj=None):
        return PolicyAdmin.can_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return PolicyAdmin.can_manage(request, obj)

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    """Global policies (superusers) and project policies (project admins); saving makes a new version."""

    list_display = ["name", "scope", "version", "is_active", "rule_count", "updated_at"]
    list_filter = ["is_active", "project"]
    search_fields = ["name", "description"]
    inlines = [PolicyRuleInline]
    fields = ["project", "name", "description", "version", "is_active"]
    readonly_fields = ["version", "is_active"]

    @staticmethod
    def can_manage(request, obj=None) -> bool:
        if request.user.is_superuser:
            return True
        managed = project_ids_with(actor=Actor.from_request(request), capability=Capability.MANAGE_POLICIES)
        if obj is None:
            return bool(managed)
        return obj.project_id is not None and obj.project_id in managed

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("project").annotate(rule_total=Count("rules"))
        if request.user.is_superuser:
            return queryset
        readable = project_ids_with(actor=Actor.from_request(request), capability=Capability.READ)
        return queryset.filter(Q(project__isnull=True) | Q(project__in=readable))

    def has_module_permission(self, request):
        return request.user.is_active and (
            request.user.is_superuser
            or bool(project_ids_with(actor=Actor.from_request(request), capability=Capability.READ))
        )

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.can_manage(request)

    def has_change_permission(self, request, obj=None):
        return self.can_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead, so old checks keep meaning something

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "project"] if obj is not None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project" and not request.user.is_superuser:
            managed = project_ids_with(actor=Actor.from_request(request), capability=Capability.MANAGE_POLICIES)
            kwargs["queryset"] = Project.objects.filter(pk__in=managed)
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="scope")
    def scope(self, policy):
        return policy.project.slug if policy.project_id else "global"

    @admin.display(description="rules")
    def rule_count(self, policy):
        return policy.rule_total

    def save_model(self, request, obj, form, change):
        pass  # saved with its rules in save_related, through the versioning service

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            # policy_save writes the rules; the admin's change message still reads these attributes.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        rows = [row for formset in formsets for row in formset.cleaned_data if row and not row.get("DELETE")]
        rows.sort(key=lambda row: row.get("position") or 0)
        rules = [{k: row[k] for k in ("metric", "operator", "threshold", "severity", "explanation")} for row in rows]
        try:
            policy = policy_save(
                actor=Actor.from_request(request),
                project=form.instance.project,
                name=form.cleaned_data["name"],
                description=form.cleaned_data.get("description", ""),
                rules=rules,
                policy=Policy.objects.get(pk=form.instance.pk) if change else None,
            )
        except DomainError as exc:
            raise ValidationError(exc.reason) from exc
        form.instance.pk = policy.pk
