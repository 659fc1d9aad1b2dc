"""Counterfactuals against closed forms, an exhaustive grid search and forward passes."""

import importlib
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

import shallownet as sn
from shallownet.data.encoder import Encoder
from shallownet.data.variables import Variable
from shallownet.interpret.counterfactuals import counterfactuals

cf_mod = importlib.import_module("shallownet.interpret.counterfactuals")  # the name is the function


def _linear(beta, b0):
    """Zero-hidden sigmoid network on [0,1]-scaled real inputs: logit z = x @ beta + b0."""
    return sn.Network.from_weights([np.asarray(beta, float)[:, None]], [np.array([b0], float)])


def test_linear_model_single_variable_roots_and_lp_optimum():
    rng = np.random.default_rng(0)
    beta = np.array([3.0, -2.0, 1.0])
    net = _linear(beta, -1.0)
    x = rng.uniform(0.1, 0.9, (40, 3))
    z = x @ beta - 1.0
    res = counterfactuals(net, x, tol=1e-9, margin=1e-9)
    # one variable: x_j* = x_j - z / beta_j, None where it leaves [0, 1]
    root = x - z[:, None] / beta[None, :]
    inside = (root >= 0) & (root <= 1)
    assert inside.any() and (~inside).any()
    np.testing.assert_array_equal(np.isfinite(res.single_distance), inside)
    np.testing.assert_allclose(res.single_distance[inside], np.abs(root - x)[inside], atol=1e-6)
    # several variables, L1: the LP min |d|_1 s.t. the logit crosses 0 within the box (scipy)
    for n in range(len(x)):
        sgn = -np.sign(z[n])  # move z towards and past 0
        c = np.ones(6)  # d = u - w, u, w >= 0
        A = -sgn * np.concatenate([beta, -beta])[None, :]
        lp = linprog(c, A_ub=A, b_ub=[sgn * z[n]],
                     bounds=[(0, 1 - x[n, j]) for j in range(3)] + [(0, x[n, j]) for j in range(3)])
        if lp.status == 0:
            assert res.found[n]
            assert res.distance[n] == pytest.approx(lp.fun, abs=1e-5)
        else:
            assert not res.found[n]
    assert res.found.sum() > 30
    # the same with sd units, cost |d_j| / sd_j: a narrow x1 makes the cheapest variable per
    # unit gain |beta_j| sd_j differ from |beta_j| / sd_j (a wrong order would fail here)
    x = x * [1.0, 0.3, 1.0] + [0.0, 0.35, 0.0]
    z = x @ beta - 1.0
    sd = x.std(axis=0)
    res_sd = counterfactuals(net, x, tol=1e-9, margin=1e-9, scale="sd")
    assert res_sd.found.sum() > 20
    for n in range(0, len(x), 2):
        sgn = -np.sign(z[n])
        lp = linprog(np.concatenate([1 / sd, 1 / sd]), A_ub=-sgn * np.concatenate([beta, -beta])[None, :],
                     b_ub=[sgn * z[n]], bounds=[(0, 1 - x[n, j]) for j in range(3)] + [(0, x[n, j]) for j in range(3)])
        if lp.status == 0:
            assert res_sd.distance[n] == pytest.approx(lp.fun, abs=1e-5)
        else:
            assert not res_sd.found[n]


def test_linear_model_l2_closed_form_away_from_the_box():
    beta = np.array([2.0, 1.0, -1.5])
    net = _linear(beta, -1.2)
    x = np.array([[0.5, 0.5, 0.4], [0.45, 0.5, 0.3], [0.3, 0.6, 0.5]])
    z = x @ beta - 1.2
    m = 0.5  # the logit must cross 0 and go on to -sign(z) * m: |z| + m in all
    res = counterfactuals(net, x, norm="l2", tol=1e-9, margin=m)
    # the foot of the perpendicular lies inside the box here, so the distance is (|z| + m) / |beta|
    foot = x - ((z + np.sign(z) * m) / (beta @ beta))[:, None] * beta
    assert ((foot > 0) & (foot < 1)).all()
    np.testing.assert_allclose(res.distance, (np.abs(z) + m) / np.linalg.norm(beta), atol=1e-5)
    # the one-variable L1 optimum (the largest |beta_j|) stays inside the box here too
    step = (np.abs(z) + m) / 2.0 * -np.sign(z)
    assert ((x[:, 0] + step > 0) & (x[:, 0] + step < 1)).all()
    l1 = counterfactuals(net, x, tol=1e-9, margin=m)
    np.testing.assert_allclose(l1.distance, (np.abs(z) + m) / np.abs(beta).max(), atol=1e-5)
    # the new probability is that margin past one half
    np.testing.assert_allclose(l1.new_proba, 1 / (1 + np.exp(-m)), atol=1e-5)


