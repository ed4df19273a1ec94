"""95% intervals for the privacy evidence: exact binomial (Clopper-Pearson) for shares of records, Newcombe's
hybrid score interval for a difference of two shares, and seeded percentile bootstraps over records for
everything else."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import beta, norm

LEVEL = 0.95


def clopper_pearson(successes: int, trials: int, level: float = LEVEL) -> list[float] | None:
    """The exact binomial interval of a share successes / trials (None without trials)."""
    if trials <= 0:
        return None
    alpha = 1 - level
    low = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return [low, high]


def wilson(successes: int, trials: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson's score interval of a share (the building block of Newcombe's difference interval)."""
    z = float(norm.ppf(1 - (1 - level) / 2))
    share = successes / trials
    centre = share + z * z / (2 * trials)
    spread = z * np.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    return (centre - spread) / (1 + z * z / trials), (centre + spread) / (1 + z * z / trials)


def newcombe_difference(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, level: float = LEVEL
) -> list[float] | None:
    """Interval of the difference of two independent shares a - b: Newcombe (1998), method 10 (hybrid score)."""
    if trials_a <= 0 or trials_b <= 0:
        return None
    share_a, share_b = successes_a / trials_a, successes_b / trials_b
    low_a, high_a = wilson(successes_a, trials_a, level)
    low_b, high_b = wilson(successes_b, trials_b, level)
    difference = share_a - share_b
    return [
        float(difference - np.sqrt((share_a - low_a) ** 2 + (high_b - share_b) ** 2)),
        float(difference + np.sqrt((high_a - share_a) ** 2 + (share_b - low_b) ** 2)),
    ]


def bootstrap(
    statistic: Callable[..., float],
    samples: tuple[np.ndarray, ...],
    *,
    resamples: int,
    seed: int,
    level: float = LEVEL,
) -> list[float] | None:
    """Percentile bootstrap of ``statistic(*samples)``, each sample resampled (with replacement) on its own."""
    if resamples <= 0 or any(len(sample) == 0 for sample in samples):
        return None
    generator = np.random.default_rng(seed)
    values = np.empty(resamples)
    for index in range(resamples):
        drawn = tuple(sample[generator.integers(0, len(sample), len(sample))] for sample in samples)
        values[index] = statistic(*drawn)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return [float(low), float(high)]
