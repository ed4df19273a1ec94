"""Policies: rules on evaluation metrics, versioned, and the checks that applied them to a version."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from core.models import Project

METRIC_KEY_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"


class Severity(models.TextChoices):
    BLOCK = "block", "Block: approval impossible"
    WARN = "warn", "Warn: approval needs a waiver"


class Operator(models.TextChoices):
    GE = ">=", "≥"
    GT = ">", ">"
    LE = "<=", "≤"
    LT = "<", "<"
    EQ = "==", "="
    NE = "!=", "≠"


class Verdict(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    NOT_EVALUATED = "not_evaluated", "Not evaluated"


class CheckVerdict(models.TextChoices):
    PASS = "pass", "Pass"
    WARN = "warn", "Warn"
    BLOCK = "block", "Block"


class Policy(models.Model):
    """A named set of rules; global when it has no project. Each change bumps its version."""

    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="policies")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project__slug", "name"]
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="policy_unique_name"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(project__isnull=True), name="policy_unique_global_name"
            ),
        ]

    def __str__(self) -> str:
        scope = self.project.slug if self.project_id else "global"
        return f"{self.name} v{self.version} ({scope})"


class PolicyRule(models.Model):
    """One threshold on one metric key of the latest verified evaluation."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField(default=0)
    metric = models.CharField(
        max_length=100,
        validators=[RegexValidator(METRIC_KEY_PATTERN, "A dotted metric key such as quality.overall.")],
    )
    operator = models.CharField(max_length=2, choices=Operator.choices)
    threshold = models.FloatField()
    severity = models.CharField(max_length=8, choices=Severity.choices)
    explanation = models.TextField()

    class Meta:
        ordering = ["policy", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(operator__in=Operator.values), name="rule_operator_valid"),
            models.CheckConstraint(condition=models.Q(severity__in=Severity.values), name="rule_severity_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.operator} {self.threshold:g} ({self.severity})"


class PolicyCheck(models.Model):
    """The outcome of every applicable policy on a version, with the exact policies it used."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey("registry.DatasetVersion", on_delete=models.PROTECT, related_name="policy_checks")
    evaluation = models.ForeignKey(
        "registry.Evaluation", null=True, blank=True, on_delete=models.PROTECT, related_name="policy_checks"
    )
    trigger = models.CharField(max_length=32)
    verdict = models.CharField(max_length=8, choices=CheckVerdict.choices)
    # [{id, name, version, project, rules: [...]}]: what the check applied, frozen.
    policies = models.JSONField(default=list)
    # [{policy, policy_version, rule, metric, operator, threshold, severity, explanation, observed, verdict}]
    outcomes = models.JSONField(default=list)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"policy check of {self.version}: {self.verdict}"

    def failing(self, severity: str | None = None) -> list[dict]:
        """Outcomes that do not pass (fail or not evaluated), optionally of one severity."""
        return [
            o for o in self.outcomes if o["verdict"] != Verdict.PASS and (severity is None or o["severity"] == severity)
        ]
