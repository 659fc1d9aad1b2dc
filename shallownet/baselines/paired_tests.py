"""Paired tests of two classifiers on the same cases: McNemar (accuracy), DeLong (ROC AUC).

McNemar's test looks only at the discordant cases: ``b`` = A right and B wrong, ``c`` = A
wrong and B right. Under equal accuracy each discordant case is a fair coin, so ``b ~
Binomial(b + c, 1/2)``. The exact test doubles the smaller tail, ``p = min(1, 2 P(X <=
min(b, c)))``; the asymptotic one uses ``(|b - c| - 1)^2 / (b + c) ~ chi2(1)`` (with
continuity correction; ``(b - c)^2 / (b + c)`` without). ``exact="auto"`` is exact when
``b + c < 25``.

DeLong, DeLong & Clarke-Pearson (1988) compare correlated AUCs with the structural
components of the Mann-Whitney statistic. For m positives x_i and n negatives y_j with
``psi(x, y) = 1[x > y] + 1[x = y] / 2``, model r has ``V10_i = mean_j psi(x_i, y_j)`` and
``V01_j = mean_i psi(x_i, y_j)`` (both averaging to its AUC). With S10 and S01 the sample
covariance matrices (divisor m - 1, n - 1) of these components across the two models,
``Var(AUC_A - AUC_B) = (S10_AA + S10_BB - 2 S10_AB) / m + (S01_AA + S01_BB - 2 S01_AB) / n``
and ``z = (AUC_A - AUC_B) / sd`` is referred to N(0, 1). The components come from mid-ranks
(Sun & Xu 2014): ``V10_i = (R_i - R^x_i) / n`` with R the rank among all scores and R^x the
rank among positives; likewise for V01.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_float
from ..results import Result


@dataclass(frozen=True, eq=False)
class PairedTest(Result):
    """Result of a paired test.

    Attributes
    ----------
    test : str
        Test name.
    statistic : float
        The test statistic (chi-square for McNemar's asymptotic test, the count ``b`` for
        the exact test, z for DeLong).
    p_value : float
        Two-sided p-value.
    method : str
        Variant used.
    details : dict
        Counts or estimates behind the statistic.
    """

    test: str
    statistic: float
    p_value: float
    method: str
    details: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.test} ({self.method})"

    def to_frame(self) -> pd.DataFrame:
        """One row: test, method, statistic, p-value and the details."""
        row = {"test": self.test, "method": self.method, "statistic": self.statistic, "p_value": self.p_value}
        row.update(self.details)
        return pd.DataFrame([row])


def _boolean(name: str, values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D. Got shape {arr.shape} instead.")
    if arr.dtype != bool and not np.isin(arr, [0, 1]).all():
        raise ValueError(f"`{name}` must hold True/False (or 0/1) per case.")
    return arr.astype(bool)


def mcnemar(correct_a, correct_b, *, exact="auto", correction: bool = True) -> PairedTest:
    """McNemar's test of equal accuracy of two classifiers on the same cases.

    Parameters
    ----------
    correct_a, correct_b : bool arrays (n,)
        Whether each model classified each case correctly.
    exact : {"auto", True, False}
        Exact binomial test, the chi-square approximation, or exact when ``b + c < 25``.
    correction : bool
        Continuity correction of the chi-square statistic.

    Returns
    -------
    PairedTest with details ``b`` (A right, B wrong), ``c`` (A wrong, B right), ``n``.
    """
    a = _boolean("correct_a", correct_a)
    bb = _boolean("correct_b", correct_b)
    if a.shape != bb.shape:
        raise ValueError(f"`correct_a` and `correct_b` must match in length; got {a.size} and {bb.size}.")
    if exact not in ("auto", True, False):
        raise ValueError(f"`exact` must be 'auto', True or False. Got {exact!r} instead.")
    b = int(np.sum(a & ~bb))
    c = int(np.sum(~a & bb))
    details = {"b": b, "c": c, "n": int(a.size)}
    use_exact = (b + c < 25) if exact == "auto" else bool(exact)
    if b + c == 0:
        return PairedTest("McNemar", 0.0, 1.0, "no discordant cases", details)
    if use_exact:
        p = min(1.0, 2.0 * stats.binom.cdf(min(b, c), b + c, 0.5))
        return PairedTest("McNemar", float(min(b, c)), float(p), "exact binomial", details)
    stat = (abs(b - c) - (1.0 if correction else 0.0)) ** 2 / (b + c)
    method = "chi-square, continuity-corrected" if correction else "chi-square"
    return PairedTest("McNemar", float(stat), float(stats.chi2.sf(stat, 1)), method, details)


def _components(positive_scores: np.ndarray, negative_scores: np.ndarray):
    """DeLong structural components ``V10`` (m,) and ``V01`` (n,) from mid-ranks."""
    m, n = len(positive_scores), len(negative_scores)
    both = np.concatenate([positive_scores, negative_scores])
    rank_all = stats.rankdata(both)
    v10 = (rank_all[:m] - stats.rankdata(positive_scores)) / n
    v01 = 1.0 - (rank_all[m:] - stats.rankdata(negative_scores)) / m
    return v10, v01


def delong(y_true, score_a, score_b, *, level: float = 0.95) -> PairedTest:
    """DeLong's test of equal ROC AUC of two scores on the same binary cases.

    Parameters
    ----------
    y_true : array (n,) of 0/1 or bool
        1 marks a positive case.
    score_a, score_b : arrays (n,)
        Scores (e.g. probabilities of the positive class); higher means more positive.
    level : float
        Confidence level of the interval for ``AUC_A - AUC_B``.

    Returns
    -------
    PairedTest with details ``auc_a``, ``auc_b``, ``difference``, ``se``, ``ci_low``,
    ``ci_high``.
    """
    level = check_float("level", level, 0.0, 1.0, open_min=True, open_max=True)
    y = _boolean("y_true", y_true)
    sa = np.asarray(score_a, dtype=float)
    sb = np.asarray(score_b, dtype=float)
    if sa.shape != y.shape or sb.shape != y.shape:
        raise ValueError("`y_true`, `score_a` and `score_b` must have the same length.")
    m, n = int(y.sum()), int((~y).sum())
    if m < 2 or n < 2:
        raise ValueError(f"DeLong's test needs at least 2 positive and 2 negative cases; got {m} and {n}.")
    comps = [_components(s[y], s[~y]) for s in (sa, sb)]
    v10 = np.stack([c[0] for c in comps])  # (2, m)
    v01 = np.stack([c[1] for c in comps])  # (2, n)
    auc = v10.mean(axis=1)
    s10 = np.cov(v10)
    s01 = np.cov(v01)
    contrast = np.array([1.0, -1.0])
    var = contrast @ s10 @ contrast / m + contrast @ s01 @ contrast / n
    diff = float(auc[0] - auc[1])
    se = float(np.sqrt(max(var, 0.0)))
    details = {"auc_a": float(auc[0]), "auc_b": float(auc[1]), "difference": diff, "se": se}
    q = stats.norm.ppf(0.5 + level / 2)
    details.update(ci_low=diff - q * se, ci_high=diff + q * se)
    if se == 0.0:
        p = 1.0 if diff == 0.0 else 0.0
        return PairedTest("DeLong", 0.0 if diff == 0.0 else np.inf * np.sign(diff), p, "degenerate (zero variance)", details)
    z = diff / se
    return PairedTest("DeLong", float(z), float(2 * stats.norm.sf(abs(z))), "asymptotic normal", details)
