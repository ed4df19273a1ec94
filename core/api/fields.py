"""Serializer building blocks shared by the registry's API."""

import json

from rest_framework import serializers

from .parsers import NUL_MESSAGE, contains_nul


class StrictFieldsMixin:
    """Reject fields the serializer does not know: a typo must not be silently ignored."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


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
                value = json.loads(value, parse_constant=refuse_constant)
            except json.JSONDecodeError as exc:
                errors[key] = [f"Invalid JSON: {exc.msg} at position {exc.pos}."]
                continue
            except NonFiniteNumber as exc:
                errors[key] = [f"Invalid JSON: {exc.constant} is not a number JSON allows."]
                continue
            if contains_nul(value):
                errors[key] = [NUL_MESSAGE]
                continue
        decoded[key] = value
    if errors:
        raise serializers.ValidationError(errors)
    return decoded
