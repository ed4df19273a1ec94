"""Serializer building blocks shared by the registry's API."""

import json

from rest_framework import serializers

from common.text import forbidden_character

from .parsers import json_problem, loads


class StrictFieldsMixin:
    """Reject fields the serializer does not know (a typo must not be silently ignored), and text with control
    or bidirectional formatting characters (``common.text``) in any of its text fields, naming the field.

    ``multiline_fields``: free-text fields, which may also hold line breaks and tabs.
    """

    multiline_fields: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
            errors = self._text_errors(data)
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def _text_errors(self, data) -> dict[str, list[str]]:
        errors = {}
        for name, field in self.fields.items():
            if name not in data or field.read_only:
                continue
            value = data.get(name)
            if isinstance(field, serializers.ListField) and isinstance(field.child, serializers.CharField):
                texts = [item for item in (value if isinstance(value, list) else []) if isinstance(item, str)]
            elif isinstance(field, serializers.CharField) and isinstance(value, str):
                texts = [value]
            else:
                continue
            for text in texts:
                problem = forbidden_character(text, multiline=name in self.multiline_fields)
                if problem:
                    errors[name] = [problem]
                    break
        return errors


class NonFiniteNumber(ValueError):
    """NaN or ±Infinity: Python's json accepts them, JSON and the database do not."""

    def __init__(self, constant: str):
        super().__init__(constant)
        self.constant = constant


def refuse_constant(constant: str):
    """`parse_constant` for json.loads: refuse NaN and ±Infinity instead of decoding them."""
    raise NonFiniteNumber(constant)


def decode_json_fields(data, names):
    """Multipart bodies carry nested objects as JSON strings; decode them, naming the field on error."""
    decoded = {}
    errors = {}
    for key in data:
        values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
        if len(values) > 1:
            errors[key] = ["Given more than once."]
            continue
        value = values[-1] if values else None
        if key in names and isinstance(value, str):
            try:
                value = loads(value, parse_constant=refuse_constant)
            except json.JSONDecodeError as exc:
                errors[key] = [f"Invalid JSON: {exc.msg} at position {exc.pos}."]
                continue
            except NonFiniteNumber as exc:
                errors[key] = [f"Invalid JSON: {exc.constant} is not a number JSON allows."]
                continue
            except ValueError as exc:  # nested beyond REGISTRY_MAX_JSON_DEPTH
                errors[key] = [str(exc)]
                continue
            problem = json_problem(value)
            if problem:
                errors[key] = [problem]
                continue
        decoded[key] = value
    if errors:
        raise serializers.ValidationError(errors)
    return decoded
