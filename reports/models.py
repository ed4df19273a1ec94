"""Dataset cards and audit exports."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from core.models import Job, Project


class CardTrigger(models.TextChoices):
    """What made the registry (re)build a card; the refresh is the same whatever the trigger."""

    REGISTRATION = "registration", "Registration"
    EVALUATION = "evaluation", "Evaluation"
    POLICY_CHECK = "policy_check", "Policy check"
    DECISION = "decision", "Decision"
    PREVIOUS_VERSION = "previous_version", "Previous version changed"
    EVIDENCE = "evidence_changed", "Evidence changed"
    ON_DEMAND = "on_demand", "First request"
    BACKFILL = "backfill", "Backfill command"


class Card(models.Model):
    """One immutable revision of a version's dataset card: the evidence it shows, frozen and hashed.

    Markdown, HTML and JSON are rendered from `context` once, when the revision is made, and stored with
    their own hashes (CardFile): what is served is those bytes, so a later template or matplotlib change
    never changes an old revision.
    """

    version = models.ForeignKey("registry.DatasetVersion", on_delete=models.PROTECT, related_name="cards")
    revision = models.PositiveIntegerField()
    trigger = models.CharField(max_length=32, choices=CardTrigger.choices)
    # The format-independent card: plain JSON data (canonical_json of it is what content_hash covers).
    context = models.JSONField()
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical JSON of the context")
    # Bumped when the context's shape changes, so an old revision is read with the right expectations.
    schema_version = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["version", "-revision"]
        get_latest_by = "revision"
        constraints = [
            models.UniqueConstraint(fields=["version", "revision"], name="card_unique_revision"),
            models.CheckConstraint(condition=models.Q(revision__gte=1), name="card_revision_positive"),
        ]

    def __str__(self) -> str:
        return f"card of {self.version} r{self.revision}"


class CardFormat(models.TextChoices):
    MARKDOWN = "md", "Markdown"
    HTML = "html", "HTML"
    JSON = "json", "JSON"


class CardFile(models.Model):
    """One format of a card revision exactly as served: rendered once, stored, and hashed."""

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="files")
    format = models.CharField(max_length=8, choices=CardFormat.choices)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the content: the bytes served")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["card", "format"]
        constraints = [
            models.UniqueConstraint(fields=["card", "format"], name="card_file_unique_format"),
            models.CheckConstraint(condition=models.Q(format__in=CardFormat.values), name="card_file_format_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.card} ({self.format})"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV (one file per table)"
    JSON = "json", "JSON"
    PDF = "pdf", "PDF"


class Export(Job):
    """An audit evidence export of one project, run by a worker; its zip holds the files and their manifest."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="exports")
    format = models.CharField(max_length=8, choices=ExportFormat.choices)
    # [period_start, period_end): versions registered or with evidence dated in it (exports.scope), and the
    # audit events that occurred in it; open ends mean "all".
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    # When given, exactly these versions (and the audit events about them) instead of a period.
    version_ids = models.JSONField(default=list, blank=True)
    # Relative to REGISTRY_STORAGE_ROOT: each attempt writes its own "<name>.part", renamed when complete.
    file_path = models.CharField(max_length=300, blank=True)
    byte_count = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the zip")
    manifest = models.JSONField(default=dict, blank=True)

    class Meta(Job.Meta):
        ordering = ["-created_at"]
        constraints = [
            *Job.Meta.constraints,
            models.CheckConstraint(condition=models.Q(format__in=ExportFormat.values), name="export_format_valid"),
            models.CheckConstraint(
                condition=models.Q(period_start__isnull=True)
                | models.Q(period_end__isnull=True)
                | models.Q(period_start__lt=models.F("period_end")),
                name="export_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_format_display()} export of {self.project} ({self.state})"

    @property
    def filename(self) -> str:
        return f"audit-export-{self.project.slug}-{self.created_at:%Y%m%d-%H%M%S}-{str(self.pk)[:8]}.zip"
