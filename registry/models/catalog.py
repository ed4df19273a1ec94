"""The catalogue around versions: real source datasets, generators and logical synthetic datasets."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from core.models import Project

dataset_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$",
    "Use letters, digits, '.', '_' and '-' (at most 200 characters), starting with a letter or digit.",
)


class SourceDataset(models.Model):
    """A real dataset a generator learned from, by its OpenLineage identity; its data is never stored."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="sources")
    namespace = models.CharField(max_length=255)
    name = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    # None means "not declared": reviewers must not read silence as "no personal data".
    contains_personal_data = models.BooleanField(null=True, blank=True)
    legal_basis = models.CharField(max_length=200, blank=True)
    owner = models.CharField(max_length=200, blank=True)
    license = models.CharField(max_length=100, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    # Set when the real data may no longer be used (e.g. GDPR erasure): everything generated from it is flagged.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["project__slug", "namespace", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "namespace", "name"], name="source_unique_identity")]

    def __str__(self) -> str:
        return f"{self.namespace}:{self.name}"


class Generator(models.Model):
    """A generator implementation and version, e.g. sdv.GaussianCopulaSynthesizer 1.17."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="generators")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["project__slug", "name", "version"]
        constraints = [models.UniqueConstraint(fields=["project", "name", "version"], name="generator_unique_version")]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


class Dataset(models.Model):
    """A logical synthetic dataset in a project; its versions are the registered artifacts."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="datasets")
    name = models.CharField(max_length=200, validators=[dataset_name_validator])
    description = models.TextField(blank=True)
    intended_uses = models.TextField(blank=True)
    out_of_scope_uses = models.TextField(blank=True)
    prohibited_uses = models.TextField(blank=True)
    owner = models.CharField(max_length=200, blank=True)
    contact = models.CharField(max_length=200, blank=True)
    license = models.CharField(max_length=100, blank=True)
    tags = models.JSONField(default=list, blank=True)
    # The OpenLineage identity of the dataset when pipelines report it (set by lineage registration);
    # otherwise it is "<REGISTRY_LINEAGE_NAMESPACE>" + "<project>/<name>".
    lineage_namespace = models.CharField(max_length=255, blank=True)
    lineage_name = models.CharField(max_length=1000, blank=True)
    # The version consumers should use: the newest approved one; the workflow moves it back on rollback.
    current_version = models.ForeignKey(
        "registry.DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["project__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="dataset_unique_name")]

    def __str__(self) -> str:
        return f"{self.project.slug}/{self.name}"
