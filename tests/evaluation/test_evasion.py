"""The ways a verdict was evaded, each on data shaped like the case reported, against the default policy.

Row numbers hiding copies, near copies, values written in another type, too little evidence: each must end
in a block (or in "not evaluated", never a pass), and a random half of the real table must pass everything.
"""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from governance.default_policy import DEFAULT_RULES
from governance.policy_engine import check
from registry.demo.data import build_demo_tables
from registry.evaluation.engine import EvaluationConfig, EvaluationInputError, run_evaluation

POLICY = {
    "name": "Default release policy",
    "id": "default",
    "version": 1,
    "rules": [
        {"id": i, "metric": m, "operator": o, "threshold": t, "severity": s, "explanation": e}
        for i, (m, o, t, s, e) in enumerate(DEFAULT_RULES)
    ],
}
PRIVACY = EvaluationConfig(kinds=("privacy",), seed=1)


def _verdicts(metrics: dict) -> dict[str, str]:
    outcomes, _ = check([POLICY], metrics)
    return {f"{o['metric']} {o['operator']} {o['threshold']}": o["verdict"] for o in outcomes}


def _failing(metrics: dict, severity: str = "block") -> list[str]:
    outcomes, _ = check([POLICY], metrics)
    return sorted({o["metric"] for o in outcomes if o["severity"] == severity and o["verdict"] == "fail"})


def _schema(frame: pd.DataFrame) -> list[dict]:
    return [{"name": name} for name in frame.columns]


@pytest.fixture(scope="module")
def splits(adult):
    """Disjoint random parts of Adult: training (real), holdout and fresh real rows."""
    shuffled = adult.sample(frac=1.0, random_state=41).reset_index(drop=True)
    return shuffled.iloc[:3000].reset_index(drop=True), shuffled.iloc[3000:4500].reset_index(drop=True), shuffled


def _with_row_numbers(frame: pd.DataFrame, name: str, start: int = 1) -> pd.DataFrame:
    return pd.concat([pd.Series(range(start, start + len(frame)), name=name), frame], axis=1)


@pytest.mark.parametrize("name", ["rownames", "index", "Unnamed: 0", "record"])
def test_a_renumbered_row_number_column_does_not_hide_copied_rows(adult, name):
    # As reported: 71 of 344 rows copied, the first column numbering each table's rows afresh.
    shuffled = adult.drop_duplicates().sample(frac=1.0, random_state=3).reset_index(drop=True)
    real, fresh = shuffled.iloc[:344], shuffled.iloc[344:617]
    copied = real.sample(71, random_state=4)
    synthetic = pd.concat([copied, fresh]).sample(frac=1.0, random_state=6).reset_index(drop=True)
    real, synthetic = _with_row_numbers(real, name), _with_row_numbers(synthetic, name)

    result = run_evaluation(real, synthetic, columns=_schema(real), config=PRIVACY)
    assert result.results["privacy"]["keys_excluded"] == {
        name: "a numbering of the rows (every integer from 1 to 344 once) in the reference table"
    }
    assert result.metrics["privacy.exact_copies"] == 71
    assert result.metrics["privacy.new_row_synthesis"] <= 1 - 71 / 344
    assert {"privacy.exact_copy_rate", "privacy.singling_out"} <= set(_failing(result.metrics))
    assert any(name in note for note in result.parameters["normalisation_notes"])


def test_keys_are_found_by_content_shuffled_offset_or_uuid(adult):
    real = adult.sample(200, random_state=8).reset_index(drop=True)
    synthetic = real.sample(150, random_state=9).reset_index(drop=True)
    generator = np.random.default_rng(10)
    real.insert(0, "n", generator.permutation(np.arange(5000, 5200)))  # a shuffled numbering
    synthetic.insert(0, "n", generator.permutation(np.arange(1, 151)))
    real.insert(1, "ref", [str(uuid.UUID(int=int(v), version=4)) for v in generator.integers(0, 2**62, 200)])
    synthetic.insert(1, "ref", [str(uuid.uuid4()) for _ in range(150)])
    result = run_evaluation(real, synthetic, columns=_schema(real), config=PRIVACY)
    assert set(result.results["privacy"]["keys_excluded"]) == {"n", "ref"}
    assert result.metrics["privacy.exact_copies"] == 150


def test_a_declared_id_column_is_never_matched_and_cannot_be_a_quasi_identifier(adult):
    real = adult.sample(120, random_state=11).reset_index(drop=True)
    synthetic = real.copy()
    real.insert(0, "customer", [f"C{i:05d}" for i in range(120)])
    synthetic.insert(0, "customer", [f"X{i:05d}" for i in range(120)])
    columns = [{"name": "customer", "sdtype": "id"}, *_schema(real)[1:]]
    result = run_evaluation(real, synthetic, columns=columns, config=PRIVACY)
    assert result.metrics["privacy.exact_copies"] == 120
    with pytest.raises(EvaluationInputError) as raised:
        config = EvaluationConfig(kinds=("privacy",), quasi_identifiers=("customer",), disclosure_sensitive=("sex",))
        run_evaluation(
            real.assign(customer=[f"K{i}" for i in range(120)]), synthetic, columns=_schema(real), config=config
        )
    assert raised.value.field == "quasi_identifiers"
    assert "customer" in str(raised.value)


