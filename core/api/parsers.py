"""Request parsing that refuses what a database (or a recursive walk) would choke on later.

JSON from clients is checked once, without recursion, for the two things nothing downstream should meet:
NUL characters (PostgreSQL text and jsonb refuse them) and nesting deeper than ``REGISTRY_MAX_JSON_DEPTH``
(no field of the API nests deeper than a few levels; a body of 100,000 ``[`` would otherwise exhaust the
stack of whatever walks it). Both are a 400 naming the problem.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NUL_MESSAGE = "JSON strings may not contain NUL characters (\\u0000)"


def depth_message(limit: int) -> str:
    return f"JSON may nest at most {limit} levels of objects and arrays (REGISTRY_MAX_JSON_DEPTH)"


def json_problem(value: Any, max_depth: int | None = None) -> str | None:
    """Why a parsed JSON value is refused (a NUL anywhere, or nesting beyond ``max_depth``), or None.

    Walks with an explicit stack: any depth is safe to check.
    """
    limit = settings.REGISTRY_MAX_JSON_DEPTH if max_depth is None else max_depth
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return NUL_MESSAGE
        elif isinstance(item, dict | list):
            if depth > limit:
                return depth_message(limit)
            if isinstance(item, dict):
                for key, child in item.items():
                    if isinstance(key, str) and "\x00" in key:
                        return NUL_MESSAGE
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
    return None


def loads(raw: str | bytes, **kwargs) -> Any:
    """``json.loads`` that turns nesting too deep for the decoder itself into a ValueError with the limit."""
    try:
        return json.loads(raw, **kwargs)
    except RecursionError as exc:
        raise ValueError(depth_message(settings.REGISTRY_MAX_JSON_DEPTH)) from exc


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, plus a 400 for NUL characters and for nesting beyond the limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(depth_message(settings.REGISTRY_MAX_JSON_DEPTH)) from exc
        problem = json_problem(data)
        if problem:
            raise ParseError(problem)
        return data
