"""Routes of the registry API (mounted under /api/v1/ by config.urls)."""

from django.urls import re_path

from ..lineage.views import ColumnLineageView, LineageBatchView, LineageView
from . import views

ROUTES = [
    ("datasets", views.DatasetViewSet, "dataset"),
    ("versions", views.VersionViewSet, "version"),
    ("sources", views.SourceDatasetViewSet, "source"),
    ("generators", views.GeneratorViewSet, "generator"),
    ("registrations", views.RegistrationJobViewSet, "registration"),
    ("evaluations", views.EvaluationViewSet, "evaluation"),
]
LINKS = {"lineage": "lineage", "lineage/batch": "lineage-batch", "column-lineage": "column-lineage"}

urlpatterns = [
    # Marquez's paths have no trailing slash; OpenLineage clients post to /api/v1/lineage exactly.
    re_path(r"^lineage/?$", LineageView.as_view(), name="lineage"),
    re_path(r"^lineage/batch/?$", LineageBatchView.as_view(), name="lineage-batch"),
    re_path(r"^column-lineage/?$", ColumnLineageView.as_view(), name="column-lineage"),
]
