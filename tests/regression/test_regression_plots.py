"""shallownet.plots.regression: what each drawing shows equals the numbers it is drawn from."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

import shallownet as sn  # noqa: E402
from shallownet.plots.regression import (  # noqa: E402
    plot_predicted_vs_observed,
    plot_regression_influence,
    plot_residuals,
)


@pytest.fixture(scope="module")
def comparison():
    rng = np.random.default_rng(4)
    y = rng.normal(10, 2, 40)
    return sn.baselines.compare_predictions(y, y + rng.normal(0, 0.5, 40), y + rng.normal(0, 1.0, 40),
                                            n_bootstrap=20)


def test_predicted_vs_observed_plots_each_model_and_the_identity(comparison):
    ax = plot_predicted_vs_observed(comparison)
    points = [c.get_offsets() for c in ax.collections]
    for k in range(2):
        np.testing.assert_allclose(points[k][:, 0], comparison.y)
        np.testing.assert_allclose(points[k][:, 1], comparison.predictions[k])
    rmse = comparison.to_frame().set_index("metric").loc["rmse", "network"]
    assert f"RMSE {rmse:.3g}" in ax.get_legend().get_texts()[0].get_text()
    line = ax.lines[0].get_xydata()
    np.testing.assert_allclose(line[:, 0], line[:, 1])
    plt.close("all")


def test_residuals_are_observed_minus_predicted_in_every_kind(comparison):
    res = comparison.y[None] - comparison.predictions
    ax = plot_residuals(comparison, "fitted")
    for k in range(2):
        np.testing.assert_allclose(ax.collections[k].get_offsets(), np.c_[comparison.predictions[k], res[k]])
    ax = plot_residuals(comparison, "qq")
    n = res.shape[1]
    q = stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    for k in range(2):
        np.testing.assert_allclose(ax.collections[k].get_offsets(), np.c_[q, np.sort(res[k]) / res[k].std(ddof=1)])
    ax = plot_residuals(comparison, "histogram")
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == pytest.approx(2 * n)  # both models' residuals, every case counted once
    with pytest.raises(ValueError, match="`kind` must be one of"):
        plot_residuals(comparison, "box")
    with pytest.raises(TypeError, match="must be a RegressionComparison"):
        plot_residuals(res)
    plt.close("all")


def test_influence_bars_are_the_mean_potential_expected_and_marginal():
    rng = np.random.default_rng(1)
    N, V, M = 30, 3, 2
    member = rng.uniform(0, 2, (M, N, V, 1))
    ei = member.mean(axis=0)
    res = sn.interpret.RegressionInfluence(
        variables=("a", "b", "c"), kinds=("real",) * 3, outputs=np.array(["y"]),
        potential=ei + 1.0, member_potential=member + 1.0, predicted=rng.normal(size=(N, 1)), y=None, n_grid=5,
        conditional="knn", expected=ei, marginal=ei * 1.5, expected_sq=ei**2, member_expected=member)
    ax = plot_regression_influence(res)
    bars = np.array([p.get_height() for p in ax.patches]).reshape(3, V)
    np.testing.assert_allclose(bars[0], (ei + 1.0)[:, :, 0].mean(axis=0))
    np.testing.assert_allclose(bars[1], ei[:, :, 0].mean(axis=0))
    np.testing.assert_allclose(bars[2], 1.5 * ei[:, :, 0].mean(axis=0))
    assert ax.get_ylabel() == "mean change of predicted y"
    with pytest.raises(ValueError, match="`output` must be one of"):
        plot_regression_influence(res, output="z")
    plt.close("all")


def test_sensitivity_and_partial_dependence_plots_speak_of_predictions():
    from shallownet.plots.sensitivity import plot_partial_dependence, plot_sensitivity

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(50, 2))
    net = sn.Network.from_weights([np.array([[30.0], [1.0]])], [np.array([5.0])], output="linear")
    dep = sn.interpret.partial_dependence(net, x, "x0", encoded=True, n_grid=5)
    assert dep.regression
    ax = plot_partial_dependence(dep)
    assert ax.get_ylabel().startswith("predicted") and ax.get_ylim()[1] > 30  # not clipped to [0, 1]
    sens = sn.interpret.sensitivity(net, x, encoded=True)
    assert sens.regression
    assert plot_sensitivity(sens).get_xlabel().startswith("mean effect on predicted")
    plt.close("all")
