"""Routes of the reports API: dataset cards and audit exports (mounted under /api/v1/ by config.urls)."""

from django.urls import path

from . import views

ROUTES = [("exports", views.ExportViewSet, "export")]
LINKS: dict[str, str] = {}

urlpatterns = [
    path("versions/<uuid:pk>/card/", views.VersionCardView.as_view(), name="version-card"),
]
