"""Routes of the identity-and-trail API (mounted under /api/v1/ by config.urls)."""

from django.urls import path

from . import views

ROUTES = [
    ("projects", views.ProjectViewSet, "project"),
    ("audit-events", views.AuditEventViewSet, "audit-event"),
    ("audit/checkpoints", views.AuditCheckpointViewSet, "audit-checkpoint"),
    ("signing-keys", views.SigningKeyViewSet, "signing-key"),
]
LINKS = {"audit/verify": "audit-verify", "audit/consistency": "audit-consistency"}

urlpatterns = [
    path("audit/verify/", views.AuditVerifyView.as_view(), name="audit-verify"),
    path("audit/consistency/", views.AuditConsistencyView.as_view(), name="audit-consistency"),
]
