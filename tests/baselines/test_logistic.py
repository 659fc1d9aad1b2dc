"""fit_logistic against statsmodels fitted in the test on a design built by hand."""


import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

from shallownet.baselines import LogisticFit, SeparationError, fit_logistic
from shallownet.data import Encoder
from shallownet.data.encoder import DataWarning, OutOfRangeWarning

from ._data import manual_design, simulate


@pytest.fixture(scope="module")
def binary_fit(binary_data):
    X, y = binary_data
    return fit_logistic(X, y, Cs=4, cv=3)


@pytest.fixture(scope="module")
def binary_oracle(binary_data):
    X, y = binary_data
    return sm.Logit(y, manual_design(X)).fit(disp=0, tol=1e-12)


def test_binary_estimates_match_statsmodels(binary_fit, binary_oracle):
    t = binary_fit.coefficients
    # Column order: const, a, b, g=v, g=w, flag -- as the oracle's hand-made design.
    assert t.design.names == ("const", "a", "b", "g=v", "g=w", "flag")
    np.testing.assert_allclose(t.params[:, 0], binary_oracle.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(t.bse[:, 0], binary_oracle.bse, rtol=1e-6)
    np.testing.assert_allclose(t.zvalues[:, 0], binary_oracle.tvalues, rtol=1e-6)
    np.testing.assert_allclose(t.pvalues[:, 0], binary_oracle.pvalues, rtol=1e-5)
    np.testing.assert_allclose(t.conf_int()[:, 0], binary_oracle.conf_int(), rtol=1e-6)
    assert binary_fit.llf == pytest.approx(binary_oracle.llf, rel=1e-10)
    lr = binary_fit.lr_test
    assert lr["statistic"] == pytest.approx(binary_oracle.llr, rel=1e-8)
    assert lr["df"] == 5 and lr["p_value"] == pytest.approx(binary_oracle.llr_pvalue, rel=1e-6)
    assert binary_fit.pseudo_r2 == pytest.approx(binary_oracle.prsquared, rel=1e-8)
    assert binary_fit.references == {"g": "u"}


def test_binary_marginal_effects_match_statsmodels(binary_fit, binary_oracle, binary_data):
    X, _ = binary_data
    m = binary_oracle.get_margeff(at="overall", method="dydx")
    me = binary_fit.marginal_effects
    np.testing.assert_allclose(me["dydx"], m.margeff, rtol=1e-6)
    np.testing.assert_allclose(me["se"], m.margeff_se, rtol=1e-5)
    a_scale = X["a"].max() - X["a"].min()
    row = me.set_index("column").loc["a"]
    assert row["dydx_per_unit"] == pytest.approx(row["dydx"] / a_scale)


def test_odds_ratio_per_raw_unit_equals_raw_fit(binary_fit, binary_data):
    """exp(beta / scale) is the odds ratio of a fit on the raw (unscaled) variable."""
    X, y = binary_data
    raw = sm.Logit(y, manual_design(X, raw=True)).fit(disp=0, tol=1e-12)
    frame = binary_fit.to_frame().set_index("column")
    for name in ("a", "b"):
        assert frame.loc[name, "or_per_unit"] == pytest.approx(np.exp(raw.params[name]), rel=1e-6)
        lo, hi = np.exp(raw.conf_int().loc[name])
        assert frame.loc[name, "or_per_unit_low"] == pytest.approx(lo, rel=1e-5)
        assert frame.loc[name, "or_per_unit_high"] == pytest.approx(hi, rel=1e-5)
    # A category's odds ratio per "unit" is the switch itself.
    assert frame.loc["g=v", "or_per_unit"] == pytest.approx(frame.loc["g=v", "odds_ratio"])
    assert frame.loc["a", "odds_ratio"] == pytest.approx(np.exp(frame.loc["a", "coef"]))


def test_multinomial_matches_mnlogit(multiclass_data):
    X, y = multiclass_data
    fit = fit_logistic(X, y, Cs=3, cv=3)
    oracle = sm.MNLogit(y, manual_design(X)).fit(disp=0, tol=1e-12, maxiter=100)
    t = fit.coefficients
    assert t.contrasts == ["1 vs 0", "2 vs 0"]
    np.testing.assert_allclose(t.params, oracle.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(t.bse, oracle.bse, rtol=1e-5)
    np.testing.assert_allclose(t.cov, oracle.cov_params(), rtol=1e-5, atol=1e-10)
    assert fit.lr_test["df"] == 10
    assert fit.lr_test["statistic"] == pytest.approx(oracle.llr, rel=1e-8)
    m = oracle.get_margeff(at="overall", method="dydx")
    me = fit.marginal_effects
    assert list(me["class"].unique()) == [0, 1, 2]
    np.testing.assert_allclose(me["dydx"].to_numpy().reshape(3, -1).T, m.margeff, rtol=1e-5, atol=1e-10)
    # MLE probabilities reproduce statsmodels' predictions.
    np.testing.assert_allclose(fit.predict_proba(X, which="mle"), oracle.predict(manual_design(X)), atol=1e-8)


def test_reference_category_changes_coefficients_not_the_fit(binary_data, binary_fit):
    X, y = binary_data
    other = fit_logistic(X, y, reference={"g": "w"}, Cs=2, cv=3)
    assert other.references == {"g": "w"}
    assert other.llf == pytest.approx(binary_fit.llf, rel=1e-10)
    a = binary_fit.to_frame().set_index("column")["coef"]
    b = other.to_frame().set_index("column")["coef"]
    # Under reference w, g=u is minus (g=w under reference u); g=v shifts by the same.
    assert b["g=u"] == pytest.approx(-a["g=w"], abs=1e-7)
    assert b["g=v"] == pytest.approx(a["g=v"] - a["g=w"], abs=1e-7)


def test_robust_errors_hc0_sandwich_and_stata_scaling(binary_data, binary_fit):
    X, y = binary_data
    D = manual_design(X).to_numpy()
    beta = binary_fit.coefficients.params[:, 0]
    p = 1 / (1 + np.exp(-D @ beta))
    H = D.T @ (D * (p * (1 - p))[:, None])
    scores = D * (y - p)[:, None]
    Hinv = np.linalg.inv(H)
    sandwich = Hinv @ (scores.T @ scores) @ Hinv
    hc0 = fit_logistic(X, y, cov_type="HC0", Cs=2, cv=3).coefficients
    np.testing.assert_allclose(hc0.cov, sandwich, rtol=1e-6, atol=1e-12)
    stata = fit_logistic(X, y, cov_type="stata", Cs=2, cv=3).coefficients
    n = len(y)
    np.testing.assert_allclose(stata.bse, hc0.bse * np.sqrt(n / (n - 1)), rtol=1e-12)
    assert stata.cov_type == "stata"


def test_complete_separation_is_explained():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"x": rng.uniform(size=60), "noise": rng.normal(size=60)})
    y = (X["x"] > 0.5).astype(int)
    with pytest.raises(SeparationError, match=r"complete\) separation: \['x'\] separate") as info:
        fit_logistic(X, y, cv=3)
    assert "inference=False" in str(info.value)
    fit = fit_logistic(X, y, cv=3, inference=False)
    assert fit.coefficients is None
    assert (fit.predict(X) == y).mean() > 0.9
    assert "No maximum-likelihood inference" in fit.summary()


