"""One error shape for every failure: DRF's, with domain errors mapped to their status codes."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DATABASE_RETRY_AFTER_SECONDS, DATABASE_UNAVAILABLE, DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_data(), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        # Django's own answer is an HTML 400; API clients need to know it is the size, and the limit.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = (
            f"the request body is larger than the limit of {limit} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE; "
            "files in multipart uploads do not count towards it)"
        )
        return Response({"detail": detail}, status=413)
    if isinstance(exc, TooManyFieldsSent):
        # Django's own answer is an HTML 400.
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return Response(
            {"detail": f"the request has more than {limit} form fields (DATA_UPLOAD_MAX_NUMBER_FIELDS)"}, status=400
        )
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return Response(
            {"detail": f"the request has more than {limit} files (DATA_UPLOAD_MAX_NUMBER_FILES)"}, status=400
        )
    if isinstance(exc, OperationalError | InterfaceError):
        return Response(
            {"detail": DATABASE_UNAVAILABLE},
            status=503,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DjangoValidationError):
        # A model-level check that slipped past the serializers: still a 400 naming the field.
        data = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(data)
    return drf_exception_handler(exc, context)
