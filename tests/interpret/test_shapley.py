"""Shapley values against a brute-force enumeration, closed forms, axioms and shap."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.interpret import _shapley_kernels as kernels
from shallownet.interpret.shapley import coalition_table, shapley


def frame(n, seed):
    """Three real variables (two dependent), an enumerated one (3 categories), a binary one."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, n)
    a = rng.normal(size=n) + 0.8 * g
    b = 0.5 * a + rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": b, "g": np.array(["u", "v", "w"])[g],
                         "flag": rng.uniform(size=n) < 0.4, "c": rng.uniform(size=n)})


def network(X, hidden=(4, 3), n_out=3, members=1, seed=0, output=None):
    """Random weights, biases centring each layer on the data (decisions vary by case)."""
    enc = sn.Encoder().fit(X)
    rng = np.random.default_rng(seed)
    sizes = (enc.n_features_out_, *hidden, n_out)
    Ws, bs = [], []
    for _ in range(members):
        h, W_m, b_m = enc.transform(X), [], []
        for n_in, n_o in zip(sizes[:-1], sizes[1:]):
            W = rng.normal(scale=1.5, size=(n_in, n_o))
            b = -(h @ W).mean(axis=0)
            W_m.append(W)
            b_m.append(b)
            h = np.tanh(h @ W + b)
        Ws.append(W_m)
        bs.append(b_m)
    Ws = [np.stack([w[l] for w in Ws]) for l in range(len(sizes) - 1)]
    bs = [np.stack([b[l] for b in bs]) for l in range(len(sizes) - 1)]
    return sn.Network.from_weights(Ws, bs, activation="tanh", variables=enc, output=output), enc


def brute_force(f, x, ref, groups):
    """The Shapley formula over subsets, with v(S) the mean of f over hybrid rows."""
    V = len(groups)

    def v(S):
        z = ref.copy()
        for i in S:
            z[:, groups[i]] = x[groups[i]]
        return f(z).mean(axis=0)

    phi = np.zeros((V,) + np.shape(v(())))
    for i in range(V):
        others = [j for j in range(V) if j != i]
        for m in range(V):
            for S in itertools.combinations(others, m):
                w = math.factorial(m) * math.factorial(V - m - 1) / math.factorial(V)
                phi[i] += w * (v(S + (i,)) - v(S))
    return phi


def test_exact_equals_brute_force_mixed_two_layers_three_classes():
    X = frame(40, 1)
    net, enc = network(X)
    res = shapley(net, X.iloc[:6], background=X.iloc[10:22])
    x, ref = enc.transform(X.iloc[:6]), enc.transform(X.iloc[10:22])
    groups = [list(v.columns) for v in net.variables]
    f = lambda z: net.predict_proba(z, encoded=True)
    expected = np.stack([brute_force(f, x[n], ref, groups) for n in range(6)])
    assert res.values.shape == (6, 5, 3)
    assert np.abs(res.values).max() > 1e-2  # not trivially zero
    np.testing.assert_allclose(res.values, expected, atol=1e-6)
    np.testing.assert_allclose(res.efficiency_gap, 0, atol=1e-6)
    np.testing.assert_allclose(res.prediction, f(x), atol=1e-9)
    np.testing.assert_allclose(res.base, f(ref).mean(axis=0), atol=1e-9)


def test_logit_output_brute_force_softmax_and_sigmoid():
    X = frame(30, 2)
    for n_out, output in ((3, None), (1, "sigmoid")):
        net, enc = network(X, hidden=(3,), n_out=n_out, seed=3, output=output)
        res = shapley(net, X.iloc[:3], background=X.iloc[5:15], output="logit")
        x, ref = enc.transform(X.iloc[:3]), enc.transform(X.iloc[5:15])
        W, b = net.weights(0), net.biases(0)

        def z(rows):
            out = np.tanh(rows @ W[0] + b[0]) @ W[1] + b[1]
            return out - out.mean(axis=1, keepdims=True) if n_out > 1 else out

        groups = [list(v.columns) for v in net.variables]
        expected = np.stack([brute_force(z, x[n], ref, groups) for n in range(3)])
        np.testing.assert_allclose(res.values, expected, atol=1e-6)
        assert len(res.targets) == (3 if n_out > 1 else 1)


def test_zero_hidden_logit_closed_form():
    """Logit of a logistic regression: phi_i = sum_{c in G_i} w_c (x_c - E_ref x_c)."""
    X = frame(50, 3)
    enc = sn.Encoder().fit(X)
    rng = np.random.default_rng(4)
    w = rng.normal(size=(enc.n_features_out_, 1))
    net = sn.Network.from_weights([w], [np.array([0.3])], variables=enc)
    res = shapley(net, X.iloc[:8], background=X.iloc[8:40], output="logit", n_background=32)
    x, ref = enc.transform(X.iloc[:8]), enc.transform(X.iloc[8:40])
    contrib = (x - ref.mean(axis=0)) * w[:, 0]
    expected = np.stack([contrib[:, list(v.columns)].sum(axis=1) for v in net.variables], axis=1)
    np.testing.assert_allclose(res.values[:, :, 0], expected, atol=1e-9)


