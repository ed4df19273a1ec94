"""Routes of the identity-and-trail API (mounted under /api/v1/ by config.urls)."""

from django.urls import path

from . import views

ROUTES = [
    ("projects", views.ProjectViewSet, "project"),
    ("audit-events", views.AuditEventViewSet, "audit-event"),
]
LINKS = {"audit/verify": "audit-verify"}

urlpatterns = [
    path("audit/verify/", views.AuditVerifyView.as_view(), name="audit-verify"),
]
