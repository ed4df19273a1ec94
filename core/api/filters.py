"""Query filters for the identity-and-trail list endpoints, and the date-time filter every list uses."""

import datetime as dt

import django_filters as filters
from django import forms
from django_filters.fields import IsoDateTimeField

from ..models import AuditEvent, Project

# PostgreSQL's time-zone displacement range: beyond it the database refuses the value (a DataError).
MAX_OFFSET = dt.timedelta(hours=15, minutes=59)
OFFSET_MESSAGE = "the time-zone offset must lie within -15:59 and +15:59"


def in_utc(value: dt.datetime) -> dt.datetime:
    """An aware date-time in UTC; ValueError (with the reason) for an offset or a year beyond the range."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise ValueError(OFFSET_MESSAGE)
    try:
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    except OverflowError as exc:
        raise ValueError("the date-time is out of range once in UTC") from exc


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