def test_near_copies_are_blocked_and_fresh_real_rows_are_not(splits):
    # As reported: 30% of the rows are real training rows with one value nudged (+1), the rest is fresh data.
    training, holdout, shuffled = splits
    fresh = shuffled.iloc[6000:9000].reset_index(drop=True)
    nudged = training.sample(900, random_state=12).reset_index(drop=True)
    nudged["hours_per_week"] = nudged["hours_per_week"] + 1
    synthetic = pd.concat([nudged, fresh.iloc[900:]]).sample(frac=1.0, random_state=13).reset_index(drop=True)

    leaky = run_evaluation(training, synthetic, columns=_schema(training), config=PRIVACY, holdout=holdout).metrics
    assert leaky["privacy.exact_copies"] <= 2  # Adult repeats a few records: fresh rows can equal training ones
    assert {"privacy.near_copy_excess", "privacy.dcr_share", "privacy.membership_auc"} <= set(_failing(leaky))
    assert leaky["privacy.near_copy_excess"] >= 0.25

    clean = run_evaluation(training, fresh, columns=_schema(training), config=PRIVACY, holdout=holdout).metrics
    assert _failing(clean) == [] and _failing(clean, "warn") == []


@pytest.mark.parametrize(
    ("column", "written"),
    [("age", lambda v: f"{v} yrs"), ("capital_gain", lambda v: f"{v:,}" if v >= 1000 else f"{v}.5 USD")],
)
def test_values_in_another_type_fail_diagnostics_and_are_named(adult, column, written):
    real = adult.sample(400, random_state=14).reset_index(drop=True)
    synthetic = adult.sample(400, random_state=15).reset_index(drop=True)
    synthetic[column] = synthetic[column].map(written)
    config = EvaluationConfig(kinds=("quality", "diagnostic"), seed=1)
    result = run_evaluation(real, synthetic, columns=_schema(real), config=config)
    diagnostic = result.results["diagnostic"]
    assert diagnostic["columns_not_of_the_reference_type"] == [column]
    row = next(r for r in diagnostic["type_conformance"] if r["column"] == column)
    assert row["sdtype"] == "numerical" and row["synthetic_unparseable_share"] > 0.5
    assert result.metrics["diagnostic.type_conformance"] < 0.5
    assert "diagnostic.type_conformance" in _failing(result.metrics)


def test_tables_too_small_are_insufficient_never_a_pass(adult):
    real, synthetic, holdout = (adult.iloc[[i]].reset_index(drop=True) for i in (0, 1, 2))
    config = EvaluationConfig(
        seed=1, sensitive_attributes=("race",), quasi_identifiers=("age", "sex"), disclosure_sensitive=("income",)
    )
    result = run_evaluation(real, synthetic, columns=_schema(real), config=config, holdout=holdout)
    insufficient = result.results["insufficient"]
    for metric in (
        "quality.detection",
        "privacy.exact_copy_rate",
        "privacy.dcr_share",
        "privacy.membership_auc",
        "privacy.singling_out",
        "privacy.disclosure_protection",
    ):
        assert result.metrics.get(metric) is None, metric
        assert "at least" in insufficient[metric], metric
    verdicts = _verdicts(result.metrics)
    assert verdicts["privacy.exact_copy_rate <= 0.001"] == "not_evaluated"
    assert verdicts["privacy.membership_auc <= 0.6"] == "not_evaluated"
    assert check([POLICY], result.metrics)[1] == "block"


def test_a_random_part_of_the_real_table_passes_every_default_rule_and_flags_no_slice(splits, adult_schema):
    training, holdout, shuffled = splits
    synthetic = shuffled.iloc[6000:9000].reset_index(drop=True)
    config = EvaluationConfig(
        seed=2,
        sensitive_attributes=("race", "sex"),
        quasi_identifiers=("age", "sex", "race", "education"),
        disclosure_sensitive=("income",),
        target_column="income",
    )
    result = run_evaluation(training, synthetic, columns=adult_schema, config=config, holdout=holdout)
    metrics = dict(result.metrics, **{"evidence.reference_is_declared_source": 1})
    outcomes, verdict = check([POLICY], metrics)
    assert [(o["metric"], o["verdict"]) for o in outcomes if o["verdict"] != "pass"] == []
    assert verdict == "pass"
    assert metrics["fairness.flagged_slices"] == 0


def test_the_demo_leaky_version_with_row_numbers_first_is_still_blocked_by_several_criteria():
    tables = build_demo_tables()

    def numbered(frame: pd.DataFrame) -> pd.DataFrame:
        return _with_row_numbers(frame.reset_index(drop=True), "rownames")

    train, leaky, holdout = (numbered(frame) for frame in (tables.train, tables.leaky, tables.holdout))
    config = EvaluationConfig(kinds=("privacy",), seed=0, sensitive_attributes=("race", "sex"))
    result = run_evaluation(train, leaky, columns=_schema(train), config=config, holdout=holdout)
    assert list(result.results["privacy"]["keys_excluded"]) == ["rownames"]
    assert _failing(result.metrics) == [
        "privacy.dcr_share",
        "privacy.exact_copy_rate",
        "privacy.membership_auc",
        "privacy.near_copy_excess",
        "privacy.singling_out",
    ]