def test_symmetry_and_dummy():
    """Two variables entering identically get equal values; a variable with zero weights 0."""
    rng = np.random.default_rng(5)
    Z = rng.uniform(size=(30, 4))
    Z[:, 1] = Z[:, 0][::-1]  # swap-symmetric background
    W1 = rng.normal(size=(4, 3))
    W1[1] = W1[0]
    W1[3] = 0.0  # dummy
    net = sn.Network.from_weights([W1, rng.normal(size=(3, 2))], [np.zeros(3), np.zeros(2)])
    x = Z[:5].copy()
    x[:, 1] = x[:, 0]
    bg = np.concatenate([Z, Z[:, [1, 0, 2, 3]]])  # the background is symmetric in x0, x1
    res = shapley(net, x, background=bg, n_background=60, encoded=True)
    np.testing.assert_allclose(res.values[:, 0], res.values[:, 1], atol=1e-12)
    np.testing.assert_allclose(res.values[:, 3], 0, atol=1e-12)
    assert np.abs(res.values[:, 0]).max() > 1e-3


def test_permutation_within_standard_errors_and_efficient():
    X = frame(40, 6)
    net, _ = network(X, members=2, seed=7)
    exact = shapley(net, X.iloc[:3], background=X.iloc[10:22], method="exact")
    est = shapley(net, X.iloc[:3], background=X.iloc[10:22], method="permutation", n_pairs=32)
    z = np.abs(est.values - exact.values) / np.maximum(est.standard_error, 1e-12)
    assert z.max() < 4.5
    assert (est.standard_error > 0).mean() > 0.9
    np.testing.assert_allclose(est.efficiency_gap, 0, atol=1e-9)
    # more pairs, smaller error
    more = shapley(net, X.iloc[:3], background=X.iloc[10:22], method="permutation", n_pairs=128)
    assert more.standard_error.mean() < 0.7 * est.standard_error.mean()
    # the same orders for the same seed; the compiled kernel is reused
    before = kernels.permutation_chunk._cache_size()
    again = shapley(net, X.iloc[:3], background=X.iloc[10:22], method="permutation", n_pairs=32)
    np.testing.assert_array_equal(again.values, est.values)
    assert kernels.permutation_chunk._cache_size() == before


def test_ensemble_is_member_mean_and_spread():
    X = frame(30, 8)
    net, _ = network(X, members=3, seed=9)
    res = shapley(net, X.iloc[:3], background=X.iloc[5:15])
    one = shapley(net.member(1), X.iloc[:3], background=X.iloc[5:15])
    np.testing.assert_allclose(res.member_values[1], one.values, atol=1e-12)
    np.testing.assert_allclose(res.values, res.member_values.mean(axis=0), atol=1e-12)
    assert np.isfinite(res.to_frame()["member_sd"]).all()
    np.testing.assert_allclose(res.efficiency_gap, 0, atol=1e-9)


def test_regression_prediction_brute_force():
    X = frame(30, 10)
    net, enc = network(X, hidden=(3,), n_out=1, seed=11, output="linear")
    res = shapley(net, X.iloc[:3], background=X.iloc[5:15])
    assert res.output == "prediction"
    x, ref = enc.transform(X.iloc[:3]), enc.transform(X.iloc[5:15])
    f = lambda z: net.predict(z, encoded=True)[:, None]
    groups = [list(v.columns) for v in net.variables]
    expected = np.stack([brute_force(f, x[n], ref, groups) for n in range(3)])
    np.testing.assert_allclose(res.values, expected, atol=1e-6)
    with pytest.raises(ValueError, match="output"):
        shapley(net, X.iloc[:3], output="probability")


