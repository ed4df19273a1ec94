"""A version's neighbourhood as a server-rendered SVG: sources -> generating job -> version -> downstream."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import reverse

from ..models import DatasetVersion, LineageRun
from .downstream import downstream, lineage_identity
from .selectors import consumers_of

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 260, 44, 60, 16, 12


@dataclass
class Box:
    label: str
    detail: str
    kind: str  # source, job, version, downstream, consumer
    x: int = 0
    y: int = 0
    url: str = ""

    @property
    def cx_right(self) -> int:
        return self.x + BOX_W

    @property
    def cy(self) -> int:
        return self.y + BOX_H // 2


def _short(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _columns(version: DatasetVersion, readable: set[int]) -> list[list[Box]]:
    sources = [
        Box(_short(f"{link.source.namespace}:{link.source.name}"), link.source_version or "real source", "source")
        for link in version.source_links.select_related("source")
    ]
    run = LineageRun.objects.select_related("job").filter(run_id=version.lineage_run_id).first()
    job = (
        Box(_short(f"{run.job.namespace}:{run.job.name}"), f"run {str(run.run_id)[:8]} · {run.state}", "job")
        if run
        else Box(_short(f"{version.generator.name} {version.generator.version}"), f"seed {version.seed}", "job")
    )
    this = Box(_short(f"{version.dataset.name} v{version.number}"), version.get_status_display(), "version")
    after = [
        Box(
            _short(f"{item.dataset.name} v{item.number}"),
            f"{item.get_status_display()} · depth {depth}",
            "downstream",
            url=reverse("admin:registry_datasetversion_change", args=[item.pk]),
        )
        for item, depth in downstream(version=version).versions
        if item.dataset.project_id in readable
    ]
    after += [
        Box(_short(c["id"].removeprefix("job:")), "reads it (lineage)", "consumer")
        for c in consumers_of([lineage_identity(version)])
        if c["project_id"] in readable
    ]
    columns = [sources or [Box("no source declared", "", "source")], [job], [this]]
    return [*columns, after] if after else columns


def version_diagram(version: DatasetVersion, *, readable: set[int]) -> str:
    """SVG markup (autoescaped template) with one column per step and arrows between adjacent columns.

    Only what the viewer may read is drawn: downstream versions and consumer jobs of other projects are
    left out (`readable` is the set of the viewer's project ids).
    """
    columns = _columns(version, readable)
    height = max(len(col) for col in columns) * (BOX_H + GAP_Y) + 2 * MARGIN
    for index, column in enumerate(columns):
        top = (height - len(column) * (BOX_H + GAP_Y) + GAP_Y) // 2
        for row, box in enumerate(column):
            box.x = MARGIN + index * (BOX_W + GAP_X)
            box.y = top + row * (BOX_H + GAP_Y)
    arrows = [
        (left.cx_right, left.cy, right.x, right.cy) for a, b in itertools.pairwise(columns) for left in a for right in b
    ]
    width = MARGIN * 2 + len(columns) * BOX_W + (len(columns) - 1) * GAP_X
    return render_to_string(
        "admin/registry/lineage_diagram.svg",
        {"columns": columns, "arrows": arrows, "width": width, "height": height, "box_w": BOX_W, "box_h": BOX_H},
    )
