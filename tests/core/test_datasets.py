"""Bundled and synthetic datasets: shapes, policies, and their stated ground truth."""

import numpy as np
import pytest

import shallownet as sn


def test_penguins_shape_kinds_and_missing_rows():
    X, y = sn.datasets.load_penguins()
    assert X.shape == (344, 6)
    assert y.value_counts().to_dict() == {"Adelie": 152, "Gentoo": 124, "Chinstrap": 68}
    assert int(X.isna().any(axis=1).sum()) == 11
    enc = sn.Encoder(missing="drop")
    with pytest.warns(sn.data.DataWarning):
        enc.fit(X)
    assert [v.kind for v in enc.variables_].count("enumerated") == 2


def test_gaussian_pair_correlation_and_stated_truth():
    ds = sn.datasets.gaussian_pair(20_000, rho=0.8, random_state=0)
    r = np.corrcoef(ds.X["x1"], ds.X["x2"])[0, 1]
    assert abs(r - 0.8) < 0.01
    np.testing.assert_array_equal(ds.y, (ds.X["x1"] > 0).astype(int))
    assert ds.ground_truth["mean_expected_influence"]["x1"] == pytest.approx(0.2789, abs=1e-4)
    # Monte Carlo check of the closed form: P(sign of a fresh draw of X1 | x2 differs)
    from scipy.stats import norm

    x1, x2 = ds.X["x1"].to_numpy(), ds.X["x2"].to_numpy()
    ei = norm.cdf(-np.sign(x1) * 0.8 * x2 / np.sqrt(1 - 0.64))
    assert abs(ei.mean() - ds.ground_truth["mean_expected_influence"]["x1"]) < 0.01


def test_logistic_model_recovers_its_coefficients():
    import statsmodels.api as sm

    ds = sn.datasets.logistic_model(20_000, (2.0, -1.0, 0.0), intercept=0.5, random_state=1)
    fit = sm.Logit(ds.y.to_numpy(), sm.add_constant(ds.X.to_numpy())).fit(disp=0)
    np.testing.assert_allclose(fit.params, [0.5, 2.0, -1.0, 0.0], atol=4 * fit.bse.max())


def test_correlated_predictors_have_the_chosen_correlations():
    ds = sn.datasets.correlated_predictors(50_000, (0.6, 0.4, 0.0), random_state=2)
    r = ds.ground_truth["latent_response"]
    got = [np.corrcoef(ds.X[c], r)[0, 1] for c in ds.X.columns]
    np.testing.assert_allclose(got, [0.6, 0.4, 0.0], atol=0.01)
    assert ds.ground_truth["true_rank"] == {"x1": 1, "x2": 2, "x3": 3}
    with pytest.raises(ValueError, match="sum of squares below 1"):
        sn.datasets.correlated_predictors(10, (0.8, 0.8))


def test_dataset_unpacks_and_frames():
    ds = sn.datasets.gaussian_pair(10, 0.5, random_state=0)
    X, y = ds
    assert list(ds.frame.columns) == ["x1", "x2", "y"] and len(X) == len(y) == 10
