"""The public keys the registry has signed with: published for verification, retired ones included."""

from django.db import models
from django.utils import timezone


class SigningKey(models.Model):
    """An Ed25519 key the registry signs with (attestations, export manifests, audit checkpoints).

    Only the public half is stored. The configured key becomes active the first time it signs; the key that
    was active before is then marked retired and stays here, so what it signed still verifies.
    """

    key_id = models.CharField(max_length=64, primary_key=True, help_text="hex SHA-256 of the DER public key")
    algorithm = models.CharField(max_length=16, default="ed25519")
    public_key_pem = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.algorithm} {self.key_id[:16]}{' (retired)' if self.retired_at else ''}"


class AuditCheckpoint(models.Model):
    """A signed tree head of the audit trail: the RFC 6962 Merkle tree over the first ``tree_size`` events.

    Leaf i is event i + 1's chain hash (32 bytes). The signature is Ed25519 over the checkpoint's note text
    (C2SP tlog-checkpoint body plus a timestamp line, ``common.evidence.checkpoint``); ``note`` is the whole
    signed note, verifiable with the published key alone. Not itself an audit event: a checkpoint is evidence
    about the trail, signed, and the trail's next event would make it stale at once.
    """

    tree_size = models.BigIntegerField(primary_key=True)
    root_hash = models.CharField(max_length=64)
    origin = models.CharField(max_length=200)
    timestamp = models.DateTimeField()
    key_id = models.CharField(max_length=64)
    signature = models.TextField(help_text="base64 Ed25519 signature of the note text")
    note = models.TextField(help_text="the signed note: body, blank line, signature line")

    class Meta:
        ordering = ["-tree_size"]

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size} {self.root_hash[:16]}"
