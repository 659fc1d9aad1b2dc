"""The readings the client report draws: activation distributions by class, the typical case of
the densest region, a decision surface over a quantile span, and their drawings."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.interpret import hidden_activations
from shallownet.interpret.profiles import decision_surface, typical_row
from shallownet.plots.baselines import plot_importance_pair
from shallownet.plots.sensitivity import plot_surface
from shallownet.plots.weights import plot_activation_distributions


@pytest.fixture(scope="module")
def net_and_data():
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.uniform(0, 10, 60), "g": rng.choice(["u", "v"], 60)})
    enc = sn.Encoder().fit(X)
    W = [rng.normal(scale=2, size=(4, 3)), rng.normal(size=(3, 1))]
    b = [rng.normal(size=3), rng.normal(size=1)]
    net = sn.Network.from_weights(W, b, variables=enc)
    y = np.where(X["a"] > 0, 1, 0)
    hidden = 1 / (1 + np.exp(-(enc.transform(X) @ W[0] + b[0])))  # the oracle: logistic hidden units
    return net, X, y, hidden


def test_activations_are_the_hidden_layer_and_separation_reads_the_class_medians(net_and_data):
    net, X, y, hidden = net_and_data
    act = hidden_activations(net, X, y)
    values = act.values[0][0]
    np.testing.assert_allclose(values, hidden, rtol=1e-5)
    sep = act.separation().set_index("node")
    for j, node in enumerate(act.nodes[0]):
        med = [np.median(values[y == k, j]) for k in (0, 1)]
        assert sep.loc[node, "difference"] == pytest.approx(max(med) - min(med))
        assert sep.loc[node, "high_class"] == act.classes[int(np.argmax(med))]
    frame = act.to_frame()
    assert len(frame) == 3 * 2 and (frame["q1"] <= frame["median"]).all() and frame["n"].sum() == 3 * 60
    ax = plot_activation_distributions(act)
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == sep["relative"].idxmax()  # clearest on top
    plt.close("all")


def test_typical_row_is_in_the_dense_cluster():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0.5, 0.01, (30, 2)), rng.uniform(0, 1, (70, 2))])
    assert typical_row(x) < 30


def test_surface_over_a_span_at_the_typical_case(net_and_data):
    net, X, y, _ = net_and_data
    s = decision_surface(net, X, ["a", "b"], at="densest", span=(0.1, 0.9), n_grid=7)
    assert s.values[0][0] == pytest.approx(np.quantile(X["a"], 0.1), rel=1e-5)
    assert s.values[1][-1] == pytest.approx(np.quantile(X["b"], 0.9), rel=1e-5)
    assert s.at.startswith("the typical case")
    row = int(s.at.rsplit(" ", 1)[1])
    grid = pd.DataFrame({"a": np.repeat(s.values[0], 7), "b": np.tile(s.values[1], 7), "g": X["g"].iloc[row]})
    np.testing.assert_allclose(s.proba[:, :, 1].ravel(), net.predict_proba(grid)[:, 1], atol=1e-5)
    for bad in [(0.9, 0.1), (0.1,), "x", (-0.1, 0.5)]:
        with pytest.raises(ValueError, match="`span`"):
            decision_surface(net, X, ["a", "b"], span=bad)
    ax = plot_surface(s, points=X, labels=y)
    assert len(ax.collections[-1].get_offsets()) + len(ax.collections[-2].get_offsets()) <= len(X)
    assert ax.get_legend().get_title().get_text() == "true class"
    plt.close("all")


def test_importance_pair_orders_by_the_left_measure():
    frame = pd.DataFrame({"variable": ["x", "y", "z"], "ei": [0.2, 0.5, 0.1], "chi2": [3.0, 1.0, 9.0]})
    axes = plot_importance_pair(frame, "ei", "chi2")
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["z", "x", "y"]  # largest on top
    assert [p.get_width() for p in axes[1].patches] == [9.0, 3.0, 1.0]
    with pytest.raises(ValueError, match="lacks the columns"):
        plot_importance_pair(frame, "ei", "nope")
    plt.close("all")