def test_one_hidden_unit_single_variable_root_is_analytic():
    # p = sigmoid(v * sigmoid(w . x + b) + c); the decision flips where w . x + b = logit(-c / v)
    w, b, v, c = np.array([4.0, -3.0]), 0.5, 6.0, -3.6
    net = sn.Network.from_weights([w[:, None], np.array([[v]])], [np.array([b]), np.array([c])])
    x = np.array([[0.2, 0.3], [0.6, 0.2], [0.4, 0.9]])
    a_star = np.log(-c / v / (1 + c / v))  # logit(0.6)
    res = counterfactuals(net, x, tol=1e-9, margin=1e-9)
    root0 = (a_star - b - w[1] * x[:, 1]) / w[0]
    ok = (root0 >= 0) & (root0 <= 1)
    np.testing.assert_allclose(res.single_value[ok, 0].astype(float), root0[ok], atol=1e-6)
    assert (np.isfinite(res.single_distance[:, 0]) == ok).all()


def _mixed_net(seed=1):
    rng = np.random.default_rng(seed)
    variables = [
        Variable("r1", "real", (0,), 0.0, 10.0),
        Variable("r2", "real", (1,), -1.0, 1.0),
        Variable("e", "enumerated", (2, 3, 4), categories=("p", "q", "s")),
        Variable("b", "binary", (5,), categories=(False, True)),
    ]
    Ws = [rng.normal(0, 1.5, (6, 5)), rng.normal(0, 2, (5, 4)), rng.normal(0, 2, (4, 3))]
    bs = [rng.normal(0, 1, 5), rng.normal(0, 1, 4), rng.normal(0, 1, 3)]
    return sn.Network.from_weights(Ws, bs, activation="tanh", variables=variables), rng


def _cases(rng, n):
    x = np.zeros((n, 6))
    x[:, :2] = rng.uniform(0, 1, (n, 2))
    x[np.arange(n), 2 + rng.integers(0, 3, n)] = 1
    x[:, 5] = rng.integers(0, 2, n)
    return x


def test_mixed_search_matches_an_exhaustive_grid_search():
    """Two tanh hidden layers, three classes, two real variables, an enumerated and a binary
    one: every case's distance against the minimum over a 201 x 201 grid of the reals for every
    setting of the discrete variables with at most one of them switched (what the search
    covers). The search is local beyond a linear model: it must never be worse than 2 % of the
    grid optimum, equal it on 90 % of the cases, and never beat the grid by more than the grid's
    own resolution allows (which would mean a wrong distance)."""
    net, rng = _mixed_net()
    x = _cases(rng, 30)
    res = counterfactuals(net, x, encoded=True, margin=1e-9)
    base = net.predict_proba(x, encoded=True).argmax(1)
    h = 1 / 200
    g = np.linspace(0, 1, 201)
    G1, G2 = np.meshgrid(g, g, indexing="ij")
    exact = 0
    for n in range(len(x)):
        best = np.inf
        for e, bit in itertools.product(range(3), range(2)):
            n_disc = int(x[n, 2 + e] != 1) + int(x[n, 5] != bit)
            if n_disc > 1:  # the search changes at most one discrete variable
                continue
            grid = np.zeros((G1.size, 6))
            grid[:, 0], grid[:, 1], grid[:, 2 + e], grid[:, 5] = G1.ravel(), G2.ravel(), 1, bit
            flips = net.predict_proba(grid, encoded=True).argmax(1) != base[n]
            if flips.any():
                d = np.abs(grid[flips, 0] - x[n, 0]) + np.abs(grid[flips, 1] - x[n, 1]) + n_disc
                best = min(best, d.min())
        if np.isfinite(best):
            assert res.found[n]
            assert res.distance[n] <= 1.02 * best + 1e-6, n
            assert res.distance[n] >= best - 2 * h - 1e-9, n
            exact += res.distance[n] <= best + 1e-6
        else:
            assert not res.found[n]
    assert exact >= 0.9 * res.found.sum() and res.found.sum() >= 20


