"""Request id and client address for every request (so audit events can be traced back to it), and JSON for
every error under /api/."""

import re
import sys
import uuid
from http import HTTPStatus

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from core.errors import DATABASE_RETRY_AFTER_SECONDS, DATABASE_UNAVAILABLE

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestContextMiddleware:
    """Accept a well-formed X-Request-ID or make one; echo it back on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.headers.get("X-Request-ID", "")
        request.request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        request.client_ip = client_ip(request)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or the first X-Forwarded-For hop when a trusted proxy is configured."""
    if settings.REGISTRY_TRUST_X_FORWARDED_FOR:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:45] or None
    return request.META.get("REMOTE_ADDR") or None


def _remember_exception(sender, request=None, **kwargs) -> None:
    """``got_request_exception`` receiver: keep the exception Django is about to turn into a 500 page."""
    if request is not None:
        request.registry_exception = sys.exc_info()[1]


got_request_exception.connect(_remember_exception, dispatch_uid="core.middleware.remember_exception")


class APIErrorMiddleware:
    """Every error under ``/api/`` is JSON in DRF's shape, whatever produced it.

    DRF's exception handler (``core.api.errors``) answers for what happens inside a view. This middleware,
    the outermost, answers for the rest, in DEBUG as in production: an exception raised around the view (a
    middleware, a transaction's commit, a lost database connection) that Django turned into an HTML page, and
    Django's own HTML 400/404 pages. A lost database is a 503 with Retry-After, as inside views; an unexpected
    error is a 500 that names the request id to quote, never a traceback.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith("/api/"):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        if getattr(response, "accepted_renderer", None) is not None:
            return response  # rendered by DRF on purpose (the browsable API's HTML for a person): kept
        return self._json(request, response.status_code, getattr(request, "registry_exception", None))

    @staticmethod
    def _json(request, status: int, exc: BaseException | None) -> JsonResponse:
        headers = {}
        if isinstance(exc, OperationalError | InterfaceError):
            status, detail = 503, DATABASE_UNAVAILABLE
            headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        elif status >= 500:
            request_id = getattr(request, "request_id", "")
            detail = f"internal server error; quote request id {request_id} when reporting it"
        elif status == 404:
            detail = "Not found."
        else:
            detail = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "error"
        response = JsonResponse({"detail": detail}, status=status, headers=headers)
        if getattr(request, "request_id", None):
            response["X-Request-ID"] = request.request_id
        return response
