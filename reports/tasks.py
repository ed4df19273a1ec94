"""Celery tasks of the reports app: thin shells around services that are safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import OperationalError

from registry.tasks import TASK_OPTIONS

from .models import CardTrigger

logger = logging.getLogger(__name__)


@shared_task(**TASK_OPTIONS)
def refresh_card_task(self, version_id: str, trigger: str = CardTrigger.EVIDENCE) -> int | None:
    """Refresh a version's card, then the next version's (its "changes since" section reads this one)."""
    from registry.models import DatasetVersion

    from .services.cards import card_refresh

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
    except OperationalError:
        raise  # the database went away: Celery retries with backoff
    except Exception:
        # A card that cannot be rendered must never break the write that asked for it; the next change retries.
        logger.exception("card refresh of version %s failed", version_id)
        return None
    return refresh.card.revision


@shared_task(**TASK_OPTIONS)
def run_export_task(self, export_id: str) -> str | None:
    """Build an audit export; a crash ends it as failed with the reason, never "running"."""
    from .models import Export
    from .services.exports import export_fail, export_run, internal_error

    try:
        export = export_run(export_id=export_id)
    except OperationalError:
        raise
    except Exception as exc:
        logger.exception("export %s failed", export_id)
        export = Export.objects.select_related("project").filter(pk=export_id).first()
        if export is not None and export.state == "running":
            export_fail(export, internal_error(exc))
        return None
    return export.state if export else None


@shared_task
def reap_stale_exports_task() -> int:
    """Re-queue exports whose worker died (periodic with Celery beat, and when a worker starts)."""
    from .services.exports import reap_stale_exports

    return reap_stale_exports()


@worker_ready.connect
def _reap_on_worker_start(sender=None, **kwargs) -> None:
    reap_stale_exports_task.delay()
