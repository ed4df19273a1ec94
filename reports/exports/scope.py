"""What an export covers: one project, and a period or an explicit list of versions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet

from governance.models import Decision, ImpactFlag, PolicyCheck
from registry.models import DatasetVersion, Evaluation


@dataclass(frozen=True)
class ExportScope:
    """A period [start, end) or exactly `version_ids` (then all their events); see `scoped_versions`."""

    project_id: int
    project_slug: str
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    version_ids: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {
            "project": self.project_slug,
            "period_start": self.start.isoformat() if self.start else None,
            "period_end": self.end.isoformat() if self.end else None,
            "period_end_exclusive": True,
            "versions": list(self.version_ids),
        }


def describe_period(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """The period [start, end) for people: whole UTC days as inclusive dates, other bounds as date-times."""

    def midnight(value: dt.datetime) -> bool:
        return value.astimezone(dt.UTC).time() == dt.time()

    if start is None and end is None:
        return "all time"
    first = (start.astimezone(dt.UTC).date().isoformat() if midnight(start) else start.isoformat()) if start else None
    if end is None:
        last = None
    elif midnight(end):
        last = f"through {(end.astimezone(dt.UTC) - dt.timedelta(days=1)).date().isoformat()}"
    else:
        last = f"until {end.isoformat()} (exclusive)"
    if first and last:
        return f"from {first} {last}"
    return f"from {first}" if first else last


def _dated(scope: ExportScope, field: str = "created_at") -> Q:
    q = Q()
    if scope.start is not None:
        q &= Q(**{f"{field}__gte": scope.start})
    if scope.end is not None:
        q &= Q(**{f"{field}__lt": scope.end})
    return q


def scoped_versions(scope: ExportScope) -> QuerySet[DatasetVersion]:
    """The versions an export covers, oldest first (by dataset, then number).

    In a period: every version registered in it, or with evidence dated in it (a decision, a policy
    check, an evaluation requested or finished, an impact flag), so a version registered earlier and
    decided in the period is part of the period's export. One query, an EXISTS per kind of evidence.
    """
    versions = DatasetVersion.objects.filter(dataset__project_id=scope.project_id)
    if scope.version_ids:
        return versions.filter(pk__in=scope.version_ids).order_by("dataset__name", "number")
    if scope.start is not None or scope.end is not None:
        of_version = {"version": OuterRef("pk")}
        versions = versions.filter(
            _dated(scope)
            | Exists(Decision.objects.filter(_dated(scope), **of_version))
            | Exists(PolicyCheck.objects.filter(_dated(scope), **of_version))
            | Exists(Evaluation.objects.filter(_dated(scope) | _dated(scope, "finished_at"), **of_version))
            | Exists(ImpactFlag.objects.filter(_dated(scope), **of_version))
        )
    return versions.order_by("dataset__name", "number")
