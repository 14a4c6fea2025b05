"""Is a difference between two runs more than chance? A paired randomization (permutation) test.

Per question, each run has a value of the metric (1 or 0 for Hit@k, the reciprocal rank for MRR).
Under the null hypothesis that the two systems are interchangeable, each question's pair of values
could as well have come the other way round: the test flips the sign of each per-question difference
at random and counts how often the mean difference is at least as far from zero as the one observed
(two-sided). With 2^n ≤ `permutations` every flip is enumerated (the exact test); otherwise
`permutations` random flips from a fixed seed, so the same runs always give the same p-value. The
Monte Carlo p-value counts the observed arrangement too ((hits + 1) / (permutations + 1)), never 0.
This is scipy.stats.permutation_test with `permutation_type="samples"` (checked against it in the
tests), in numpy alone: Smucker, Allan and Carterette (CIKM 2007) recommend it for retrieval runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PERMUTATIONS = 10_000
SEED = 20070806


def paired_randomization(
    before: Sequence[float], after: Sequence[float], *, permutations: int = PERMUTATIONS, seed: int = SEED
) -> float:
    """Two-sided p-value of the mean per-question difference `after - before` (1.0 when identical)."""
    if len(before) != len(after):
        raise ValueError("paired values: both runs need a value for every question")
    differences = np.asarray(after, dtype=np.float64) - np.asarray(before, dtype=np.float64)
    differences = differences[differences != 0]  # a tie has the same mean difference whichever way it goes
    total = len(before)
    if total == 0 or len(differences) == 0:
        return 1.0
    observed = abs(differences.sum())
    tolerance = 1e-9 * max(1.0, observed)
    if 2 ** len(differences) <= permutations:
        signs = _every_sign(len(differences))
        sums = np.abs(signs @ differences)
        return float(np.count_nonzero(sums >= observed - tolerance) / len(sums))
    generator = np.random.default_rng(seed)
    signs = generator.choice(np.array([-1.0, 1.0]), size=(permutations, len(differences)))
    sums = np.abs(signs @ differences)
    return float((np.count_nonzero(sums >= observed - tolerance) + 1) / (permutations + 1))


def _every_sign(count: int) -> np.ndarray:
    """Every assignment of ±1 to `count` values, one per row (2^count rows)."""
    codes = np.arange(2**count, dtype=np.int64)[:, None] >> np.arange(count, dtype=np.int64)
    return np.where(codes & 1, -1.0, 1.0)
