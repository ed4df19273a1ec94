"""The Marquez-compatible lineage API: ingest (single and batch), graph, column lineage, facet schemas."""

from __future__ import annotations

import datetime as dt
import uuid
import zlib

from django.http import Http404, JsonResponse
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import NonFiniteNumber, refuse_constant
from core.api.filters import in_utc
from core.api.parsers import json_problem, loads
from core.context import Actor
from core.errors import InvalidInput, NotPermitted
from core.models import Project
from core.roles import Capability
from core.selectors import project_ids_with

from .columns import column_lineage
from .facets import SCHEMA_VERSION, SCHEMAS
from .graph import BadNodeId, NodeNotFound, lineage_graph
from .ingest import ingest_events
from .validation import LineageEventError, parse_event

# A gzip body is inflated up to this size at most: a small bomb must not exhaust memory.
MAX_INFLATED_BYTES = 64 * 1024 * 1024


class RawBodyParser(BaseParser):
    """Hands the body through; the view inflates gzip and parses JSON itself, naming what went wrong."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""


def _body_json(request):
    raw = request.body
    if request.headers.get("Content-Encoding", "").lower() == "gzip":
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            raw = inflater.decompress(raw, MAX_INFLATED_BYTES)
            if inflater.unconsumed_tail:
                raise ParseError(f"the gzip body inflates beyond {MAX_INFLATED_BYTES} bytes")
        except zlib.error as exc:
            raise ParseError(f"the body is not valid gzip: {exc}") from exc
    try:
        data = loads(raw, parse_constant=refuse_constant)
    except NonFiniteNumber as exc:
        raise ParseError(f"the body is not valid JSON: {exc.constant} is not a JSON number") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # json.JSONDecodeError, or nesting beyond the limit
        raise ParseError(f"the body is not valid JSON: {exc}") from exc
    problem = json_problem(data)
    if problem:
        raise ParseError(problem)
    return data


def ingest_project(actor: Actor, request) -> Project | None:
    """The token's project; else ?project=; else the one project where the caller registers."""
    writable = project_ids_with(actor=actor, capability=Capability.REGISTER)
    if actor.token is not None and actor.token.project_id is not None:
        if actor.token.project_id not in writable:
            raise NotPermitted(f"this token's role in project '{actor.token.project.slug}' cannot send lineage events")
        return actor.token.project
    slug = request.query_params.get("project")
    if slug:
        project = Project.objects.filter(slug=slug, pk__in=writable).first()
        if project is None:
            raise InvalidInput(f"unknown project '{slug}', or you cannot register in it", field="project")
        return project
    if len(writable) == 1:
        return Project.objects.get(pk=next(iter(writable)))
    raise InvalidInput(
        "pipelines in several (or no) projects name one: ?project=<slug>, or use a project-bound token",
        field="project",
    )


def _unprocessable(error: LineageEventError) -> Response:
    return Response(error.as_data(), status=status.HTTP_422_UNPROCESSABLE_ENTITY)


class LineageView(APIView):
    """POST an OpenLineage event (Marquez's /api/v1/lineage); GET the lineage graph around a node."""

    parser_classes = [RawBodyParser]

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            201: OpenApiResponse(description="Stored (or already stored: a resent event is a no-op)"),
            400: OpenApiResponse(description="Not JSON, bad gzip, or no project"),
            403: OpenApiResponse(description="The token's role cannot send events (pipelines send them)"),
            422: OpenApiResponse(description="Invalid event; the body names the field"),
        },
        description="Ingest one RunEvent, DatasetEvent or JobEvent (type from schemaURL). "
        "`Content-Encoding: gzip` is accepted.",
    )
    def post(self, request):
        payload = _body_json(request)
        try:
            event = parse_event(payload)
        except LineageEventError as exc:
            return _unprocessable(exc)
        actor = Actor.from_request(request)
        try:
            ingest_events(actor=actor, project=ingest_project(actor, request), events=[event])
        except LineageEventError as exc:
            return _unprocessable(exc)
        return Response(status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "nodeId", str, required=True, description="dataset:<ns>:<name>, job:<ns>:<name>, run:<uuid>"
            ),
            OpenApiParameter("depth", int, description="jobs away in both directions (default 20)"),
            OpenApiParameter("asOf", str, description="ISO-8601 time: the graph as it was then"),
            OpenApiParameter("runId", str, description="the graph as that run saw it"),
        ],
        responses={200: OpenApiResponse(description='{"graph": [{"id", "type", "data", "inEdges", "outEdges"}]}')},
    )
    def get(self, request):
        params = request.query_params
        node_id = params.get("nodeId")
        if not node_id:
            raise ValidationError({"nodeId": ["This parameter is required."]})
        depth = _int_param(params, "depth", 20)
        as_of = _time_param(params.get("asOf"))
        run_id = _uuid_param(params.get("runId"))
        projects = sorted(project_ids_with(actor=Actor.from_request(request), capability=Capability.READ))
        try:
            return Response(lineage_graph(node_id, projects=projects, depth=depth, as_of=as_of, run_id=run_id))
        except BadNodeId as exc:
            raise ValidationError({"nodeId": [str(exc)]}) from exc
        except NodeNotFound as exc:
            raise Http404(str(exc)) from exc


