"""OLS baseline and the regression comparison, against statsmodels, scikit-learn and scipy."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.metrics import mean_absolute_error, r2_score

import shallownet as sn
from shallownet.baselines import compare, compare_predictions, fit_linear, side_by_side
from shallownet.data.encoder import Encoder

from ._data import simulate


def _manual_design(X):
    a = (X["a"] - X["a"].min()) / np.ptp(X["a"])
    b = (X["b"] - X["b"].min()) / np.ptp(X["b"])
    return np.column_stack([np.ones(len(X)), a, b, X["g"] == "v", X["g"] == "w", X["flag"]]).astype(float)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC3"])
def test_fit_linear_equals_statsmodels_on_a_hand_built_design(cov_type):
    X, y = simulate(250)
    fit = fit_linear(X, y, cov_type=cov_type)
    ols = sm.OLS(y, _manual_design(X)).fit(cov_type=cov_type)
    np.testing.assert_allclose(fit.params, ols.params, rtol=1e-10)
    np.testing.assert_allclose(fit.bse, ols.bse, rtol=1e-10)
    assert fit.rsquared == pytest.approx(ols.rsquared)
    assert fit.fvalue == pytest.approx(float(np.squeeze(ols.fvalue)))
    # per raw unit: the OLS slope of the raw variable
    raw = sm.OLS(y, np.column_stack([np.ones(len(X)), X["a"], X["b"], X["g"] == "v", X["g"] == "w",
                                     X["flag"]]).astype(float)).fit()
    np.testing.assert_allclose(fit.per_raw_unit[1:3], raw.params[1:3], rtol=1e-10)
    np.testing.assert_allclose(fit.predict(X), ols.fittedvalues, rtol=1e-10)
    imp = fit.importance().set_index("variable")
    assert imp.loc["a", "abs_t"] == pytest.approx(abs(ols.tvalues[1]))
    # standardised coefficient of a real variable: |beta_raw| sd(x) / sd(y)
    assert imp.loc["b", "standardised"] == pytest.approx(abs(raw.params[2]) * X["b"].std(ddof=0) / y.std())
    R = np.zeros((2, 6))
    R[0, 3], R[1, 4] = 1, 1
    assert imp.loc["g", "abs_t"] == pytest.approx(np.sqrt(float(np.squeeze(ols.f_test(R).fvalue))))


def test_fit_linear_refuses_bad_targets():
    X, y = simulate(50)
    with pytest.raises(ValueError, match="must be numeric"):
        fit_linear(X, np.array(["a"] * 50))
    with pytest.raises(ValueError, match="NaN or infinity"):
        fit_linear(X, np.r_[np.nan, y[1:]])
    with pytest.raises(ValueError, match="`cov_type` must be one of"):
        fit_linear(X, y, cov_type="HC9")


def test_compare_predictions_metrics_interval_and_test():
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    a = y + 0.3 * rng.normal(size=300)
    b = y + 0.5 * rng.normal(size=300)
    res = compare_predictions(y, a, b, n_bootstrap=500, random_state=1)
    m = res.metrics.set_index("metric")
    assert m.loc["rmse", "network"] == pytest.approx(np.sqrt(np.mean((y - a) ** 2)))
    assert m.loc["mae", "linear"] == pytest.approx(mean_absolute_error(y, b))
    assert m.loc["r2", "network"] == pytest.approx(r2_score(y, a))
    t = stats.ttest_rel((y - a) ** 2, (y - b) ** 2)
    assert res.test["t"] == pytest.approx(t.statistic) and res.test["p"] == pytest.approx(t.pvalue)
    for metric in ("rmse", "mae", "r2"):  # the point difference lies inside its interval
        assert m.loc[metric, "ci_low"] <= m.loc[metric, "difference"] <= m.loc[metric, "ci_high"]
    assert m.loc["rmse", "ci_high"] < 0  # a is clearly better
    same = compare_predictions(y, a, a, n_bootstrap=50)
    assert (same.metrics[["difference", "ci_low", "ci_high"]].to_numpy() == 0).all()


def test_compare_dispatches_to_regression_with_an_ols_default():
    X, y = simulate(300, seed=3)
    enc = Encoder().fit(X.iloc[:200])
    fit = fit_linear(X.iloc[:200], y[:200], encoder=enc)
    # a zero-hidden-layer linear network holding the OLS coefficients (full one-hot form)
    full = np.zeros(7)
    full[0] = fit.params[0]
    full[1 + np.array([0, 1, 3, 4, 5])] = fit.params[1:]
    net = sn.Network.from_weights([full[1:, None]], [full[:1]], output="linear", variables=enc)
    res = compare(net, X.iloc[200:], y[200:], X_train=X.iloc[:200], y_train=y[:200],
                  n_bootstrap=100)
    assert res.names == ("network", "linear")
    np.testing.assert_allclose(res.predictions[0], res.predictions[1], atol=1e-5)
    assert "Paired t test" in res.summary()


def test_side_by_side_with_ols_measures():
    X, y = simulate(200)
    fit = fit_linear(X, y)
    imp = {"olden": {"a": 2.0, "b": -1.0, "g": 1.2, "flag": 0.5}}
    res = side_by_side(imp, fit, signed=["olden"])
    assert set(res.methods) >= {"olden", "ols_t", "ols_standardised"}
    frame = res.to_frame().set_index("variable")
    want = fit.importance().set_index("variable")
    np.testing.assert_allclose(frame.loc[want.index, "ols_t"], want["abs_t"])
    np.testing.assert_allclose(frame.loc[want.index, "ols_standardised"], want["standardised"])
    assert frame.loc["b", "ols_standardised_rank"] == 1.0
