"""Routes of the review-and-policy API (mounted under /api/v1/ by config.urls)."""

from django.urls import path

from . import views

ROUTES = [("policies", views.PolicyViewSet, "policy")]
LINKS: dict[str, str] = {}

urlpatterns = [
    path("versions/<uuid:pk>/decisions/", views.VersionDecisionsView.as_view(), name="version-decisions"),
    path("versions/<uuid:pk>/attestation/", views.VersionAttestationView.as_view(), name="version-attestation"),
    path("versions/<uuid:pk>/policy-checks/", views.VersionPolicyChecksView.as_view(), name="version-policy-checks"),
    path("sources/<int:pk>/revoke/", views.SourceRevokeView.as_view(), name="source-revoke"),
]
