"""Background registration of large uploads: the file waits in staging while a worker inspects it."""

import uuid

from django.db import models

from core.models import Job, Project


class RegistrationJob(Job):
    """A registration whose fingerprint and schema a worker computes; the result is a version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="registration_jobs")
    # The validated registration body (without the file) replayed by the task.
    payload = models.JSONField(default=dict)
    file_path = models.CharField(max_length=2000)
    # True for uploads in staging (deleted once registered); False for files read in place under a data root.
    owns_file = models.BooleanField(default=True)
    original_name = models.CharField(max_length=2000, blank=True)
    declared_format = models.CharField(max_length=16, blank=True)
    declared_fingerprint = models.CharField(max_length=64, blank=True)
    byte_count = models.BigIntegerField(default=0)
    version = models.ForeignKey("DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL)
    version_created = models.BooleanField(null=True, blank=True)

    class Meta(Job.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"registration {self.id} ({self.state})"
