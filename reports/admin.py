"""Admin for cards (every revision, downloadable in three formats) and audit exports (request and download)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.admin_base import ProjectScopedAdmin, badge
from core.context import Actor
from core.errors import DomainError
from core.models import Project
from core.roles import Capability
from registry.models import DatasetVersion

from .cards.render import CARD_FORMATS
from .cards.serve import card_response
from .exports.scope import describe_period
from .models import Card, CardFile, CardTrigger, Export, ExportFormat
from .selectors import card_revision
from .services.cards import card_refresh
from .services.exports import export_download, export_request


@admin.register(Card)
class CardAdmin(ProjectScopedAdmin):
    """Every stored card revision, read-only, with download links; a version's page links its latest."""

    project_field = "version__dataset__project"
    list_display = ["version", "revision", "trigger", "short_hash", "created_at", "downloads"]
    list_filter = ["trigger", "version__dataset__project"]
    search_fields = ["version__id", "version__dataset__name", "content_hash"]
    list_select_related = ["version__dataset__project"]
    exclude = ["context"]
    readonly_fields = ["version", "revision", "trigger", "content_hash", "schema_version", "created_at", "downloads"]

    def get_queryset(self, request):
        # The list shows each format's hash: fetch the hashes, never the stored bytes.
        files = CardFile.objects.only("id", "card_id", "format", "sha256")
        return super().get_queryset(request).prefetch_related(Prefetch("files", queryset=files))

    def get_urls(self):
        download = path(
            "version/<uuid:version_id>/<str:fmt>/",
            self.admin_site.admin_view(self.download_view),
            name="reports_card_download",
        )
        return [download, *super().get_urls()]

    @admin.display(description="sha256")
    def short_hash(self, card):
        return format_html("<code title='{}'>{}…</code>", card.content_hash, card.content_hash[:12])

    @admin.display(description="download (sha256 of the bytes served)")
    def downloads(self, card):
        hashes = {file.format: file.sha256 for file in card.files.all()}
        return format_html_join(
            " ",
            '<a href="{}?revision={}">{}</a> <code title="{}">{}</code>',
            (
                (
                    reverse("admin:reports_card_download", args=[card.version_id, fmt]),
                    card.revision,
                    fmt,
                    hashes.get(fmt, "stored when first downloaded"),
                    f"{hashes[fmt][:12]}…" if fmt in hashes else "—",
                )
                for fmt in CARD_FORMATS
            ),
        )

    def download_view(self, request, version_id, fmt):
        """A version's card (latest or ?revision=N) in one format, for members who may read the version."""
        if fmt not in CARD_FORMATS:
            raise Http404("unknown card format")
        version = get_object_or_404(DatasetVersion.objects.select_related("dataset__project"), pk=version_id)
        if not self.has_view_permission(request) or not (
            request.user.is_superuser or version.dataset.project_id in self._project_ids(request)
        ):
            raise PermissionDenied
        revision = request.GET.get("revision")
        card = card_revision(version, int(revision) if revision and revision.isdigit() else None)
        if card is None and not revision:
            card = card_refresh(version=version, trigger=CardTrigger.ON_DEMAND).card
        if card is None:
            raise Http404("no such card revision")
        return card_response(card, fmt, actor=Actor.from_request(request), attachment=fmt != "html")


class ExportForm(forms.Form):
    """What an auditor asks for in the admin: a project, a format and an optional period."""

    project = forms.ModelChoiceField(queryset=Project.objects.none())
    format = forms.ChoiceField(choices=ExportFormat.choices)
    start = forms.DateField(required=False, help_text="First day (UTC), inclusive. Empty: from the beginning.")
    end = forms.DateField(required=False, help_text="Last day (UTC), inclusive. Empty: until now.")

    def __init__(self, *args, projects=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects if projects is not None else Project.objects.none()
        if projects is not None and len(projects) == 1:
            self.fields["project"].initial = projects[0].pk


@admin.register(Export)
class ExportAdmin(ProjectScopedAdmin):
    """Audit exports: auditors request one here (a worker builds it) and download the zip when it succeeded."""

    capability = Capability.EXPORT
    list_display = ["created_at", "project", "format", "period", "state_badge", "progress", "requested_by", "download"]
    list_filter = ["state", "format", "project"]
    list_select_related = ["project", "requested_by"]
    exclude = ["file_path"]

    def get_urls(self):
        download = path(
            "<uuid:export_id>/download/",
            self.admin_site.admin_view(self.download_view),
            name="reports_export_download",
        )
        return [download, *super().get_urls()]

    def has_add_permission(self, request) -> bool:
        return request.user.is_active and bool(self._project_ids(request))

    def add_view(self, request, form_url="", extra_context=None):
        """The export request form; submitting it calls the same service as the API."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        projects = Project.objects.filter(pk__in=self._project_ids(request))
        form = ExportForm(request.POST or None, projects=projects)
        if request.method == "POST" and form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            try:
                export = export_request(
                    actor=Actor.from_request(request),
                    project=form.cleaned_data["project"],
                    format=form.cleaned_data["format"],
                    period_start=dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC) if start else None,
                    period_end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
                    if end
                    else None,
                )
            except DomainError as exc:
                self.message_user(request, f"Export refused: {exc.reason}", messages.ERROR)
            else:
                self.message_user(request, f"Export {export.pk} queued; refresh this list to follow it.")
                return HttpResponseRedirect(reverse("admin:reports_export_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Request an audit export",
            "form": form,
            "opts": self.model._meta,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/reports/export/add_form.html", context)

    def download_view(self, request, export_id):
        export = get_object_or_404(Export.objects.select_related("project"), pk=export_id)
        try:
            file = export_download(actor=Actor.from_request(request), export=export)
        except DomainError as exc:
            if exc.status_code == 403:
                raise PermissionDenied from exc
            self.message_user(request, f"Download refused: {exc.reason}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:reports_export_changelist"))
        return FileResponse(file.open("rb"), as_attachment=True, filename=export.filename)

    @admin.display(description="period")
    def period(self, export):
        if export.version_ids:
            return f"{len(export.version_ids)} versions"
        return describe_period(export.period_start, export.period_end)

    @admin.display(description="state")
    def state_badge(self, export):
        good = {"succeeded": True, "failed": False}.get(export.state)
        return badge(export.state if not export.error else f"{export.state}: {export.error.get('detail', '')}", good)

    @admin.display(description="download")
    def download(self, export):
        if export.state != "succeeded":
            return "—"
        url = reverse("admin:reports_export_download", args=[export.pk])
        return format_html('<a href="{}">zip</a> <code title="{}">{}…</code>', url, export.sha256, export.sha256[:12])
