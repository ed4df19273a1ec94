"""Query filters for the governance list endpoints."""

import django_filters as filters

from ..models import AuditEvent, Policy


class PolicyFilter(filters.FilterSet):
    project = filters.CharFilter(field_name="project__slug")
    is_active = filters.BooleanFilter()
    scope = filters.ChoiceFilter(choices=[("global", "global"), ("project", "project")], method="filter_scope")

    class Meta:
        model = Policy
        fields = ["project", "is_active"]

    def filter_scope(self, queryset, name, value):
        return queryset.filter(project__isnull=value == "global")


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
