"""Input and output shapes of the registry API (separate where they differ)."""

from __future__ import annotations

from rest_framework import serializers

from core.api.fields import StrictFieldsMixin

from ..evaluation.config import CAP_MISSING_DATETIMES, KINDS, REPORT_ENGINES
from ..evaluation.constraints import MAX_CONSTRAINTS, check_constraints
from ..evaluation.errors import EvaluationInputError
from ..evaluation.sdtypes import SDTYPES
from ..models import Dataset, DatasetVersion, Generator, RegistrationJob, SourceDataset
from ..models.catalog import dataset_name_validator
from ..models.evaluations import Evaluation
from ..tables.formats import FORMATS

SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1
BIGINT_MAX = 2**63 - 1


# --- input --------------------------------------------------------------------------------------
class GeneratorInputSerializer(StrictFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=200)
    version = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    parameters = serializers.DictField(required=False, default=dict)
    seed = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=SEED_MIN, max_value=SEED_MAX
    )


class SourceInputSerializer(StrictFieldsMixin, serializers.Serializer):
    namespace = serializers.CharField(max_length=255)
    name = serializers.CharField(max_length=500)
    version = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class DatasetDetailsInputSerializer(StrictFieldsMixin, serializers.Serializer):
    """Descriptive fields applied when the registration creates the dataset."""

    multiline_fields = ("description", "intended_uses", "out_of_scope_uses", "prohibited_uses")

    description = serializers.CharField(required=False, allow_blank=True)
    intended_uses = serializers.CharField(required=False, allow_blank=True)
    out_of_scope_uses = serializers.CharField(required=False, allow_blank=True)
    prohibited_uses = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.CharField(required=False, allow_blank=True, max_length=200)
    contact = serializers.CharField(required=False, allow_blank=True, max_length=200)
    license = serializers.CharField(required=False, allow_blank=True, max_length=100)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=50)


class VersionRegisterSerializer(StrictFieldsMixin, serializers.Serializer):
    """POST /api/v1/versions/: a file upload, a file:// URI under a data root, or declared facts."""

    project = serializers.SlugField(max_length=63)
    dataset = serializers.CharField(max_length=200, validators=[dataset_name_validator])
    dataset_details = DatasetDetailsInputSerializer(required=False)
    generator = GeneratorInputSerializer()
    sources = SourceInputSerializer(many=True, allow_empty=False)
    code_version = serializers.CharField(max_length=255)
    file = serializers.FileField(required=False, allow_empty_file=True)
    format = serializers.ChoiceField(choices=FORMATS, required=False)
    storage_uri = serializers.CharField(max_length=2000, required=False)
    fingerprint = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        required=False,
        error_messages={"invalid": "Must be a SHA-256: 64 lowercase hexadecimal characters."},
    )
    schema = serializers.JSONField(required=False)
    row_count = serializers.IntegerField(required=False, min_value=0, max_value=BIGINT_MAX)
    byte_count = serializers.IntegerField(required=False, min_value=0, max_value=BIGINT_MAX)
    constraints = serializers.JSONField(
        required=False,
        help_text=f"The generator's constraints, at most {MAX_CONSTRAINTS}, in sdmetrics'/SDV's form "
        '[{"class_name": "Inequality", "parameters": {"low_column_name": ..., "high_column_name": ...}}]; '
        "the diagnostic evaluations score them (Constraint Validity).",
    )

    def validate_sources(self, sources):
        identities = [(s["namespace"], s["name"]) for s in sources]
        if len(set(identities)) != len(identities):
            raise serializers.ValidationError("the same source dataset is listed twice")
        return sources

    def validate(self, attrs):
        if "constraints" in attrs:
            # Their shape now; their columns once the file's schema is known (the registration service).
            try:
                attrs["constraints"] = check_constraints(attrs["constraints"])
            except EvaluationInputError as exc:
                raise serializers.ValidationError({exc.field: [exc.reason]}) from exc
        has_file = "file" in attrs
        uri = attrs.get("storage_uri", "")
        declared = [name for name in ("schema", "row_count", "byte_count") if name in attrs]
        if has_file and uri:
            raise serializers.ValidationError({"storage_uri": ["Give either a file or a storage_uri, not both."]})
        if has_file and (declared or "fingerprint" in attrs):
            name = declared[0] if declared else "fingerprint"
            raise serializers.ValidationError({name: ["Computed by the registry from the uploaded file."]})
        if not has_file and not uri.startswith("file:"):
            missing = [name for name in ("fingerprint", "schema", "row_count") if name not in attrs]
            if missing and not uri:
                raise serializers.ValidationError(
                    {
                        "file": [
                            "Upload a file, give a file:// storage_uri, or declare fingerprint, schema and row_count."
                        ]
                    }
                )
            if missing:
                raise serializers.ValidationError(
                    {name: ["Required: the registry cannot read this storage_uri itself."] for name in missing}
                )
        if uri.startswith("file:") and declared:
            raise serializers.ValidationError({declared[0]: ["Computed by the registry from the file."]})
        return attrs


