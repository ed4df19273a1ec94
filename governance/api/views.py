"""Governance API views: thin wrappers over the workflow, policy, revocation and audit services."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.context import Actor
from core.errors import NotPermitted
from core.models import Project
from core.roles import Capability
from core.selectors import has_capability, project_ids_with
from registry.models import DatasetVersion, SourceDataset

from ..impact import visible_impact
from ..models import Attestation, Decision, Policy, PolicyCheck, PolicyRule
from ..policies import policy_check_run, policy_deactivate, policy_save
from ..revocations import source_dataset_revoke
from ..workflow import version_decide
from . import filters, serializers


def _readable_version(request, pk) -> DatasetVersion:
    readable = project_ids_with(actor=Actor.from_request(request), capability=Capability.READ)
    return get_object_or_404(
        DatasetVersion.objects.select_related("dataset__project", "registered_by"), pk=pk, dataset__project__in=readable
    )


class VersionDecisionsView(APIView):
    """GET the decisions on a version; POST approve, reject, request_changes, deprecate or revoke."""

    @extend_schema(responses=serializers.DecisionSerializer(many=True))
    def get(self, request, pk):
        version = _readable_version(request, pk)
        decisions = Decision.objects.filter(version=version).select_related("decided_by")
        return Response(serializers.DecisionSerializer(decisions, many=True).data)

    @extend_schema(
        request=serializers.DecisionInputSerializer,
        responses={
            201: OpenApiResponse(description="The decision, the version's new status, approvals and any impact"),
            400: OpenApiResponse(description="Missing comment, reason or waiver"),
            403: OpenApiResponse(description="Role, or the four-eyes rule"),
            409: OpenApiResponse(description="Illegal transition (names the status and allowed actions), or blocked"),
        },
    )
    def post(self, request, pk):
        version = _readable_version(request, pk)
        serializer = serializers.DecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actor = Actor.from_request(request)
        outcome = version_decide(actor=actor, version=version, **serializer.validated_data)
        body = {
            "decision": serializers.DecisionSerializer(outcome.decision).data,
            "version": {"id": str(outcome.version.pk), "status": outcome.version.status},
            "approvals": outcome.approvals or None,
            "required_approvals": outcome.required_approvals,
            "policy_check": serializers.PolicyCheckSerializer(outcome.policy_check).data
            if outcome.policy_check
            else None,
            "impact": visible_impact(actor=actor, entries=outcome.flagged, consumers=outcome.impact.consumers)
            if outcome.impact
            else None,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class VersionAttestationView(APIView):
    """The version's newest signed attestation: a DSSE envelope over an in-toto Statement v1 (README,
    "Attestations"). Verify it with the key of its signature's keyid from GET /api/v1/signing-keys/."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "sequence", int, description="an earlier statement of this version (1 = its first); default newest"
            )
        ],
        responses={
            200: OpenApiResponse(description="{payloadType, payload, signatures: [{keyid, sig}]}"),
            400: OpenApiResponse(description="sequence is not a whole number"),
            404: OpenApiResponse(description="no such version visible to you, or no attestation yet (before approval)"),
        },
    )
    def get(self, request, pk):
        version = _readable_version(request, pk)
        attestations = Attestation.objects.filter(version=version).order_by("-sequence")
        raw = request.query_params.get("sequence")
        if raw is not None:
            if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
                raise ValidationError({"sequence": ["must be a whole number"]})
            attestations = attestations.filter(sequence=int(raw))
        attestation = attestations.first()
        if attestation is None:
            raise NotFound("this version has no attestation: one is signed when it is approved")
        response = Response(attestation.envelope)
        response["X-Attestation-Sequence"] = str(attestation.sequence)
        response["X-Attestation-Status"] = attestation.status
        return response


