"""Evaluations of a version: verified ones computed by the registry, reported ones submitted by pipelines."""

import uuid

from django.db import models

from core.models import Job

from .versions import DatasetVersion


class EvaluationOrigin(models.TextChoices):
    VERIFIED = "verified", "Verified (computed by the registry)"
    REPORTED = "reported", "Reported (submitted by a pipeline)"


class Evaluation(Job):
    """One evaluation of a version: verified ones are jobs a worker runs, reported ones arrive finished.

    Parameters, engine and library versions, metrics and per-kind details.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="evaluations")
    origin = models.CharField(max_length=16, choices=EvaluationOrigin.choices)
    # What was asked for: kinds, sensitive attributes, seed, sdtype overrides … (the engine's config).
    config = models.JSONField(default=dict, blank=True)
    # What the engine recorded: every parameter that influenced the numbers, and library versions.
    parameters = models.JSONField(default=dict, blank=True)
    engine = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="flat metric keys, e.g. quality.overall")
    results = models.JSONField(default=dict, blank=True, help_text="per-kind details")
    durations = models.JSONField(default=dict, blank=True)
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

    class Meta(Job.Meta):
        ordering = ["-created_at"]
        constraints = [
            *Job.Meta.constraints,
            models.CheckConstraint(condition=models.Q(origin__in=EvaluationOrigin.values), name="evaluation_origin"),
        ]

    def __str__(self) -> str:
        return f"{self.origin} evaluation of {self.version} ({self.state})"


class PartState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class EvaluationPart(models.Model):
    """One slice of a verified evaluation's distance searches, computed by whichever worker claims it.

    Scratch data of a running evaluation (``services.evaluation_parts``): the evaluation's worker creates its
    parts, helpers on other workers claim and compute them, the evaluation combines them; they are deleted
    when the evaluation ends. A claim is a lease its holder keeps extending; an expired one is claimed again.
    """

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveIntegerField()
    spec = models.JSONField(help_text="the engine's DistancePart: table, reference, nearest, start, stop")
    state = models.CharField(max_length=16, choices=PartState.choices, default=PartState.PENDING)
    owner = models.CharField(max_length=200, blank=True, help_text="host:pid of the process computing it")
    claims = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    result = models.BinaryField(null=True, blank=True, help_text="the distances, in NumPy's .npy format")
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["evaluation", "index"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "index"], name="evaluation_part_index"),
            models.CheckConstraint(condition=models.Q(state__in=PartState.values), name="evaluation_part_state"),
        ]

    def __str__(self) -> str:
        return f"part {self.index} of {self.evaluation_id} ({self.state})"
