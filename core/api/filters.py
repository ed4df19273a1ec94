"""Query filters for the identity-and-trail list endpoints."""

import django_filters as filters

from ..models import AuditEvent, Project


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
    occurred_after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    sequence_after = filters.NumberFilter(field_name="sequence", lookup_expr="gt")

    class Meta:
        model = AuditEvent
        fields = ["project", "action", "object_type", "object_id"]
