"""Celery tasks of the reports app. Exports are jobs (core.jobs runs them); the card refresh is a plain task
that is safe to run twice: it stores a new revision only when the evidence changed."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from registry.models import DatasetVersion

from .models import CardTrigger
from .services.cards import card_refresh

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def refresh_card_task(version_id: str, trigger: str = CardTrigger.EVIDENCE) -> int | None:
    """Refresh a version's card, then the next version's (its "changes since" section reads this one)."""
    try:
        version = DatasetVersion.objects.select_related("dataset__project").filter(pk=version_id).first()
        if version is None:
            return None
        refresh = card_refresh(version=version, trigger=trigger)
        following = (
            DatasetVersion.objects.select_related("dataset__project")
            .filter(dataset_id=version.dataset_id, number__gt=version.number, cards__isnull=False)
            .order_by("number")
            .first()
        )
        if following is not None:
            card_refresh(version=following, trigger=CardTrigger.PREVIOUS_VERSION)
    except (OperationalError, InterfaceError):
        raise  # the database went away: Celery retries with backoff
    except Exception:
        # A card that cannot be rendered must never break the write that asked for it; the next change retries.
        logger.exception("card refresh of version %s failed", version_id)
        return None
    return refresh.card.revision
