"""The registry's signing key: it signs attestations, export manifests and audit checkpoints (Ed25519).

Configured by environment (config/settings.py): ``REGISTRY_SIGNING_KEY`` (the PEM itself, as a secret backend
injects it) or ``REGISTRY_SIGNING_KEY_FILE`` (a path); in development a key is created under ``var/`` like the
secret key, and production refuses to start without one. Only the public half is stored (``SigningKey``),
published at ``GET /api/v1/signing-keys/``: the first signature with a newly configured key makes it the
active one and retires the one before (rotation is: configure the new key, restart), which stays published
so that everything it signed still verifies.
"""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.utils import timezone

from common.evidence import Signer, load_public_key, public_key_pem

from .audit import audited_atomic, record_event
from .context import Actor
from .models import SigningKey

ALGORITHM = "ed25519"


@functools.cache
def _signer(pem: str) -> Signer:
    return Signer.from_pem(pem)


def signer() -> Signer:
    """The configured key, ready to sign (parsed once per process)."""
    return _signer(settings.REGISTRY_SIGNING_KEY_PEM)


def active_key() -> SigningKey:
    """The configured key's published record; the first call with a new key publishes it and retires the others,
    audited. Call it before signing, so that no signature exists whose key is not published."""
    current = signer()
    key = SigningKey.objects.filter(key_id=current.key_id).first()
    if key is not None and key.retired_at is None:
        return key
    with audited_atomic():
        key = SigningKey.objects.select_for_update().filter(key_id=current.key_id).first()
        if key is not None and key.retired_at is None:
            return key  # another process published it meanwhile
        now = timezone.now()
        retired = list(SigningKey.objects.filter(retired_at__isnull=True).exclude(key_id=current.key_id))
        SigningKey.objects.filter(pk__in=[old.pk for old in retired]).update(retired_at=now)
        if key is None:
            pem = public_key_pem(current.public_key).decode("ascii")
            key = SigningKey.objects.create(
                key_id=current.key_id, algorithm=ALGORITHM, public_key_pem=pem, created_at=now
            )
            action = "signing_key.activated"
        else:
            # A retired key configured again (a rotation rolled back): active again, and said so.
            key.retired_at = None
            key.save(update_fields=["retired_at"])
            action = "signing_key.reactivated"
        record_event(
            actor=Actor.system("signing"),
            action=action,
            obj=key,
            after={"key_id": key.key_id, "algorithm": key.algorithm, "retired": [old.key_id for old in retired]},
        )
    return key


def public_keys() -> dict[str, Ed25519PublicKey]:
    """Every published key by id, retired ones included: what verifies the registry's signatures."""
    return {key.key_id: load_public_key(key.public_key_pem) for key in SigningKey.objects.all()}
