"""Admin for policies and the review queue, and the review and revocation actions on registry records.

The version and source pages are the registry's admin pages (registry.admin) extended with the workflow's
actions: this module registers them again with those actions, so the admin and the API call the same services.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.admin_base import ProjectScopedAdmin, badge
from core.context import Actor
from core.errors import DomainError
from core.models import Project
from core.roles import Capability
from core.selectors import has_capability, project_ids_with
from registry.admin import DatasetVersionAdmin, SourceDatasetAdmin
from registry.models import DatasetVersion, SourceDataset, VersionStatus

from .impact import visible_impact
from .models import ImpactFlag, Policy, PolicyRule, ReviewQueueItem
from .policies import policy_save
from .policy_engine import describe
from .review import review_state, with_review_summary
from .revocations import source_dataset_revoke
from .workflow import version_decide


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


# --- Registry records, with the workflow's actions ------------------------------------------------------------

admin.site.unregister(SourceDataset)
admin.site.unregister(DatasetVersion)


@admin.register(SourceDataset)
class ReviewedSourceDatasetAdmin(SourceDatasetAdmin):
    """Real source datasets; reviewers and project admins revoke one here (e.g. a GDPR erasure)."""

    change_form_template = "admin/registry/sourcedataset/change_form.html"

    def get_urls(self):
        revoke = path(
            "<path:object_id>/revoke/",
            self.admin_site.admin_view(self.revoke_view),
            name="registry_sourcedataset_revoke",
        )
        return [revoke, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        source = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if source is not None:
            actor = Actor.from_request(request)
            extra["can_revoke"] = has_capability(actor=actor, project=source.project, capability=Capability.REVOKE)
            # Only the flags on versions this user may read: other projects' versions are theirs to review.
            readable = project_ids_with(actor=actor, capability=Capability.READ)
            extra["impact"] = ImpactFlag.objects.filter(
                cause_source=source, version__dataset__project__in=readable
            ).select_related("version__dataset__project")
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def revoke_view(self, request, object_id):
        source = self.get_object(request, object_id)
        if source is None or not self.has_view_permission(request, source):
            raise PermissionDenied
        target = reverse("admin:registry_sourcedataset_change", args=[source.pk])
        if request.method == "POST":
            actor = Actor.from_request(request)
            try:
                outcome = source_dataset_revoke(actor=actor, source=source, reason=request.POST.get("reason", ""))
            except DomainError as exc:
                self.message_user(request, f"Revocation refused: {exc.reason}", messages.ERROR)
            else:
                impact = visible_impact(actor=actor, entries=outcome.flagged, consumers=outcome.impact.consumers)
                shown = sum(1 for item in impact["versions"] if item["flagged"])
                note = f"Source {source} revoked; {shown} downstream versions flagged for re-review (listed below)"
                if impact["hidden_flagged"]:
                    note += f" and {impact['hidden_flagged']} more in projects you cannot read"
                self.message_user(request, note + ".", messages.SUCCESS)
        return HttpResponseRedirect(target)


@admin.register(DatasetVersion)
class ReviewedDatasetVersionAdmin(DatasetVersionAdmin):
    """A version's page with its review panel; decisions go through the same workflow service as the API."""

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="registry_datasetversion_decide",
            )
        ]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if version is not None:
            extra["review"] = review_state(version=version, actor=Actor.from_request(request))
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def decide_view(self, request, object_id):
        """The admin's Approve / Reject / Request changes / Deprecate / Revoke buttons: the API's service."""
        version = self.get_object(request, object_id)
        if version is None or not self.has_view_permission(request, version):
            raise PermissionDenied
        target = reverse("admin:registry_datasetversion_change", args=[version.pk])
        if request.method != "POST":
            return HttpResponseRedirect(target)
        action = request.POST.get("action", "")
        actor = Actor.from_request(request)
        try:
            outcome = version_decide(
                actor=actor,
                version=version,
                action=action,
                comment=request.POST.get("comment", ""),
                waiver=request.POST.get("waiver", ""),
            )
        except DomainError as exc:
            self.message_user(request, f"{action.replace('_', ' ').capitalize()} refused: {exc.reason}", messages.ERROR)
            return HttpResponseRedirect(target)
        note = (
            f"{outcome.decision.get_action_display()} recorded; status is now {outcome.version.get_status_display()}."
        )
        if action == "approve" and outcome.approvals < outcome.required_approvals:
            note += f" Approvals {outcome.approvals} of {outcome.required_approvals}."
        self.message_user(request, note, messages.SUCCESS)
        if outcome.impact is not None:
            self._report_impact(request, actor, outcome)
        return HttpResponseRedirect(target)

    def _report_impact(self, request, actor, outcome):
        """One message per downstream version the user may read; other projects' only as counts."""
        impact = visible_impact(actor=actor, entries=outcome.flagged, consumers=outcome.impact.consumers)
        for item in impact["versions"]:
            name = f"Downstream: {item['project']}/{item['dataset']} v{item['number']}"
            if item["flagged"]:
                change = f"{VersionStatus(item['previous_status']).label} → {VersionStatus(item['status']).label}"
                self.message_user(request, f"{name} {change}", messages.WARNING)
            else:
                label = VersionStatus(item["status"]).label
                self.message_user(request, f"{name} {label}: not in use, left as it is", messages.INFO)
        if impact["hidden_versions"]:
            self.message_user(
                request,
                f"Downstream: {impact['hidden_versions']} versions in projects you cannot read "
                f"({impact['hidden_flagged']} flagged for re-review).",
                messages.WARNING,
            )
