"""Odds ratios in raw units and per interquartile range, and the per-variable likelihood-ratio
tests, against statsmodels fitted on the raw (unscaled) data."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from shallownet.baselines import fit_logistic
from shallownet.baselines.coefficients import raw_iqr


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(3)
    n = 500
    X = pd.DataFrame({"age": rng.uniform(20, 80, n), "income": rng.lognormal(10, 0.5, n),
                      "group": rng.choice(["a", "b", "c"], n)})
    eta = -3 + 0.05 * X["age"] + 0.00004 * X["income"] + 0.8 * (X["group"] == "b")
    y = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-eta)), "yes", "no")
    return X, y


def test_odds_ratios_per_raw_unit_and_per_iqr_match_statsmodels_on_raw_data(table):
    X, y = table
    fit = fit_logistic(X, y)
    iqr = raw_iqr(X, fit.encoder.variables_)
    ours = fit.coefficients.odds_ratios(iqr).set_index(["variable", "comparison"])
    D = sm.add_constant(pd.get_dummies(X, columns=["group"], drop_first=True).astype(float))
    ref = sm.Logit((y == "yes").astype(float), D).fit(disp=0)
    beta, ci = ref.params, ref.conf_int()
    for name in ("age", "income"):
        q = np.subtract(*np.percentile(X[name], [75, 25]))
        row = ours.xs(name, level="variable").iloc[0]
        assert row["iqr"] == pytest.approx(q)
        assert row["or_per_unit"] == pytest.approx(np.exp(beta[name]), rel=1e-6)
        assert row["or_per_iqr"] == pytest.approx(np.exp(beta[name] * q), rel=1e-6)
        assert [row["or_low"], row["or_high"]] == pytest.approx(np.exp(ci.loc[name]).tolist(), rel=1e-5)
        assert [row["iqr_low"], row["iqr_high"]] == pytest.approx(np.exp(ci.loc[name] * q).tolist(), rel=1e-5)
    for category in ("b", "c"):
        row = ours.loc[("group", f"{category} vs a")]
        assert row["or_per_unit"] == pytest.approx(np.exp(beta[f"group_{category}"]), rel=1e-6)
        assert np.isnan(row["or_per_iqr"])


def test_likelihood_ratio_per_variable_matches_refits(table):
    X, y = table
    fit = fit_logistic(X, y)
    tests = fit.variable_tests(X, y).set_index("variable")
    yy = (y == "yes").astype(float)
    full = sm.Logit(yy, sm.add_constant(pd.get_dummies(X, columns=["group"], drop_first=True).astype(float))).fit(disp=0)
    without_group = sm.Logit(yy, sm.add_constant(X[["age", "income"]])).fit(disp=0)
    assert tests.loc["group", "chi2"] == pytest.approx(2 * (full.llf - without_group.llf), rel=1e-6)
    assert tests.loc["group", "df"] == 2
    assert tests["chi2"].idxmax() == "age" and (tests["p_value"] < 1).all()
    # Without maximum-likelihood estimates: the penalised deviance increase, no p-value.
    pen = fit_logistic(X, y, inference=False).variable_tests(X, y).set_index("variable")
    assert pen["chi2"].idxmax() == "age" and pen["p_value"].isna().all()
    with pytest.raises(ValueError, match="one label among the fit's classes"):
        fit.variable_tests(X, np.where(y == "yes", "maybe", y))
