"""Registry API views: declarative read endpoints scoped to the caller's projects, and registration."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import Count, Prefetch
from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from core.api.fields import decode_json_fields
from core.api.views import ProjectScopedMixin
from core.context import Actor
from core.errors import InvalidInput, PayloadTooLarge
from core.models import Project
from core.roles import Capability
from core.selectors import project_ids_with

from ..models import (
    Dataset,
    DatasetVersion,
    Evaluation,
    Generator,
    RegistrationJob,
    SourceDataset,
    VersionSource,
)
from ..services.evaluations import TableInput, evaluation_report, evaluation_request
from ..services.intake import (
    RegistrationRequest,
    dataset_version_register_declared,
    dataset_version_register_upload,
    dataset_version_register_uri,
)
from ..services.registration import GeneratorSpec, SourceSpec
from ..storage import FORMAT_SUFFIXES, discard, resolve_data_uri, stored_path
from ..uploads import MAX_FILES_PER_REQUEST, StagedUpload, StagingUploadHandler
from . import filters, serializers


class DatasetViewSet(ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    queryset = (
        Dataset.objects.select_related("project")
        .annotate(version_count=Count("versions"))
        .order_by("project__slug", "name")
    )
    serializer_class = serializers.DatasetSerializer
    filterset_class = filters.DatasetFilter
    ordering_fields = ["name", "created_at"]


class SourceDatasetViewSet(ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    queryset = SourceDataset.objects.select_related("project")
    serializer_class = serializers.SourceDatasetSerializer
    filterset_class = filters.SourceDatasetFilter
    ordering_fields = ["namespace", "name", "created_at"]


class GeneratorViewSet(ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Generator.objects.select_related("project")
    serializer_class = serializers.GeneratorSerializer
    filterset_class = filters.GeneratorFilter
    ordering_fields = ["name", "version", "created_at"]


class RegistrationJobViewSet(ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Registrations of large files, finished by a worker."""

    queryset = RegistrationJob.objects.select_related("project", "requested_by")
    serializer_class = serializers.RegistrationJobSerializer
    filterset_class = filters.RegistrationJobFilter
    ordering_fields = ["created_at"]


