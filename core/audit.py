"""The audit trail: appending hash-chained events and verifying the chain.

hash(n) = SHA-256(hash(n-1) + canonical_json(event n)); the genesis hash is 64 zeros.
Every write service opens `audited_atomic()`, which locks the chain head first: all audited writes
are ordered by that lock, and no two transactions can deadlock on rows they both insert.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from common.evidence import auditlog

from .context import Actor
from .models import AuditEvent, AuditHead

# The hash chain's definition lives in common.evidence.auditlog, so that the offline verifier of exports
# recomputes exactly these hashes without Django.
GENESIS_HASH = auditlog.GENESIS_HASH
canonical_json = auditlog.canonical_json


def _event_payload(event: AuditEvent) -> dict[str, Any]:
    return {
        "sequence": event.sequence,
        "occurred_at": auditlog.event_time(event.occurred_at),
        "actor_user_id": event.actor_user_id,
        "actor_username": event.actor_username,
        "actor_via": event.actor_via,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "project_id": event.project_id,
        "project_slug": event.project_slug,
        "before": event.before_json,
        "after": event.after_json,
        "request_id": event.request_id,
        "client_ip": event.client_ip,
        "prev_hash": event.prev_hash,
    }


def event_hash(event: AuditEvent) -> str:
    """The hash an event must carry, from its predecessor's hash and its own canonical JSON."""
    return auditlog.event_hash(_event_payload(event))


def _lock_head() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # Created by a data migration; this only runs on a database built some other way.
        head, _ = AuditHead.objects.get_or_create(pk=1, defaults={"sequence": 0, "hash": GENESIS_HASH})
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


@contextlib.contextmanager
def audited_atomic() -> Iterator[None]:
    """One transaction that holds the audit head lock from its first statement."""
    with transaction.atomic():
        _lock_head()
        yield


def record_event(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    project=None,
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Append one event to the chain; must run inside the writer's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the write it records")
    head = _lock_head()
    if obj is not None:
        # A model may pin its name in the trail, so that moving code never renames history.
        object_type = object_type or getattr(type(obj), "AUDIT_OBJECT_TYPE", obj._meta.label_lower)
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:255]
    event = AuditEvent(
        sequence=head.sequence + 1,
        occurred_at=timezone.now(),
        actor_user_id=actor.user_id,
        actor_username=actor.username,
        actor_via=actor.via[:64],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr[:255],
        project_id=getattr(project, "pk", None),
        project_slug=getattr(project, "slug", "") or "",
        before_json=canonical_json(before),
        after_json=canonical_json(after),
        request_id=actor.request_id[:64],
        client_ip=actor.client_ip or "",
        prev_hash=head.hash,
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    AuditHead.objects.filter(pk=1).update(sequence=event.sequence, hash=event.hash)
    return event


def record_update(*, actor: Actor, obj: models.Model, changes: dict[str, Any], action: str, project=None) -> bool:
    """Apply field changes to a row the caller has locked, save them and record before and after, in the
    caller's transaction; False (and nothing written) when every field already has its new value."""
    before = {name: getattr(obj, name) for name in changes}
    if before == changes:
        return False
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.save(update_fields=list(changes))
    record_event(actor=actor, action=action, obj=obj, project=project, before=before, after=changes)
    return True


@dataclass(frozen=True)
class ChainVerification:
    """The outcome of recomputing the whole chain."""

    ok: bool
    checked: int
    head_sequence: int
    head_hash: str
    first_bad_sequence: int | None = None
    reason: str = ""
    # With verify_chain(project_ids=...): how many of the checked events are those projects', and whether the
    # first bad event is one of theirs.
    in_scope: int | None = None
    bad_in_scope: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_sequence": self.head_sequence,
            "head_hash": self.head_hash,
            "first_bad_sequence": self.first_bad_sequence,
            "reason": self.reason,
        }

    def scoped_dict(self, projects: list[str]) -> dict[str, Any]:
        """What an auditor of ``projects`` may read: whether the whole chain holds, and how many of their
        projects' events it checked; the trail's size, head and other projects' events are not theirs to see."""
        if self.ok or self.bad_in_scope:
            first_bad, reason = self.first_bad_sequence, self.reason
        else:
            first_bad, reason = None, "the chain breaks at an event outside your projects: ask a staff auditor"
        return {
            "ok": self.ok,
            "scope": "projects",
            "projects": projects,
            "checked": self.in_scope,
            "first_bad_sequence": first_bad,
            "reason": reason,
        }


def verify_chain(*, chunk_size: int = 5000, project_ids: set[int] | None = None) -> ChainVerification:
    """Recompute every hash in sequence order; name the first event that breaks the chain.

    The whole chain is always recomputed (a link anywhere breaks it); ``project_ids`` counts, in ``in_scope``,
    the events of those projects, and says whether the first bad event is one of theirs.
    """
    head = AuditHead.objects.filter(pk=1).first()
    head_sequence = head.sequence if head else 0
    head_hash = head.hash if head else GENESIS_HASH
    expected_sequence = 1
    prev_hash = GENESIS_HASH
    checked = 0

    in_scope = 0 if project_ids is not None else None

    def broken(sequence: int, reason: str, project_id: int | None = None) -> ChainVerification:
        mine = project_ids is not None and project_id in project_ids
        return ChainVerification(False, checked, head_sequence, head_hash, sequence, reason, in_scope, mine)

    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=chunk_size):
        if event.sequence != expected_sequence:
            return broken(
                expected_sequence,
                f"event {expected_sequence} is missing (next stored event is {event.sequence})",
            )
        if event.prev_hash != prev_hash:
            return broken(
                event.sequence, f"event {event.sequence} does not link to event {event.sequence - 1}", event.project_id
            )
        if event_hash(event) != event.hash:
            return broken(event.sequence, f"event {event.sequence} was changed after it was written", event.project_id)
        prev_hash = event.hash
        expected_sequence += 1
        checked += 1
        if project_ids is not None and event.project_id in project_ids:
            in_scope += 1
    last_sequence = expected_sequence - 1
    if last_sequence < head_sequence:
        return broken(last_sequence + 1, f"events {last_sequence + 1}..{head_sequence} were deleted")
    if last_sequence > head_sequence:
        return broken(head_sequence + 1, f"event {head_sequence + 1} was inserted outside the audit service")
    if prev_hash != head_hash:
        return broken(last_sequence, f"event {last_sequence} does not match the recorded chain head")
    return ChainVerification(True, checked, head_sequence, head_hash, in_scope=in_scope)
