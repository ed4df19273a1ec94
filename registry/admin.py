"""Admin for the registry's records: searchable lists and a version page that shows provenance at a glance."""

import json

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from core.admin_base import ProjectScopedAdmin
from core.context import Actor
from core.roles import Capability
from core.selectors import project_ids_with

from .lineage.diagram import version_diagram
from .models import (
    Dataset,
    DatasetVersion,
    Evaluation,
    Generator,
    RegistrationJob,
    SourceDataset,
    VersionSource,
)
from .selectors import version_evidence


@admin.register(SourceDataset)
class SourceDatasetAdmin(ProjectScopedAdmin):
    """Real source datasets (governance adds revocation to this page)."""

    list_display = ["namespace", "name", "project", "contains_personal_data", "legal_basis", "revoked_at", "created_at"]
    list_filter = ["project", "contains_personal_data"]
    search_fields = ["namespace", "name", "owner"]
    list_select_related = ["project"]


@admin.register(Generator)
class GeneratorAdmin(ProjectScopedAdmin):
    list_display = ["name", "version", "project", "created_at"]
    list_filter = ["project", "name"]
    search_fields = ["name", "version"]
    list_select_related = ["project"]


class VersionInline(admin.TabularInline):
    model = DatasetVersion
    extra = 0
    fields = ["number", "status", "fingerprint", "row_count", "generator", "created_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Dataset)
class DatasetAdmin(ProjectScopedAdmin):
    list_display = ["name", "project", "owner", "license", "created_at"]
    list_filter = ["project"]
    search_fields = ["name", "description", "owner"]
    list_select_related = ["project"]
    inlines = [VersionInline]


class VersionSourceInline(admin.TabularInline):
    model = VersionSource
    extra = 0
    fields = ["source", "source_version"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ProjectScopedAdmin):
    """A version's provenance, lineage and evidence, read-only (governance adds the review panel and decisions)."""

    change_form_template = "admin/registry/datasetversion/change_form.html"

    project_field = "dataset__project"
    list_display = [
        "__str__",
        "status",
        "short_fingerprint",
        "row_count",
        "column_count",
        "generator",
        "registered_by",
        "created_at",
    ]
    list_filter = ["status", "dataset__project", "generator__name"]
    search_fields = ["id", "fingerprint", "dataset__name", "code_version"]
    list_select_related = ["dataset__project", "generator", "registered_by"]
    date_hierarchy = "created_at"
    inlines = [VersionSourceInline]
    fieldsets = [
        (None, {"fields": ["provenance", "id", "dataset", "number", "status"]}),
        ("Lineage", {"fields": ["lineage"]}),
        ("Evidence", {"fields": ["evidence"]}),
        (
            "Content",
            {
                "fields": [
                    "fingerprint",
                    "fingerprint_source",
                    "row_count",
                    "column_count",
                    "byte_count",
                    "format",
                    "storage_uri",
                    "stored_file",
                    "schema_table",
                    "schema_hash",
                ]
            },
        ),
        ("Generation", {"fields": ["generator", "parameters", "seed", "code_version", "lineage_run_id"]}),
        ("Registration", {"fields": ["registered_by", "registered_via", "created_at", "updated_at"]}),
    ]
    readonly_fields = [
        "provenance",
        "lineage",
        "evidence",
        "id",
        "dataset",
        "number",
        "status",
        "fingerprint",
        "fingerprint_source",
        "row_count",
        "column_count",
        "byte_count",
        "format",
        "storage_uri",
        "stored_file",
        "schema_table",
        "schema_hash",
        "generator",
        "parameters",
        "seed",
        "code_version",
        "lineage_run_id",
        "registered_by",
        "registered_via",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="fingerprint")
    def short_fingerprint(self, version):
        return format_html("<code title='{}'>{}…</code>", version.fingerprint, version.fingerprint[:12])

    @admin.display(description="provenance")
    def provenance(self, version):
        return render_to_string(
            "admin/registry/provenance.html",
            {
                "version": version,
                "links": version.source_links.select_related("source"),
                "parameters": json.dumps(version.generator_parameters, indent=2, sort_keys=True),
            },
        )

    def get_object(self, request, object_id, from_field=None):
        version = super().get_object(request, object_id, from_field)
        if version is not None:  # the lineage diagram draws only what this viewer may read
            version.viewer_projects = project_ids_with(actor=Actor.from_request(request), capability=Capability.READ)
        return version

    @admin.display(description="upstream and downstream")
    def lineage(self, version):
        readable = getattr(version, "viewer_projects", set())
        return mark_safe(version_diagram(version, readable=readable))  # noqa: S308 - autoescaping template

    @admin.display(description="evaluations")
    def evidence(self, version):
        evidence = version_evidence(version)
        columns = []
        if evidence.verified is not None:
            shapes = evidence.verified.results.get("quality", {}).get("column_shapes") or []
            columns = sorted((c for c in shapes if c.get("score") is not None), key=lambda c: c["score"])[:10]
        return render_to_string(
            "admin/registry/evidence.html",
            {"evidence": evidence, "headline": evidence.headline(), "worst_columns": columns},
        )

    @admin.display(description="generator parameters")
    def parameters(self, version):
        return format_html("<pre>{}</pre>", json.dumps(version.generator_parameters, indent=2, sort_keys=True))

    @admin.display(description="schema")
    def schema_table(self, version):
        return render_to_string("admin/registry/schema.html", {"columns": version.schema})


@admin.register(RegistrationJob)
class RegistrationJobAdmin(ProjectScopedAdmin):
    list_display = [
        "id",
        "project",
        "state",
        "original_name",
        "byte_count",
        "version",
        "created_at",
        "finished_at",
    ]
    list_filter = ["state", "project"]
    list_select_related = ["project", "version__dataset__project"]
    exclude = ["file_path"]


@admin.register(Evaluation)
class EvaluationAdmin(ProjectScopedAdmin):
    """Evaluations with their scores and details, read-only."""

    project_field = "version__dataset__project"
    list_display = ["id", "version", "origin", "state", "progress", "quality", "exact_copies", "created_at"]
    list_filter = ["origin", "state", "version__dataset__project"]
    search_fields = ["id", "version__id", "version__dataset__name", "tool"]
    list_select_related = ["version__dataset__project"]
    date_hierarchy = "created_at"
    exclude = ["reference_path", "holdout_path"]

    @admin.display(description="quality")
    def quality(self, evaluation):
        value = evaluation.metrics.get("quality.overall")
        return "—" if value is None else f"{value:.3f}"

    @admin.display(description="exact copies")
    def exact_copies(self, evaluation):
        value = evaluation.metrics.get("privacy.exact_copies")
        return "—" if value is None else value
