"""Reports API views: a version's card in three formats, and audit exports (request, follow, download)."""

from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.context import Actor
from core.models import Project
from core.permissions import require_capability
from core.roles import Capability
from core.selectors import project_ids_with
from registry.models import DatasetVersion

from ..cards.render import CARD_FORMATS
from ..cards.serve import card_response
from ..models import CardTrigger, Export
from ..selectors import card_revision, exports_visible
from ..services.cards import card_refresh
from ..services.exports import export_download, export_request
from . import serializers


class JSONErrorsNegotiation(BaseContentNegotiation):
    """Always JSON for DRF's own responses (errors): `format` is this endpoint's parameter, not DRF's."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class VersionCardView(APIView):
    """A version's dataset card as Markdown (Hugging Face front matter), HTML or JSON."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONErrorsNegotiation

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=list(CARD_FORMATS), description="md, html or json (default)"
            ),
            OpenApiParameter("revision", OpenApiTypes.INT, description="A stored revision; the latest by default"),
            OpenApiParameter("download", OpenApiTypes.BOOL, description="Send as an attachment"),
        ],
        responses={
            (200, "text/markdown"): OpenApiResponse(description="The card"),
            400: OpenApiResponse(description="Unknown format or bad revision"),
            404: OpenApiResponse(description="No such version in your projects, or no such revision"),
        },
    )
    def get(self, request, pk):
        readable = project_ids_with(actor=Actor.from_request(request), capability=Capability.READ)
        version = get_object_or_404(
            DatasetVersion.objects.select_related("dataset__project"), pk=pk, dataset__project__in=readable
        )
        fmt = request.query_params.get("format", "json")
        if fmt not in CARD_FORMATS:
            raise ValidationError({"format": [f"Unknown format '{fmt}'; expected one of {', '.join(CARD_FORMATS)}."]})
        revision = _revision(request.query_params.get("revision"))
        card = card_revision(version, revision)
        if card is None and revision is None:
            # Every version has a card: the first reader renders revision 1 if no evidence change did yet.
            card = card_refresh(version=version, trigger=CardTrigger.ON_DEMAND).card
        if card is None:
            raise NotFound(f"this version has no card revision {revision}")
        attachment = request.query_params.get("download") in ("1", "true")
        return card_response(card, fmt, actor=Actor.from_request(request), attachment=attachment)


def _revision(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationError({"revision": ["A revision is a positive integer."]})
    return int(raw)


class ExportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Audit exports of a project (CSV, JSON or PDF), built by a worker; auditors request and download them."""

    serializer_class = serializers.ExportSerializer
    filterset_fields = ["state", "format"]
    ordering_fields = ["created_at"]

    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Export.objects.none()
        queryset = exports_visible(actor=self.actor())
        if self.action == "list":
            # A list shows only what the caller may open: exports of projects where they may export.
            queryset = queryset.filter(project__in=project_ids_with(actor=self.actor(), capability=Capability.EXPORT))
        return queryset

    def get_object(self):
        export = super().get_object()
        require_capability(
            actor=self.actor(), project=export.project, capability=Capability.EXPORT, what="reading audit exports"
        )
        return export

    @extend_schema(
        request=serializers.ExportRequestSerializer,
        responses={
            202: OpenApiResponse(serializers.ExportSerializer, "Queued: follow its url until it succeeds"),
            400: OpenApiResponse(description="Unknown project, format, period or versions"),
            403: OpenApiResponse(description="Exports need the auditor role in the project"),
        },
    )
    def create(self, request, *args, **kwargs):
        serializer = serializers.ExportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        actor = self.actor()
        readable = project_ids_with(actor=actor, capability=Capability.READ)
        project = Project.objects.filter(slug=attrs["project"], pk__in=readable).first()
        if project is None:
            # The same answer for "does not exist" and "not yours", so slugs cannot be probed.
            raise ValidationError({"project": [f"Unknown project '{attrs['project']}', or you have no role in it."]})
        period = attrs.get("period") or {}
        export = export_request(
            actor=actor,
            project=project,
            format=attrs["format"],
            period_start=period.get("start"),
            period_end=period.get("end"),
            version_ids=[str(v) for v in attrs.get("versions", [])],
        )
        export = Export.objects.select_related("project", "requested_by").get(pk=export.pk)
        body = self.get_serializer(export).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(responses={(200, "application/zip"): OpenApiResponse(description="The files and manifest.json")})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The export's zip: its files and manifest.json with their SHA-256 (the download is audited)."""
        export = super().get_object()
        path = export_download(actor=self.actor(), export=export)
        response = FileResponse(path.open("rb"), as_attachment=True, filename=export.filename)
        response["X-Content-SHA256"] = export.sha256
        return response