def test_conditional_brute_force_knn_value():
    """v(S) is the mean of f over the k nearest rows in S's variables (ties shared)."""
    X = frame(40, 12)
    net, enc = network(X, hidden=(3,), seed=13)
    k = 7
    res = shapley(net, X.iloc[:3], background=X, value="conditional", n_neighbors=k)
    x, ref = enc.transform(X.iloc[:3]), enc.transform(X)
    from shallownet.interpret.conditionals import knn_scaling

    s = knn_scaling(net.variables, ref)
    groups = [list(v.columns) for v in net.variables]
    f = lambda z: net.predict_proba(z, encoded=True)
    V = len(groups)

    def v(S, xc):
        d = np.zeros(len(ref))
        for i in S:
            d += (((xc[groups[i]] - ref[:, groups[i]]) * s[groups[i]]) ** 2).sum(axis=1)
        tau = np.sort(d)[k - 1]
        w = (d < tau) + (d == tau) * (k - (d < tau).sum()) / (d == tau).sum()
        z = ref.copy()
        for i in S:
            z[:, groups[i]] = xc[groups[i]]
        return (w[:, None] * f(z)).sum(axis=0) / k

    for n in range(3):
        phi = np.zeros((V, 3))
        for i in range(V):
            others = [j for j in range(V) if j != i]
            for m in range(V):
                for S in itertools.combinations(others, m):
                    w = math.factorial(m) * math.factorial(V - m - 1) / math.factorial(V)
                    phi[i] += w * (v(S + (i,), x[n]) - v(S, x[n]))
        np.testing.assert_allclose(res.values[n], phi, atol=1e-6)
    np.testing.assert_allclose(res.efficiency_gap, 0, atol=1e-9)


def test_shap_exact_explainer_grouped():
    shap = pytest.importorskip("shap", reason="shap is not installed (bench extra)")
    X = frame(40, 14)
    net, enc = network(X, hidden=(4,), seed=15)
    x, ref = enc.transform(X.iloc[:3]), enc.transform(X.iloc[10:22])
    groups = [list(v.columns) for v in net.variables]
    g = [v for v in net.variables if v.kind == "enumerated"][0]
    gi = net.variables.index(g)
    W, b = net.weights(0), net.biases(0)

    def to_vars(Z):  # a variable-level matrix: the enumerated group as its category index
        out = np.zeros((len(Z), len(groups)))
        for i, cols in enumerate(groups):
            out[:, i] = Z[:, cols].argmax(axis=1) if i == gi else Z[:, cols[0]]
        return out

    def f(Vm):
        Z = np.zeros((len(Vm), net.n_inputs))
        for i, cols in enumerate(groups):
            if i == gi:
                Z[np.arange(len(Vm)), np.asarray(cols)[Vm[:, i].astype(int)]] = 1
            else:
                Z[:, cols[0]] = Vm[:, i]
        z = np.tanh(Z @ W[0] + b[0]) @ W[1] + b[1]  # NumPy: shap's varying batch sizes
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    masker = shap.maskers.Independent(to_vars(ref), max_samples=len(ref))
    peer = shap.explainers.ExactExplainer(f, masker)(to_vars(x)).values  # (N, V, K)
    ours = shapley(net, x, background=ref, encoded=True, background_method="random", n_background=12)
    np.testing.assert_allclose(ours.values, peer, atol=1e-5)


def test_background_kmeans_weights_and_rows():
    X = frame(120, 16)
    net, enc = network(X, hidden=(3,), seed=17)
    res = shapley(net, X.iloc[:2], background=X, n_background=10)
    assert res.n_background == 10 and res.background_method == "kmeans"
    from shallownet.interpret._background import summarise

    rows, w = summarise(net.variables, enc.transform(X), 10, "kmeans", 0)
    assert np.isclose(w.sum(), 1) and len(rows) == 10
    ref = enc.transform(X)
    assert all((np.abs(ref - r).sum(axis=1) == 0).any() for r in rows)  # observed rows
    np.testing.assert_allclose(res.base, (w[:, None] * net.predict_proba(rows, encoded=True)).sum(0), atol=1e-9)


def test_chunking_and_blocks_do_not_change_values_and_no_recompilation(monkeypatch):
    X = frame(30, 18)
    net, _ = network(X, hidden=(3,), seed=19)
    whole = shapley(net, X.iloc[:5], background=X.iloc[:10])
    import importlib

    module = importlib.import_module("shallownet.interpret.shapley")

    monkeypatch.setattr(module, "chunk_budget", lambda: 200)  # blocks of 4 coalitions, 1 case
    parts = shapley(net, X.iloc[:5], background=X.iloc[:10], chunk_size=2)
    np.testing.assert_allclose(parts.values, whole.values, atol=1e-12)
    before = kernels.exact_chunk._cache_size()
    shapley(net, X.iloc[5:10], background=X.iloc[:10], chunk_size=2)
    assert kernels.exact_chunk._cache_size() == before


def test_coalition_coefficients_sum():
    masks, coef = coalition_table(4)
    # for each player the coefficients of v(S + i) sum to 1 and those of v(S) to -1
    assert np.allclose((coef * (coef > 0)).sum(axis=0), 1)
    assert np.allclose((coef * (coef < 0)).sum(axis=0), -1)
    assert masks.shape == (16, 4)


