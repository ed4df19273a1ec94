"""Identity-and-trail API views: the caller's projects, the audit trail and its verification."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from ..audit import verify_chain
from ..context import Actor
from ..models import AuditEvent, Project
from ..roles import Capability
from ..selectors import actor_roles, project_ids_holding, project_ids_with
from ..services import project_update
from . import filters, serializers
from .pagination import Pagination


class ProjectScopedMixin:
    """Limit a queryset to the projects where the caller may read."""

    project_field = "project"

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def actor_roles(self) -> dict[int, set[str]]:
        """The caller's roles per project, read once per request."""
        if not hasattr(self, "_actor_roles"):
            self._actor_roles = actor_roles(actor=self.actor())
        return self._actor_roles

    def get_queryset(self):
        readable = project_ids_holding(self.actor_roles(), Capability.READ)
        return super().get_queryset().filter(**{f"{self.project_field}__in": readable})


class ProjectViewSet(ProjectScopedMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Projects the caller is a member of, with the caller's roles in each; project admins change settings."""

    project_field = "pk"
    queryset = Project.objects.all()
    serializer_class = serializers.ProjectSerializer
    filterset_class = filters.ProjectFilter
    ordering_fields = ["slug", "created_at"]
    lookup_field = "slug"
    http_method_names = ["get", "patch", "head", "options"]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "roles_by_project": self.actor_roles()}

    @extend_schema(request=serializers.ProjectUpdateSerializer, responses=serializers.ProjectSerializer)
    def partial_update(self, request, *args, **kwargs):
        project = self.get_object()
        serializer = serializers.ProjectUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project_update(actor=self.actor(), project=project, **serializer.validated_data)
        return Response(self.get_serializer(Project.objects.get(pk=project.pk)).data)


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail of the projects where you are an auditor or admin."""

    serializer_class = serializers.AuditEventSerializer
    filterset_class = filters.AuditEventFilter
    pagination_class = Pagination
    ordering_fields = ["sequence", "occurred_at"]
    ordering = ["sequence"]
    lookup_field = "sequence"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        allowed = project_ids_with(actor=Actor.from_request(self.request), capability=Capability.READ_AUDIT)
        if not allowed:
            raise PermissionDenied("the audit trail needs the auditor or admin role in a project")
        return AuditEvent.objects.filter(project_id__in=allowed)


class AuditVerifyView(APIView):
    """Recompute the whole hash chain, answering within what the caller may read.

    Staff (the system's auditors) see the whole trail's count and head; an auditor or admin of projects sees
    whether the chain holds and how many of their projects' events it checked, nothing about other projects.
    """

    @extend_schema(
        responses={
            200: OpenApiResponse(
                description="staff: {ok, scope: all, checked, head_sequence, head_hash, first_bad_sequence, reason}; "
                "project auditors: {ok, scope: projects, projects, checked, first_bad_sequence, reason}"
            ),
            403: OpenApiResponse(description="not an auditor or admin of any project"),
        }
    )
    def get(self, request):
        actor = Actor.from_request(request)
        if request.user.is_superuser or request.user.is_staff:
            return Response({**verify_chain().as_dict(), "scope": "all"})
        projects = project_ids_with(actor=actor, capability=Capability.READ_AUDIT)
        if not projects:
            raise PermissionDenied("verifying the audit trail needs the auditor or admin role in a project")
        slugs = sorted(Project.objects.filter(pk__in=projects).values_list("slug", flat=True))
        return Response(verify_chain(project_ids=set(projects)).scoped_dict(slugs))
