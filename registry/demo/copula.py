"""A Gaussian copula synthesizer with empirical marginals, built on the `copulas` library.

Each column is mapped to (0, 1) by its empirical distribution (categories, and missing values, get
intervals sized by their frequency), a Gaussian copula from `copulas` learns the dependence between
columns, and samples are mapped back through the empirical quantiles. No torch, seconds on Adult.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from copulas.multivariate import GaussianMultivariate
from copulas.univariate import UniformUnivariate


@dataclass
class _Numerical:
    values: np.ndarray  # sorted non-null training values
    null_share: float
    integer: bool


@dataclass
class _Categorical:
    categories: list
    upper: np.ndarray  # cumulative upper bound of each category's interval in (0, 1]


class GaussianCopulaSynthesizer:
    """Fit on a DataFrame, sample DataFrames of the same columns; seeded end to end."""

    def __init__(self, seed: int = 0):
        self.seed = seed
        self._columns: dict[str, _Numerical | _Categorical] = {}
        self._model: GaussianMultivariate | None = None
        self._order: list[str] = []

    @property
    def parameters(self) -> dict:
        return {
            "marginals": "empirical",
            "copula": "copulas.multivariate.GaussianMultivariate",
            "seed": self.seed,
        }

    def fit(self, frame: pd.DataFrame) -> GaussianCopulaSynthesizer:
        rng = np.random.default_rng(self.seed)
        uniforms = {}
        self._order = list(frame.columns)
        for name in self._order:
            column = frame[name]
            if pd.api.types.is_numeric_dtype(column.dtype):
                uniforms[name] = self._fit_numerical(name, column, rng)
            else:
                uniforms[name] = self._fit_categorical(name, column, rng)
        self._model = GaussianMultivariate(distribution=UniformUnivariate, random_state=self.seed)
        self._model.fit(pd.DataFrame(uniforms))
        return self

    def _fit_numerical(self, name: str, column: pd.Series, rng: np.random.Generator) -> np.ndarray:
        values = column.to_numpy(dtype=float)
        missing = np.isnan(values)
        null_share = float(missing.mean())
        present = values[~missing]
        self._columns[name] = _Numerical(
            values=np.sort(present),
            null_share=null_share,
            integer=pd.api.types.is_integer_dtype(column.dtype),
        )
        # Ranks with random tie-breaking spread tied values (many zeros in capital_gain) over an interval.
        u = np.empty(len(values))
        order = np.lexsort((rng.random(len(present)), present))
        ranks = np.empty(len(present))
        ranks[order] = np.arange(1, len(present) + 1)
        u[~missing] = null_share + (1 - null_share) * ranks / (len(present) + 1)
        u[missing] = rng.uniform(0, max(null_share, 1e-12), missing.sum())
        return u

    def _fit_categorical(self, name: str, column: pd.Series, rng: np.random.Generator) -> np.ndarray:
        codes, uniques = pd.factorize(column, use_na_sentinel=False, sort=True)
        counts = np.bincount(codes, minlength=len(uniques)).astype(float)
        shares = counts / counts.sum()
        upper = np.cumsum(shares)
        upper[-1] = 1.0
        lower = upper - shares
        self._columns[name] = _Categorical(categories=list(uniques), upper=upper)
        return lower[codes] + shares[codes] * rng.uniform(0.001, 0.999, len(codes))

    def sample(self, num_rows: int) -> pd.DataFrame:
        if self._model is None:
            raise RuntimeError("fit the synthesizer first")
        u = self._model.sample(num_rows).clip(1e-9, 1 - 1e-9)
        out = {}
        for name in self._order:
            spec = self._columns[name]
            values = u[name].to_numpy()
            out[name] = (
                self._numerical(spec, values) if isinstance(spec, _Numerical) else self._categorical(spec, values)
            )
        return pd.DataFrame(out, columns=self._order)

    @staticmethod
    def _numerical(spec: _Numerical, u: np.ndarray) -> pd.Series:
        scaled = (u - spec.null_share) / max(1 - spec.null_share, 1e-12)
        result = np.quantile(spec.values, np.clip(scaled, 0, 1), method="linear")
        if spec.integer:
            result = np.rint(result)
        result = np.where(u < spec.null_share, np.nan, result)
        if spec.integer and spec.null_share == 0:
            return pd.Series(result.astype(np.int64))
        return pd.Series(result)

    @staticmethod
    def _categorical(spec: _Categorical, u: np.ndarray) -> pd.Series:
        index = np.minimum(np.searchsorted(spec.upper, u, side="left"), len(spec.categories) - 1)
        return pd.Series(np.array(spec.categories, dtype=object)[index])
