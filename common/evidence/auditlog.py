"""The audit trail's hash chain, defined once: core.audit hashes with it, the offline verifier re-checks with it.

An event's hash is SHA-256(prev_hash + canonical JSON of its payload), the genesis hash 64 zeros; its
Merkle leaf (core.checkpoints) is SHA-256(0x00 || the 32 bytes of that hash). The payload is the event's 16
stored fields, ``before`` and ``after`` being the JSON *text* stored for them, and ``occurred_at`` UTC
ISO 8601 to the microsecond.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from common.evidence.merkle import leaf_hash
from common.jsonable import to_jsonable

GENESIS_HASH = "0" * 64
PAYLOAD_FIELDS = (
    "sequence",
    "occurred_at",
    "actor_user_id",
    "actor_username",
    "actor_via",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "project_id",
    "project_slug",
    "before",
    "after",
    "request_id",
    "client_ip",
    "prev_hash",
)
_HEX_HASH = re.compile(r"[0-9a-f]{64}", re.ASCII)


def canonical_json(value: Any) -> str:
    """Deterministic JSON text: sorted keys, no spaces, UTF-8 kept as is (``to_jsonable`` first).

    The audit trail's serialisation, older than (and unlike) ``common.evidence.intoto.canonical_json``, which
    returns bytes and refuses anything but plain JSON data; the two must not be swapped.
    """
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_time(moment: dt.datetime) -> str:
    """An event's time as its hash covers it: UTC, ISO 8601, microseconds (``…T12:00:00.000000+00:00``)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def event_hash(payload: Mapping[str, Any]) -> str:
    """The hash an event must carry: SHA-256(its ``prev_hash`` + the canonical JSON of ``payload``)."""
    body = payload["prev_hash"] + canonical_json(payload)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def is_chain_hash(value: Any) -> bool:
    """Is ``value`` a chain hash as the trail stores it (64 lowercase hex digits)?"""
    return isinstance(value, str) and _HEX_HASH.fullmatch(value) is not None


def event_leaf(chain_hash: str) -> bytes:
    """The Merkle leaf hash of an event whose chain hash is ``chain_hash``."""
    return leaf_hash(bytes.fromhex(chain_hash))
