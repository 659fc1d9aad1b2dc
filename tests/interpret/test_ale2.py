"""Second-order ALE: zero for additive functions, a brute-force NumPy estimator, PyALE."""

import importlib

import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.interpret.ale2 import ale2

from test_ale import _additive_net, _Column


def _interacting_net(n_inputs=3, seed=3):
    """Two hidden layers, softmax over three classes: every pair of inputs interacts."""
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(0, 2.5, (n_inputs, 6)), rng.normal(0, 1.5, (6, 4)), rng.normal(0, 1.5, (4, 3))]
    bs = [rng.normal(0, 1, 6), rng.normal(0, 1, 4), rng.normal(0, 1, 3)]
    return sn.Network.from_weights(Ws, bs, activation="tanh")


def _correlated(n=300, seed=4):
    rng = np.random.default_rng(seed)
    a = rng.beta(2, 3, n)
    return np.c_[a, np.clip(a + rng.normal(0, 0.15, n), 0, 1), rng.random(n)]


def brute_force(predict, X, j, l, e1, e2):
    """The estimator written out cell by cell with Python loops (module docstring of ale2)."""
    K1, K2 = len(e1) - 1, len(e2) - 1
    b1 = np.clip(np.searchsorted(e1, X[:, j], side="left"), 1, None)
    b2 = np.clip(np.searchsorted(e2, X[:, l], side="left"), 1, None)
    T = predict(X[:1]).shape[1]
    delta, n = np.zeros((K1, K2, T)), np.zeros((K1, K2))
    for k in range(1, K1 + 1):
        for m in range(1, K2 + 1):
            rows = X[(b1 == k) & (b2 == m)]
            n[k - 1, m - 1] = len(rows)
            if not len(rows):
                continue

            def at(u, v):
                Z = rows.copy()
                Z[:, j], Z[:, l] = u, v
                return predict(Z).astype(float)

            d = at(e1[k], e2[m]) - at(e1[k - 1], e2[m]) - at(e1[k], e2[m - 1]) + at(e1[k - 1], e2[m - 1])
            delta[k - 1, m - 1] = d.mean(axis=0)
    centre1 = lambda e: (e[:-1] + e[1:]) / 2 / (e[-1] - e[0])  # noqa: E731
    c1, c2 = centre1(e1), centre1(e2)
    for k in range(K1):
        for m in range(K2):
            if n[k, m] == 0:
                best = min(((c1[k] - c1[a]) ** 2 + (c2[m] - c2[b]) ** 2, a, b)
                           for a in range(K1) for b in range(K2) if n[a, b] > 0)
                delta[k, m] = delta[best[1], best[2]]
    G = np.zeros((K1 + 1, K2 + 1, T))
    for k in range(1, K1 + 1):
        for m in range(1, K2 + 1):
            G[k, m] = delta[:k, :m].sum(axis=(0, 1))
    F1, F2 = np.zeros((K1 + 1, T)), np.zeros((K2 + 1, T))
    for k in range(1, K1 + 1):
        s = sum(n[k - 1, m - 1] * ((G[k, m - 1] - G[k - 1, m - 1]) + (G[k, m] - G[k - 1, m])) / 2
                for m in range(1, K2 + 1))
        F1[k] = F1[k - 1] + (s / n[k - 1].sum() if n[k - 1].sum() else 0)
    for m in range(1, K2 + 1):
        s = sum(n[k - 1, m - 1] * ((G[k - 1, m] - G[k - 1, m - 1]) + (G[k, m] - G[k, m - 1])) / 2
                for k in range(1, K1 + 1))
        F2[m] = F2[m - 1] + (s / n[:, m - 1].sum() if n[:, m - 1].sum() else 0)
    H = G - F1[:, None] - F2[None, :]
    mean = sum(n[k, m] * (H[k, m] + H[k + 1, m] + H[k, m + 1] + H[k + 1, m + 1]) / 4
               for k in range(K1) for m in range(K2)) / n.sum()
    return H - mean, n


