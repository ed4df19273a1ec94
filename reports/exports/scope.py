"""What an export covers: one project, and a period or an explicit list of versions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet

from registry.models import DatasetVersion


@dataclass(frozen=True)
class ExportScope:
    """[start, end) of registration and event times, or exactly `version_ids` (then all their events)."""

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


def scoped_versions(scope: ExportScope) -> QuerySet[DatasetVersion]:
    """The versions an export covers, oldest first (by dataset, then number)."""
    versions = DatasetVersion.objects.filter(dataset__project_id=scope.project_id)
    if scope.version_ids:
        return versions.filter(pk__in=scope.version_ids).order_by("dataset__name", "number")
    if scope.start is not None:
        versions = versions.filter(created_at__gte=scope.start)
    if scope.end is not None:
        versions = versions.filter(created_at__lt=scope.end)
    return versions.order_by("dataset__name", "number")
