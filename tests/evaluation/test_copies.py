"""Exact copies: synthetic rows equal to a real row in every compared column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from registry.evaluation.privacy.copies import MAX_EXAMPLES, exact_copies


def test_planted_copies_are_counted_exactly(adult, adult_sdtypes, resample):
    real = adult.sample(2000, random_state=41).reset_index(drop=True)
    synthetic = resample(real, 1000, seed=42)
    # Plant 37 copies, 5 of them twice, at known positions; the noise makes every other row new.
    positions = np.arange(3, 1000, 27)[:37]
    synthetic.iloc[positions] = real.iloc[np.arange(37)].to_numpy()
    synthetic.iloc[positions[:5] + 1] = real.iloc[np.arange(5)].to_numpy()
    synthetic = synthetic.astype(real.dtypes.to_dict())
    # A near-copy (one value off by one) is not an exact copy.
    synthetic.iloc[500] = real.iloc[100].to_numpy()
    synthetic.loc[500, "capital_gain"] = real.loc[100, "capital_gain"] + 1
    assert synthetic.drop(index=np.r_[positions, positions[:5] + 1]).merge(real).empty  # no copy by chance
    result = exact_copies(real, synthetic, list(adult_sdtypes))
    assert result["count"] == 42
    assert result["distinct_rows_copied"] == 37
    assert result["rate"] == result["count"] / 1000
    assert result["examples"][:2] == [3, 4]
    assert len(result["examples"]) == MAX_EXAMPLES


def test_missing_values_equal_missing_values_and_types_are_compared_by_value():
    real = pd.DataFrame({"a": [1, 2, 3], "b": ["x", np.nan, "z"], "c": [0.5, np.nan, -0.0]})
    synthetic = pd.DataFrame(
        {"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", np.nan, None, "z"], "c": [0.5, np.nan, np.nan, 0.0]}
    )
    result = exact_copies(real, synthetic, ["a", "b", "c"])
    # Row 2 has b missing where the real row has "z"; -0.0 equals 0.0 but row 3 has a = 4.
    assert result["count"] == 2
    assert result["examples"] == [0, 1]
