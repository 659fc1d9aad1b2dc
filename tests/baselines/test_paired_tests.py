"""McNemar and DeLong on small cases worked by hand (and against brute-force peers)."""

import math

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from shallownet.baselines import delong, mcnemar


def discordant(b, c, both=5, neither=3):
    """Correctness vectors with b cases (A right, B wrong) and c cases (A wrong, B right)."""
    a = [True] * b + [False] * c + [True] * both + [False] * neither
    bb = [False] * b + [True] * c + [True] * both + [False] * neither
    return np.array(a), np.array(bb)


def test_mcnemar_exact_by_hand():
    # b = 8, c = 2: p = 2 P(X <= 2), X ~ Bin(10, 1/2) = 2 (1 + 10 + 45) / 1024 = 112 / 1024.
    r = mcnemar(*discordant(8, 2))
    assert r.method == "exact binomial"
    assert r.details == {"b": 8, "c": 2, "n": 18}
    assert r.p_value == pytest.approx(112 / 1024, rel=1e-12)


def test_mcnemar_chi_square_by_hand():
    # (|8 - 2| - 1)^2 / 10 = 2.5; P(chi2_1 > s) = erfc(sqrt(s / 2)).
    r = mcnemar(*discordant(8, 2), exact=False)
    assert r.statistic == pytest.approx(2.5)
    assert r.p_value == pytest.approx(math.erfc(math.sqrt(1.25)), rel=1e-12)
    r = mcnemar(*discordant(8, 2), exact=False, correction=False)
    assert r.statistic == pytest.approx(3.6)
    assert r.p_value == pytest.approx(math.erfc(math.sqrt(1.8)), rel=1e-12)


def test_mcnemar_auto_switch_and_statsmodels_peer():
    a, b = discordant(20, 9)  # b + c = 29 >= 25: chi-square with correction
    r = mcnemar(a, b)
    peer = sm_mcnemar([[5, 20], [9, 3]], exact=False, correction=True)
    assert r.method.startswith("chi-square") and r.p_value == pytest.approx(peer.pvalue, rel=1e-12)
    a, b = discordant(6, 1)
    assert mcnemar(a, b).p_value == pytest.approx(sm_mcnemar([[5, 6], [1, 3]], exact=True).pvalue, rel=1e-12)
    same = mcnemar(np.ones(5, bool), np.ones(5, bool))
    assert same.p_value == 1.0 and same.method == "no discordant cases"


def test_delong_by_hand():
    """2 positives, 2 negatives.

    A: positives (0.9, 0.6), negatives (0.7, 0.2). V10 = (1, 1/2), V01 = (1/2, 1), AUC 3/4.
    B: positives (0.8, 0.3), negatives (0.5, 0.4). V10 = (1, 0),   V01 = (1/2, 1/2), AUC 1/2.
    S10: var A = 1/8, var B = 1/2, cov = 1/4 -> (1/8 + 1/2 - 1/2) / 2 = 1/16.
    S01: var A = 1/8, var B = 0,   cov = 0   -> (1/8) / 2 = 1/16.
    Var = 1/8, z = (1/4) / sqrt(1/8) = 1/sqrt(2), p = erfc(1/2).
    """
    y = np.array([1, 1, 0, 0])
    a = np.array([0.9, 0.6, 0.7, 0.2])
    b = np.array([0.8, 0.3, 0.5, 0.4])
    r = delong(y, a, b)
    assert r.details["auc_a"] == pytest.approx(0.75) and r.details["auc_b"] == pytest.approx(0.5)
    assert r.details["se"] == pytest.approx(math.sqrt(1 / 8))
    assert r.statistic == pytest.approx(1 / math.sqrt(2))
    assert r.p_value == pytest.approx(math.erfc(0.5), rel=1e-12)
    assert r.details["ci_low"] == pytest.approx(0.25 - 1.959963984540054 * math.sqrt(1 / 8))
    swapped = delong(y, b, a)
    assert swapped.statistic == pytest.approx(-r.statistic) and swapped.p_value == pytest.approx(r.p_value)


def test_delong_with_ties_by_hand():
    """A: positives (0.5, 0.8), negatives (0.5, 0.1): psi rows (1/2, 1), (1, 1) -> V10 (3/4, 1),
    V01 (3/4, 1), AUC 7/8. B: positives (0.6, 0.9), negatives (0.2, 0.3): all 1, AUC 1,
    components constant. Var = (1/32) / 2 + (1/32) / 2 = 1/32; z = (-1/8) / sqrt(1/32)."""
    y = np.array([1, 1, 0, 0])
    r = delong(y, np.array([0.5, 0.8, 0.5, 0.1]), np.array([0.6, 0.9, 0.2, 0.3]))
    assert r.details["auc_a"] == pytest.approx(7 / 8)
    assert r.details["se"] == pytest.approx(math.sqrt(1 / 32))
    assert r.statistic == pytest.approx(-0.125 / math.sqrt(1 / 32))


def brute_force_delong(y, a, b):
    pos, neg = y == 1, y == 0

    def comps(s):
        psi = (s[pos][:, None] > s[neg][None, :]) + 0.5 * (s[pos][:, None] == s[neg][None, :])
        return psi.mean(axis=1), psi.mean(axis=0)

    (v10a, v01a), (v10b, v01b) = comps(a), comps(b)
    s10 = np.cov(np.stack([v10a, v10b]))
    s01 = np.cov(np.stack([v01a, v01b]))
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / pos.sum() + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / neg.sum()
    return (v10a.mean() - v10b.mean()) / np.sqrt(var)


def test_delong_matches_brute_force_on_random_scores():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 120)
    a = np.round(y + rng.normal(size=120), 1)  # ties
    b = np.round(0.5 * y + rng.normal(size=120), 1)
    assert delong(y, a, b).statistic == pytest.approx(brute_force_delong(y, a, b), rel=1e-10)


def test_bad_input():
    with pytest.raises(ValueError, match="at least 2 positive"):
        delong(np.array([1, 0, 0]), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="`exact` must be"):
        mcnemar(np.ones(3, bool), np.ones(3, bool), exact="yes")
    with pytest.raises(ValueError, match="must match in length"):
        mcnemar(np.ones(3, bool), np.ones(4, bool))
