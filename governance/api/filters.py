"""Query filters for the governance list endpoints."""

import django_filters as filters

from ..models import Policy


class PolicyFilter(filters.FilterSet):
    project = filters.CharFilter(field_name="project__slug")
    is_active = filters.BooleanFilter()
    scope = filters.ChoiceFilter(choices=[("global", "global"), ("project", "project")], method="filter_scope")

    class Meta:
        model = Policy
        fields = ["project", "is_active"]

    def filter_scope(self, queryset, name, value):
        return queryset.filter(project__isnull=value == "global")
