"""Routes of the registry's API v1."""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from ..lineage.views import ColumnLineageView, LineageBatchView, LineageView
from . import views

router = DefaultRouter(trailing_slash=True)
router.register("projects", views.ProjectViewSet, basename="project")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("versions", views.VersionViewSet, basename="version")
router.register("sources", views.SourceDatasetViewSet, basename="source")
router.register("generators", views.GeneratorViewSet, basename="generator")
router.register("registrations", views.RegistrationJobViewSet, basename="registration")
router.register("evaluations", views.EvaluationViewSet, basename="evaluation")

urlpatterns = [
    # Marquez's paths have no trailing slash; OpenLineage clients post to /api/v1/lineage exactly.
    re_path(r"^lineage/?$", LineageView.as_view(), name="lineage"),
    re_path(r"^lineage/batch/?$", LineageBatchView.as_view(), name="lineage-batch"),
    re_path(r"^column-lineage/?$", ColumnLineageView.as_view(), name="column-lineage"),
    *router.urls,
]
