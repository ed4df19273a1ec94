"""An evaluation's distance searches spread over the workers that are running, combined exactly.

The engine cuts a DCR search that exceeds ``REGISTRY_EVALUATION_PART_PAIRS`` row pairs into parts
(``evaluation.privacy.parts``) and hands them to a runner. Here the runner is ``WorkerParts``: the
evaluation's own worker stores the parts as rows (``EvaluationPart``), sends up to
``REGISTRY_EVALUATION_PART_HELPERS`` helper tasks to the queue, and then computes parts itself like any
helper, until every part is done. A helper (``evaluation_runs.help_with_parts``, on any worker) reads the
evaluation's tables, prepares them exactly as the evaluation does, and claims and computes parts until none
is left. No result
backend and no chord: the parts table is the rendezvous, so the evaluation finishes even with no other
worker (it computes every part itself), and with an idle one it shares the work.

Claims are leases (compare-and-set updates, on any database): the holder extends its lease while it
computes; a lease that lapsed (its worker was killed) is claimed again. A part is stored once, by the holder
of its current claim; any result is the same, since a part depends only on the prepared inputs. A retried
evaluation keeps the parts its earlier attempt finished (same specs) and computes only the rest. Parts are
scratch data, deleted when the evaluation ends (``EvaluationJobKind.cleanup``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.jobs import JobRun
from core.jobs.owner import this_process

from ..models import Evaluation, EvaluationPart, PartState

if TYPE_CHECKING:
    import numpy as np

    from ..evaluation.privacy.parts import DistancePart

logger = logging.getLogger(__name__)

# registry.tasks.help_with_evaluation_parts, sent by name (the tasks module imports this one).
HELPER_TASK = "registry.tasks.help_with_evaluation_parts"
# How often a waiting evaluation looks at its parts again.
_POLL_SECONDS = 0.2


def part_pairs() -> int:
    """The pair budget of one part; 0 (or less) turns splitting off."""
    return max(0, int(settings.REGISTRY_EVALUATION_PART_PAIRS))


def _lease() -> timedelta:
    return timedelta(seconds=settings.REGISTRY_JOB_STALE_SECONDS)


def _to_bytes(array: np.ndarray) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _from_bytes(data: bytes | memoryview) -> np.ndarray:
    import numpy as np

    return np.load(io.BytesIO(bytes(data)), allow_pickle=False)


def claimable_parts(evaluation_id) -> QuerySet[EvaluationPart]:
    """The evaluation's parts nobody holds: pending, or held under a lease that lapsed."""
    return EvaluationPart.objects.filter(
        Q(evaluation_id=evaluation_id)
        & (Q(state=PartState.PENDING) | Q(state=PartState.RUNNING, lease_until__lt=timezone.now()))
    )


def claim_part(evaluation_id, owner: str) -> EvaluationPart | None:
    """The first part nobody holds (pending, or its lease lapsed), now held by ``owner``; None if none is left."""
    for part in claimable_parts(evaluation_id).only("pk", "state", "claims", "owner"):
        # Compare-and-set on what we read: of two claimants of the same part, one update wins.
        won = EvaluationPart.objects.filter(pk=part.pk, state=part.state, claims=part.claims).update(
            state=PartState.RUNNING, owner=owner, claims=part.claims + 1, lease_until=timezone.now() + _lease()
        )
        if won:
            return EvaluationPart.objects.get(pk=part.pk)
    return None


