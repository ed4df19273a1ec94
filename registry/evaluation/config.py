"""Evaluation settings and the shape every kind returns; shared by the engine and the kinds."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

KINDS = ("quality", "diagnostic", "privacy", "pii", "fairness", "utility")
# How CAP bins a datetime column with missing values (EvaluationConfig.cap_missing_datetimes).
CAP_MISSING_DATETIMES = ("sdmetrics", "category")
# What computes the quality and diagnostic reports (EvaluationConfig.report_engine): the engine's own code
# ("native", equal to sdmetrics 0.32 to 1e-9, every row) or sdmetrics 0.32's reports themselves.
REPORT_ENGINES = ("native", "sdmetrics")


@dataclass(frozen=True)
class EvaluationConfig:
    """Everything that influences the numbers; recorded verbatim in the result's ``parameters``.

    Thresholds are documented next to the code that uses them (see each kind's module docstring).
    """

    kinds: tuple[str, ...] = KINDS
    seed: int = 0
    # Fairness: one slice per category of each attribute (numerical ones are cut into quantile bins).
    sensitive_attributes: tuple[str, ...] = ()
    # Disclosure protection (CAP): the attacker knows the quasi-identifiers and guesses the sensitive columns.
    quasi_identifiers: tuple[str, ...] = ()
    disclosure_sensitive: tuple[str, ...] = ()
    # Utility: the column a model predicts (train on synthetic, test on real).
    target_column: str | None = None
    # None = every synthetic row; the real (reference) rows are never subsampled.
    dcr_synthetic_sample: int | None = None
    # DCR is skipped (with the reason) above this many synthetic x reference row pairs.
    dcr_max_pairs: int = 10_000_000_000
    dcr_bootstrap_resamples: int = 1000
    report_engine: str = "native"
    # Diagnostic: the constraints the version's pipeline declared for its generator (sdmetrics' dicts,
    # ``registry.evaluation.constraints``), scored as the report's Constraint Validity property; () = none, and
    # the report is exactly what it is without. Plain dicts are not hashable: left out of the config's hash.
    constraints: tuple[dict[str, Any], ...] = field(default=(), hash=False)
    # quality.detection (LogisticDetection): False leaves it out (the metric is then absent, not_evaluated);
    # it fits on at most detection_max_rows rows a table (a seeded sample above it; None = every row).
    quality_detection: bool = True
    detection_max_rows: int | None = 50_000
    # sdmetrics' num_rows_subsample for contingency pairs (report_engine "sdmetrics" only; the native
    # engine always reads every row); None = exact (and no randomness at all).
    quality_subsample: int | None = None
    real_correlation_threshold: float = 0.5
    real_association_threshold: float = 0.3
    new_row_tolerance: float = 0.01
    cap_num_discrete_bins: int = 10
    # How CAP bins a datetime column with missing values: "sdmetrics" (0.32: NaT becomes the int64 minimum
    # before binning, which stretches the bins) or "category" (missing is a category of its own, as for
    # every other column type).
    cap_missing_datetimes: str = "sdmetrics"
    # Minimum evidence: below these sizes the row-level privacy metrics are insufficient (None, with why).
    privacy_min_rows: int = 30
    privacy_min_holdout_rows: int = 30
    # Percentile-bootstrap resamples behind the 95% intervals of the privacy evidence.
    privacy_bootstrap_resamples: int = 200
    pii_sample_rows: int = 1000
    pii_share_threshold: float = 0.5
    pii_name_hint_share_threshold: float = 0.1
    fairness_min_slice_rows: int = 30
    fairness_under_representation_ratio: float = 0.8
    fairness_distortion_margin: float = 0.1
    fairness_numeric_bins: int = 5
    # Fairness flags need significance: the level of the Holm-corrected tests, and the bootstrap resamples
    # behind the distortion test (its smallest p-value is 1 / (resamples + 1)).
    fairness_alpha: float = 0.05
    fairness_bootstrap_resamples: int = 200
    utility_test_fraction: float = 0.3
    # None = train on every row; a number caps both training sets (seeded sample) for very large tables.
    utility_max_train_rows: int | None = None

    def __post_init__(self) -> None:
        # Callers (JSON, forms) hand lists; tuples keep the config hashable and immutable.
        for name in ("kinds", "sensitive_attributes", "quasi_identifiers", "disclosure_sensitive", "constraints"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value))

    def as_parameters(self) -> dict[str, Any]:
        """The config as plain data (tuples become lists)."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            out[item.name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass
class KindResult:
    """What one kind produced: flat metrics for the policy engine and a detailed results section.

    ``insufficient`` names the metrics whose sample was too small to mean anything, with the reason: they are
    reported as None (a policy reads them as not evaluated, never as a pass) and the card shows the reason.
    """

    metrics: dict[str, float | int | None] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    insufficient: dict[str, str] = field(default_factory=dict)

    def mark_insufficient(self, reason: str, *keys: str) -> None:
        """Report `keys` as insufficient evidence: value None, and why."""
        for key in keys:
            self.metrics[key] = None
            self.insufficient[key] = reason

    @classmethod
    def skipped(cls, reason: str) -> KindResult:
        """A kind that cannot run: no metrics, and the reason in its results."""
        return cls(metrics={}, results={"skipped": reason})
