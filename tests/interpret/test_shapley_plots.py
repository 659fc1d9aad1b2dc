"""Shapley and hidden-map plots draw what the results hold."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.interpret import hidden_map, shapley
from shallownet.plots.hidden_map import plot_hidden_map
from shallownet.plots.shapley import plot_shapley_dependence, plot_shapley_summary, plot_shapley_waterfall


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40), "g": rng.choice(["u", "v", "w"], 40),
                      "f": rng.uniform(size=40) < 0.5})
    enc = sn.Encoder().fit(X)
    x = enc.transform(X)
    W = [rng.normal(scale=3, size=(enc.n_features_out_, 4)), rng.normal(scale=3, size=(4, 3))]
    b = [-x.mean(axis=0) @ W[0], np.zeros(3)]
    net = sn.Network.from_weights(W, b, variables=enc)
    return net, X, rng.integers(0, 3, 40)


@pytest.fixture(scope="module")
def result(setup):
    net, X, _ = setup
    return shapley(net, X, n_background=10)


def test_summary_dots_are_the_values(result):
    ax = plot_shapley_summary(result, target="1")
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows[-1] == result.importance("1").index[0]  # largest on top
    for row, coll in enumerate(ax.collections):
        j = result.variables.index(rows[row])
        np.testing.assert_allclose(np.sort(coll.get_offsets()[:, 0]), np.sort(result.values[:, j, 1]))
    plt.close("all")


def test_waterfall_steps_sum_to_prediction(result):
    ax = plot_shapley_waterfall(result, case=3, target="2", max_variables=2)
    widths = [p.get_width() for p in ax.patches]
    assert len(widths) == 3 and ax.get_yticklabels()[0].get_text() == "2 other variables"
    np.testing.assert_allclose(result.base[2] + sum(widths), result.prediction[3, 2], atol=1e-9)
    ends = ax.patches[-1].get_x() + ax.patches[-1].get_width()
    np.testing.assert_allclose(ends, result.prediction[3, 2], atol=1e-9)
    with pytest.raises(ValueError, match="case"):
        plot_shapley_waterfall(result, case=40)
    plt.close("all")


def test_dependence_points(result):
    ax = plot_shapley_dependence(result, "a", colour_by="g")
    off = ax.collections[0].get_offsets()
    np.testing.assert_allclose(off[:, 1], result.values[:, 0, result.target_index()])
    np.testing.assert_allclose(off[:, 0], result.feature_values[:, 0])
    ax = plot_shapley_dependence(result, "g")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["u", "v", "w"]
    with pytest.raises(ValueError, match="variable"):
        plot_shapley_dependence(result, "nope")
    with pytest.raises(TypeError, match="shapley"):
        plot_shapley_summary(object())
    plt.close("all")


def test_hidden_map_plot(setup):
    net, X, y = setup
    res = hidden_map(net, X, y, n_grid=10)
    ax = plot_hidden_map(res)
    crosses = [c for c in ax.collections[1:] if c.get_offsets().shape[0] and len(c.get_paths()) and
               c.get_sizes()[0] == 30]
    assert sum(c.get_offsets().shape[0] for c in crosses) == int(res.misclassified.sum())
    dots = sum(c.get_offsets().shape[0] for c in ax.collections[1:])
    assert dots == len(X)
    assert "PC1" in ax.get_xlabel()
    plt.close("all")
