"""Plots of the comparison draw what the results hold."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from shallownet.baselines import compare_probabilities, side_by_side  # noqa: E402
from shallownet.plots.baselines import (  # noqa: E402
    plot_calibration, plot_importance_vs_coefficient, plot_metrics, plot_roc,
)


def result(K, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(K), 100 // K + 1)[:100]
    za, zb = rng.normal(size=(100, K)), rng.normal(size=(100, K))
    za[np.arange(100), y] += 2.0
    zb[np.arange(100), y] += 1.0
    pa = np.exp(za) / np.exp(za).sum(1, keepdims=True)
    pb = np.exp(zb) / np.exp(zb).sum(1, keepdims=True)
    return compare_probabilities(y, np.arange(K), pa, pb, n_bootstrap=100)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_metric_bars_have_intervals():
    r = result(2)
    ax = plot_metrics(r)
    heights = sorted(round(p.get_height(), 12) for p in ax.patches)
    expected = sorted(round(v, 12) for v in np.concatenate([r.metrics["network"], r.metrics["logistic"]]))
    assert heights == expected
    ax = plot_metrics(r, kind="difference")
    assert sorted(round(p.get_height(), 12) for p in ax.patches) == sorted(round(v, 12) for v in r.metrics["difference"])
    with pytest.raises(ValueError, match="`kind`"):
        plot_metrics(r, kind="bars")
    with pytest.raises(TypeError, match="ComparisonResult"):
        plot_metrics("not a result")


def test_calibration_and_roc_curves():
    r = result(2)
    ax = plot_calibration(r)
    line = ax.get_lines()[1]  # after the diagonal
    np.testing.assert_allclose(line.get_xdata(), r.calibration["network"]["mean_predicted"])
    ax = plot_roc(r)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), r.roc["network"][1][1])
    r3 = result(3)
    fig, ax = plt.subplots()
    assert plot_roc(r3, ax=ax) is ax
    assert len(ax.get_lines()) == 2 * 3 + 1  # per model and class, plus the diagonal


def test_importance_against_coefficient_labels_every_variable():
    s = side_by_side({"olden": {"a": 1.0, "b": -2.0, "c": 0.5}, "lr_like": {"a": 0.7, "b": -1.0, "c": 0.1}})
    ax = plot_importance_vs_coefficient(s, "olden", logistic="lr_like")
    assert sorted(t.get_text() for t in ax.texts) == ["a", "b", "c"]
    offsets = ax.collections[0].get_offsets()
    assert sorted(map(tuple, np.asarray(offsets))) == sorted([(0.7, 1.0), (-1.0, -2.0), (0.1, 0.5)])
    assert "rho = 1.00" in ax.get_title()
    with pytest.raises(ValueError, match="not among the methods"):
        plot_importance_vs_coefficient(s, "garson", logistic="lr_like")