@extend_schema_view(
    create=extend_schema(
        request={
            "application/json": serializers.VersionRegisterSerializer,
            "multipart/form-data": serializers.VersionRegisterSerializer,
        },
        responses={
            200: OpenApiResponse(serializers.VersionSerializer, "Already registered (same bytes, same provenance)"),
            201: OpenApiResponse(serializers.VersionSerializer, "Registered"),
            202: OpenApiResponse(serializers.RegistrationJobSerializer, "Large file: a worker finishes the job"),
            409: OpenApiResponse(description="Same bytes already registered with different provenance"),
            413: OpenApiResponse(description="Upload larger than REGISTRY_MAX_UPLOAD_BYTES"),
        },
    )
)
class VersionViewSet(
    ProjectScopedMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Synthetic dataset versions: list, detail, download, and registration."""

    project_field = "dataset__project"
    queryset = DatasetVersion.objects.select_related("dataset__project", "generator", "registered_by")
    filterset_class = filters.VersionFilter
    ordering_fields = ["created_at", "number", "row_count", "status"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            return queryset.defer("schema", "generator_parameters", "constraints")
        return queryset.prefetch_related(
            Prefetch("source_links", queryset=VersionSource.objects.select_related("source"))
        )

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.VersionListSerializer
        if self.action == "create":
            return serializers.VersionRegisterSerializer
        return serializers.VersionSerializer

    def initialize_request(self, request, *args, **kwargs):
        # Installed before anything reads the body (session auth's CSRF check parses it), so every
        # uploaded file streams to staging, hashed and size-checked, and never sits in memory.
        if request.method == "POST":
            request.upload_handlers = [StagingUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        django_request = request._request
        upload = None
        try:
            data = request.data
            _check_upload_limits(django_request, "file")
            if hasattr(data, "getlist"):
                data = decode_json_fields(data, {"generator", "sources", "dataset_details", "schema", "constraints"})
            serializer = serializers.VersionRegisterSerializer(data=data)
            serializer.is_valid(raise_exception=True)
            attrs = serializer.validated_data
            registration = _registration_request(self.actor(), attrs)
            upload = attrs.get("file")
            outcome = self._intake(registration, attrs, upload)
        finally:
            _discard_unclaimed(django_request, [upload.staged_path] if upload is not None else [])
        if outcome.job is not None:
            body = serializers.RegistrationJobSerializer(RegistrationJob.objects.get(pk=outcome.job.pk)).data
            location = f"/api/v1/registrations/{outcome.job.pk}/"
            return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})
        version = self.get_queryset().get(pk=outcome.result.version.pk)
        code = status.HTTP_201_CREATED if outcome.result.created else status.HTTP_200_OK
        return Response(serializers.VersionSerializer(version).data, status=code)

    def _intake(self, registration: RegistrationRequest, attrs: dict, upload):
        actor = self.actor()
        fmt = attrs.get("format")
        if upload is not None:
            if not isinstance(upload, StagedUpload):
                raise InvalidInput("the upload was not received by the staging handler", field="file")
            return dataset_version_register_upload(
                actor=actor, request=registration, upload=upload, declared_format=fmt
            )
        uri = attrs.get("storage_uri", "")
        if uri.startswith("file:"):
            return dataset_version_register_uri(
                actor=actor,
                request=registration,
                uri=uri,
                declared_format=fmt,
                declared_fingerprint=attrs.get("fingerprint"),
            )
        return dataset_version_register_declared(
            actor=actor,
            request=registration,
            fingerprint=attrs["fingerprint"],
            schema=attrs["schema"],
            row_count=attrs["row_count"],
            byte_count=attrs.get("byte_count"),
            storage_uri=uri,
            declared_format=fmt,
        )

    @extend_schema(
        methods=["GET"],
        responses=serializers.EvaluationListSerializer(many=True),
        description="Evaluations of this version, verified and reported.",
    )
    @extend_schema(
        methods=["POST"],
        request={
            "multipart/form-data": serializers.EvaluationRequestSerializer,
            "application/json": serializers.EvaluationRequestSerializer,
        },
        responses={
            201: OpenApiResponse(serializers.EvaluationSerializer, "Reported scores recorded"),
            202: OpenApiResponse(serializers.EvaluationSerializer, "Verified evaluation queued"),
            409: OpenApiResponse(description="Already running, or the registry cannot read the version's bytes"),
        },
        description="Queue a verified evaluation against real reference data (upload `reference` and optionally "
        "`holdout`, or give `reference_uri`/`holdout_uri`), or record scores a pipeline computed "
        "(`origin: reported`).",
    )
    @action(detail=True, methods=["get", "post"], url_path="evaluations")
    def evaluations(self, request, pk=None):
        """List a version's evaluations, or start one."""
        if request.method == "GET":
            version = self.get_object()
            queryset = Evaluation.objects.filter(version=version).select_related(
                "version__dataset__project", "requested_by"
            )
            page = self.paginate_queryset(queryset)
            return self.get_paginated_response(serializers.EvaluationListSerializer(page, many=True).data)
        return self._start_evaluation(request)

    def _start_evaluation(self, request):
        django_request = request._request
        claimed: list[str] = []
        try:
            version = self.get_object()
            data = request.data
            _check_upload_limits(django_request, "reference")
            if hasattr(data, "getlist"):
                data = decode_json_fields(data, EVALUATION_JSON_FIELDS)
            serializer = serializers.EvaluationRequestSerializer(data=data)
            serializer.is_valid(raise_exception=True)
            attrs = serializer.validated_data
            actor = self.actor()
            if attrs["origin"] == "reported":
                evaluation = evaluation_report(
                    actor=actor,
                    version=version,
                    metrics=attrs["metrics"],
                    tool=attrs["tool"],
                    results=attrs.get("results"),
                )
                code = status.HTTP_201_CREATED
            else:
                reference = _table_input(attrs, "reference", version.dataset.project)
                holdout = _table_input(attrs, "holdout", version.dataset.project)
                claimed = [str(t.path) for t in (reference, holdout) if t is not None and t.owned]
                config = {k: attrs[k] for k in EVALUATION_CONFIG_FIELDS if k in attrs}
                evaluation = evaluation_request(
                    actor=actor, version=version, config=config, reference=reference, holdout=holdout
                )
                code = status.HTTP_202_ACCEPTED
        finally:
            _discard_unclaimed(django_request, claimed)
        evaluation = Evaluation.objects.select_related("version__dataset__project", "requested_by").get(
            pk=evaluation.pk
        )
        return Response(
            serializers.EvaluationSerializer(evaluation).data,
            status=code,
            headers={"Location": f"/api/v1/evaluations/{evaluation.pk}/"},
        )

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(description="The file's bytes")})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The version's bytes, when the registry holds them or may read them under a data root."""
        version = self.get_object()
        if version.stored_file:
            path = stored_path(version.stored_file)
        elif version.storage_uri.startswith("file:"):
            path = resolve_data_uri(version.storage_uri, project=version.dataset.project)
        else:
            raise NotFound("the registry does not hold this version's bytes; see storage_uri")
        name = f"{version.dataset.name}-v{version.number}{FORMAT_SUFFIXES.get(version.format, '')}"
        return FileResponse(open(path, "rb"), as_attachment=True, filename=name)