class VersionPolicyChecksView(APIView):
    """GET a version's policy checks (newest first); POST runs one now against the current policies."""

    @extend_schema(responses=serializers.PolicyCheckSerializer(many=True))
    def get(self, request, pk):
        version = _readable_version(request, pk)
        checks = PolicyCheck.objects.filter(version=version).select_related("requested_by")
        return Response(serializers.PolicyCheckSerializer(checks, many=True).data)

    @extend_schema(request=None, responses={201: serializers.PolicyCheckSerializer})
    def post(self, request, pk):
        version = _readable_version(request, pk)
        actor = Actor.from_request(request)
        project = version.dataset.project
        allowed = (Capability.EVALUATE, Capability.DECIDE, Capability.MANAGE_POLICIES)
        if not any(has_capability(actor=actor, project=project, capability=c) for c in allowed):
            raise NotPermitted(
                f"running policy checks in project '{project.slug}' needs a pipeline, reviewer or admin role"
            )
        result = policy_check_run(actor=actor, version=version, trigger="manual")
        return Response(serializers.PolicyCheckSerializer(result).data, status=status.HTTP_201_CREATED)


class PolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Global policies and your projects' policies; project admins create, replace and deactivate them."""

    serializer_class = serializers.PolicySerializer
    filterset_class = filters.PolicyFilter
    ordering_fields = ["name", "updated_at"]

    def get_queryset(self):
        readable = project_ids_with(actor=Actor.from_request(self.request), capability=Capability.READ)
        return (
            Policy.objects.filter(Q(project__isnull=True) | Q(project__in=readable))
            .select_related("project")
            .prefetch_related(Prefetch("rules", queryset=PolicyRule.objects.order_by("position", "id")))
        )

    def _save(self, request, policy=None, partial=False):
        serializer = serializers.PolicyInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        attrs = dict(serializer.validated_data)
        if partial and policy is not None:
            # A PATCH changes what it names and keeps the rest of the current version.
            current = serializers.PolicySerializer(policy).data
            attrs.setdefault("project", policy.project.slug)
            attrs.setdefault("name", policy.name)
            attrs.setdefault("description", policy.description)
            attrs.setdefault(
                "rules",
                [
                    {k: r[k] for k in ("metric", "operator", "threshold", "severity", "explanation")}
                    for r in current["rules"]
                ],
            )
        actor = Actor.from_request(request)
        readable = project_ids_with(actor=actor, capability=Capability.READ)
        project = Project.objects.filter(slug=attrs["project"], pk__in=readable).first()
        if project is None:
            raise ValidationError({"project": [f"Unknown project '{attrs['project']}', or you have no role in it."]})
        if policy is not None and policy.project_id != project.pk:
            raise ValidationError({"project": ["A policy cannot move to another project."]})
        return policy_save(
            actor=actor,
            project=project,
            name=attrs["name"],
            description=attrs["description"],
            rules=attrs["rules"],
            policy=policy,
        )

    @extend_schema(request=serializers.PolicyInputSerializer, responses={201: serializers.PolicySerializer})
    def create(self, request, *args, **kwargs):
        policy = self._save(request)
        return Response(self.get_serializer(self.get_queryset().get(pk=policy.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.PolicyInputSerializer, responses=serializers.PolicySerializer)
    def update(self, request, *args, **kwargs):
        existing = self.get_object()
        if existing.project_id is None:
            raise PermissionDenied("global policies are managed by superusers in the admin")
        policy = self._save(request, existing, partial=kwargs.get("partial", False))
        return Response(self.get_serializer(self.get_queryset().get(pk=policy.pk)).data)

    def destroy(self, request, *args, **kwargs):
        policy = self.get_object()
        policy_deactivate(actor=Actor.from_request(request), policy=policy)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SourceRevokeView(APIView):
    """Revoke a real source (e.g. GDPR erasure): versions generated from it, at any depth, need re-review."""

    @extend_schema(request=serializers.RevokeInputSerializer, responses={200: OpenApiResponse(description="impact")})
    def post(self, request, pk):
        actor = Actor.from_request(request)
        readable = project_ids_with(actor=actor, capability=Capability.READ)
        source = get_object_or_404(SourceDataset.objects.select_related("project"), pk=pk, project__in=readable)
        serializer = serializers.RevokeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = source_dataset_revoke(actor=actor, source=source, reason=serializer.validated_data["reason"])
        return Response(
            {
                "source": {
                    "id": source.pk,
                    "namespace": source.namespace,
                    "name": source.name,
                    "revoked_at": outcome.source.revoked_at,
                    "revocation_reason": outcome.source.revocation_reason,
                },
                "impact": visible_impact(actor=actor, entries=outcome.flagged, consumers=outcome.impact.consumers),
            }
        )
