"""The append-only, hash-chained audit trail and its head."""

from __future__ import annotations

import json

from django.db import models


class AuditEvent(models.Model):
    """One immutable, hash-chained record of a state change.

    No foreign keys on purpose: a cascade must never rewrite history, and on PostgreSQL triggers
    refuse UPDATE, DELETE and TRUNCATE. before/after are stored as the canonical JSON text that
    was hashed, so verification never depends on how a database re-serialises JSON.
    """

    sequence = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField()
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    actor_via = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=255, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True)
    project_slug = models.CharField(max_length=63, blank=True)
    before_json = models.TextField(default="null")
    after_json = models.TextField(default="null")
    request_id = models.CharField(max_length=64, blank=True)
    client_ip = models.CharField(max_length=45, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        # Created by the governance app; the append-only triggers are installed on this table name.
        db_table = "governance_auditevent"
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["project_id", "sequence"], name="audit_project_seq"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["occurred_at"], name="audit_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"

    @property
    def before(self):
        return json.loads(self.before_json)

    @property
    def after(self):
        return json.loads(self.after_json)


class AuditHead(models.Model):
    """The single row holding the chain's last sequence and hash.

    Appenders lock it first, which orders every audited write and catches a deleted tail on verify.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "governance_audithead"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_head_singleton")]

    def __str__(self) -> str:
        return f"audit head #{self.sequence}"
