"""Reviewers' decisions on versions, and the flags revocations put on what was downstream."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from registry.models import DatasetVersion, VersionStatus

from .policies import PolicyCheck


class Action(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REQUEST_CHANGES = "request_changes", "Request changes"
    DEPRECATE = "deprecate", "Deprecate"
    REVOKE = "revoke", "Revoke"


class Decision(models.Model):
    """One reviewer action on a version, with the policy check it saw and any waiver it needed."""

    version = models.ForeignKey("registry.DatasetVersion", on_delete=models.PROTECT, related_name="decisions")
    action = models.CharField(max_length=32, choices=Action.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions")
    decided_via = models.CharField(max_length=64, blank=True)
    comment = models.TextField(blank=True)
    waiver = models.TextField(blank=True)
    waived_rules = models.JSONField(default=list, blank=True)
    policy_check = models.ForeignKey(PolicyCheck, null=True, blank=True, on_delete=models.PROTECT)
    review_round = models.PositiveIntegerField(default=0)
    from_status = models.CharField(max_length=32, choices=VersionStatus.choices)
    to_status = models.CharField(max_length=32, choices=VersionStatus.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(action__in=Action.values), name="decision_action")]

    def __str__(self) -> str:
        return f"{self.action} {self.version} by {self.decided_by}"


class ImpactFlag(models.Model):
    """'Needs re-review' on a version because something upstream of it was revoked."""

    version = models.ForeignKey("registry.DatasetVersion", on_delete=models.PROTECT, related_name="impact_flags")
    cause_version = models.ForeignKey(
        "registry.DatasetVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="caused_flags"
    )
    cause_source = models.ForeignKey(
        "registry.SourceDataset", null=True, blank=True, on_delete=models.PROTECT, related_name="caused_flags"
    )
    reason = models.TextField()
    previous_status = models.CharField(max_length=32, choices=VersionStatus.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    resolved_by = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        cause = self.cause_version or self.cause_source
        return f"{self.version} flagged: {cause} revoked"


class ReviewQueueItem(DatasetVersion):
    """A version waiting for a decision, as the admin's review queue lists it (oldest first)."""

    class Meta:
        proxy = True
        verbose_name = "review queue item"
        verbose_name_plural = "review queue"
