"""Query filters for the identity-and-trail list endpoints, and the date-time filter every list uses."""

import datetime as dt

import django_filters as filters
from django import forms
from django_filters.fields import IsoDateTimeField

from ..models import AuditEvent, Project

OUT_OF_RANGE = "the date-time is out of range once in UTC (years 1 to 9999)"


def in_utc(value: dt.datetime) -> dt.datetime:
    """An aware date-time in UTC (naive ones are taken as UTC); ValueError when it is out of range in UTC.

    Every query reaches the database in UTC: PostgreSQL refuses offsets beyond +-15:59 (a DataError, a 500
    before), which RFC 3339 and Python allow up to +-23:59.
    """
    try:
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    except OverflowError as exc:
        raise ValueError(OUT_OF_RANGE) from exc


class UTCDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return in_utc(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from exc


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO-8601 date-time filter whose value reaches the database in UTC, or is a 400 naming the parameter."""

    field_class = UTCDateTimeField


class ProjectFilter(filters.FilterSet):
    slug = filters.CharFilter()

    class Meta:
        model = Project
        fields = ["slug"]


class AuditEventFilter(filters.FilterSet):
    project = filters.CharFilter(field_name="project_slug")
    action = filters.CharFilter()
    action_prefix = filters.CharFilter(field_name="action", lookup_expr="startswith")
    object_type = filters.CharFilter()
    object_id = filters.CharFilter()
    actor = filters.CharFilter(field_name="actor_username")
    request_id = filters.CharFilter()
    occurred_after = UTCDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UTCDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    sequence_after = filters.NumberFilter(field_name="sequence", lookup_expr="gt")

    class Meta:
        model = AuditEvent
        fields = ["project", "action", "object_type", "object_id"]
