"""Conditional distributions for expected influence, each against an independent oracle."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import shallownet as sn
from shallownet.interpret import conditionals as cond
from shallownet.interpret.influence import expected_influence


def mixed(n, seed):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, n)
    a = rng.normal(size=n) + g
    b = 0.6 * a + rng.normal(size=n)
    flag = rng.uniform(size=n) < 0.3 + 0.3 * (g == 2)
    X = pd.DataFrame({"a": a, "g": np.array(["u", "v", "w"])[g], "b": b, "flag": flag})
    enc = sn.Encoder().fit(X)
    return X, enc, enc.transform(X)


def brute_force_knn(variables, x_ref, x, k, n_grid, exclude_self):
    """Direct kNN masses: distances over the OTHER variables summed variable by variable
    (real: squared difference in reference-sd units; binary and enumerated: 1 per mismatch),
    neighbours by sorting, ties at the k-th distance sharing the remaining weight."""
    out = []
    for i, target in enumerate(variables):
        G = target.width if target.kind == "enumerated" else (2 if target.kind == "binary" else n_grid)
        own_ref = cond.codes((target,), x_ref, n_grid)[:, 0]
        masses = np.zeros((len(x), G))
        for n in range(len(x)):
            d = np.zeros(len(x_ref))
            for v in variables:
                if v.name == target.name:
                    continue
                cols = list(v.columns)
                if v.kind == "real":
                    sd = x_ref[:, cols[0]].std()
                    d += ((x[n, cols[0]] - x_ref[:, cols[0]]) / sd) ** 2
                else:
                    d += np.any(x[n, cols] != x_ref[:, cols], axis=1)
            if exclude_self is True:
                d[n] = np.inf
            elif exclude_self is not False and exclude_self[n] >= 0:  # the case's row in x_ref
                d[exclude_self[n]] = np.inf
            tau = np.sort(d)[k - 1]
            lt, eq = d < tau - 1e-9, np.abs(d - tau) <= 1e-9
            w = np.where(lt, 1.0, 0.0) + np.where(eq, (k - lt.sum()) / eq.sum(), 0.0)
            masses[n] = np.bincount(own_ref, weights=w, minlength=G) / k
        out.append(masses)
    return out


@pytest.mark.parametrize("exclude_self", [True, False])
def test_knn_masses_equal_brute_force(exclude_self):
    X, enc, x = mixed(70, 0)
    variables = enc.variables_
    x_ref = x if exclude_self else mixed(50, 1)[2]
    fitted = cond.fit_conditional("knn", variables, variables, x_ref, 11, 6, exclude_self)
    rows = np.arange(len(x)) if exclude_self else np.full(len(x), -1)
    got = cond.chunk_masses(fitted, x, rows, exclude_self)
    want = brute_force_knn(variables, x_ref, x, 6, 11, exclude_self)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-6)
        np.testing.assert_allclose(g.sum(axis=1), 1.0, atol=1e-6)
    # The diagnostics table of expected_influence scores these same masses.
    net = sn.Network.from_weights([np.ones((x.shape[1], 1))], [np.zeros(1)], variables=enc)
    d = expected_influence(net, x, encoded=True, reference=None if exclude_self else x_ref, n_neighbors=6,
                           n_grid=11).diagnostics.set_index(["variable", "conditional"])
    for v, w in zip(variables, want):
        covered, log_score = cond.scores(w, cond.codes((v,), x, 11)[:, 0], v.kind == "real")
        assert d.loc[(v.name, "knn"), "coverage90"] == pytest.approx(covered.mean())
        assert d.loc[(v.name, "knn"), "log_score"] == pytest.approx(log_score.mean(), abs=1e-6)


@pytest.mark.parametrize("exclude_self", [True, False])
def test_knn_with_every_available_row_as_a_neighbour(exclude_self):
    # k = all rows a case can use: no (k+1)-th row exists (or it is the case itself).
    _, enc, x = mixed(30, 0)
    x_ref = x if exclude_self else mixed(10, 1)[2]
    k = len(x_ref) - 1 if exclude_self else len(x_ref)
    variables = enc.variables_
    fitted = cond.fit_conditional("knn", variables, variables, x_ref, 11, k, exclude_self)
    rows = np.arange(len(x)) if exclude_self else np.full(len(x), -1)
    got = cond.chunk_masses(fitted, x, rows, exclude_self)
    for g, w in zip(got, brute_force_knn(variables, x_ref, x, k, 11, exclude_self)):
        np.testing.assert_allclose(g, w, atol=1e-6)


def test_knn_kernel_selects_with_top_k_not_a_sort():
    # On a CPU XLA keeps lax.top_k as its TopK kernel only while nothing slices the indices or
    # reads the values beyond what it can rewrite; otherwise it sorts every row of distances
    # in full (14 ms instead of 0.6 ms per row of the influence benchmark).
    if jax.default_backend() != "cpu":
        pytest.skip("the TopK rewrite checked here is XLA's CPU pipeline")
    _, enc, x = mixed(70, 0)
    variables = enc.variables_
    f = cond.fit_conditional("knn", variables, variables, x, 11, 6, True)
    t = jnp.asarray(x * f.scale, jnp.float32)
    hlo = cond.knn_chunk.lower(t, jnp.arange(70, dtype=jnp.int32), f.t_ref, f.codes_ref, f.own_cols,
                               k=f.k, g_max=11).compile().as_text()
    assert "TopK" in hlo and " sort(" not in hlo


def test_knn_reference_subset_leaves_out_only_the_cases_in_it():
    X, enc, x = mixed(90, 3)
    variables = enc.variables_
    fitted = cond.fit_conditional("knn", variables, variables, x, 11, 6, True, reference_size=40, seed=5)
    keep = np.sort(np.random.default_rng(5).choice(90, 40, replace=False))
    assert fitted.n_ref == 40
    own_row = np.full(90, -1)
    own_row[keep] = np.arange(40)
    got = cond.chunk_masses(fitted, x, np.arange(90), True)
    want = brute_force_knn(variables, x[keep], x, 6, 11, own_row)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-6)
    # a subset as large as the reference is the reference itself
    whole = cond.fit_conditional("knn", variables, variables, x, 11, 6, True, reference_size=90)
    assert whole.positions is None and whole.n_ref == 90


def test_knn_default_k_and_reference_data():
    X, enc, x = mixed(400, 2)
    fitted = cond.fit_conditional("knn", enc.variables_, enc.variables_, x, 51, None, True)
    assert fitted.k == 20  # max(20, floor(sqrt(400)))
    fitted = cond.fit_conditional("knn", enc.variables_, enc.variables_, np.tile(x, (3, 1)), 51, None, True)
    assert fitted.k == int(np.sqrt(1200))


def test_marginal_masses_are_leave_one_out_frequencies():
    X, enc, x = mixed(60, 3)
    g = enc.variables_[1]
    fitted = cond.fit_conditional("marginal", enc.variables_, (g,), x, 11)
    (m,) = fitted.masses(x, exclude_self=True)
    codes = x[:, list(g.columns)].argmax(axis=1)
    counts = np.bincount(codes, minlength=3).astype(float)
    for n in range(60):
        c = counts.copy()
        c[codes[n]] -= 1
        np.testing.assert_allclose(m[n], c / 59)
    (m,) = fitted.masses(x, exclude_self=False)
    np.testing.assert_allclose(m, np.broadcast_to(counts / 60, (60, 3)))


def _gaussian_frame(n, R, seed):
    rng = np.random.default_rng(seed)
    Z = rng.multivariate_normal(np.zeros(len(R)), R, size=n)
    return pd.DataFrame(Z, columns=[f"z{i}" for i in range(len(R))])


def test_copula_and_linear_model_recover_gaussian_conditionals():
    R = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, -0.2], [0.3, -0.2, 1.0]])
    X = _gaussian_frame(20000, R, 4)
    enc = sn.Encoder().fit(X)
    x = enc.transform(X)
    Q = np.linalg.inv(R)
    n_grid = 31
    edges = cond.cell_edges(n_grid)
    test = _gaussian_frame(300, R, 5)
    xt = enc.transform(test, report=False)
    for name in ("copula", "model"):
        fitted = cond.fit_conditional(name, enc.variables_, enc.variables_, x, n_grid)
        got = fitted.masses(xt)
        for i, v in enumerate(enc.variables_):
            others = [j for j in range(3) if j != i]
            mu = -(test.to_numpy()[:, others] @ Q[i, others]) / Q[i, i]
            sd = 1 / np.sqrt(Q[i, i])
            raw_edges = v.to_raw(edges)  # cell edges in raw (standard normal) units
            want = np.diff(norm.cdf((raw_edges[None, :] - mu[:, None]) / sd), axis=1)
            # Total variation per case: small on average; larger only in the far tails, where
            # the copula's empirical marginal has few points.
            tv = 0.5 * np.abs(got[i] - want).sum(axis=1)
            assert tv.mean() < 0.02 and tv.max() < 0.1, (name, v.name, tv.mean(), tv.max())


def test_softmax_model_recovers_multinomial_logit():
    rng = np.random.default_rng(6)
    n = 4000
    a, b = rng.uniform(size=n), rng.uniform(size=n)
    eta = np.stack([np.zeros(n), 3 * a - 1, -2 * a + 3 * b - 0.5], axis=1)
    p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    c = (p.cumsum(axis=1) > rng.uniform(size=(n, 1))).argmax(axis=1)
    X = pd.DataFrame({"a": a, "b": b, "g": np.array(["c0", "c1", "c2"])[c]})
    enc = sn.Encoder().fit(X)
    x = enc.transform(X)
    g = enc.variables_[2]
    fitted = cond.fit_conditional("model", enc.variables_, (g,), x, 11)
    (m,) = fitted.masses(x)
    assert np.abs(m - p).mean() < 0.03
    np.testing.assert_allclose(m.sum(axis=1), 1.0)


def test_scores_by_hand():
    masses = np.array([[0.02, 0.03, 0.9, 0.05], [0.5, 0.5, 0.0, 0.0]])
    covered, log_score = cond.scores(masses, np.array([0, 2]), ordered=True)
    # row 0: the CDF reaches 0.05 at cell 1 and 0.95 at cell 2 -> cells 1..2; own cell 0 is out.
    # row 1: cells 0..1; own cell 2 is out.
    np.testing.assert_array_equal(covered, [False, False])
    np.testing.assert_allclose(log_score, np.log(0.99 * np.array([0.02, 0.0]) + 0.01 / 4))
    covered, _ = cond.scores(np.array([[0.6, 0.25, 0.15]]), np.array([2]), ordered=False)
    assert covered[0]  # {0, 1} holds 0.85 < 0.9, so the 90 % set is {0, 1, 2}
    covered, _ = cond.scores(np.array([[0.7, 0.25, 0.05]]), np.array([2]), ordered=False)
    assert not covered[0]  # {0, 1} holds 0.95 >= 0.9: category 2 is outside


def test_diagnostics_of_a_correct_model_are_calibrated():
    R = np.array([[1.0, 0.7], [0.7, 1.0]])
    X = _gaussian_frame(3000, R, 7)
    net = sn.Network.from_weights(
        [np.array([[4.0], [0.0]])], [np.array([-2.0])], variables=sn.Encoder().fit(X)
    )
    r = expected_influence(net, X, conditional="copula")
    d = r.diagnostics.set_index(["variable", "conditional"])
    for v in ("z0", "z1"):
        assert 0.87 < d.loc[(v, "copula"), "coverage90"] < 0.93
        assert d.loc[(v, "copula"), "log_score"] > d.loc[(v, "marginal"), "log_score"]
        assert d.loc[(v, "copula"), "held_out"] and d.loc[(v, "marginal"), "held_out"]


def test_model_diagnostics_are_cross_fitted_like_scikit_learn():
    # The softmax model of the enumerated variable g, scored on the explained data itself:
    # five folds, each case scored by a fit on the other four; the oracle is scikit-learn's
    # cross_val_predict over the same folds (seeded split: case order permuted, fold = position
    # mod 5). Twelve noise columns make the in-sample score optimistic.
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import PredefinedSplit, cross_val_predict

    rng = np.random.default_rng(3)
    X, _, _ = mixed(150, 3)
    for c in range(12):
        X[f"noise{c}"] = rng.normal(size=150)
    enc = sn.Encoder().fit(X)
    x = enc.transform(X)
    net = sn.Network.from_weights([rng.normal(size=(x.shape[1], 1))], [np.zeros(1)], variables=enc)
    r = expected_influence(net, X, conditional="model", variables=["g", "a"], n_grid=9, random_state=4)
    d = r.diagnostics.set_index(["variable", "conditional"])
    fold = np.empty(150, dtype=int)
    fold[np.random.default_rng(4).permutation(150)] = np.arange(150) % 5
    g = enc.variables_[1]
    assert g.name == "g"
    others = [c for c in range(x.shape[1]) if c not in g.columns]
    own = x[:, list(g.columns)].argmax(axis=1)
    p = cross_val_predict(LogisticRegression(C=1.0, max_iter=2000), x[:, others], own,
                          cv=PredefinedSplit(fold), method="predict_proba")
    want = np.log(0.99 * p[np.arange(150), own] + 0.01 / 3).mean()
    np.testing.assert_allclose(d.loc[("g", "model"), "log_score"], want, rtol=1e-6)
    covered, _ = cond.scores(p, own, ordered=False)
    assert d.loc[("g", "model"), "coverage90"] == pytest.approx(covered.mean())
    assert d["held_out"].all()
    in_sample = LogisticRegression(C=1.0, max_iter=2000).fit(x[:, others], own).predict_proba(x[:, others])
    assert np.log(0.99 * in_sample[np.arange(150), own] + 0.01 / 3).mean() > want + 0.05


def test_diagnostics_stay_in_sample_when_a_fold_cannot_be_fitted():
    # Eight cases are too few for five folds: the in-sample figures are kept and flagged.
    R = np.array([[1.0, 0.5], [0.5, 1.0]])
    X = _gaussian_frame(8, R, 2)
    net = sn.Network.from_weights([np.array([[4.0], [0.0]])], [np.array([-2.0])], variables=sn.Encoder().fit(X))
    d = expected_influence(net, X, conditional="copula", n_grid=5).diagnostics.set_index(["variable", "conditional"])
    assert not d.loc[("z0", "copula"), "held_out"] and d.loc[("z0", "marginal"), "held_out"]


def test_reference_sample_is_used_without_leaving_out():
    R = np.array([[1.0, 0.7], [0.7, 1.0]])
    train, test = _gaussian_frame(500, R, 8), _gaussian_frame(40, R, 9)
    net = sn.Network.from_weights(
        [np.array([[4.0], [0.0]])], [np.array([-2.0])], variables=sn.Encoder().fit(train)
    )
    r = expected_influence(net, test, reference=train, n_neighbors=10, n_grid=11)
    x_ref, x = net.encode(train), net.encode(test, report=False)
    want = brute_force_knn(net.variables, x_ref, x, 10, 11, exclude_self=False)[0]
    F = np.stack(
        [net.predict(np.column_stack([np.full(40, g), x[:, 1]]), encoded=True) != net.predict(x, encoded=True)
         for g in np.linspace(0, 1, 11)], axis=1,
    )
    np.testing.assert_allclose(r.expected[:, 0], (want * F).sum(axis=1), atol=1e-6)
    assert r.diagnostics["held_out"].all()


def test_singular_copula_is_refused():
    rng = np.random.default_rng(0)
    a = rng.normal(size=100)
    X = pd.DataFrame({"a": a, "b": 2 * a + 1})
    net = sn.Network.from_weights([np.array([[1.0], [1.0]])], [np.array([-1.0])], variables=sn.Encoder().fit(X))
    with pytest.raises(ValueError, match="singular"):
        expected_influence(net, X, conditional="copula")
