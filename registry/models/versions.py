"""Dataset versions: one registered synthetic artifact with its fingerprint, schema and provenance."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from .catalog import Dataset, Generator, SourceDataset


class VersionStatus(models.TextChoices):
    """Review workflow states (DESIGN.md); transitions live in the governance workflow service."""

    REGISTERED = "registered", "Registered"
    EVALUATING = "evaluating", "Evaluating"
    PENDING_REVIEW = "pending_review", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    DEPRECATED = "deprecated", "Deprecated"
    REVOKED = "revoked", "Revoked"
    NEEDS_REREVIEW = "needs_rereview", "Needs re-review"


class FingerprintSource(models.TextChoices):
    COMPUTED = "computed", "Computed by the registry from the bytes"
    DECLARED = "declared", "Declared by the registrant"


class DatasetVersion(models.Model):
    """One registered synthetic artifact; the same bytes in the same dataset are one version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=32, choices=VersionStatus.choices, default=VersionStatus.REGISTERED, db_index=True
    )
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the file's bytes")
    fingerprint_source = models.CharField(max_length=16, choices=FingerprintSource.choices)
    schema = models.JSONField(default=list, help_text="[{name, dtype, sdtype}] in column order")
    schema_hash = models.CharField(max_length=64)
    row_count = models.BigIntegerField()
    column_count = models.PositiveIntegerField()
    byte_count = models.BigIntegerField(null=True, blank=True)
    storage_uri = models.CharField(max_length=2000, blank=True)
    format = models.CharField(max_length=16, blank=True)
    # Relative path under REGISTRY_STORAGE_ROOT when the registry holds the bytes itself.
    stored_file = models.CharField(max_length=300, blank=True)
    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="versions")
    generator_parameters = models.JSONField(default=dict, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    code_version = models.CharField(max_length=255, blank=True)
    # The generator's constraints, sdmetrics'/SDV's dicts (registry.evaluation.constraints), part of the provenance;
    # every diagnostic evaluation of the version scores them (Constraint Validity).
    constraints = models.JSONField(
        default=list, blank=True, help_text='[{"class_name": ..., "parameters": {...}}] the generator was given'
    )
    sources = models.ManyToManyField(SourceDataset, through="VersionSource", related_name="versions")
    lineage_run_id = models.UUIDField(null=True, blank=True)
    # Incremented each time the version (re-)enters review; approvals count within one round.
    review_round = models.PositiveIntegerField(default=0)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="registered_versions"
    )
    registered_via = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "fingerprint"], name="version_unique_fingerprint"),
            models.UniqueConstraint(fields=["dataset", "number"], name="version_unique_number"),
            models.CheckConstraint(condition=models.Q(status__in=VersionStatus.values), name="version_status_valid"),
            models.CheckConstraint(condition=models.Q(row_count__gte=0), name="version_rows_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number}"

    @property
    def project(self):
        return self.dataset.project


class VersionSource(models.Model):
    """A source dataset a version was generated from, with the source version it used if known."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="source_links")
    source = models.ForeignKey(SourceDataset, on_delete=models.PROTECT, related_name="version_links")
    source_version = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["source__namespace", "source__name"]
        constraints = [models.UniqueConstraint(fields=["version", "source"], name="version_source_unique")]

    def __str__(self) -> str:
        return f"{self.source} → {self.version}"
