"""Admin building blocks: every list is limited to the viewer's projects, and evidence is read-only."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from .context import Actor
from .roles import Capability
from .selectors import project_ids_with


class ProjectScopedAdmin(admin.ModelAdmin):
    """Members see their projects' rows; nobody edits through generic admin forms (services write)."""

    project_field = "project"
    capability = Capability.READ

    def _project_ids(self, request) -> set[int]:
        cache = getattr(request, "_project_ids_cache", None)
        if cache is None:
            cache = request._project_ids_cache = {}
        if self.capability not in cache:
            cache[self.capability] = project_ids_with(actor=Actor.from_request(request), capability=self.capability)
        return cache[self.capability]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.project_field}__in": self._project_ids(request)})

    def _object_project_id(self, obj) -> int | None:
        target = obj
        for part in self.project_field.split("__"):
            target = getattr(target, part, None)
        return getattr(target, "pk", target)

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and (request.user.is_superuser or bool(self._project_ids(request)))

    def has_view_permission(self, request, obj=None) -> bool:
        if not request.user.is_active:
            return False
        if request.user.is_superuser:
            return True
        ids = self._project_ids(request)
        return bool(ids) if obj is None else self._object_project_id(obj) in ids

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def badge(text: str, good: bool | None):
    """A small coloured label: green when good, red when not, grey when unknown."""
    colour = {True: "#2e7d32", False: "#c62828", None: "#757575"}[good]
    return format_html(
        '<span style="color:#fff;background:{};border-radius:3px;padding:1px 6px;white-space:nowrap">{}</span>',
        colour,
        text,
    )
