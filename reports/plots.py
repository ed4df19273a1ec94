"""Static plots for cards and PDF reports, drawn with matplotlib's Agg canvas (no display, no pyplot state).

Every plot is drawn from numbers stored with an evaluation (the real data is gone by then): distribution
summaries of the worst columns, correlation/association matrices, sensitive-attribute slice shares, and the
privacy evidence: distances to the closest training record (synthetic vs unseen holdout rows) and the
membership attack's ROC curve.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NO_DISTRIBUTIONS = "No distribution data stored for this evaluation."
NO_MATRICES = "No correlation data stored for this evaluation."
REAL, SYNTHETIC = "#1f5f8b", "#e07b39"


@dataclass(frozen=True)
class Plot:
    """One figure as SVG (for HTML) and PNG (for PDF), with the sentence that says what it shows."""

    key: str
    title: str
    caption: str
    svg: bytes
    png: bytes

    @property
    def svg_data_uri(self) -> str:
        # An <img> with a data URI: text inside the SVG can never run as script in the card's page.
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg).decode("ascii")


def _label(value: Any, limit: int = 28) -> str:
    """Text as matplotlib must see it: no mathtext ($ starts a formula), and not too long."""
    text = str(value).replace("$", r"\$")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return figure


def _encode(figure) -> tuple[bytes, bytes]:
    svg, png = io.BytesIO(), io.BytesIO()
    figure.savefig(svg, format="svg", metadata={"Date": None})
    figure.savefig(png, format="png", dpi=110, metadata={"Software": None})
    return svg.getvalue(), png.getvalue()


def _shares(counts: Sequence[int], total: int) -> list[float]:
    return [count / total if total else 0.0 for count in counts]


def _draw_numeric(axes, summary: Mapping[str, Any]) -> None:
    edges = summary["edges"]
    widths = [edges[i + 1] - edges[i] for i in range(len(edges) - 1)]
    for side, colour in (("real", REAL), ("synthetic", SYNTHETIC)):
        counts = summary[side]
        total = sum(counts) + summary["below"][side] + summary["above"][side]
        axes.stairs(_shares(counts, total), edges, color=colour, linewidth=1.6, label=side)
    axes.set_xlim(edges[0], edges[0] + sum(widths))
    outside = sum(summary["below"].values()) + sum(summary["above"].values())
    if outside:
        axes.set_xlabel("values outside the real 1st to 99th percentiles are not drawn", fontsize=7)


def _draw_discrete(axes, summary: Mapping[str, Any]) -> None:
    names = list(summary["categories"])
    real, synthetic = list(summary["real"]), list(summary["synthetic"])
    if summary["other"]["real"] or summary["other"]["synthetic"]:
        names.append("(other)")
        real.append(summary["other"]["real"])
        synthetic.append(summary["other"]["synthetic"])
    positions = range(len(names))
    axes.bar([p - 0.2 for p in positions], _shares(real, sum(real)), width=0.4, color=REAL, label="real")
    axes.bar(
        [p + 0.2 for p in positions], _shares(synthetic, sum(synthetic)), width=0.4, color=SYNTHETIC, label="synthetic"
    )
    axes.set_xticks(list(positions), [_label(n, 16) for n in names], rotation=60, ha="right", fontsize=7)


def distributions_plot(distributions: Sequence[Mapping[str, Any]] | None) -> Plot | None:
    """Real vs synthetic shares for the worst columns (histograms or category bars); None without data."""
    if not distributions:
        return None
    figure = _figure(4.2 * min(len(distributions), 2), 3.0 * ((len(distributions) + 1) // 2))
    grid = figure.subplots((len(distributions) + 1) // 2, min(len(distributions), 2), squeeze=False)
    for index, summary in enumerate(distributions):
        axes = grid[index // 2][index % 2]
        if "edges" in summary:
            _draw_numeric(axes, summary)
        else:
            _draw_discrete(axes, summary)
        score = summary.get("score")
        suffix = f" ({summary.get('metric')} {score:.3f})" if isinstance(score, float) else ""
        axes.set_title(_label(summary["column"]) + suffix, fontsize=9)
        axes.set_ylabel("share of rows", fontsize=8)
        axes.tick_params(labelsize=7)
        axes.legend(fontsize=7)
    for index in range(len(distributions), grid.shape[0] * grid.shape[1]):
        grid[index // 2][index % 2].set_visible(False)
    svg, png = _encode(figure)
    names = ", ".join(str(s["column"]) for s in distributions)
    return Plot("distributions", "Real vs synthetic distributions of the worst columns", f"Columns: {names}.", svg, png)


def _difference(matrix: Mapping[str, Any]) -> list[list[float]]:
    real, synthetic = matrix["real"], matrix["synthetic"]
    size = len(matrix["columns"])
    return [
        [
            float("nan") if real[i][j] is None or synthetic[i][j] is None else synthetic[i][j] - real[i][j]
            for j in range(size)
        ]
        for i in range(size)
    ]


def correlation_plot(correlations: Mapping[str, Any] | None, associations: Mapping[str, Any] | None) -> Plot | None:
    """Heatmaps of synthetic minus real correlation (Pearson) and association (Cramér's V); None without data."""
    matrices = [(m, title) for m, title in ((correlations, "Pearson r"), (associations, "Cramér's V")) if m]
    if not matrices:
        return None
    figure = _figure(4.6 * len(matrices), 4.2)
    grid = figure.subplots(1, len(matrices), squeeze=False)
    for axes, (matrix, title) in zip(grid[0], matrices, strict=True):
        names = [_label(c, 16) for c in matrix["columns"]]
        image = axes.imshow(_difference(matrix), cmap="RdBu_r", vmin=-1, vmax=1)
        axes.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
        axes.set_yticks(range(len(names)), names, fontsize=7)
        axes.set_title(f"{title}: synthetic - real", fontsize=9)
        figure.colorbar(image, ax=axes, shrink=0.8)
    svg, png = _encode(figure)
    caption = "Red: the synthetic data is more correlated than the real data; blue: less; white: the same."
    return Plot("correlations", "Correlation differences", caption, svg, png)


def fairness_plot(attributes: Sequence[Mapping[str, Any]] | None) -> Plot | None:
    """Real vs synthetic share of every slice of each sensitive attribute; None without fairness results."""
    attributes = [a for a in attributes or [] if a.get("slices")]
    if not attributes:
        return None
    figure = _figure(4.2 * min(len(attributes), 2), 3.0 * ((len(attributes) + 1) // 2))
    grid = figure.subplots((len(attributes) + 1) // 2, min(len(attributes), 2), squeeze=False)
    for index, attribute in enumerate(attributes):
        axes = grid[index // 2][index % 2]
        slices = attribute["slices"]
        positions = range(len(slices))
        axes.bar(
            [p - 0.2 for p in positions], [s["real_share"] or 0 for s in slices], width=0.4, color=REAL, label="real"
        )
        axes.bar(
            [p + 0.2 for p in positions],
            [s["synthetic_share"] or 0 for s in slices],
            width=0.4,
            color=SYNTHETIC,
            label="synthetic",
        )
        axes.set_xticks(list(positions), [_label(s["slice"], 16) for s in slices], rotation=45, ha="right", fontsize=7)
        axes.set_title(_label(attribute["attribute"]), fontsize=9)
        axes.set_ylabel("share of rows", fontsize=8)
        axes.tick_params(labelsize=7)
        axes.legend(fontsize=7)
    for index in range(len(attributes), grid.shape[0] * grid.shape[1]):
        grid[index // 2][index % 2].set_visible(False)
    svg, png = _encode(figure)
    return Plot("fairness", "Sensitive attributes: real vs synthetic shares", "Shares of rows per slice.", svg, png)


HOLDOUT = "#6a8f3a"


def proximity_plot(histogram: Mapping[str, Any] | None) -> Plot | None:
    """Distance to the closest training record: synthetic rows vs unseen holdout rows; None without data."""
    if not histogram:
        return None
    figure = _figure(6.0, 3.2)
    axes = figure.subplots()
    edges = histogram["edges"]
    axes.stairs(histogram["synthetic_to_training"], edges, color=SYNTHETIC, linewidth=1.6, label="synthetic rows")
    axes.stairs(histogram["holdout_to_training"], edges, color=HOLDOUT, linewidth=1.6, label="holdout rows (unseen)")
    axes.set_xlabel("distance to the closest training record (0 = a copy)", fontsize=8)
    axes.set_ylabel("share of rows", fontsize=8)
    axes.tick_params(labelsize=7)
    axes.legend(fontsize=7)
    svg, png = _encode(figure)
    caption = (
        "Synthetic rows piled up near 0, left of the holdout's curve, sit on training records: copies and near "
        "copies. A generator that learned the population draws the same curve as unseen real records."
    )
    return Plot("proximity", "Distance to the closest training record", caption, svg, png)


def membership_plot(membership: Mapping[str, Any] | None) -> Plot | None:
    """The membership attack's ROC curve (log-scaled false-positive rates); None without data."""
    if not membership or not membership.get("roc"):
        return None
    figure = _figure(4.6, 3.6)
    axes = figure.subplots()
    fpr, tpr = membership["roc"]["fpr"], membership["roc"]["tpr"]
    auc = membership.get("auc")
    label = f"attack (AUC {auc:.3f})" if isinstance(auc, float) else "attack"
    axes.plot(fpr, tpr, color=SYNTHETIC, linewidth=1.6, label=label)
    axes.plot([1e-4, 1], [1e-4, 1], color="#999999", linestyle="--", linewidth=1, label="no signal")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(1e-4, 1)
    axes.set_ylim(1e-4, 1)
    axes.set_xlabel("false-positive rate (holdout records flagged)", fontsize=8)
    axes.set_ylabel("true-positive rate (members found)", fontsize=8)
    axes.tick_params(labelsize=7)
    axes.legend(fontsize=7)
    svg, png = _encode(figure)
    caption = (
        "Each training and unseen record scored by its distance to the closest synthetic row. On log scales the "
        "low false-positive rates that matter are visible: a curve above the diagonal there exposes members."
    )
    return Plot("membership", "Membership inference attack (ROC)", caption, svg, png)


def card_plots(plots: Mapping[str, Any]) -> dict[str, Plot | None]:
    """Every plot a card's `plots` section allows (None where its data is missing)."""
    return {
        "distributions": distributions_plot(plots.get("distributions")),
        "correlations": correlation_plot(plots.get("correlations"), plots.get("associations")),
        "fairness": fairness_plot(plots.get("fairness")),
        "proximity": proximity_plot(plots.get("proximity")),
        "membership": membership_plot(plots.get("membership")),
    }
