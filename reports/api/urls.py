"""Routes of the reports API v1: dataset cards and audit exports (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("exports", views.ExportViewSet, basename="export")

urlpatterns = [
    path("versions/<uuid:pk>/card/", views.VersionCardView.as_view(), name="version-card"),
    *router.urls,
]
