"""What the reports app does when the layers below announce something (subscribed in ReportsConfig.ready())."""

from __future__ import annotations

from django.db import transaction

from .models import CardTrigger
from .tasks import refresh_card_task


def card_refresh_schedule(*, version_id: str, trigger: str) -> None:
    """Refresh the version's card once the current transaction commits (at once outside one).

    The refresh is a Celery task (run in-process without a broker); a failure there is logged and never
    reaches the writer, whose change has committed anyway.
    """
    version_id = str(version_id)
    trigger = trigger if trigger in CardTrigger.values else CardTrigger.EVIDENCE
    transaction.on_commit(lambda: refresh_card_task.delay(version_id, trigger), robust=True)
