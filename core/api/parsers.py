"""Request parsing that refuses what a database would choke on later."""

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NUL_MESSAGE = "JSON strings may not contain NUL characters (\\u0000)"


def contains_nul(value: Any) -> bool:
    """Whether a parsed JSON value holds a NUL anywhere (PostgreSQL text and jsonb refuse them)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, plus a 400 for NUL characters instead of a database error later."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if contains_nul(data):
            raise ParseError(NUL_MESSAGE)
        return data
