"""Helpers around sdmetrics: metadata, a seeded and restored global RNG, quiet calls, plain details."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd

TABLE = "table"


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose code computes the numbers."""
    names = ("sdmetrics", "pandas", "numpy", "scipy", "scikit-learn")
    return {name: version(name) for name in names}


def report_metadata(sdtypes: Mapping[str, str]) -> dict:
    """Multi-table-shaped metadata, as ``sdmetrics.reports.QualityReport``/``DiagnosticReport`` take it."""
    return {"tables": {TABLE: {"columns": {name: {"sdtype": sdtype} for name, sdtype in sdtypes.items()}}}}


@contextmanager
def seeded_numpy(seed: int) -> Iterator[None]:
    """Seed NumPy's global RNG (sdmetrics samples with it) and restore the caller's state afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        with warnings.catch_warnings():
            # sdmetrics warns about sizes, deprecations and constant columns; results carry what matters.
            warnings.simplefilter("ignore")
            yield
    finally:
        np.random.set_state(state)


def records(frame: pd.DataFrame, renames: Mapping[str, str]) -> list[dict[str, Any]]:
    """A details DataFrame as a list of dicts with snake_case keys (only the columns present)."""
    present = [column for column in renames if column in frame.columns]
    return [
        {renames[column]: value for column, value in zip(present, row, strict=True)}
        for row in frame[present].itertuples(index=False, name=None)
    ]