@contextlib.contextmanager
def _keeping_lease(part: EvaluationPart) -> Iterator[None]:
    """Extend the part's lease from a side thread while it is computed (a slow part is not a dead worker)."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.REGISTRY_JOB_HEARTBEAT_SECONDS):
                EvaluationPart.objects.filter(pk=part.pk, claims=part.claims, state=PartState.RUNNING).update(
                    lease_until=timezone.now() + _lease()
                )
        except Exception:
            logger.warning("lease of %s could not be extended", part, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"part-lease-{part.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def compute_claimed(part: EvaluationPart, compute: Callable[[DistancePart], np.ndarray]) -> bool:
    """Compute a claimed part and store it if the claim still holds; True if stored. A failure hands the part
    back (pending) and is raised."""
    from ..evaluation.privacy.parts import DistancePart

    started = time.perf_counter()
    try:
        with _keeping_lease(part):
            array = compute(DistancePart.from_dict(part.spec))
    except BaseException:
        EvaluationPart.objects.filter(pk=part.pk, claims=part.claims, state=PartState.RUNNING).update(
            state=PartState.PENDING, owner="", lease_until=None
        )
        raise
    stored = EvaluationPart.objects.filter(pk=part.pk, claims=part.claims, state=PartState.RUNNING).update(
        state=PartState.DONE, result=_to_bytes(array), seconds=time.perf_counter() - started, lease_until=None
    )
    return bool(stored)


def _store_plan(evaluation: Evaluation, specs: list[dict]) -> None:
    """The parts of this plan, as rows: kept where an earlier attempt planned the same ones (its finished
    parts count), else replaced."""
    with transaction.atomic():
        existing = list(EvaluationPart.objects.filter(evaluation=evaluation).order_by("index").values_list("spec"))
        if [spec for (spec,) in existing] == specs:
            return
        EvaluationPart.objects.filter(evaluation=evaluation).delete()
        EvaluationPart.objects.bulk_create(
            EvaluationPart(evaluation=evaluation, index=index, spec=spec) for index, spec in enumerate(specs)
        )


def _ask_for_help(evaluation: Evaluation, parts: int) -> int:
    """Queue helper tasks (none in eager mode: no other process would run them); how many were sent."""
    if current_app.conf.task_always_eager:
        return 0

    helpers = min(parts - 1, max(0, settings.REGISTRY_EVALUATION_PART_HELPERS))
    sent = 0
    for _ in range(helpers):
        try:
            current_app.send_task(HELPER_TASK, args=[str(evaluation.pk)])
            sent += 1
        except Exception:
            # The broker went away: this worker computes every part itself.
            logger.warning("could not queue a helper for evaluation %s", evaluation.pk, exc_info=True)
            break
    return sent


class WorkerParts:
    """The engine's PartRunner for a verified evaluation run by a worker (module docstring)."""

    def __init__(self, run: JobRun) -> None:
        self.run_ = run
        self.pairs_per_part = part_pairs() or 2**62
        self.computed_by: Counter[str] = Counter()
        self.helpers = 0

    def run(self, parts: Sequence[DistancePart], compute: Callable[[DistancePart], np.ndarray]) -> list[np.ndarray]:
        evaluation: Evaluation = self.run_.job  # type: ignore[assignment]
        _store_plan(evaluation, [part.as_dict() for part in parts])
        self.helpers = _ask_for_help(evaluation, len(parts))
        owner = this_process()
        total = len(parts)
        while True:
            part = claim_part(evaluation.pk, owner)
            if part is not None:
                compute_claimed(part, compute)
            else:
                done = EvaluationPart.objects.filter(evaluation=evaluation, state=PartState.DONE).count()
                if done == total:
                    break
                time.sleep(_POLL_SECONDS)
            done = EvaluationPart.objects.filter(evaluation=evaluation, state=PartState.DONE).count()
            # Also a sign of life, and the check that this attempt still holds the evaluation.
            self.run_.progress(None, f"privacy: distance parts {done}/{total}")
        rows = EvaluationPart.objects.filter(evaluation=evaluation).order_by("index").values_list("owner", "result")
        arrays = []
        for part_owner, result in rows:
            self.computed_by[part_owner] += 1
            arrays.append(_from_bytes(result))
        return arrays


def discard_parts(evaluation: Evaluation) -> None:
    EvaluationPart.objects.filter(evaluation=evaluation).delete()
