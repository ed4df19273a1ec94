"""Background registration of large uploads: the file waits in staging while a worker inspects it."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from governance.models import Project


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RegistrationJob(models.Model):
    """A registration whose fingerprint and schema a Celery task computes; the result is a version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="registration_jobs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    requested_via = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    # The validated registration body (without the file) replayed by the task.
    payload = models.JSONField(default=dict)
    file_path = models.CharField(max_length=2000)
    # True for uploads in staging (deleted once registered); False for files read in place under a data root.
    owns_file = models.BooleanField(default=True)
    original_name = models.CharField(max_length=2000, blank=True)
    declared_format = models.CharField(max_length=16, blank=True)
    declared_fingerprint = models.CharField(max_length=64, blank=True)
    byte_count = models.BigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    # Times the reaper handed it to the broker again because no worker had started it.
    requeues = models.PositiveSmallIntegerField(default=0)
    version = models.ForeignKey("DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL)
    version_created = models.BooleanField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    # Running: the worker's last beat. Queued: when the reaper last handed it to the broker again.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"registration {self.id} ({self.state})"
