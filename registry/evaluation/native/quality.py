"""sdmetrics 0.32's QualityReport, computed natively: Column Shapes and Column Pair Trends.

Each column is encoded once (``encoding``) and read by every metric and pair that needs it; the columns are
encoded on both cores (NumPy's sorts, searches and factorisations release the GIL). The details have the
rows, order, values and error texts of ``report.get_details(...)``; the property score is the mean of the
scores (NaN skipped; for pairs, only those meeting the real-trend threshold), the overall score the mean of
the properties that have a score (``np.nanmean``). Every row is used: there is no subsampling.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from registry.evaluation.keys import CodesOf, SortedOf
from registry.evaluation.native.encoding import (
    CONTINUOUS_SDTYPES,
    DISCRETE_SDTYPES,
    Continuous,
    Discrete,
    discrete_from_codes,
    encode_continuous,
    encode_discrete,
)
from registry.evaluation.native.pair_trends import (
    binned,
    contingency_pair,
    correlation_pair,
    correlations,
    standardise,
)
from registry.evaluation.native.shapes import ks_complement, ks_values, tv_complement

SHAPES = "Column Shapes"
PAIR_TRENDS = "Column Pair Trends"
_THREADS = 2


@dataclass(frozen=True)
class QualityScores:
    """The report's numbers: overall score, property scores and the two properties' detail rows."""

    score: float
    properties: dict[str, float]
    column_shapes: list[dict] = field(default_factory=list)
    column_pair_trends: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class _Encoded:
    name: str
    sdtype: str
    shape: dict  # the Column Shapes row
    column: Continuous | Discrete
    standardised: tuple = ()  # (real, synthetic) Standardised, continuous columns only


def _encode(
    name: str, sdtype: str, real: pd.Series, synthetic: pd.Series, codes: CodesOf | None, ordered: SortedOf | None
) -> _Encoded:
    if sdtype in CONTINUOUS_SDTYPES:
        if ordered is not None:
            real_sorted, synthetic_sorted = ordered(name)
            score = ks_complement(ks_values(sorted_values=real_sorted), ks_values(sorted_values=synthetic_sorted))
        else:
            score = ks_complement(ks_values(real), ks_values(synthetic))
        column = encode_continuous(real, synthetic)
        shape = {"column": name, "metric": "KSComplement", "score": score, "error": None}
        return _Encoded(name, sdtype, shape, column, (standardise(column.real), standardise(column.synthetic)))
    column = discrete_from_codes(*codes(name)) if codes is not None else encode_discrete(real, synthetic)
    score, error = tv_complement(column)
    return _Encoded(name, sdtype, {"column": name, "metric": "TVComplement", "score": score, "error": error}, column)


Correlations = tuple[dict, dict]  # real, synthetic: (name 1, name 2) -> Pearson's r (``correlations``)


def _correlations(encoded: list[_Encoded], side: int) -> dict[tuple[str, str], float]:
    """Pearson's r of every pair of one table's continuous columns that pearsonr centres and scales whole."""
    ready = [item for item in encoded if item.standardised and item.standardised[side].mean is not None]
    if len(ready) < 2:
        return {}
    values = [item.column.real if side == 0 else item.column.synthetic for item in ready]
    matrix = correlations(values, [item.standardised[side] for item in ready])
    return {(ready[i].name, ready[j].name): float(matrix[i, j]) for i, j in combinations(range(len(ready)), 2)}


def _pair(
    first: _Encoded,
    second: _Encoded,
    correlation_threshold: float,
    association_threshold: float,
    known: Correlations = ({}, {}),
) -> dict:
    names = {"column_1": first.name, "column_2": second.name}
    if first.sdtype in CONTINUOUS_SDTYPES and second.sdtype in CONTINUOUS_SDTYPES:
        standardised = tuple(zip(first.standardised, second.standardised, strict=True))
        columns = (first.column, second.column)
        pair = (first.name, second.name)
        return names | correlation_pair(
            pair, columns, standardised, correlation_threshold, (known[0].get(pair), known[1].get(pair))
        )
    error = None
    sides = []
    for encoded in (first, second):
        if isinstance(encoded.column, Continuous):
            error = error or encoded.column.binning_error
            sides.append(binned(encoded.column))
        else:
            sides.append(encoded.column)
    return names | contingency_pair(sides[0], sides[1], association_threshold, error)


def _mean(scores: list[float]) -> float:
    present = [score for score in scores if not math.isnan(score)]
    return float(np.mean(present)) if present else math.nan


def _without_empty_errors(rows: list[dict]) -> list[dict]:
    """sdmetrics drops the Error column when no row has an error."""
    if any(row["error"] is not None for row in rows):
        return rows
    return [{key: value for key, value in row.items() if key != "error"} for row in rows]


def quality_report(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    sdtypes: Mapping[str, str],
    *,
    real_correlation_threshold: float,
    real_association_threshold: float,
    codes: CodesOf | None = None,
    ordered: SortedOf | None = None,
) -> QualityScores:
    """Column Shapes and Column Pair Trends of ``synthetic`` against ``real`` for the columns in ``sdtypes``.

    ``codes``: a column's (real, synthetic) value codes already computed elsewhere (``keys.joint_codes``'
    shape, e.g. ``PreparedData.joint_codes``), so they are not computed twice; ``ordered``: likewise a
    continuous column's sorted present values (``PreparedData.sorted_values``).
    """
    known = [(name, sdtype) for name, sdtype in sdtypes.items() if sdtype in (*CONTINUOUS_SDTYPES, *DISCRETE_SDTYPES)]
    with ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="quality") as pool:
        encoded = list(
            pool.map(lambda item: _encode(item[0], item[1], real[item[0]], synthetic[item[0]], codes, ordered), known)
        )
        by_side = tuple(pool.map(lambda side: _correlations(encoded, side), (0, 1)))
        pairs = list(
            pool.map(
                lambda pair: _pair(*pair, real_correlation_threshold, real_association_threshold, by_side),
                combinations(encoded, 2),
            )
        )
    shapes = [item.shape for item in encoded]
    shapes_score = _mean([row["score"] for row in shapes])
    trends_score = _mean([row["score"] for row in pairs if row["meets_threshold"] is True])
    properties = {SHAPES: shapes_score, PAIR_TRENDS: trends_score}
    scored = [value for value in properties.values() if not math.isnan(value)]
    return QualityScores(
        score=float(np.mean(scored)) if scored else math.nan,
        properties=properties,
        column_shapes=_without_empty_errors(shapes),
        column_pair_trends=_without_empty_errors(pairs),
    )
