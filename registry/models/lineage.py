"""OpenLineage storage: every event raw, plus the graph built from them (nodes, runs, versions, edges)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from core.models import Project


class LineageEvent(models.Model):
    """One OpenLineage event exactly as received (all facets); its hash makes a resent event a no-op.

    Per project: the same event reported to two projects is stored in (and builds the graph of) each.
    """

    event_hash = models.CharField(max_length=64)
    event_type = models.CharField(max_length=16)  # RunEvent, DatasetEvent, JobEvent
    state = models.CharField(max_length=16, blank=True)  # START, RUNNING, COMPLETE, ABORT, FAIL, OTHER
    event_time = models.DateTimeField(db_index=True)
    run_id = models.UUIDField(null=True, blank=True, db_index=True)
    job_namespace = models.CharField(max_length=255, blank=True)
    job_name = models.CharField(max_length=1000, blank=True)
    producer = models.CharField(max_length=2000)
    schema_url = models.CharField(max_length=2000, blank=True)
    payload = models.JSONField()
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["event_time", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "event_hash"], name="lineage_event_identity")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.state} {self.job_namespace}:{self.job_name} @ {self.event_time.isoformat()}"


class NodeKind(models.TextChoices):
    DATASET = "DATASET", "Dataset"
    JOB = "JOB", "Job"


class LineageNode(models.Model):
    """A dataset or a job, by OpenLineage identity within one project, with its facets merged across events.

    Each project has its own graph: what one team reports can neither show up in nor change another's.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=NodeKind.choices)
    namespace = models.CharField(max_length=255)
    name = models.CharField(max_length=1000)
    facets = models.JSONField(default=dict, blank=True)
    current_version = models.ForeignKey(
        "LineageDatasetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    latest_run = models.ForeignKey("LineageRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A job's current edges are the inputs and outputs of this run: its newest run that named any.
    edges_run = models.ForeignKey("LineageRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "namespace", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "kind", "namespace", "name"], name="lineage_node_identity")
        ]

    def __str__(self) -> str:
        return self.node_id

    @property
    def node_id(self) -> str:
        return f"{self.kind.lower()}:{self.namespace}:{self.name}"


class LineageRun(models.Model):
    """A run of a job: its state and times, from all of its events."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    run_id = models.UUIDField(default=uuid.uuid4)
    job = models.ForeignKey(LineageNode, on_delete=models.CASCADE, related_name="runs")
    state = models.CharField(max_length=16, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    nominal_start_time = models.DateTimeField(null=True, blank=True)
    nominal_end_time = models.DateTimeField(null=True, blank=True)
    first_event_time = models.DateTimeField()
    last_event_time = models.DateTimeField(db_index=True)
    # The newest event time that named inputs or outputs: which run's edges the job shows as of a time.
    last_io_time = models.DateTimeField(null=True, blank=True, db_index=True)
    facets = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-last_event_time"]
        constraints = [models.UniqueConstraint(fields=["project", "run_id"], name="lineage_run_identity")]

    def __str__(self) -> str:
        return f"run {self.run_id} of {self.job}"


class LineageDatasetVersion(models.Model):
    """A version of a dataset: from the event's `version` facet, or derived from the run that wrote it."""

    dataset = models.ForeignKey(LineageNode, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=255)
    run = models.ForeignKey(LineageRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_time = models.DateTimeField(db_index=True)
    facets = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["dataset", "event_time"]
        constraints = [models.UniqueConstraint(fields=["dataset", "version"], name="lineage_version_identity")]

    def __str__(self) -> str:
        return f"{self.dataset}#{self.version}"


class LineageRunIO(models.Model):
    """A dataset (version) a run read or wrote, with the time of the event that said so."""

    run = models.ForeignKey(LineageRun, on_delete=models.CASCADE, related_name="io")
    dataset = models.ForeignKey(LineageNode, on_delete=models.CASCADE, related_name="+")
    dataset_version = models.ForeignKey(
        LineageDatasetVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    direction = models.CharField(max_length=3)  # "in" or "out"
    event_time = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "dataset", "direction"], name="lineage_io_unique")]
        indexes = [models.Index(fields=["dataset", "direction"], name="lineage_io_dataset")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.direction} {self.dataset_id}"


class LineageAdjacency(models.Model):
    """The current graph, each edge stored from both ends so a recursive CTE walks it with one index."""

    node = models.ForeignKey(LineageNode, on_delete=models.CASCADE, related_name="+")
    neighbor = models.ForeignKey(LineageNode, on_delete=models.CASCADE, related_name="+")
    # "out": node -> neighbor (a job writes the dataset, or a dataset feeds the job); "in": the reverse.
    direction = models.CharField(max_length=3)
    job = models.ForeignKey(LineageNode, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node", "neighbor", "direction"], name="lineage_adjacency_unique")
        ]
        indexes = [models.Index(fields=["job"], name="lineage_adjacency_job")]

    def __str__(self) -> str:
        return f"{self.node_id} {self.direction} {self.neighbor_id}"


class ColumnLineage(models.Model):
    """One input field feeding one output field, from an output's `columnLineage` facet."""

    dataset = models.ForeignKey(LineageNode, on_delete=models.CASCADE, related_name="column_lineage")
    field = models.CharField(max_length=500)
    input_namespace = models.CharField(max_length=255)
    input_name = models.CharField(max_length=1000)
    input_field = models.CharField(max_length=500)
    transformation_description = models.TextField(blank=True)
    transformation_type = models.CharField(max_length=100, blank=True)
    transformations = models.JSONField(default=list, blank=True)
    event_time = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "field", "input_namespace", "input_name", "input_field"],
                name="column_lineage_unique",
            )
        ]
        indexes = [models.Index(fields=["input_namespace", "input_name", "input_field"], name="column_lineage_input")]

    def __str__(self) -> str:
        return f"{self.input_namespace}:{self.input_name}:{self.input_field} -> {self.dataset_id}:{self.field}"


class OutboxState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    GAVE_UP = "gave_up", "Gave up"


class LineageOutbox(models.Model):
    """An OpenLineage event the registry emits; written with the change, sent (and retried) after commit."""

    event = models.JSONField()
    state = models.CharField(max_length=8, choices=OutboxState.choices, default=OutboxState.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # A failed send waits longer each time, so events that keep failing never hold up newer ones.
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"outbox {self.pk} ({self.state})"