def test_every_counterfactual_flips_is_valid_and_respects_immutable():
    net, rng = _mixed_net(2)
    x = _cases(rng, 30)
    res = counterfactuals(net, x, encoded=True, immutable=["r2", "b"])
    base = net.predict(x, encoded=True)
    cf = res.counterfactual[res.found]
    assert res.found.sum() >= 10
    assert (net.predict(cf, encoded=True) != base[res.found]).all()
    np.testing.assert_array_equal(cf[:, [1, 5]], x[res.found][:, [1, 5]])  # immutable kept
    onehot = cf[:, 2:5]
    assert np.isin(onehot, (0, 1)).all() and (onehot.sum(1) == 1).all()
    assert ((cf[:, 0] >= 0) & (cf[:, 0] <= 1)).all()
    assert np.isnan(res.single_distance[:, [1, 3]]).all()
    assert not res.changed[:, [1, 3]].any()
    # single-variable flips flip too, in raw units
    for i, name in enumerate(res.variables):
        ok = np.isfinite(res.single_distance[:, i])
        assert (res.single_class[ok, i] != res.base[ok]).all()
    raw = res.single_value[np.isfinite(res.single_distance[:, 0]), 0].astype(float)
    assert ((raw >= 0) & (raw <= 10)).all()


def test_cases_without_a_flip_return_none():
    # the output bias dominates: no input in the box changes the decision
    net = _linear([1.0, -1.0], 5.0)
    res = counterfactuals(net, np.array([[0.2, 0.3], [0.9, 0.1]]))
    assert not res.found.any() and np.isnan(res.distance).all()
    assert np.isnan(res.single_distance).all()
    assert (res.single_value == None).all()  # noqa: E711
    frame = res.to_frame()
    assert frame["counterfactual_class"].isna().all() and (frame["changes"] == "").all()
    assert res.variable_frame()["flips_alone"].eq(0).all()


def test_frames_speak_raw_units_and_summary_counts():
    rng = np.random.default_rng(3)
    n = 120
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n) * 4 + 20,
                       "c": rng.choice(["x", "y", "z"], n)})
    enc = Encoder().fit(df)  # a, b, c=x, c=y, c=z
    clf = sn.Network.from_weights([np.array([[4.0, 0], [3, 1], [0, 2], [2, 0], [0, 1]]), np.array([[1.5], [-1.0]])],
                                  [np.array([-3.0, 0.5]), np.array([0.2])], variables=enc)
    res = counterfactuals(clf, df.iloc[:15], scale="sd", reference=df)
    assert res.found.sum() >= 10 and "a" in set(res.changes_frame().variable)
    assert (clf.predict(res.raw_counterfactuals[res.found]) != clf.predict(df.iloc[:15][res.found])).all()
    ch = res.changes_frame()
    real = ch[ch.variable != "c"]
    sd = {v: df[v].std(ddof=0) for v in ("a", "b")}
    # each real change over its raw sd is its share of the distance
    np.testing.assert_allclose(real.distance, np.abs(real.change) / real.variable.map(sd), rtol=1e-4)
    per_case = ch.groupby("case").distance.sum()
    np.testing.assert_allclose(per_case.values, res.distance[per_case.index], rtol=1e-5)
    vf = res.variable_frame()
    assert vf.in_counterfactual.between(0, 1).all()
    assert "median distance" in res.summary()


