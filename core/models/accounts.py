"""Projects, memberships and API tokens.

These tables were created by the governance app and keep its table names (``db_table``), and audit events
keep naming them ``governance.*`` (``AUDIT_OBJECT_TYPE``): moving code must not rename history.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from ..roles import Role

slug_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{0,62}$", "Use lowercase letters, digits and hyphens (at most 63 characters)."
)


class Project(models.Model):
    """A team's unit of ownership and permission: datasets, sources and members belong to one."""

    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Four-eyes is the minimum: this many distinct reviewers must approve a version.
    required_approvals = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    AUDIT_OBJECT_TYPE = "governance.project"

    class Meta:
        db_table = "governance_project"
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(condition=models.Q(required_approvals__gte=1), name="project_approvals_min_one")
        ]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    """One role a user holds in a project; a user may hold several roles in the same project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    AUDIT_OBJECT_TYPE = "governance.membership"

    class Meta:
        db_table = "governance_membership"
        ordering = ["project__slug", "user__username", "role"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user", "role"], name="membership_unique_role"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} in {self.project}"


class ApiToken(models.Model):
    """A bearer token acting as its user; when bound to a project it acts only there."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    # Only the SHA-256 of the secret is stored; the prefix identifies a token in lists and audit rows.
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    AUDIT_OBJECT_TYPE = "governance.apitoken"

    class Meta:
        db_table = "governance_apitoken"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now