def test_frames_and_errors():
    X = frame(30, 20)
    net, _ = network(X, hidden=(3,), seed=21)
    res = shapley(net, X.iloc[:4], background=X.iloc[:10])
    frame_ = res.to_frame()
    assert set(frame_["target"]) == {"0", "1", "2"} and len(frame_) == 15
    assert "Efficiency" in res.summary()
    assert res.per_case("2").shape == (4, 5)
    assert list(res.importance("1").index)[0] in res.variables
    for kw, match in [({"value": "shap"}, "value"), ({"method": "kernel"}, "method"),
                      ({"n_pairs": 1}, "n_pairs"), ({"background_method": "median"}, "background_method"),
                      ({"value": "conditional", "background_method": "kmeans"}, "background_method"),
                      ({"output": "prediction"}, "output"), ({"n_background": 0}, "n_background")]:
        with pytest.raises(ValueError, match=match):
            shapley(net, X.iloc[:2], **kw)
    with pytest.raises(ValueError, match="n_neighbors"):
        shapley(net, X.iloc[:2], background=X.iloc[:5], value="conditional", n_neighbors=9)
    wide = sn.Network.from_weights([np.ones((17, 2)), np.ones((2, 1))], [np.zeros(2), np.zeros(1)])
    with pytest.raises(ValueError, match="at most 16"):
        shapley(wide, np.zeros((1, 17)), method="exact", encoded=True)


@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_product_form_equals_activation_of_the_sum(activation):
    """The exponential-free form of the grid kernel equals the activation of mid + lo, also
    where mid and lo alone are past the float range (the centring) and where units saturate
    (|a| in the hundreds), and its guard fails past the float range."""
    import jax.numpy as jnp

    rng = np.random.default_rng(22)
    k = kernels.EXPONENT[activation]
    for dtype, tol in ((np.float64, 1e-13), (np.float32, 3e-7)):
        # mid and lo far outside the exponential's range with opposite signs, so that only
        # the centred factors are finite; lo's spread saturates some units
        far = 1.2 * math.log(np.finfo(dtype).max) / k * np.sign(rng.normal(size=(1, 5, 7)))
        mid = rng.normal(scale=3.0, size=(8, 5, 7)) + far
        lo = rng.normal(scale=3.0, size=(4, 5, 7)) - far + 200.0 * rng.normal(size=(1, 5, 7)) / k
        m, l = jnp.asarray(mid, dtype), jnp.asarray(lo, dtype)
        assert bool(kernels.product_safe(m[None], activation, dtype))
        product = np.asarray(kernels._grid_hidden(m, l, activation, True))
        additive = np.asarray(kernels._grid_hidden(m, l, activation, False))
        assert np.isfinite(product).all()
        np.testing.assert_allclose(product, additive, atol=tol, rtol=0)
    limit = 0.5 * math.log(np.finfo(np.float32).max) / k  # |m'| bound of the guard
    for half_spread, safe in ((0.99 * limit, True), (1.01 * limit, False)):
        m = jnp.asarray(np.array([-half_spread, half_spread])[:, None, None] + 5.0, np.float32)
        assert bool(kernels.product_safe(m[None], activation, np.float32)) is safe


def test_saturated_network_takes_the_additive_form_and_matches_brute_force():
    """First-layer weights x 1000: the middle sums span thousands, past what the product form
    can hold even in float64, so the chunk takes the additive form (a wrong guard would give
    inf * 0 = NaN)."""
    X = frame(30, 23)
    net, enc = network(X, hidden=(3,), seed=24)
    W, b = net.weights(), net.biases()
    big = sn.Network.from_weights([1000 * W[0], W[1]], [1000 * b[0], b[1]], activation="tanh",
                                  variables=enc)
    res = shapley(big, X.iloc[:3], background=X.iloc[10:20])
    x, ref = enc.transform(X.iloc[:3]), enc.transform(X.iloc[10:20])
    groups = [list(v.columns) for v in big.variables]
    f = lambda z: big.predict_proba(z, encoded=True)
    expected = np.stack([brute_force(f, x[n], ref, groups) for n in range(3)])
    assert np.abs(expected).max() > 1e-2
    np.testing.assert_allclose(res.values, expected, atol=1e-6)


def test_exact_chunks_are_balanced_without_padding_to_eight():
    """50 rows of at most 10 a chunk: five chunks of 10 (rounding to 8 would give 16, 16, 16
    and a last chunk padded from 2 to 16 rows)."""
    from shallownet.interpret import flips

    per_row = flips.chunk_budget() // 10
    assert flips.chunk_length(50, per_row, None, multiple=1) == 10
    assert flips.chunk_length(50, per_row, None) == 16
    assert flips.chunk_length(7, per_row, None, multiple=1) == 7
