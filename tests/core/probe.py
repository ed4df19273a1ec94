"""A job kind whose work each test scripts: the framework's behaviour, without any real work in the way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.jobs import JobKind, JobRun
from reports.models import Export


class ProbeKind(JobKind):
    """Runs on export rows (any job model would do); `script` decides what an attempt does."""

    name = "probe"
    model = Export
    related = ("project",)
    script: Callable[[JobRun], Any] = staticmethod(lambda run: {"done": True})
    cleaned: list[str] = []

    def work(self, run: JobRun) -> Any:
        return type(self).script(run)

    def succeed(self, job: Export, outcome: Any, actor) -> dict[str, Any]:
        job.manifest = outcome
        return {"outcome": outcome}

    def cleanup(self, job: Export) -> None:
        type(self).cleaned.append(str(job.pk))
