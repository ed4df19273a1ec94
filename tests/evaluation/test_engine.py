"""The public entry point: result shape, metric keys, skipped kinds, progress and determinism."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from registry.evaluation.engine import ENGINE_NAME, EvaluationConfig, EvaluationResult, run_evaluation

ALL_KEYS = {
    "quality.overall",
    "quality.column_shapes",
    "quality.column_pair_trends",
    "quality.detection",
    "diagnostic.overall",
    "diagnostic.data_validity",
    "diagnostic.data_structure",
    "diagnostic.type_conformance",
    "privacy.exact_copies",
    "privacy.exact_copy_rate",
    "privacy.new_row_synthesis",
    "privacy.dcr_baseline_protection",
    "privacy.dcr_median",
    "privacy.dcr_overfitting_protection",
    "privacy.disclosure_protection",
    "privacy.near_copy_rate",
    "privacy.near_copy_excess",
    "privacy.singling_out",
    "privacy.singling_out_quasi_identifiers",
    "privacy.qi_unique_share",
    "privacy.qi_k_lt5_share",
    "privacy.dcr_share",
    "privacy.nndr_p10",
    "privacy.nndr_p10_holdout",
    "privacy.nndr_p10_ratio",
    "privacy.membership_auc",
    "privacy.membership_tpr_at_fpr_1pct",
    "privacy.membership_tpr_at_fpr_0_1pct",
    "privacy.membership_max_group_auc",
    "privacy.inference_advantage",
    "privacy.inference_max_group_advantage",
    "pii.columns",
    "pii.replayed_values",
    "pii.free_text_columns",
    "fairness.max_tvd",
    "fairness.max_slice_gap",
    "fairness.flagged_slices",
    "utility.tstr",
    "utility.trtr",
    "utility.gap",
}
FULL = EvaluationConfig(
    seed=3,
    sensitive_attributes=("race", "sex"),
    quasi_identifiers=("age", "sex", "race"),
    disclosure_sensitive=("income",),
    target_column="income",
)


@pytest.fixture(scope="module")
def tables(adult, resample):
    shuffled = adult.sample(3200, random_state=71).reset_index(drop=True)
    real, holdout = shuffled.iloc[:2000].reset_index(drop=True), shuffled.iloc[2000:].reset_index(drop=True)
    return real, resample(real, 1500, seed=72, copies=30), holdout


@pytest.fixture(scope="module")
def full_result(tables, adult_schema):
    real, synthetic, holdout = tables
    return run_evaluation(real, synthetic, columns=adult_schema, config=FULL, holdout=holdout)


def _without_durations(result):
    return {key: value for key, value in dataclasses.asdict(result).items() if key != "durations"}


def test_full_result_has_every_metric_and_strict_json(full_result):
    assert isinstance(full_result, EvaluationResult)
    assert [f.name for f in dataclasses.fields(full_result)] == [
        "engine",
        "parameters",
        "metrics",
        "results",
        "durations",
    ]
    assert full_result.engine["name"] == ENGINE_NAME
    assert set(full_result.engine["libraries"]) == {
        "sdmetrics",
        "pandas",
        "numpy",
        "scipy",
        "scikit-learn",
    }
    assert set(full_result.metrics) == ALL_KEYS
    assert all(value is None or type(value) in (int, float) for value in full_result.metrics.values())
    json.dumps(dataclasses.asdict(full_result), allow_nan=False)
    # Every kind is timed; "summaries" (what cards plot) rides along with quality.
    assert set(full_result.durations) == set(full_result.results) - {"summaries"}
    assert set(full_result.results["summaries"]) >= {"columns", "correlations", "associations"}
    assert full_result.metrics["privacy.exact_copies"] == 30
    assert full_result.metrics["privacy.exact_copy_rate"] == 30 / 1500
    assert full_result.results["privacy"]["dcr"]["distribution"]["zero_count"] == 30
    assert full_result.parameters["rows"] == {"reference": 2000, "synthetic": 1500, "holdout": 1200}
    assert full_result.parameters["seed"] == 3
    assert full_result.results["utility"]["split"] == "holdout table"
    assert not any("error" in section for section in full_result.results.values())


def test_the_same_inputs_give_the_same_numbers(tables, adult_schema, full_result):
    real, synthetic, holdout = tables
    again = run_evaluation(real, synthetic, columns=adult_schema, config=FULL, holdout=holdout)
    assert _without_durations(again) == _without_durations(full_result)


def test_kinds_not_requested_or_not_configured_have_no_keys(tables, adult_schema, monkeypatch):
    import registry.evaluation.engine as engine

    monkeypatch.setattr(engine, "_CORES", 1)  # one kind after the other, in order
    real, synthetic, _ = tables
    calls = []
    config = EvaluationConfig(kinds=("privacy", "fairness", "utility"))
    result = run_evaluation(
        real, synthetic, columns=adult_schema, config=config, progress=lambda p, s: calls.append((p, s))
    )
    assert set(result.results) == {"privacy", "fairness", "utility"}
    assert result.results["fairness"] == {"skipped": "no sensitive_attributes in the config"}
    assert result.results["utility"] == {"skipped": "no target_column in the config"}
    privacy = result.results["privacy"]
    assert privacy["dcr"]["overfitting"] == {"skipped": "no holdout table was given"}
    assert "skipped" in privacy["disclosure_protection"]
    assert privacy["holdout_evidence"] == {
        "skipped": "no holdout table was given: linkability, membership and inference need one"
    }
    assert privacy["singling_out"]["quasi_identifiers"] == {"skipped": "needs quasi_identifiers in the config"}
    assert set(result.metrics) == {
        "privacy.exact_copies",
        "privacy.exact_copy_rate",
        "privacy.new_row_synthesis",
        "privacy.near_copy_rate",
        "privacy.singling_out",
        "privacy.dcr_baseline_protection",
        "privacy.dcr_median",
    }
    assert calls == [
        (0, "privacy"),
        (33, "privacy done"),
        (33, "fairness"),
        (67, "fairness done"),
        (67, "utility"),
        (100, "utility done"),
    ]


@pytest.mark.parametrize("cores", [1, 2])
def test_privacy_beside_the_other_kinds_gives_the_same_numbers(tables, adult_schema, full_result, monkeypatch, cores):
    import registry.evaluation.engine as engine

    monkeypatch.setattr(engine, "_CORES", cores)
    real, synthetic, holdout = tables
    calls = []
    result = run_evaluation(
        real, synthetic, columns=adult_schema, config=FULL, holdout=holdout, progress=lambda p, s: calls.append(s)
    )
    concurrent = ["privacy"] if cores == 2 else []
    assert result.engine["concurrent_kinds"] == concurrent
    assert list(result.results) == ["quality", "diagnostic", "privacy", "pii", "fairness", "utility", "summaries"]
    expected = {**_without_durations(full_result), "engine": {**full_result.engine, "concurrent_kinds": concurrent}}
    assert _without_durations(result) == expected
    # The helper thread's kind is waited for last.
    order = ["quality", "diagnostic", "pii", "fairness", "utility", "privacy"] if cores == 2 else list(engine.KINDS)
    assert calls[::2] == order


def test_kinds_run_one_after_the_other_above_the_concurrent_row_limit(tables, adult_schema, monkeypatch):
    import registry.evaluation.engine as engine

    monkeypatch.setattr(engine, "_CORES", 2)
    monkeypatch.setattr(engine, "CONCURRENT_MAX_ROWS", 3499)  # 2,000 reference + 1,500 synthetic rows
    real, synthetic, _ = tables
    config = EvaluationConfig(kinds=("quality", "privacy"), quality_detection=False)
    assert run_evaluation(real, synthetic, columns=adult_schema, config=config).engine["concurrent_kinds"] == []
    monkeypatch.setattr(engine, "CONCURRENT_MAX_ROWS", 3500)
    assert run_evaluation(real, synthetic, columns=adult_schema, config=config).engine["concurrent_kinds"] == [
        "privacy"
    ]


def test_synthetic_sample_for_dcr_reports_a_confidence_interval(tables, adult_schema):
    real, synthetic, _ = tables
    config = EvaluationConfig(kinds=("privacy",), dcr_synthetic_sample=400, dcr_bootstrap_resamples=200)
    result = run_evaluation(real, synthetic, columns=adult_schema, config=config)
    dcr = result.results["privacy"]["dcr"]
    assert dcr["synthetic_rows_evaluated"] == 400 and dcr["synthetic_sample"] == 400
    assert dcr["reference_rows"] == 2000
    interval = dcr["confidence_interval_95"]
    assert interval["median_dcr"][0] <= dcr["median"] <= interval["median_dcr"][1]
    low, high = interval["baseline_protection"]
    assert low <= result.metrics["privacy.dcr_baseline_protection"] <= high
    # Exact copies and NewRowSynthesis always look at every synthetic row.
    assert result.results["privacy"]["new_row_synthesis"]["num_matched_rows"] >= 30


def test_dcr_is_skipped_above_the_pair_budget(tables, adult_schema):
    real, synthetic, _ = tables
    config = EvaluationConfig(kinds=("privacy",), dcr_max_pairs=1000)
    result = run_evaluation(real, synthetic, columns=adult_schema, config=config)
    assert "dcr_synthetic_sample" in result.results["privacy"]["dcr"]["skipped"]
    assert "privacy.dcr_median" not in result.metrics
    assert "privacy.exact_copies" in result.metrics


@pytest.mark.parametrize("failing", ["pii", "privacy"])  # privacy: in the helper thread on two cores
def test_a_failing_kind_reports_its_error_and_keeps_the_others(monkeypatch, failing):
    import registry.evaluation.engine as engine

    def broken(data, config):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "_CORES", 2)
    monkeypatch.setitem(engine._EVALUATORS, failing, broken)
    frame = pd.DataFrame({"x": np.arange(40.0), "c": ["a", "b"] * 20})
    columns = [{"name": "x", "sdtype": "numerical"}, {"name": "c", "sdtype": "categorical"}]
    result = run_evaluation(frame, frame, columns=columns, config=EvaluationConfig(kinds=("privacy", "pii")))
    assert result.results[failing] == {"error": "RuntimeError: boom"}
    assert result.engine["concurrent_kinds"] == ["privacy"]
    other = "privacy" if failing == "pii" else "pii"
    assert "error" not in result.results[other]
    assert not any(key.startswith(f"{failing}.") for key in result.metrics)
    assert any(key.startswith(f"{other}.") for key in result.metrics)


def test_columns_without_an_sdtype_get_it_inferred_from_the_reference_and_given_ones_are_kept():
    rows = 40
    real = pd.DataFrame(
        {
            "x": np.linspace(0, 1, rows),
            "when": [f"2024-01-{day % 28 + 1:02d}" for day in range(rows)],
            "grade": np.arange(rows) % 4,  # numbers, but declared categorical
        }
    )
    columns = [{"name": "x"}, {"name": "when", "dtype": "object"}, {"name": "grade", "sdtype": "categorical"}]
    result = run_evaluation(real, real, columns=columns, config=EvaluationConfig(kinds=("quality",)))
    assert result.parameters["columns"] == [
        {"name": "x", "sdtype": "numerical"},
        {"name": "when", "sdtype": "datetime"},
        {"name": "grade", "sdtype": "categorical"},
    ]
    assert result.parameters["normalisation_notes"] == [
        "sdtypes inferred from the reference table: x (numerical), when (datetime)"
    ]
    assert result.metrics["quality.overall"] == 1.0


@pytest.mark.parametrize("sdtypes_given", [True, False])
def test_string_columns_read_as_categories_give_the_same_evaluation(adult_small, adult_schema, tmp_path, sdtypes_given):
    """The evaluation job reads Parquet strings as categoricals (and lets the engine infer the sdtypes from
    the reference); every number and detail is the same as with the strings read as values."""
    from registry.tables.reading import read_table

    real, synthetic = adult_small
    real = real.assign(occupation=real["occupation"].where(real.index % 7 != 0))  # missing values too
    synthetic = synthetic.assign(workclass=synthetic["workclass"].replace({"Private": "Unheard-of"}))
    paths = {}
    for label, frame in (("real", real), ("synthetic", synthetic), ("holdout", real.iloc[::2])):
        paths[label] = tmp_path / f"{label}.parquet"
        frame.reset_index(drop=True).to_parquet(paths[label])
    config = EvaluationConfig(sensitive_attributes=("sex",), target_column="income")
    columns = adult_schema if sdtypes_given else [{"name": column["name"], "sdtype": None} for column in adult_schema]
    results = []
    # Strings as values, as categories, and only the reference's as categories (a Parquet reference, a CSV
    # synthetic table).
    for categorical_tables in ((), ("real", "synthetic", "holdout"), ("real",)):
        tables = {
            label: read_table(path, "parquet", strings_as_categories=label in categorical_tables)
            for label, path in paths.items()
        }
        results.append(
            run_evaluation(
                tables["real"], tables["synthetic"], columns=columns, config=config, holdout=tables["holdout"]
            )
        )
    plain = results[0]
    for categorical in results[1:]:
        assert categorical.parameters["columns"] == plain.parameters["columns"]
        # Categories are met in another order, so sums of per-category terms may differ in the last bit.
        assert _close(categorical.metrics, plain.metrics)
        assert _close(categorical.results, plain.results)


def _close(ours, theirs) -> bool:
    if isinstance(theirs, dict):
        return (
            isinstance(ours, dict)
            and ours.keys() == theirs.keys()
            and all(_close(ours[k], v) for k, v in theirs.items())
        )
    if isinstance(theirs, list):
        return isinstance(ours, list) and len(ours) == len(theirs) and all(map(_close, ours, theirs))
    if isinstance(theirs, float) and isinstance(ours, float):
        return abs(ours - theirs) <= 1e-12 or (ours != ours and theirs != theirs)
    return ours == theirs
