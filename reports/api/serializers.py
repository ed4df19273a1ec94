"""Serializers of the reports API: export requests in, exports out (separate shapes)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import StrictFieldsMixin

from ..models import Export, ExportFormat


@extend_schema_field({"type": "string", "example": "2026-01-31"})
class DateOrDateTimeField(serializers.Field):
    """An ISO date ("2026-01-31") or datetime; a date means that whole day (UTC)."""

    default_error_messages = {"invalid": "Use an ISO 8601 date (YYYY-MM-DD) or date-time."}

    def to_internal_value(self, data):
        text = str(data).strip()
        try:
            # A plain date first: datetime.fromisoformat (behind parse_datetime) also takes "2026-01-31".
            day = parse_date(text) if len(text) == 10 else None
            moment = None if day else parse_datetime(text)
        except ValueError:
            day = moment = None
        if day is not None:
            return {"at": dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC), "whole_day": True}
        if moment is None:
            self.fail("invalid")
        return {"at": moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC), "whole_day": False}

    def to_representation(self, value):
        return value


class PeriodSerializer(StrictFieldsMixin, serializers.Serializer):
    start = DateOrDateTimeField(required=False, help_text="Inclusive.")
    end = DateOrDateTimeField(required=False, help_text="A date includes that whole day; a date-time is exclusive.")

    def validate(self, attrs):
        start = attrs["start"]["at"] if "start" in attrs else None
        end = None
        if "end" in attrs:
            end = attrs["end"]["at"] + (dt.timedelta(days=1) if attrs["end"]["whole_day"] else dt.timedelta())
        if start is not None and end is not None and start >= end:
            raise serializers.ValidationError("The period must end after it starts.")
        return {"start": start, "end": end}


class ExportRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    project = serializers.CharField(help_text="Project slug.")
    format = serializers.ChoiceField(choices=ExportFormat.values)
    period = PeriodSerializer(required=False, help_text="Versions registered and events that occurred in it.")
    versions = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=10_000, help_text="Exactly these versions instead."
    )

    def validate(self, attrs):
        if attrs.get("versions") and attrs.get("period"):
            raise serializers.ValidationError({"versions": ["Give a period or a list of versions, not both."]})
        return attrs


class ExportSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    period = serializers.SerializerMethodField()
    versions = serializers.JSONField(source="version_ids", read_only=True)
    files = serializers.SerializerMethodField()
    chain_verification = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id",
            "url",
            "project",
            "format",
            "period",
            "versions",
            "state",
            "progress",
            "step",
            "attempts",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "byte_count",
            "sha256",
            "files",
            "chain_verification",
            "download_url",
        ]

    def get_period(self, export) -> dict:
        return {"start": export.period_start, "end": export.period_end}

    def get_files(self, export) -> list:
        return (export.manifest or {}).get("files", [])

    def get_chain_verification(self, export) -> dict | None:
        return (export.manifest or {}).get("chain_verification")

    def get_url(self, export) -> str:
        return reverse("export-detail", args=[export.pk])

    def get_download_url(self, export) -> str | None:
        return reverse("export-download", args=[export.pk]) if export.state == "succeeded" else None
