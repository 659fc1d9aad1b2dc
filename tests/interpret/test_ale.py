"""Accumulated local effects: a hand-worked case, an additive closed form, PyALE, invariances."""

import importlib

import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.data.encoder import Encoder
from shallownet.data.variables import Variable
from shallownet.interpret.ale import _quantile_edges, ale, category_order


def test_hand_worked_piecewise_linear_case():
    # f = relu(x0 + x1 - 1) through a linear output; edges 0, 0.5, 1 (module docstring):
    # bin 1 holds (0.2, 0.9), (0.4, 0.1): differences 0.4 and 0, mean 0.2;
    # bin 2 holds (0.7, 0.8), (0.9, 0.3): differences 0.5 and 0.3, mean 0.4;
    # A = 0, 0.2, 0.6; centre (2 (0 + 0.2) / 2 + 2 (0.2 + 0.6) / 2) / 4 = 0.25.
    net = sn.Network.from_weights([np.ones((2, 1)), np.ones((1, 1))], [np.array([-1.0]), np.zeros(1)],
                                  activation="relu", output="linear")
    X = np.array([[0.2, 0.9], [0.4, 0.1], [0.7, 0.8], [0.9, 0.3]])
    res = ale(net, X, "x0", bins=[0.0, 0.5, 1.0])
    np.testing.assert_allclose(res.effects[:, 0], [-0.25, -0.05, 0.35], atol=1e-6)
    np.testing.assert_array_equal(res.counts, [0, 2, 2])
    assert res.regression and list(res.to_frame().columns) == ["variable", "value", "output", "effect", "count"]


def _additive_net():
    """f(x) = g(x0) + h(x1): each hidden unit sees one input only (tanh, linear output)."""
    rng = np.random.default_rng(0)
    W1 = np.zeros((2, 6))
    W1[0, :3], W1[1, 3:] = rng.normal(0, 3, 3), rng.normal(0, 3, 3)
    b1, v = rng.normal(0, 1, 6), rng.normal(0, 1, (6, 1))
    net = sn.Network.from_weights([W1, v], [b1, np.array([0.3])], activation="tanh", output="linear")

    def g(z):
        return (np.tanh(np.outer(z, W1[0, :3]) + b1[:3]) @ v[:3, 0])

    return net, g


def test_additive_function_recovers_its_component_centred():
    net, g = _additive_net()
    rng = np.random.default_rng(1)
    x0 = rng.beta(2, 3, 400)
    X = np.c_[x0, np.clip(x0 + rng.normal(0, 0.1, 400), 0, 1)]  # strongly correlated inputs
    res = ale(net, X, "x0", bins=15)
    edges = res.values.astype(float)
    np.testing.assert_allclose(edges, _quantile_edges(x0, 15), atol=1e-12)
    diff = res.effects[:, 0] - g(edges)
    np.testing.assert_allclose(diff, diff[0], atol=1e-10)  # g up to a constant
    # centred: the interpolated effect has mean zero over the cases
    n = res.counts[1:]
    assert abs((n * (res.effects[:-1, 0] + res.effects[1:, 0]) / 2).sum()) < 1e-10
    assert n.sum() == 400
    kernel = importlib.import_module("shallownet.interpret.ale")._edge_proba
    size = kernel._cache_size()
    ale(net, X, "x0", bins=7)  # another number of bins: no new compilation
    assert kernel._cache_size() == size


def _mixed():
    rng = np.random.default_rng(2)
    n = 300
    a = rng.normal(size=n)
    c = np.where(a > 0.6, "hi", np.where(a < -0.6, "lo", "mid"))
    c = np.where(rng.random(n) < 0.2, rng.choice(["lo", "mid", "hi", "odd"], n), c)
    df = pd.DataFrame({"a": a, "b": a + rng.normal(0, 0.5, n), "c": c, "d": rng.random(n) > 0.4})
    enc = Encoder().fit(df)
    Ws = [rng.normal(0, 1.5, (enc.variables_[-1].columns[-1] + 1, 5)), rng.normal(0, 1.5, (5, 3))]
    net = sn.Network.from_weights(Ws, [rng.normal(0, 1, 5), rng.normal(0, 1, 3)], activation="logistic",
                                  variables=enc)
    return net, df


def test_invariances():
    net, df = _mixed()
    res = ale(net, df, "c")
    # class probabilities sum to one, so the effects sum to zero over classes
    np.testing.assert_allclose(res.effects.sum(axis=1), 0, atol=1e-6)
    # reversing the order changes nothing after centring; shuffling the rows neither
    rev = ale(net, df, "c", order=list(res.values)[::-1])
    back = {str(v): e for v, e in zip(rev.values, rev.effects)}
    np.testing.assert_allclose(np.array([back[str(v)] for v in res.values]), res.effects, atol=1e-6)
    shuffled = ale(net, df.sample(frac=1, random_state=0), "c")
    np.testing.assert_allclose(shuffled.effects, res.effects, atol=1e-6)
    real = ale(net, df, "a", bins=10)
    np.testing.assert_allclose(ale(net, df.iloc[::-1], "a", bins=10).effects, real.effects, atol=1e-6)
    # a variable the network ignores has no effect
    W = [np.array(w[0]) for w in net.weights()]
    W[0][net.variables[1].columns[0]] = 0.0
    blind = sn.Network.from_weights(W, [np.asarray(b[0]) for b in net.biases()], variables=net.encoder)
    np.testing.assert_allclose(ale(blind, df, "b").effects, 0, atol=1e-7)
    binary = ale(net, df, "d")
    assert binary.ordered_by == "natural" and list(binary.values) == [False, True]