# --- output -------------------------------------------------------------------------------------
class GeneratorSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Generator
        fields = ["id", "project", "name", "version", "description", "created_at"]


class SourceDatasetSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = SourceDataset
        fields = [
            "id",
            "project",
            "namespace",
            "name",
            "description",
            "contains_personal_data",
            "legal_basis",
            "owner",
            "license",
            "fingerprint",
            "created_at",
        ]


class DatasetSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version_count = serializers.IntegerField(read_only=True)
    current_version = serializers.UUIDField(
        source="current_version_id",
        read_only=True,
        allow_null=True,
        help_text="The newest approved version: what consumers use",
    )

    class Meta:
        model = Dataset
        fields = [
            "id",
            "project",
            "name",
            "description",
            "intended_uses",
            "out_of_scope_uses",
            "prohibited_uses",
            "owner",
            "contact",
            "license",
            "tags",
            "version_count",
            "current_version",
            "created_at",
        ]


class VersionSourceSerializer(serializers.Serializer):
    namespace = serializers.CharField(source="source.namespace")
    name = serializers.CharField(source="source.name")
    version = serializers.CharField(source="source_version")


class GeneratorRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()


class VersionListSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="dataset.project.slug")
    dataset = serializers.CharField(source="dataset.name")
    generator = GeneratorRefSerializer()
    registered_by = serializers.CharField(source="registered_by.username")

    class Meta:
        model = DatasetVersion
        fields = [
            "id",
            "project",
            "dataset",
            "number",
            "status",
            "fingerprint",
            "fingerprint_source",
            "row_count",
            "column_count",
            "byte_count",
            "format",
            "generator",
            "seed",
            "code_version",
            "registered_by",
            "created_at",
        ]


class VersionSerializer(VersionListSerializer):
    sources = VersionSourceSerializer(source="source_links", many=True)
    stored = serializers.SerializerMethodField()

    class Meta(VersionListSerializer.Meta):
        fields = [
            *VersionListSerializer.Meta.fields,
            "schema",
            "schema_hash",
            "storage_uri",
            "stored",
            "generator_parameters",
            "constraints",
            "sources",
            "registered_via",
            "lineage_run_id",
            "updated_at",
        ]

    def get_stored(self, version) -> bool:
        """Whether the registry holds the bytes itself (an upload)."""
        return bool(version.stored_file)


class RegistrationJobSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    dataset = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username")

    class Meta:
        model = RegistrationJob
        fields = [
            "id",
            "state",
            "progress",
            "step",
            "project",
            "dataset",
            "original_name",
            "byte_count",
            "attempts",
            "version",
            "version_created",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_dataset(self, job) -> str:
        return job.payload.get("dataset", "")


# --- evaluations --------------------------------------------------------------------------------
class EvaluationRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    """POST /api/v1/versions/{id}/evaluations/: a verified run against real data, or reported scores."""

    origin = serializers.ChoiceField(choices=["verified", "reported"], default="verified")
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=KINDS), required=False, allow_empty=False)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**32 - 1)
    sensitive_attributes = serializers.ListField(child=serializers.CharField(), required=False, max_length=20)
    quasi_identifiers = serializers.ListField(child=serializers.CharField(), required=False, max_length=20)
    disclosure_sensitive = serializers.ListField(child=serializers.CharField(), required=False, max_length=20)
    target_column = serializers.CharField(required=False)
    dcr_synthetic_sample = serializers.IntegerField(required=False, min_value=100)
    cap_missing_datetimes = serializers.ChoiceField(choices=CAP_MISSING_DATETIMES, required=False)
    report_engine = serializers.ChoiceField(
        choices=REPORT_ENGINES,
        required=False,
        help_text="What computes the quality and diagnostic reports: 'native' (default) or sdmetrics' own reports.",
    )
    sdtypes = serializers.DictField(child=serializers.ChoiceField(choices=SDTYPES), required=False)
    reference = serializers.FileField(required=False)
    holdout = serializers.FileField(required=False)
    reference_uri = serializers.CharField(required=False, max_length=2000)
    holdout_uri = serializers.CharField(required=False, max_length=2000)
    reference_format = serializers.ChoiceField(choices=FORMATS, required=False)
    holdout_format = serializers.ChoiceField(choices=FORMATS, required=False)
    metrics = serializers.DictField(required=False)
    results = serializers.DictField(required=False)
    tool = serializers.CharField(required=False, max_length=200)

    VERIFIED_ONLY = (
        "reference",
        "holdout",
        "reference_uri",
        "holdout_uri",
        "kinds",
        "seed",
        "sensitive_attributes",
        "quasi_identifiers",
        "disclosure_sensitive",
        "target_column",
        "dcr_synthetic_sample",
        "cap_missing_datetimes",
        "report_engine",
        "sdtypes",
    )

    def validate(self, attrs):
        if attrs["origin"] == "reported":
            misplaced = [name for name in self.VERIFIED_ONLY if name in attrs]
            if misplaced:
                raise serializers.ValidationError({misplaced[0]: ["Only for verified evaluations."]})
            for name in ("metrics", "tool"):
                if name not in attrs:
                    raise serializers.ValidationError({name: ["Required for reported evaluations."]})
            return attrs
        for name in ("metrics", "results", "tool"):
            if name in attrs:
                raise serializers.ValidationError({name: ["Only for reported evaluations."]})
        for table in ("reference", "holdout"):
            if table in attrs and f"{table}_uri" in attrs:
                raise serializers.ValidationError({f"{table}_uri": [f"Give either {table} or {table}_uri, not both."]})
        if "reference" not in attrs and "reference_uri" not in attrs:
            raise serializers.ValidationError(
                {"reference": ["Upload the real reference table, or give reference_uri (file:// under a data root)."]}
            )
        return attrs


class EvaluationListSerializer(serializers.ModelSerializer):
    version = serializers.UUIDField(source="version_id")
    project = serializers.CharField(source="version.dataset.project.slug")
    dataset = serializers.CharField(source="version.dataset.name")
    requested_by = serializers.CharField(source="requested_by.username")

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "version",
            "project",
            "dataset",
            "origin",
            "state",
            "progress",
            "step",
            "metrics",
            "error",
            "tool",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
        ]


class EvaluationSerializer(EvaluationListSerializer):
    class Meta(EvaluationListSerializer.Meta):
        fields = [
            *EvaluationListSerializer.Meta.fields,
            "attempts",
            "config",
            "parameters",
            "engine",
            "results",
            "durations",
            "reference_fingerprint",
            "reference_rows",
            "holdout_fingerprint",
            "holdout_rows",
            "attempts",
        ]
