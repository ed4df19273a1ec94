"""OpenAPI description of the token authentication, so the schema documents how to call the API."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from `manage.py issue_token`: `Authorization: Bearer sdr_…` "
            "(the `Token` keyword is accepted too).",
        }


# Error statuses every operation may answer (core.api.errors, core.middleware.APIErrorMiddleware), by when.
_ERRORS = {
    "400": "Invalid input: DRF's error shape, naming each field and its reason",
    "401": "No token, or a bad one",
    "403": "The caller's role in the project does not allow this",
    "404": "Not found, or not in the caller's projects",
    "409": "Conflicts with the current state",
    "413": "A body, an upload or a gzip file over its limit (named in the body)",
    "503": "The database is unavailable: retry after the Retry-After seconds",
}
_ERROR_SCHEMA = {
    "type": "object",
    "description": '{"detail": reason} or {field: [reasons]} (nested for nested fields)',
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation lists the error statuses it can answer with.

    400 and 503 everywhere; 401, 403 and 404 where a token is required; 404 on paths with a parameter; 409 and
    413 on writes; 414 (the HTTP server's own answer) everywhere. An operation's own description of a status is
    kept. Request bodies of input serializers get ``additionalProperties: false``.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = _ERROR_SCHEMA
    for name, schema in schemas.items():
        # Input serializers refuse unknown fields (core.api.fields.StrictFieldsMixin): say so.
        if name.endswith("Request") and schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            public_operation = operation.get("security") == [{}] or not operation.get("security")
            statuses = {"400", "503"}
            if not public_operation:
                statuses |= {"401", "403", "404"}
            if "{" in path:
                statuses.add("404")
            if method != "get":
                statuses |= {"409", "413"}
            responses = operation.setdefault("responses", {})
            # The HTTP server itself refuses a request line longer than it takes (gunicorn: 4,094 bytes).
            responses.setdefault("414", {"description": "URI too long: answered by the HTTP server, not JSON"})
            for status in sorted(statuses):
                existing = responses.get(status)
                if existing is None:
                    responses[status] = {"description": _ERRORS[status], "content": reference}
                elif "content" not in existing:
                    existing["content"] = reference
    return result
