"""The one router of API v1: every app adds its viewsets and its other endpoints, and its root lists them all."""

from __future__ import annotations

from collections.abc import Iterable

from rest_framework.routers import DefaultRouter

# (prefix, viewset, basename) as DefaultRouter.register takes them.
Route = tuple[str, type, str]


class ApiRouter(DefaultRouter):
    """DefaultRouter whose root view (/api/v1/) also links the endpoints that are not viewsets (lineage, …)."""

    def __init__(self) -> None:
        super().__init__(trailing_slash=True)
        self.links: dict[str, str] = {}

    def add(self, *, routes: Iterable[Route] = (), links: dict[str, str] | None = None) -> None:
        """Register an app's viewsets, and name its other top-level endpoints (root key -> URL name)."""
        for prefix, viewset, basename in routes:
            self.register(prefix, viewset, basename=basename)
        self.links.update(links or {})

    def get_api_root_view(self, api_urls=None):
        list_name = self.routes[0].name
        root = {prefix: list_name.format(basename=basename) for prefix, _, basename in self.registry}
        root.update(self.links)
        return self.APIRootView.as_view(api_root_dict=dict(sorted(root.items())))
