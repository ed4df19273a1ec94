"""Singling out (Art. 29 WP Opinion 05/2014): can a real person be isolated in the synthetic data?

- **Unique exact matches** (NIST CRC SDNist 2.4, ``unique_exact_matches``): of the real training records
  that are unique in the training table, the share that appear exactly (every compared column equal; a
  missing value equals a missing value) in the synthetic table. Computed on all compared columns and, when
  quasi-identifiers are configured, on those alone.
- **Quasi-identifier uniqueness** (SmartNoise Evaluator; k-anonymity, Sweeney 2002): the share of synthetic
  rows whose quasi-identifier combination occurs exactly once in the real table (k = 1), and 1 to 4 times
  (k < 5): an attacker holding those values points at one (or very few) real people.

Shares carry exact binomial (Clopper-Pearson) 95% intervals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from registry.evaluation.keys import CodesOf, combine_keys, joint_codes
from registry.evaluation.privacy.intervals import clopper_pearson

SOURCE_UNIQUE_MATCHES = "NIST CRC SDNist 2.4 (unique_exact_matches)"
SOURCE_QI_UNIQUENESS = "SmartNoise Evaluator (% unique, k < 5); k-anonymity, Sweeney 2002"


def _keys(
    real: pd.DataFrame, synthetic: pd.DataFrame, columns: Sequence[str], codes: CodesOf | None = None
) -> tuple[np.ndarray, np.ndarray]:
    parts = [(codes(name) if codes else joint_codes([real[name], synthetic[name]]))[0] for name in columns]
    real_key, synthetic_key = combine_keys(parts, [len(real), len(synthetic)])
    return real_key, synthetic_key


def unique_exact_matches(
    real: pd.DataFrame, synthetic: pd.DataFrame, columns: Sequence[str], codes: CodesOf | None = None
) -> dict:
    """Share of the training table's unique records that the synthetic table reproduces exactly."""
    real_key, synthetic_key = _keys(real, synthetic, columns, codes)
    values, counts = np.unique(real_key, return_counts=True)
    unique = values[counts == 1]
    matched = int(np.isin(unique, synthetic_key).sum())
    return {
        "columns": list(columns),
        "unique_real_records": int(unique.size),
        "matched": matched,
        "share": matched / unique.size if unique.size else None,
        "interval_95": clopper_pearson(matched, int(unique.size)),
        "interval_method": "exact binomial (Clopper-Pearson)",
        "source": SOURCE_UNIQUE_MATCHES,
    }


def quasi_identifier_uniqueness(
    real: pd.DataFrame, synthetic: pd.DataFrame, quasi_identifiers: Sequence[str], codes: CodesOf | None = None
) -> dict:
    """Shares of synthetic rows whose quasi-identifiers occur once (k = 1) and 1-4 times (k < 5) in the real table."""
    real_key, synthetic_key = _keys(real, synthetic, quasi_identifiers, codes)
    counts = np.bincount(real_key, minlength=int(max(real_key.max(), synthetic_key.max())) + 1)
    k = counts[synthetic_key]
    single, few = int((k == 1).sum()), int(((k >= 1) & (k < 5)).sum())
    rows = len(synthetic)
    return {
        "quasi_identifiers": list(quasi_identifiers),
        "synthetic_rows": rows,
        "k1_rows": single,
        "k1_share": single / rows,
        "k1_interval_95": clopper_pearson(single, rows),
        "k_lt5_rows": few,
        "k_lt5_share": few / rows,
        "k_lt5_interval_95": clopper_pearson(few, rows),
        "real_combinations_unique": int((counts == 1).sum()),
        "interval_method": "exact binomial (Clopper-Pearson)",
        "source": SOURCE_QI_UNIQUENESS,
    }