def test_quasi_separation_by_a_category_is_explained():
    X, y = simulate(300, 2, 5)
    y = y.copy()
    y[X["g"].to_numpy() == "w"] = 1  # category w occurs in class 1 only
    with pytest.raises(SeparationError, match=r"quasi-complete\) separation: \['g'\]"):
        fit_logistic(X, y, cv=3)


def test_no_separation_check_fires_on_overlapping_data(binary_fit):
    assert binary_fit.converged


def test_non_convergence_warns_with_remedies(binary_data):
    X, y = binary_data
    with pytest.warns(ConvergenceWarning, match="raise max_iter"):
        fit = fit_logistic(X, y, max_iter=1, Cs=2, cv=3)
    assert fit.converged is False
    assert "did not converge" in fit.summary()


def test_singular_design_names_the_column():
    rng = np.random.default_rng(4)
    x = rng.uniform(size=80)
    X = pd.DataFrame({"x": x, "x_twice": 2 * x + 1, "z": rng.normal(size=80)})
    y = (rng.uniform(size=80) < 0.5).astype(int)
    with pytest.raises(ValueError, match=r"\['x_twice'\] are linear combinations"):
        fit_logistic(X, y, cv=3)


def test_same_variables_as_a_given_encoder_and_missing_rows(binary_data):
    X, y = binary_data
    enc = Encoder().fit(X.iloc[:200])  # a narrower training range than the full data
    X2 = X.copy()
    X2.loc[3, "b"] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        fit_logistic(X2, y, encoder=enc, cv=3)
    with pytest.warns(DataWarning, match="Dropped 1 of 400"), pytest.warns(OutOfRangeWarning):
        fit = fit_logistic(X2, y, encoder=enc, missing="drop", cv=3, Cs=2)
    assert fit.n_obs == 399 and fit.encoder is enc
    a = enc.variables_[0]
    frame = fit.to_frame().set_index("column")
    assert frame.loc["a", "raw_unit"] == pytest.approx(a.maximum - a.minimum)


def test_penalised_model_predicts_and_summary(binary_fit, binary_data):
    X, y = binary_data
    assert isinstance(binary_fit, LogisticFit)
    proba = binary_fit.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert binary_fit.C in set(np.logspace(-4, 4, 4))
    assert (binary_fit.predict(X) == y).mean() > 0.6
    text = binary_fit.summary()
    assert "Reference categories (dropped): g = 'u'" in text and "LR chi2(5)" in text
    pen = binary_fit.penalised_coefficients()
    assert list(pen["column"]) == ["const", "a", "b", "g=u", "g=v", "g=w", "flag"]
    assert binary_fit.to_dict()["title"].startswith("Logistic regression (binary")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cov_type": "HC1"}, "`cov_type` must be one of"),
        ({"reference": {"a": 1}}, "not an enumerated variable"),
        ({"reference": {"g": "zz"}}, "not one of its categories"),
        ({"level": 1.5}, "`level` must be < 1.0"),
        ({"cv": 500}, "Pass a smaller cv"),
    ],
)
def test_bad_arguments(binary_data, kwargs, message):
    X, y = binary_data
    with pytest.raises(ValueError, match=message):
        fit_logistic(X, y, **kwargs)


def test_wald_statistics_are_consistent(binary_fit):
    t = binary_fit.coefficients
    chi2, df, p = t.wald([1])
    assert df == 1 and chi2 == pytest.approx(t.zvalues[1, 0] ** 2)
    assert p == pytest.approx(t.pvalues[1, 0])
    assert stats.chi2.sf(chi2, 1) == pytest.approx(p)