def test_no_recompilation_and_bad_input():
    net = _linear([2.0, -1.0], -0.4)
    x = np.random.default_rng(4).uniform(0, 1, (20, 2))
    counterfactuals(net, x)
    sizes = (cf_mod._search._cache_size(), cf_mod._bisect_line._cache_size())
    counterfactuals(net, x[::-1].copy())
    assert (cf_mod._search._cache_size(), cf_mod._bisect_line._cache_size()) == sizes
    with pytest.raises(ValueError, match="`scale` must be one of"):
        counterfactuals(net, x, scale="iqr")
    with pytest.raises(ValueError, match="not a variable"):
        counterfactuals(net, x, immutable="nope")
    reg = sn.Network.from_weights([np.ones((2, 1))], [np.zeros(1)], output="linear")
    with pytest.raises(ValueError, match="regression"):
        counterfactuals(reg, x)
    with pytest.raises(ValueError, match="zero spread"):
        counterfactuals(net, np.c_[x[:, 0], np.full(20, 0.5)], scale="mad")


def test_ensemble_counterfactuals_flip_the_ensemble_decision():
    rng = np.random.default_rng(5)
    W1, b1 = rng.normal(0, 2, (2, 3, 4)), rng.normal(0, 1, (2, 4))
    W2, b2 = rng.normal(0, 2, (2, 4, 1)), rng.normal(0, 1, (2, 1))
    net = sn.Network.from_weights([W1, W2], [b1, b2], activation="relu", output="sigmoid")
    x = rng.uniform(0, 1, (25, 3))
    res = counterfactuals(net, x, norm="l2")
    assert res.found.sum() >= 10
    cf = res.counterfactual[res.found]
    assert (net.predict(cf, encoded=True) != net.predict(x[res.found], encoded=True)).all()
    # the L2 distance is the norm of the change over the spreads (1 here)
    np.testing.assert_allclose(res.distance[res.found], np.linalg.norm(cf - x[res.found], axis=1), rtol=1e-6)


def test_knapsack_steps_solve_their_linear_programmes():
    """One linearised step, L1 and L2, against scipy (linprog; SLSQP for the quadratic cost)."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(6)
    solved = 0
    for _ in range(20):
        a, s = rng.normal(0, 2, 4), rng.uniform(0, 1, 4)
        cost, movable = rng.uniform(0.1, 2.0, 4), np.array([1.0, 1.0, 1.0, 0.0])
        r = 0.3 * np.abs(a[:3]).sum() * rng.uniform(0.1, 0.6)
        y = np.asarray(cf_mod._knapsack_l1(a, s, cost, movable, r))
        assert y[3] == s[3] and ((y >= -1e-12) & (y <= 1 + 1e-12)).all()
        lp = linprog(np.concatenate([1 / cost[:3], 1 / cost[:3]]), A_ub=-np.concatenate([a[:3], -a[:3]])[None, :],
                     b_ub=[-r], bounds=[(0, 1 - v) for v in s[:3]] + [(0, v) for v in s[:3]])
        if lp.status == 0:
            assert a @ (y - s) >= r - 1e-9
            assert (np.abs(y - s) / cost).sum() == pytest.approx(lp.fun, abs=1e-9)
            y2 = np.asarray(cf_mod._knapsack_l2(a, s, cost, movable, r))
            qp = minimize(lambda d: ((d / cost[:3]) ** 2).sum(), np.zeros(3), method="SLSQP",
                          constraints=[{"type": "ineq", "fun": lambda d: a[:3] @ d - r}],
                          bounds=[(-v, 1 - v) for v in s[:3]], options={"ftol": 1e-12})
            assert a @ (y2 - s) >= r - 1e-6
            assert (((y2 - s) / cost)[:3] ** 2).sum() == pytest.approx(qp.fun, rel=1e-4, abs=1e-9)
            solved += 1
        else:  # infeasible: every movable coordinate goes to the bound that helps
            np.testing.assert_allclose(y[:3], np.where(a[:3] > 0, 1.0, 0.0), atol=1e-12)
    assert solved >= 10
