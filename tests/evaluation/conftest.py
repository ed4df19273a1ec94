"""Fixtures for the evaluation engine: the Adult data, small samples of it and hand-made tricky tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from registry.tables.reading import read_table
from registry.tables.schema import table_schema
from tests.support import ADULT


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    """UCI Adult, 32,561 rows (shipped in data/demo), read the way the registry reads uploads."""
    return read_table(ADULT, "csv.gz")


@pytest.fixture(scope="session")
def adult_schema(adult) -> list[dict[str, str]]:
    return table_schema(adult)


@pytest.fixture(scope="session")
def adult_sdtypes(adult_schema) -> dict[str, str]:
    return {column["name"]: column["sdtype"] for column in adult_schema}


def noisy_resample(source: pd.DataFrame, rows: int, seed: int, copies: int = 0) -> pd.DataFrame:
    """A fake synthetic table: resampled rows with numerical noise, the first ``copies`` rows exact."""
    generator = np.random.default_rng(seed)
    table = source.sample(rows, replace=True, random_state=seed).reset_index(drop=True)
    table["age"] = table["age"] + generator.integers(-2, 3, rows)
    table["fnlwgt"] = (table["fnlwgt"] * generator.normal(1, 0.01, rows)).round().astype("int64")
    table["hours_per_week"] = table["hours_per_week"] + generator.integers(-1, 2, rows)
    if copies:
        table.iloc[:copies] = source.iloc[:copies].to_numpy()
        table = table.astype(source.dtypes.to_dict())
    return table


@pytest.fixture(scope="session")
def adult_small(adult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """300 real Adult rows and a 250-row noisy resample of them with 12 planted exact copies."""
    real = adult.sample(300, random_state=7).reset_index(drop=True)
    return real, noisy_resample(real, 250, seed=11, copies=12)


@pytest.fixture(scope="session")
def tricky() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Hand-made tables: NaN/NaT, a constant column, datetimes with nanoseconds, a category only in the
    synthetic data, an ordinal column, negative values and near-duplicates just inside/outside 1%."""
    generator = np.random.default_rng(3)
    n = 160
    real = pd.DataFrame(
        {
            "amount": np.where(generator.random(n) < 0.1, np.nan, generator.normal(100, 30, n).round(2)),
            "count": generator.integers(0, 5, n),
            "balance": generator.normal(-50, 10, n),
            "constant": np.full(n, 7.0),
            "when": pd.to_datetime("2018-01-01") + pd.to_timedelta(generator.integers(0, 3 * 10**17, n), unit="ns"),
            "colour": generator.choice(np.array(["red", "green", "blue", None], dtype=object), n),
            "flag": generator.random(n) < 0.3,
            "tier": generator.choice(np.array(["low", "mid", "high"], dtype=object), n),
        }
    )
    real.loc[real.index % 17 == 0, "when"] = pd.NaT
    real["colour"] = real["colour"].where(real["colour"].notna(), np.nan)
    synthetic = real.sample(140, replace=True, random_state=5).reset_index(drop=True)
    factors = np.where(np.arange(140) % 2 == 0, 1.009, 1.015)
    synthetic["amount"] = (synthetic["amount"] * factors).round(6)
    synthetic.loc[synthetic.index % 9 == 0, "balance"] = synthetic["balance"] * 0.995
    synthetic.loc[synthetic.index % 11 == 0, "colour"] = "purple"
    synthetic.loc[synthetic.index % 13 == 0, "constant"] = 8.0
    synthetic.loc[synthetic.index % 7 == 0, "amount"] = np.nan
    synthetic.loc[synthetic.index % 10 == 0, "when"] = pd.NaT
    sdtypes = {
        "amount": "numerical",
        "count": "numerical",
        "balance": "numerical",
        "constant": "numerical",
        "when": "datetime",
        "colour": "categorical",
        "flag": "boolean",
        "tier": "ordinal",
    }
    return real, synthetic, sdtypes


def schema(sdtypes: dict[str, str], frame: pd.DataFrame) -> list[dict[str, str]]:
    """A column list as the registry passes it."""
    return [{"name": name, "dtype": str(frame[name].dtype), "sdtype": sdtype} for name, sdtype in sdtypes.items()]


def single_table_metadata(sdtypes: dict[str, str]) -> dict:
    """sdmetrics single-table metadata."""
    return {"columns": {name: {"sdtype": sdtype} for name, sdtype in sdtypes.items()}}


@pytest.fixture(scope="session")
def resample():
    """``noisy_resample`` for tests that build their own fake synthetic tables."""
    return noisy_resample


@pytest.fixture(scope="session")
def schema_for():
    """``schema`` as a fixture (test modules cannot import conftest)."""
    return schema


@pytest.fixture(scope="session")
def metadata_for():
    """``single_table_metadata`` as a fixture."""
    return single_table_metadata
