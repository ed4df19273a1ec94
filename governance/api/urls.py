"""Routes of the governance API v1 (mounted next to the registry's under /api/v1/)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.register("policies", views.PolicyViewSet, basename="policy")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("versions/<uuid:pk>/decisions/", views.VersionDecisionsView.as_view(), name="version-decisions"),
    path("versions/<uuid:pk>/policy-checks/", views.VersionPolicyChecksView.as_view(), name="version-policy-checks"),
    path("sources/<int:pk>/revoke/", views.SourceRevokeView.as_view(), name="source-revoke"),
    path("audit/verify/", views.AuditVerifyView.as_view(), name="audit-verify"),
    *router.urls,
]
