"""Entry points other apps call when a version's evidence changes; the card refresh runs after commit."""

from __future__ import annotations

from django.db import transaction

from .models import CardTrigger


def evidence_changed(version_id: str, *, trigger: str = CardTrigger.EVIDENCE) -> None:
    """Schedule a refresh of the version's card once the current transaction commits (at once outside one).

    Call it from the service that changed the evidence (registration, evaluation, policy check, decision).
    The refresh is a Celery task (run in-process without a broker); a failure there is logged and never
    reaches the caller, whose write has committed anyway.
    """
    from .tasks import refresh_card_task

    version_id, trigger = str(version_id), str(trigger)
    transaction.on_commit(lambda: refresh_card_task.delay(version_id, trigger), robust=True)