def test_additive_function_has_no_second_order_effect():
    net, _ = _additive_net()
    X = _correlated()[:, :2]
    res = ale2(net, X, ("x0", "x1"), bins=8)
    assert res.effects.shape[:2] == (len(res.values[0]), len(res.values[1]))
    np.testing.assert_allclose(res.effects, 0, atol=2e-6)  # float32 forward passes
    assert res.counts.sum() == len(X)
    # the same network with an interaction is far from zero: the test can fail
    W = [np.array(w[0]) for w in net.weights()]
    W[0][1, :3] = 2.0
    mixed = sn.Network.from_weights(W, [np.asarray(b[0]) for b in net.biases()], output="linear")
    assert np.abs(ale2(mixed, X, ("x0", "x1"), bins=8).effects).max() > 1e-2


def test_equals_a_brute_force_estimator_with_empty_cells():
    net = _interacting_net()
    X = _correlated()
    res = ale2(net, X, ["x0", "x1"], bins=(7, 6))
    assert res.imputed.any()  # correlated inputs leave corner cells empty
    want, n = brute_force(lambda Z: net.predict_proba(Z), X, 0, 1, res.values[0], res.values[1])
    np.testing.assert_array_equal(res.counts, n)
    np.testing.assert_allclose(res.effects, want, atol=1e-6)
    np.testing.assert_allclose(res.effects.sum(axis=-1), 0, atol=1e-6)  # probabilities sum to one
    frame = res.to_frame()
    assert list(frame.columns) == ["x0", "x1", "output", "effect"] and len(frame) == res.effects.size
    np.testing.assert_allclose(frame["effect"].to_numpy(), res.effects.reshape(-1))
    # rows in another order, another number of bins: the same effects, no new compilation
    kernel = importlib.import_module("shallownet.interpret.ale2")._corner_proba
    size = kernel._cache_size()
    np.testing.assert_allclose(ale2(net, X[::-1], ["x0", "x1"], bins=(7, 6)).effects, res.effects, atol=1e-6)
    ale2(net, X, ["x0", "x2"], bins=4)
    assert kernel._cache_size() == size
    # given edges in raw units, per variable
    given = ale2(net, X, ["x0", "x1"], bins=([0.0, 0.5, 1.0], 3))
    assert given.values[0].tolist() == [0.0, 0.5, 1.0] and given.counts.shape == (2, 3)
    assert "cells without cases" in res.summary()


def test_against_pyale_on_the_same_model_and_bins():
    pytest.importorskip("PyALE", reason="PyALE is not installed (it is in the bench extra)")
    from PyALE import ale as pyale

    net = _interacting_net()
    df = pd.DataFrame(_correlated(), columns=["x0", "x1", "x2"])
    for k in range(3):
        peer = pyale(df, _Column(net, k), ["x0", "x1"], grid_size=8, include_CI=False, plot=False)
        e1, e2 = peer.index.to_numpy(float), peer.columns.to_numpy(float)
        mine = ale2(net, df, ("x0", "x1"), bins=(e1, e2))
        np.testing.assert_allclose(mine.effects[:, :, k], peer.to_numpy(float), atol=1e-6)


def test_bad_input_and_plot():
    from test_ale import _mixed

    net, df = _mixed()
    with pytest.raises(ValueError, match="two real variables; 'c' is enumerated"):
        ale2(net, df, ("a", "c"))
    with pytest.raises(ValueError, match="pair of variable names"):
        ale2(net, df, "a")
    with pytest.raises(ValueError, match="names a variable twice"):
        ale2(net, df, ("a", "a"))
    with pytest.raises(ValueError, match="must cover"):
        ale2(net, df, ("a", "b"), bins=([0.0, 0.1], 4))
    with pytest.raises(ValueError, match="`bins` must be an integer or a pair"):
        ale2(net, df, ("a", "b"), bins=2.5)
    # sn.interpret.ale with a pair of variables is the second-order effect
    np.testing.assert_allclose(sn.interpret.ale(net, df, ("a", "b"), bins=5).effects,
                               ale2(net, df, ("a", "b"), bins=5).effects)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shallownet.plots.ale import plot_ale2

    res = ale2(net, df, ("a", "b"), bins=5)
    ax = plot_ale2(res, class_=net.classes[2])
    assert ax.get_xlabel() == "a" and ax.get_ylabel() == "b" and ax.collections
    assert len(ax.patches) == res.imputed.sum()  # one hatched rectangle per empty cell
    with pytest.raises(TypeError):
        plot_ale2(sn.interpret.ale(net, df, "a"))
    plt.close("all")
