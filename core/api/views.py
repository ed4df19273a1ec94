"""Identity-and-trail API views: the caller's projects, the audit trail and its verification."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import checkpoints
from ..audit import verify_chain
from ..context import Actor
from ..models import AuditCheckpoint, AuditEvent, Project, SigningKey
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

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "tree_size", int, description="the tree to prove inclusion in (default: the latest checkpoint's)"
            )
        ],
        responses={
            200: serializers.InclusionProofSerializer,
            400: OpenApiResponse(description="tree_size is not a whole number, or below the event's sequence"),
            404: OpenApiResponse(description="no such event visible to you, or no checkpoint yet"),
        },
    )
    @action(detail=True, methods=["get"])
    def proof(self, request, sequence=None):
        """The event's inclusion proof in the audit trail's Merkle tree (leaf = its chain hash), with the
        signed checkpoint of that tree size when there is one: verify it with the published key."""
        event = self.get_object()
        tree_size = _tree_size_param(request, "tree_size")
        if tree_size is None:
            latest = checkpoints.latest()
            if latest is None or latest.tree_size < event.sequence:
                latest = checkpoints.checkpoint_now()
            tree_size = latest.tree_size
        if not event.sequence <= tree_size <= checkpoints.head_size():
            raise ValidationError({"tree_size": [f"must be between {event.sequence} and the trail's size"]})
        proof = checkpoints.inclusion(event.sequence, tree_size)
        proof["checkpoint"] = AuditCheckpoint.objects.filter(tree_size=tree_size).first()
        return Response(serializers.InclusionProofSerializer(proof).data)


def _tree_size_param(request, name: str, *, required: bool = False) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise ValidationError({name: ["this parameter is required"]})
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        raise ValidationError({name: ["must be a whole number"]})
    return int(raw)


def _require_trail_reader(request) -> None:
    """Checkpoints and consistency proofs describe the whole trail: staff, or an auditor or admin of a project."""
    if request.user.is_superuser or request.user.is_staff:
        return
    if not project_ids_with(actor=Actor.from_request(request), capability=Capability.READ_AUDIT):
        raise PermissionDenied("the audit trail's checkpoints need the auditor or admin role in a project")


class AuditCheckpointViewSet(viewsets.ReadOnlyModelViewSet):
    """Signed checkpoints of the audit trail (newest first): tree size, root hash, time, key id, signed note.

    Keep copies outside the registry: a checkpoint you hold proves what the trail was when it was signed."""

    serializer_class = serializers.AuditCheckpointSerializer
    pagination_class = Pagination
    lookup_field = "tree_size"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditCheckpoint.objects.none()
        _require_trail_reader(self.request)
        return AuditCheckpoint.objects.order_by("-tree_size")


class AuditConsistencyView(APIView):
    """The proof that the audit trail of ``first`` events is a prefix of the trail of ``second`` events."""

    @extend_schema(
        parameters=[
            OpenApiParameter("first", int, required=True, description="the older tree size"),
            OpenApiParameter("second", int, description="the newer tree size (default: the latest checkpoint's)"),
        ],
        responses={
            200: serializers.ConsistencyProofSerializer,
            400: OpenApiResponse(
                description="sizes not whole numbers, or not 0 <= first <= second <= the trail's size"
            ),
            403: OpenApiResponse(description="not an auditor or admin of any project"),
        },
    )
    def get(self, request):
        _require_trail_reader(request)
        first = _tree_size_param(request, "first", required=True)
        second = _tree_size_param(request, "second")
        if second is None:
            latest = checkpoints.latest() or checkpoints.checkpoint_now()
            second = latest.tree_size
        if not 0 <= first <= second <= checkpoints.head_size():
            raise ValidationError({"first": ["need 0 <= first <= second <= the trail's size"]})
        return Response(serializers.ConsistencyProofSerializer(checkpoints.consistency(first, second)).data)


class SigningKeyViewSet(viewsets.ReadOnlyModelViewSet):
    """The keys the registry signs with (attestations, export manifests, audit checkpoints), retired ones too:
    what verifies its signatures. Readable by every authenticated caller."""

    queryset = SigningKey.objects.order_by("-created_at")
    serializer_class = serializers.SigningKeySerializer
    pagination_class = Pagination
    lookup_field = "key_id"
    lookup_value_regex = r"[0-9a-f]{64}"


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
