"""side_by_side on given importance values (rank agreement worked by hand) and the logistic
per-variable measures against statsmodels."""

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from shallownet.baselines import fit_logistic, logistic_importance, side_by_side

from ._data import manual_design

VARS = ["w", "x", "y", "z"]


def given():
    return {
        "first": dict(zip(VARS, [4.0, 3.0, 2.0, 1.0])),
        "reversed": dict(zip(VARS, [1.0, 2.0, 3.0, 4.0])),
        "one_swap": dict(zip(VARS, [3.0, 4.0, 2.0, 1.0])),
        "signed": dict(zip(VARS, [-4.0, 3.0, 2.0, -1.0])),
    }


def agreement(result, a, b):
    row = result.agreement.set_index(["method_a", "method_b"]).loc[(a, b)]
    return row["spearman"], row["kendall"]


def test_rank_agreement_by_hand():
    r = side_by_side(given())
    # Reversed order: rho = tau = -1.
    assert agreement(r, "first", "reversed") == pytest.approx((-1.0, -1.0))
    # One adjacent swap of 4: rho = 1 - 6 (1 + 1) / (4 * 15) = 0.8; tau = (5 - 1) / 6 = 2/3.
    assert agreement(r, "first", "one_swap") == pytest.approx((0.8, 2 / 3))
    # Ranks use absolute values: "signed" ranks as "first".
    assert agreement(r, "first", "signed") == pytest.approx((1.0, 1.0))
    ranks = r.values.query("method == 'first'").set_index("variable")["rank"]
    assert list(ranks[VARS]) == [1, 2, 3, 4]
    assert len(r.agreement) == 6  # every pair of the 4 methods


def test_disagreements_rank_gap_and_sign():
    r = side_by_side(given(), signed=["signed", "first"], min_rank_gap=2)
    d = r.disagreements
    rev = d[(d["method_a"] == "first") & (d["method_b"] == "reversed")]
    # Ranks 1..4 against 4..1: gaps 3, 1, 1, 3 -> w and z.
    assert sorted(rev["variable"]) == ["w", "z"] and set(rev["kind"]) == {"rank"}
    sign = d[d["kind"] == "sign"]
    assert sorted(sign["variable"]) == ["w", "z"]
    assert set(zip(sign["method_a"], sign["method_b"])) == {("first", "signed")}
    # Without declaring signs, no sign disagreement is claimed.
    assert "sign" not in set(side_by_side(given()).disagreements["kind"])


def test_input_shapes_agree():
    as_dict = side_by_side(given())
    wide = pd.DataFrame(given())
    long = wide.rename_axis("variable").reset_index().melt(id_vars="variable", var_name="method", value_name="value")
    for other in (side_by_side(wide), side_by_side(long)):
        pd.testing.assert_frame_equal(other.agreement, as_dict.agreement)
    assert "Rank agreement" in as_dict.summary()
    frame = as_dict.to_frame()
    assert list(frame.columns[:4]) == ["contrast", "variable", "first", "first_rank"]


@pytest.mark.parametrize(
    "bad, kwargs, message",
    [
        ({"a": {"w": 1.0, "x": 2.0}, "b": {"w": 1.0}}, {}, "every method must give one value per variable"),
        ({"a": {"w": np.nan, "x": 2.0}}, {}, "finite numbers"),
        ({"a": {"w": 1.0, "x": 2.0}}, {"signed": ["olden"]}, "not in `importances`"),
        ([1, 2], {}, "must be a dict"),
    ],
)
def test_bad_input(bad, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        side_by_side(bad, **kwargs)


def test_logistic_measures_binary(binary_data):
    X, y = binary_data
    fit = fit_logistic(X, y, Cs=2, cv=3)
    imp = logistic_importance(fit).set_index("variable")
    t = fit.coefficients
    names = list(t.design.names)
    # One-column variables: coef, z, Wald = z^2.
    for v in ("a", "b", "flag"):
        j = names.index(v)
        assert imp.loc[v, "coef"] == pytest.approx(t.params[j, 0]) and imp.loc[v, "signed"]
        assert imp.loc[v, "wald_chi2"] == pytest.approx(t.zvalues[j, 0] ** 2)
    # Enumerated g: range of (0, b_v, b_w), unsigned; joint Wald as statsmodels' wald_test.
    bv, bw = t.params[names.index("g=v"), 0], t.params[names.index("g=w"), 0]
    assert imp.loc["g", "coef"] == pytest.approx(max(0, bv, bw) - min(0, bv, bw))
    assert not imp.loc["g", "signed"]
    oracle = sm.Logit(y, manual_design(X)).fit(disp=0, tol=1e-12)
    wt = oracle.wald_test("g=v = 0, g=w = 0", scalar=True)
    assert imp.loc["g", "wald_chi2"] == pytest.approx(wt.statistic, rel=1e-6)
    assert imp.loc["g", "wald_p"] == pytest.approx(wt.pvalue, rel=1e-5)
    assert imp.loc["a", "odds_ratio"] == pytest.approx(np.exp(abs(t.params[names.index("a"), 0])))


def test_logistic_measures_multiclass_by_hand(multiclass_data):
    X, y = multiclass_data
    fit = fit_logistic(X, y, Cs=2, cv=3)
    imp = logistic_importance(fit).set_index(["contrast", "variable"])
    t = fit.coefficients
    j = list(t.design.names).index("a")
    b1, b2 = t.params[j]
    # Over all class pairs: max(|b1 - 0|, |b2 - 0|, |b1 - b2|).
    assert imp.loc[("all", "a"), "coef"] == pytest.approx(max(abs(b1), abs(b2), abs(b1 - b2)))
    assert imp.loc[("2 vs 0", "a"), "coef"] == pytest.approx(b2) and imp.loc[("2 vs 0", "a"), "signed"]
    # Enumerated g over all pairs: brute force over categories and class pairs.
    names = list(t.design.names)
    B = np.vstack([np.zeros(2), t.params[names.index("g=v")], t.params[names.index("g=w")]])
    full = np.hstack([np.zeros((3, 1)), B])
    brute = max(
        abs((full[c, k] - full[c, l]) - (full[d, k] - full[d, l]))
        for c, d in itertools.combinations(range(3), 2)
        for k, l in itertools.combinations(range(3), 2)
    )
    assert imp.loc[("all", "g"), "coef"] == pytest.approx(brute)
    assert imp.loc[("all", "g"), "wald_df"] == 4
    # Per-contrast importances are matched to the logistic contrasts.
    long = pd.DataFrame(
        [{"contrast": c, "variable": v, "method": "olden", "value": float(i + k)}
         for k, c in enumerate(["1 vs 0", "2 vs 0"]) for i, v in enumerate(["a", "b", "g", "flag"])]
    )
    r = side_by_side(long, fit, signed=["olden"])
    assert set(r.values["contrast"]) == {"1 vs 0", "2 vs 0"}
    assert set(r.values["method"]) == {"olden", "lr_coef", "lr_wald"}
    with pytest.raises(ValueError, match="contrasts"):
        side_by_side(long[long["contrast"] == "1 vs 0"].assign(contrast="Gentoo vs Adelie"), fit)
    with pytest.raises(ValueError, match="every method must give one value per variable"):
        side_by_side({"olden": {"a": 1.0, "b": 2.0}}, fit)
