"""Admin for the registry's records: searchable lists and a version page that shows provenance at a glance."""

import json

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.html import format_html

from governance.admin_base import ProjectScopedAdmin

from .models import Dataset, DatasetVersion, Generator, RegistrationJob, SourceDataset, VersionSource


@admin.register(SourceDataset)
class SourceDatasetAdmin(ProjectScopedAdmin):
    list_display = ["namespace", "name", "project", "contains_personal_data", "legal_basis", "created_at"]
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
    """A version's evidence is read-only here; status changes go through the workflow service."""

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

    @admin.display(description="generator parameters")
    def parameters(self, version):
        return format_html(
            "<pre>{}</pre>", json.dumps(version.generator_parameters, indent=2, sort_keys=True)
        )

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
