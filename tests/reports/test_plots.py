"""Distribution summaries (registry/evaluation/summaries.py) and the plots drawn from them."""

import pandas as pd
import pytest

from registry.evaluation.summaries import distribution_summaries
from reports.plots import card_plots, correlation_plot, distributions_plot, fairness_plot


@pytest.fixture(scope="module")
def tables():
    real = pd.DataFrame(
        {
            "age": list(range(100)),
            "city": ["a"] * 60 + ["b"] * 36 + ["rare"] * 4,
            "score": [float(i % 10) for i in range(100)],
            "id": [f"id-{i}" for i in range(100)],
        }
    )
    synthetic = pd.DataFrame(
        {
            "age": [None] * 10 + list(range(200, 290)),
            "city": ["a"] * 50 + ["b"] * 40 + ["c"] * 10,
            "score": [float(i % 5) for i in range(100)],
            "id": [f"s-{i}" for i in range(100)],
        }
    )
    return real, synthetic


SDTYPES = {"age": "numerical", "city": "categorical", "score": "numerical", "id": "id"}


def test_numeric_histograms_span_the_real_1st_to_99th_percentile_only(tables):
    summary = distribution_summaries(*tables, SDTYPES, bins=4)
    age = summary["columns"]["age"]
    assert age["edges"] == pytest.approx([0.99, 25.245, 49.5, 73.755, 98.01])
    assert age["real"] == [25, 24, 24, 25]
    assert (age["below"], age["above"]) == ({"real": 1, "synthetic": 0}, {"real": 1, "synthetic": 90})
    assert age["synthetic"] == [0, 0, 0, 0]
    assert age["missing"] == {"real": 0, "synthetic": 10}
    assert age["suppressed_bins"] == 0


def test_real_bins_with_fewer_than_min_count_rows_are_stored_as_zero():
    real = pd.DataFrame({"x": [0.0] * 50 + [10.0] * 48 + [5.0] * 2})
    x = distribution_summaries(real, real, {"x": "numerical"}, bins=2, min_count=5)["columns"]["x"]
    assert (x["real"], x["synthetic"], x["suppressed_bins"]) == ([50, 50], [50, 50], 0)
    x = distribution_summaries(real, real, {"x": "numerical"}, bins=4, min_count=5)["columns"]["x"]
    assert (x["real"], x["synthetic"], x["suppressed_bins"]) == ([50, 0, 0, 48], [50, 0, 2, 48], 1)


def test_categories_seen_fewer_than_min_count_times_fold_into_other(tables):
    city = distribution_summaries(*tables, SDTYPES)["columns"]["city"]
    assert city == {
        "sdtype": "categorical",
        "categories": ["a", "b"],
        "real": [60, 36],
        "synthetic": [50, 40],
        "other": {"real": 4, "synthetic": 10},
        "missing": {"real": 0, "synthetic": 0},
    }


def test_identifiers_are_not_summarised_and_matrices_need_two_columns(tables):
    summary = distribution_summaries(*tables, SDTYPES)
    assert summary["columns"]["id"] == {"sdtype": "id", "skipped": "identifier columns are not summarised"}
    assert summary["correlations"]["columns"] == ["age", "score"]
    assert summary["correlations"]["real"][0][0] == 1.0
    assert "associations" not in summary
    assert (summary["version"], summary["rows"]) == (1, {"real": 100, "synthetic": 100})


def _worst(summary: dict) -> list[dict]:
    return [
        {"column": name, "score": 0.5, "metric": "KSComplement", **summary["columns"][name]} for name in ("age", "city")
    ]


def test_plots_render_as_svg_and_png(tables):
    summary = distribution_summaries(*tables, SDTYPES)
    plots = card_plots(
        {
            "distributions": _worst(summary),
            "correlations": summary["correlations"],
            "associations": None,
            "fairness": [{"attribute": "city", "slices": [{"slice": "a", "real_share": 0.6, "synthetic_share": 0.5}]}],
        }
    )
    for key in ("distributions", "correlations", "fairness"):
        plot = plots[key]
        assert plot.svg.startswith(b"<?xml") and b"<svg" in plot.svg
        assert plot.png.startswith(b"\x89PNG")
        assert plot.svg_data_uri.startswith("data:image/svg+xml;base64,")


def test_without_stored_data_there_is_no_plot():
    assert distributions_plot(None) is None
    assert correlation_plot(None, None) is None
    assert fairness_plot([]) is None


def test_labels_with_dollar_signs_and_markup_are_drawn_as_text(tables):
    real, synthetic = tables
    renamed = {"city": "$x$ <script>"}
    summary = distribution_summaries(
        real.rename(columns=renamed), synthetic.rename(columns=renamed), {"$x$ <script>": "categorical"}
    )
    plot = distributions_plot([{"column": "$x$ <script>", "score": 0.9, **summary["columns"]["$x$ <script>"]}])
    assert b"<script>" not in plot.svg
