"""What every background job records (registrations, evaluations, exports): one abstract model.

The job framework (core.jobs) is the only code that changes these fields; each job kind adds its own.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


FINISHED = (JobState.SUCCEEDED, JobState.FAILED)


class Job(models.Model):
    """A unit of background work: who asked, its state and progress, its claims and signs of life."""

    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="percent, 0 to 100")
    step = models.CharField(max_length=64, blank=True)
    error = models.JSONField(null=True, blank=True)
    # Each claim by a worker is an attempt; a finish counts only for the attempt that still holds the claim.
    attempts = models.PositiveIntegerField(default=0)
    # "host:pid" of the process responsible now: the one that queued it, then the one running it.
    owner = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Outbox: when it last became queued, and when its task message was last handed to the broker
    # (null: not yet, or the hand-off failed and the reaper will retry it).
    queued_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    publications = models.PositiveSmallIntegerField(default=0, help_text="hand-offs to the broker since queued")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_via = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(condition=models.Q(state__in=JobState.values), name="%(app_label)s_%(class)s_state"),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="%(app_label)s_%(class)s_progress"),
        ]

    @property
    def finished(self) -> bool:
        return self.state in FINISHED
