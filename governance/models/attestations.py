"""Signed attestations of a version's release decisions (in-toto Statement v1 in a DSSE envelope)."""

from __future__ import annotations

import base64
import json

from django.db import models
from django.utils import timezone

from registry.models import DatasetVersion

from .reviews import Decision


class Attestation(models.Model):
    """One signed statement about a version, issued when it is approved, deprecated or revoked.

    Never changed: a later decision issues a new statement (a higher ``sequence``) and the newest one says
    the version's current standing. ``envelope`` is exactly what ``GET /versions/{id}/attestation/`` returns.
    """

    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="attestations")
    sequence = models.PositiveIntegerField(help_text="1 for the version's first statement, then 2, 3, …")
    status = models.CharField(max_length=32, help_text="the version's status the statement attests")
    decision = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    envelope = models.JSONField(help_text="the DSSE envelope: payloadType, payload (base64), signatures")
    payload_sha256 = models.CharField(max_length=64)
    key_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["version", "-sequence"]
        constraints = [models.UniqueConstraint(fields=["version", "sequence"], name="attestation_version_sequence")]

    def __str__(self) -> str:
        return f"attestation {self.sequence} of {self.version} ({self.status})"

    @property
    def statement(self) -> dict:
        """The signed in-toto Statement: the envelope's payload, decoded (stored once, as signed)."""
        return json.loads(base64.b64decode(self.envelope["payload"]))