EVALUATION_JSON_FIELDS = {
    "kinds",
    "sensitive_attributes",
    "quasi_identifiers",
    "disclosure_sensitive",
    "sdtypes",
    "metrics",
    "results",
}
EVALUATION_CONFIG_FIELDS = (
    "kinds",
    "seed",
    "sensitive_attributes",
    "quasi_identifiers",
    "disclosure_sensitive",
    "target_column",
    "dcr_synthetic_sample",
    "cap_missing_datetimes",
    "report_engine",
    "sdtypes",
)


class EvaluationViewSet(ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Evaluations with state, progress (percent and step) and, when done, metrics and details."""

    project_field = "version__dataset__project"
    queryset = Evaluation.objects.select_related("version__dataset__project", "requested_by")
    filterset_class = filters.EvaluationFilter
    ordering_fields = ["created_at", "finished_at"]

    def get_serializer_class(self):
        return serializers.EvaluationListSerializer if self.action == "list" else serializers.EvaluationSerializer


def _check_upload_limits(django_request, field: str) -> None:
    if getattr(django_request, "upload_too_many_files", False):
        raise InvalidInput(f"at most {MAX_FILES_PER_REQUEST} files per request", field=field)
    if getattr(django_request, "upload_too_large", False):
        raise PayloadTooLarge(
            f"larger than the upload limit of {settings.REGISTRY_MAX_UPLOAD_BYTES} bytes",
            field=getattr(django_request, "upload_too_large_field", None) or field,
        )


def _discard_unclaimed(django_request, claimed: list[str]) -> None:
    """Delete staged uploads that no service took ownership of (refused, or sent in an unknown field)."""
    keep = {str(Path(p)) for p in claimed}
    for path in getattr(django_request, "staged_paths", []):
        if str(Path(path)) not in keep:
            discard(path)


def _table_input(attrs: dict, name: str, project) -> TableInput | None:
    """A real table from a staged upload (owned: deleted after use) or a file:// URI under a data root."""
    if name in attrs:
        staged = attrs[name]
        if not isinstance(staged, StagedUpload):
            raise InvalidInput("the upload was not received by the staging handler", field=name)
        return TableInput(
            path=Path(staged.staged_path),
            owned=True,
            fingerprint=staged.sha256,
            declared_format=attrs.get(f"{name}_format"),
            name=staged.name or "",
        )
    uri = attrs.get(f"{name}_uri")
    if uri:
        path = resolve_data_uri(uri, project=project, field=f"{name}_uri")
        return TableInput(path=path, owned=False, declared_format=attrs.get(f"{name}_format"), name=path.name)
    return None


def _registration_request(actor: Actor, attrs: dict) -> RegistrationRequest:
    readable = project_ids_with(actor=actor, capability=Capability.READ)
    project = Project.objects.filter(slug=attrs["project"], pk__in=readable).first()
    if project is None:
        # The same answer for "does not exist" and "not yours", so slugs cannot be probed.
        raise ValidationError({"project": [f"Unknown project '{attrs['project']}', or you have no role in it."]})
    generator = attrs["generator"]
    return RegistrationRequest(
        project=project,
        dataset_name=attrs["dataset"],
        dataset_defaults=dict(attrs.get("dataset_details") or {}),
        generator=GeneratorSpec(
            name=generator["name"],
            version=generator["version"],
            parameters=generator["parameters"],
            seed=generator["seed"],
        ),
        sources=[SourceSpec(s["namespace"], s["name"], s["version"]) for s in attrs["sources"]],
        code_version=attrs["code_version"],
        constraints=attrs.get("constraints") or [],
    )