class LineageBatchView(APIView):
    """POST a JSON array of events: stored in one transaction, duplicates skipped."""

    parser_classes = [RawBodyParser]

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        responses={
            201: OpenApiResponse(description='{"stored": n, "duplicates": m, "registered": [...]}'),
            400: OpenApiResponse(description="Not JSON, not an array, bad gzip, or no project"),
            422: OpenApiResponse(description="An invalid event; the body names it (index) and the field"),
        },
    )
    def post(self, request):
        payload = _body_json(request)
        if not isinstance(payload, list):
            raise ValidationError({"events": ["expected a JSON array of OpenLineage events"]})
        events = []
        for index, item in enumerate(payload):
            try:
                events.append(parse_event(item))
            except LineageEventError as exc:
                exc.index = index
                return _unprocessable(exc)
        actor = Actor.from_request(request)
        try:
            result = ingest_events(actor=actor, project=ingest_project(actor, request), events=events, batch=True)
        except LineageEventError as exc:
            return _unprocessable(exc)
        return Response(
            {"stored": result.stored, "duplicates": result.duplicates, "registered": result.registered},
            status=status.HTTP_201_CREATED,
        )


class ColumnLineageView(APIView):
    """GET column lineage around a dataset field (from `columnLineage` facets)."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "nodeId",
                {"type": "string", "minLength": 1},
                required=True,
                description="datasetField:<ns>:<dataset>:<field>",
            ),
            OpenApiParameter("depth", int),
            OpenApiParameter("withDownstream", bool),
        ],
        responses={200: OpenApiResponse(description='{"graph": [DATASET_FIELD nodes]}')},
    )
    def get(self, request):
        params = request.query_params
        node_id = params.get("nodeId")
        if not node_id:
            raise ValidationError({"nodeId": ["This parameter is required."]})
        depth = _int_param(params, "depth", 20)
        downstream = params.get("withDownstream", "false").lower() in ("1", "true", "yes")
        projects = sorted(project_ids_with(actor=Actor.from_request(request), capability=Capability.READ))
        try:
            return Response(column_lineage(node_id, projects=projects, depth=depth, with_downstream=downstream))
        except BadNodeId as exc:
            raise ValidationError({"nodeId": [str(exc)]}) from exc
        except NodeNotFound as exc:
            raise Http404(str(exc)) from exc


def _int_param(params, name: str, default: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValidationError({name: ["must be an integer"]}) from exc
    if not 0 <= value <= 100:
        raise ValidationError({name: ["must be between 0 and 100"]})
    return value


def _time_param(raw: str | None) -> dt.datetime | None:
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise ValidationError({"asOf": ["must be an ISO-8601 date-time, e.g. 2026-11-21T10:00:00Z"]}) from exc
    try:
        return in_utc(value)
    except ValueError as exc:
        raise ValidationError({"asOf": [str(exc)]}) from exc


def _uuid_param(raw: str | None) -> uuid.UUID | None:
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise ValidationError({"runId": ["must be a UUID"]}) from exc


@require_GET
def facet_schema(request, version: str, title: str):
    """The JSON Schema a custom facet's _schemaURL points to; public, like any schema URL."""
    if version != SCHEMA_VERSION or title not in SCHEMAS:
        raise Http404("no such facet schema")
    return JsonResponse({"$id": request.build_absolute_uri(), **SCHEMAS[title]})