def test_category_order_is_the_mds_order_of_ks_and_tv_distances():
    net, df = _mixed()
    x = net.encode(df)
    var = net.variables[2]
    order = [var.categories[i] for i in category_order(net, x, var, np.ones(4, bool))]
    # "lo" and "hi" sit at the two ends of a; "mid" lies between them
    assert order.index("mid") in (1, 2) and {order[0], order[-1]} & {"lo", "hi"}
    assert abs(order.index("lo") - order.index("hi")) >= 2
    # a brute-force check of the KS distance against scipy
    from scipy.stats import ks_2samp

    from shallownet.interpret.ale import _ks

    a, b = df.a[df.c == "lo"].to_numpy(), df.a[df.c == "hi"].to_numpy()
    assert _ks(a, b) == pytest.approx(ks_2samp(a, b).statistic)


class _Column:
    """PyALE's model: ``predict`` gives one class probability of our network."""

    def __init__(self, net, k, feature=None, categories=None):
        self.net, self.k, self.feature, self.categories = net, k, feature, categories

    def predict(self, X):
        if self.feature is not None:  # PyALE passes the one-hot columns of the feature
            X = X.copy()
            X[self.feature] = np.asarray(self.categories, dtype=object)[
                X[[f"{self.feature}={c}" for c in self.categories]].to_numpy().argmax(1)]
            X = X.drop(columns=[f"{self.feature}={c}" for c in self.categories])
        return self.net.predict_proba(X[[v.name for v in self.net.variables]])[:, self.k]


def test_against_pyale_on_the_same_model_and_bins():
    pytest.importorskip("PyALE", reason="PyALE is not installed (it is in the bench extra)")
    from PyALE import ale as pyale

    net, df = _mixed()
    ours = ale(net, df, "a", bins=12)
    for k in range(3):
        peer = pyale(df, _Column(net, k), ["a"], grid_size=12, include_CI=False, plot=False)
        mine = ale(net, df, "a", bins=peer.index.to_numpy(float))  # PyALE's own edges
        np.testing.assert_allclose(mine.effects[:, k], peer["eff"].to_numpy(), atol=1e-6)
        np.testing.assert_array_equal(mine.counts, peer["size"].to_numpy())
    assert ours.effects.shape[1] == 3
    var = net.variables[2]
    cats = list(var.categories)
    res = ale(net, df, "c")
    frame = df.copy()
    frame["c"] = pd.Categorical(frame["c"], categories=[str(v) for v in res.values], ordered=True)

    def encode_fun(col):
        return pd.DataFrame({f"c={c}": (col["c"].astype(str) == c).astype(float) for c in cats}, index=col.index)

    predictors = ["a", "b", "d"] + [f"c={c}" for c in cats]
    for k in range(3):
        peer = pyale(frame, _Column(net, k, "c", cats), ["c"], encode_fun=encode_fun, predictors=predictors,
                     include_CI=False, plot=False)
        got = dict(zip(map(str, res.values), res.effects[:, k]))
        np.testing.assert_allclose([got[str(i)] for i in peer.index], peer["eff"].to_numpy(), atol=1e-6)


def test_bad_input_and_plot():
    net, df = _mixed()
    with pytest.raises(ValueError, match="must cover"):
        ale(net, df, "a", bins=[-1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        ale(net, df, "a", bins=[0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="applies to enumerated"):
        ale(net, df, "a", order=["x"])
    with pytest.raises(ValueError, match="not a category"):
        ale(net, df, "c", order=["lo", "mid", "hi", "nope"])
    with pytest.raises(ValueError, match="not a variable"):
        ale(net, df, "zz")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shallownet.plots.ale import plot_ale

    pdp = sn.interpret.partial_dependence(net, df, "a")
    ax = plot_ale(ale(net, df, "a"), partial_dependence=pdp, class_=net.classes[1])
    assert len(ax.lines) >= 3 and "ALE" in [t.get_text() for t in ax.get_legend().get_texts()]
    ax2 = plot_ale(ale(net, df, "c"), partial_dependence=sn.interpret.partial_dependence(net, df, "c"))
    assert [t.get_text() for t in ax2.get_xticklabels()]
    with pytest.raises(ValueError, match="is of 'c'"):
        plot_ale(ale(net, df, "a"), partial_dependence=sn.interpret.partial_dependence(net, df, "c"))
    plt.close("all")
