"""Query filters for the registry's list endpoints."""

import django_filters as filters
from django.db.models import Exists, OuterRef

from core.api.filters import UTCDateTimeFilter
from core.models import JobState

from ..models import (
    Dataset,
    DatasetVersion,
    Evaluation,
    EvaluationOrigin,
    Generator,
    RegistrationJob,
    SourceDataset,
    VersionSource,
    VersionStatus,
)


class DatasetFilter(filters.FilterSet):
    project = filters.CharFilter(field_name="project__slug")
    name = filters.CharFilter()
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")
    tag = filters.CharFilter(method="filter_tag")

    class Meta:
        model = Dataset
        fields = ["project", "name"]

    def filter_tag(self, queryset, name, value):
        # JSON containment is not portable to SQLite; tags are few, so filter on the text form.
        return queryset.filter(tags__icontains=f'"{value}"')


class VersionFilter(filters.FilterSet):
    project = filters.CharFilter(field_name="dataset__project__slug")
    dataset = filters.CharFilter(field_name="dataset__name")
    status = filters.MultipleChoiceFilter(choices=VersionStatus.choices)
    fingerprint = filters.CharFilter()
    generator = filters.CharFilter(field_name="generator__name")
    source_namespace = filters.CharFilter(method="filter_source")
    source_name = filters.CharFilter(method="filter_source")
    registered_by = filters.CharFilter(field_name="registered_by__username")
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = DatasetVersion
        fields = ["project", "dataset", "status", "fingerprint", "generator"]

    def filter_source(self, queryset, name, value):
        """Namespace and name together select one source: both must hold for the same source of a version."""
        given = self.form.cleaned_data
        if name == "source_name" and given.get("source_namespace"):
            return queryset  # applied with the namespace
        lookups = {
            f"source__{part}": given[f"source_{part}"] for part in ("namespace", "name") if given.get(f"source_{part}")
        }
        return queryset.filter(Exists(VersionSource.objects.filter(version=OuterRef("pk"), **lookups)))


class SourceDatasetFilter(filters.FilterSet):
    project = filters.CharFilter(field_name="project__slug")
    namespace = filters.CharFilter()
    name = filters.CharFilter()

    class Meta:
        model = SourceDataset
        fields = ["project", "namespace", "name"]


class GeneratorFilter(filters.FilterSet):
    project = filters.CharFilter(field_name="project__slug")
    name = filters.CharFilter()
    version = filters.CharFilter()

    class Meta:
        model = Generator
        fields = ["project", "name", "version"]


class RegistrationJobFilter(filters.FilterSet):
    project = filters.CharFilter(field_name="project__slug")
    state = filters.CharFilter()

    class Meta:
        model = RegistrationJob
        fields = ["project", "state"]


class EvaluationFilter(filters.FilterSet):
    project = filters.CharFilter(field_name="version__dataset__project__slug")
    version = filters.UUIDFilter(field_name="version_id")
    origin = filters.ChoiceFilter(choices=EvaluationOrigin.choices)
    state = filters.ChoiceFilter(choices=JobState.choices)

    class Meta:
        model = Evaluation
        fields = ["project", "version", "origin", "state"]
