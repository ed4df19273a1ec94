"""Evaluations of a version: verified ones computed by the registry, reported ones submitted by pipelines."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from .jobs import JobState
from .versions import DatasetVersion


class EvaluationOrigin(models.TextChoices):
    VERIFIED = "verified", "Verified (computed by the registry)"
    REPORTED = "reported", "Reported (submitted by a pipeline)"


class Evaluation(models.Model):
    """One evaluation run: parameters, engine and library versions, progress, metrics and details."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="evaluations")
    origin = models.CharField(max_length=16, choices=EvaluationOrigin.choices)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED, db_index=True)
    # What was asked for: kinds, sensitive attributes, seed, sdtype overrides … (the engine's config).
    config = models.JSONField(default=dict, blank=True)
    # What the engine recorded: every parameter that influenced the numbers, and library versions.
    parameters = models.JSONField(default=dict, blank=True)
    engine = models.JSONField(default=dict, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=64, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="flat metric keys, e.g. quality.overall")
    results = models.JSONField(default=dict, blank=True, help_text="per-kind details")
    durations = models.JSONField(default=dict, blank=True)
    error = models.JSONField(null=True, blank=True)
    # The real reference is identified by fingerprint; its bytes are deleted after the run by default.
    reference_fingerprint = models.CharField(max_length=64, blank=True)
    reference_rows = models.BigIntegerField(null=True, blank=True)
    holdout_fingerprint = models.CharField(max_length=64, blank=True)
    holdout_rows = models.BigIntegerField(null=True, blank=True)
    reference_path = models.CharField(max_length=2000, blank=True)
    holdout_path = models.CharField(max_length=2000, blank=True)
    # Each table's own flag: an upload is the registry's to delete, a file read in place is the pipeline's.
    reference_owned = models.BooleanField(default=True)
    holdout_owned = models.BooleanField(default=True)
    # Reported evaluations: the tool that computed them, in the pipeline's own words.
    tool = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    requested_via = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Times the reaper handed it to the broker again because no worker had started it.
    requeues = models.PositiveSmallIntegerField(default=0)
    # Running: the worker's last beat. Queued: when the reaper last handed it to the broker again.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(origin__in=EvaluationOrigin.values), name="evaluation_origin"),
            models.CheckConstraint(condition=models.Q(state__in=JobState.values), name="evaluation_state"),
        ]

    def __str__(self) -> str:
        return f"{self.origin} evaluation of {self.version} ({self.state})"
