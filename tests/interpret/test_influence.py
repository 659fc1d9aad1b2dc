"""Potential and expected influence against closed forms, exact enumeration and peers."""

import itertools

import jax
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.neural_network import MLPClassifier

import shallownet as sn
from shallownet.interpret import flips
from shallownet.interpret.influence import expected_influence, potential_influence


def exact_classifier(X):
    """d(x) = 1[x1 > 0] as a steep logistic hidden unit on the encoded scale.

    h = sigmoid(1000 (x1' - t)) with t the encoded position of x1 = 0; the output logit
    40 h - 20 is positive exactly when h > 1/2, i.e. x1 > 0. x2 has a zero weight.
    """
    enc = sn.Encoder().fit(X)
    v = enc.variables_[0]
    t = -v.minimum / v.scale
    return sn.Network.from_weights(
        [np.array([[1e3], [0.0]]), np.array([[40.0]])], [np.array([-1e3 * t]), np.array([-20.0])],
        variables=enc,
    )


def mixed_frame(n, seed):
    """Two real variables, an enumerated one (3 categories) and a binary one, dependent."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, n)
    a = rng.normal(size=n) + 0.8 * g
    b = 0.5 * a + rng.normal(size=n)
    flag = rng.uniform(size=n) < 0.3 + 0.2 * (g == 1)
    return pd.DataFrame({"a": a, "b": b, "g": np.array(["u", "v", "w"])[g], "flag": flag})


def random_network(X, hidden=(5,), n_out=3, members=1, seed=0, scale=2.0):
    """Random weights with biases that centre every layer's pre-activations on the data, so
    that decisions vary from case to case."""
    enc = sn.Encoder().fit(X)
    h = enc.transform(X)
    rng = np.random.default_rng(seed)
    sizes = (enc.n_features_out_, *hidden, n_out)
    Ws, bs = [], []
    for m in range(members):
        h_m, W_m, b_m = h, [], []
        for i, (n_in, n_o) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = rng.normal(scale=scale, size=(n_in, n_o))
            b = -(h_m @ W).mean(axis=0) + 0.1 * rng.normal(size=n_o)
            W_m.append(W)
            b_m.append(b)
            h_m = 1 / (1 + np.exp(-(h_m @ W + b)))
        Ws.append(W_m)
        bs.append(b_m)
    if members == 1:
        return sn.Network.from_weights(Ws[0], bs[0], variables=enc)
    return sn.Network.from_weights(
        [np.stack([w[i] for w in Ws]) for i in range(len(sizes) - 1)],
        [np.stack([b[i] for b in bs]) for i in range(len(sizes) - 1)],
        variables=enc,
    )


# -- the public analytic check (methods.md section 4) -----------------------------------------
@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_gaussian_pair_exact_classifier_matches_closed_form(rho):
    ds = sn.datasets.gaussian_pair(3000, rho, random_state=7)
    net = exact_classifier(ds.X)
    assert (net.predict(ds.X) == ds.y).all()
    x1, x2 = ds.X["x1"].to_numpy(), ds.X["x2"].to_numpy()
    per_case = norm.cdf(-np.sign(x1) * rho * x2 / np.sqrt(1 - rho**2))
    truth = 0.5 - np.arcsin(rho**2) / np.pi
    # Monte Carlo error of the mean EI: case sampling, plus the estimated dependence (delta
    # method on the sample correlation, se(rho_hat) = (1 - rho^2) / sqrt(N)).
    n = len(x1)
    slope = 2 * rho / (np.pi * np.sqrt(1 - rho**4))
    se = np.sqrt(per_case.var() / n + (slope * (1 - rho**2)) ** 2 / n)
    for conditional in ("knn", "copula"):
        r = expected_influence(net, ds.X, ds.y, conditional=conditional)
        ei = r.expected.mean(axis=0)
        assert abs(ei[0] - truth) < 4 * se, (conditional, ei[0], truth, se)
        assert np.all(r.potential[:, 0]) and not np.any(r.potential[:, 1])
        assert np.all(r.expected[:, 1] == 0) and np.all(r.marginal[:, 1] == 0)
        # The marginal ignores x2: a case flips for every value on the other side of 0.
        assert abs(r.marginal[:, 0].mean() - 0.5) < 0.01
    # Per case, the copula's EI follows the closed form up to the grid: a value counts for its
    # nearest grid point, which moves the boundary by up to half a grid step.
    r = expected_influence(net, ds.X, conditional="copula", n_grid=401)
    assert np.mean(np.abs(r.expected[:, 0] - per_case)) < 0.01


def test_gaussian_pair_trained_network_within_002():
    rho = 0.8
    ds = sn.datasets.gaussian_pair(4000, rho, random_state=1)
    clf = sn.ShallowNetClassifier(
        hidden_layer_sizes=(4,), max_iter=200, learning_rate=0.1, alpha=0.0, batch_size=500,
        n_iter_no_change=None, random_state=1,
    ).fit(ds.X, ds.y)
    truth = ds.ground_truth["mean_expected_influence"]["x1"]
    for conditional in ("knn", "copula"):
        r = expected_influence(clf, ds.X, conditional=conditional)
        assert abs(r.expected[:, 0].mean() - truth) < 0.02
        assert r.expected[:, 1].mean() < 0.02
        assert abs(r.marginal[:, 0].mean() - 0.5) < 0.02


# -- zero influence ---------------------------------------------------------------------------
def test_ignored_variables_have_zero_influence():
    X = mixed_frame(120, 0)
    net = random_network(X, seed=1)
    W1, b1 = net.weights(0)[0].copy(), net.biases(0)[0]
    W1[1, :] = 0.0  # real variable b ignored
    W1[3, :] = W1[2, :]  # one-hot rows of g equal: the group cannot change anything
    W1[4, :] = W1[2, :]
    W2, b2 = net.weights(0)[1], net.biases(0)[1]
    net = sn.Network.from_weights([W1, W2], [b1, b2], variables=net.encoder)
    for conditional in ("knn", "copula", "model", "marginal"):
        r = expected_influence(net, X, conditional=conditional)
        for name in ("b", "g"):
            j = r.variables.index(name)
            assert not r.potential[:, j].any()
            assert np.all(r.expected[:, j] == 0) and np.all(r.marginal[:, j] == 0)
            # Soft EI compares probabilities computed in differently shaped batches: zero up
            # to the last bit.
            np.testing.assert_allclose(r.soft[:, j], 0.0, atol=1e-12)
        # Not vacuous: the variables the network uses do change decisions.
        assert r.potential[:, [r.variables.index("a"), r.variables.index("flag")]].any()


# -- enumerated variables against exact enumeration ---------------------------------------------
def test_discrete_expected_influence_equals_exact_enumeration():
    """All variables discrete: the k nearest neighbours in x_-i are rows with the same x_-i
    (distance 0, all tied), so the kNN conditional is the empirical conditional among exact
    matches, leaving the case out. EI is then checked against a direct enumeration."""
    rng = np.random.default_rng(3)
    rows = []
    for a, b, c in itertools.product("xyz", (False, True), "pqrs"):
        rows += [(a, b, c)] * int(rng.integers(4, 12))
    X = pd.DataFrame(rows, columns=["A", "B", "C"]).sample(frac=1.0, random_state=0).reset_index(drop=True)
    net = random_network(X, hidden=(6,), n_out=3, seed=5, scale=3.0)
    r = expected_influence(net, X, conditional="knn", n_neighbors=5)
    base = net.predict(X)
    for j, name in enumerate(["A", "B", "C"]):
        others = [c for c in X.columns if c != name]
        values = sorted(X[name].unique(), key=str)
        flips_ = {}
        for value in values:
            Xs = X.copy()
            Xs[name] = value
            flips_[value] = net.predict(Xs) != base
        key = X[others].astype(str).agg("|".join, axis=1)
        counts = pd.crosstab(key, X[name].astype(str))
        oracle = np.zeros(len(X))
        for n in range(len(X)):
            row = counts.loc[key[n]].astype(float).copy()
            row[str(X[name][n])] -= 1.0  # leave the case out
            p = row / row.sum()
            oracle[n] = sum(p[str(v)] * flips_[v][n] for v in values)
        np.testing.assert_allclose(r.expected[:, j], oracle, atol=1e-6)
        pi = np.any(np.stack([flips_[v] for v in values]), axis=0)
        np.testing.assert_array_equal(r.potential[:, j], pi)


# -- the engine ---------------------------------------------------------------------------------
def test_every_variant_equals_brute_force_substitution():
    """Graded PI, PI towards each class, soft and class-targeted EI and the members' PI and EI,
    from the network's own predict_proba on every substituted case, with the marginal masses
    counted by hand. Two hidden layers, three classes, two members; real (some cases exactly
    on the grid), enumerated and binary variables."""
    X = mixed_frame(60, 8)
    net = random_network(X, hidden=(4, 3), n_out=3, members=2, seed=8)
    x = net.encode(X)
    G = 7
    a = net.variables[0]
    x[:15, a.columns[0]] = np.arange(15) % G / (G - 1)  # own values on the grid
    N = len(x)
    pi_res = potential_influence(net, x, encoded=True, n_grid=G)
    ei_res = expected_influence(net, x, encoded=True, n_grid=G, conditional="marginal")
    member0 = net.member_proba(x, encoded=True)  # (M, N, K)
    base = member0.mean(axis=0).argmax(axis=1)
    base_m = member0.argmax(axis=2)  # (M, N)
    p0 = member0.mean(axis=0)[np.arange(N), base]
    for j, v in enumerate(net.variables):
        cols = list(v.columns)
        if v.kind == "real":
            cand = np.linspace(0, 1, G)[:, None]
            own = np.clip(np.rint(x[:, cols[0]] * (G - 1)), 0, G - 1).astype(int)
            listed = np.isin(x[:, cols[0]], cand[:, 0])
        else:
            cand = np.eye(v.width) if v.kind == "enumerated" else np.array([[0.0], [1.0]])
            own = x[:, cols].argmax(axis=1) if v.kind == "enumerated" else x[:, cols[0]].astype(int)
            listed = np.ones(N, bool)
        mp = []
        for c in cand:
            xs = x.copy()
            xs[:, cols] = c
            mp.append(net.member_proba(xs, encoded=True))
        mp = np.stack(mp, axis=2)  # (M, N, G, K)
        p = mp.mean(axis=0)
        dec = p.argmax(axis=2)
        F = dec != base[:, None]
        counts = np.bincount(own, minlength=len(cand)).astype(float)
        pi = (counts[None, :] - np.eye(len(cand))[own]) / (N - 1)  # leave-one-out marginal
        np.testing.assert_array_equal(pi_res.potential[:, j], F.any(axis=1))
        np.testing.assert_allclose(pi_res.graded[:, j], F.sum(axis=1) / (len(cand) + ~listed), atol=1e-12)
        assert np.any(~listed) == (v.kind == "real")
        for k in range(3):
            np.testing.assert_array_equal(pi_res.towards[:, j, k], (F & (dec == k)).any(axis=1))
            np.testing.assert_allclose(ei_res.towards[:, j, k], (pi * F * (dec == k)).sum(axis=1), atol=1e-12)
        np.testing.assert_allclose(ei_res.expected[:, j], (pi * F).sum(axis=1), atol=1e-12)
        change = np.abs(p[np.arange(N), :, base] - p0[:, None])
        np.testing.assert_allclose(ei_res.soft[:, j], (pi * change).sum(axis=1), atol=1e-12)
        Fm = mp.argmax(axis=3) != base_m[:, :, None]  # (M, N, G)
        np.testing.assert_array_equal(pi_res.member_potential[:, :, j], Fm.any(axis=2))
        np.testing.assert_allclose(ei_res.member_expected[:, :, j], (pi[None] * Fm).sum(axis=2), atol=1e-12)
    assert ei_res.soft.max() > 0.05 and ei_res.towards.max() > 0.05 and pi_res.graded.max() > 0.1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_potential_influence_matches_sklearn_forward_pass():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(150, 3))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.9).astype(int) + (X[:, 2] > 0.7)
    mlp = MLPClassifier(hidden_layer_sizes=(5, 4), max_iter=300, random_state=0).fit(X, y)
    r = potential_influence(mlp, X, n_grid=11)
    base = mlp.predict(X)
    for i in range(3):
        F = np.zeros((len(X), 11), dtype=bool)
        for g, value in enumerate(np.linspace(0, 1, 11)):
            Xs = X.copy()
            Xs[:, i] = value
            F[:, g] = mlp.predict(Xs) != base
        np.testing.assert_array_equal(r.potential[:, i], F.any(axis=1))
        # Graded: over the grid and the case's own (off-grid) value, which never flips.
        np.testing.assert_allclose(r.graded[:, i], F.sum(axis=1) / 12, atol=1e-12)
        ft = flips.flip_tensor(mlp, X, f"x{i}", n_grid=11)
        np.testing.assert_array_equal(ft.flips, F)


@pytest.mark.parametrize("hidden, output", [((), "sigmoid"), ((4,), "softmax"), ((4, 3), "softmax")])
def test_rank_one_update_equals_full_substitution(hidden, output):
    X = mixed_frame(30, 1)
    net = random_network(X, hidden=hidden, n_out=3 if output == "softmax" else 1, seed=2)
    params = jax.tree_util.tree_map(lambda a: a[0], net.params)
    x = net.encode(X)
    for v in net.variables:
        cols, cand = flips.substitution(v, 7)
        fast, base = flips.substituted_member_proba(params, x, cols, cand, net.activation, net.output)
        full = flips.full_substitution_proba(params, x, cols, cand, net.activation, net.output)
        np.testing.assert_allclose(np.asarray(fast), np.asarray(full), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(np.asarray(base), net.predict_proba(X), rtol=1e-12, atol=1e-14)


def test_own_value_never_flips():
    """The candidate equal to a case's own value changes the pre-activation by exactly zero."""
    X = mixed_frame(80, 2)
    net = random_network(X, seed=3, scale=5.0)
    ft = flips.flip_tensor(net, X, "g")
    own = net.encode(X)[:, 2:5].argmax(axis=1)
    assert not ft.flips[np.arange(len(X)), own].any()


def _all_arrays(r):
    return {
        name: getattr(r, name)
        for name in ("expected", "marginal", "soft", "towards", "member_expected", "potential", "graded", "predicted")
    }


def test_jitted_and_plain_chunked_and_unchunked_identical():
    X = mixed_frame(30, 4)
    net = random_network(X, members=2, seed=4)
    run = lambda **kw: _all_arrays(expected_influence(net, X, conditional="knn", n_grid=9, **kw))
    ref, chunked = run(), run(chunk_size=8)
    for name in ref:
        if name == "soft":
            # Probabilities from differently shaped batches may differ in the last bit.
            np.testing.assert_allclose(chunked[name], ref[name], rtol=0, atol=1e-14)
        else:
            np.testing.assert_array_equal(chunked[name], ref[name], err_msg=name)
    # Eager (op-by-op) execution is slow: two variables, one real and one enumerated.
    jitted = run(chunk_size=8, variables=["a", "g"])
    with jax.disable_jit():
        plain = run(chunk_size=8, variables=["a", "g"])
    for name in jitted:
        np.testing.assert_allclose(plain[name], jitted[name], rtol=0, atol=1e-12, err_msg=name)


def test_worker_threads_change_nothing(monkeypatch):
    # Chunks computed by 1 or by 4 threads at once (9 chunks of 8 cases): the same numbers,
    # the diagnostics included (summed per chunk, in chunk order).
    from shallownet.interpret import influence

    X = mixed_frame(70, 5)
    net = random_network(X, members=2, seed=5)
    results = []
    for threads in (1, 4):
        monkeypatch.setattr(influence, "_worker_threads", lambda mesh, t=threads: t)
        r = expected_influence(net, X, n_grid=9, chunk_size=8)
        results.append((_all_arrays(r), r.diagnostics))
    (a, diag_a), (b, diag_b) = results
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    pd.testing.assert_frame_equal(diag_a, diag_b, check_exact=True)
    assert a["expected"].max() > 0


def test_worker_threads_follow_the_cores_and_devices(monkeypatch):
    from shallownet.interpret import influence

    monkeypatch.setattr(influence.os, "sched_getaffinity", lambda pid: set(range(2)), raising=False)
    assert influence._worker_threads(None) == 3  # two cores: one chunk each, plus one
    assert influence._worker_threads(object()) == 1  # a device mesh: one thread, in order
    monkeypatch.setattr(influence.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert influence._worker_threads(None) == influence.MAX_CPU_WORKERS + 1
    monkeypatch.setattr(influence.jax, "default_backend", lambda: "gpu")
    assert influence._worker_threads(None) == 2


def test_auto_chunks_use_the_budget_of_the_backend(monkeypatch):
    # The kNN kernel of a 10,000-row reference holds about 65,100 numbers per case.
    n, per_row = 10_000, 6 * 10_000 + 100 * 51

    def check(chunk, budget):
        # Within the budget, and as few chunks as the budget allows (of about equal length).
        cap = budget // per_row
        assert chunk * per_row <= budget
        assert -(-n // chunk) == -(-n // cap)

    cpu = flips.chunk_length(n, per_row, None)
    check(cpu, flips.CHUNK_BUDGET)
    monkeypatch.setattr(flips.jax, "default_backend", lambda: "gpu")
    gpu = flips.chunk_length(n, per_row, None)
    check(gpu, flips.ACCELERATOR_CHUNK_BUDGET)
    assert (cpu, gpu) == (64, 1000)
    assert flips.chunk_length(n, per_row, 300) == 300  # a chunk asked for is kept


def test_no_recompilation_across_variables_of_the_same_kind():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "r1": rng.normal(size=37), "r2": rng.normal(size=37), "r3": rng.normal(size=37),
            "e1": rng.choice(["a", "b", "c"], 37), "e2": rng.choice(["p", "q", "r"], 37),
        }
    )
    net = random_network(X, seed=6)
    before = flips.influence_chunk._cache_size()
    expected_influence(net, X, n_grid=13)
    # One compilation for the three real variables, one for the two 3-category groups.
    assert flips.influence_chunk._cache_size() - before == 2
    expected_influence(net, X, n_grid=13)
    assert flips.influence_chunk._cache_size() - before == 2


# -- ensembles ----------------------------------------------------------------------------------
def test_ensemble_members_and_spread():
    X = mixed_frame(60, 5)
    net = random_network(X, members=2, seed=7)
    r = expected_influence(net, X, conditional="knn")
    for m in range(2):
        rm = expected_influence(net.member(m), X, conditional="knn")
        np.testing.assert_allclose(r.member_expected[m], rm.expected, atol=1e-12)
    frame = r.to_frame()
    member = r.member_expected.mean(axis=1)
    np.testing.assert_allclose(frame["member_sd"], member.std(axis=0, ddof=1))
    # Two identical members decide as one.
    W = [np.stack([w, w]) for w in net.weights(0)]
    b = [np.stack([v, v]) for v in net.biases(0)]
    twin = sn.Network.from_weights(W, b, variables=net.encoder)
    r2 = expected_influence(twin, X)
    r1 = expected_influence(net.member(0), X)
    np.testing.assert_allclose(r2.expected, r1.expected, atol=1e-12)
    assert np.all(r2.to_frame()["member_sd"] == 0)


# -- aggregates and identities ------------------------------------------------------------------
def test_aggregates_bound_and_targeted_identities():
    X = mixed_frame(90, 6)
    net = random_network(X, seed=8, scale=3.0)
    rng = np.random.default_rng(1)
    y = np.where(rng.uniform(size=90) < 0.8, net.predict(X), rng.integers(0, 3, 90))
    r = expected_influence(net, X, y, conditional="model")
    pred = r.predicted
    for by, groups in (("true", y), ("predicted", pred)):
        agg = r.aggregate("expected", by=by)
        for j, v in enumerate(r.variables):
            for k in range(3):
                sel = groups == k
                got = agg[(agg.variable == v) & (agg.group == k)]["expected"].iloc[0]
                want = r.expected[sel, j].mean() if sel.any() else np.nan
                np.testing.assert_allclose(got, want, equal_nan=True)
    ok = pred == y
    correct = r.aggregate("expected", by="correct")
    np.testing.assert_allclose(correct["expected"], r.expected[ok].mean(axis=0))
    np.testing.assert_allclose(r.accuracy_bound(), ok.mean() - r.expected.mean(axis=0))
    # Flips go to some other class: the targeted EIs add up to EI, none towards the decision.
    np.testing.assert_allclose(r.towards.sum(axis=2), r.expected, atol=1e-12)
    assert np.all(r.towards[np.arange(90), :, pred] == 0)
    # EI and graded PI vanish where PI does; soft EI is a probability change.
    assert np.all(r.expected[~r.potential] == 0) and np.all(r.graded[~r.potential] == 0)
    assert np.all((r.soft >= 0) & (r.soft <= 1))
    p = potential_influence(net, X, y)
    np.testing.assert_array_equal(p.potential, r.potential)
    np.testing.assert_array_equal(p.towards, r.towards > 0)
    assert "accuracy_without_lb" in r.to_frame() and "Conditional diagnostics" in r.summary()


def test_accuracy_bound_holds_for_randomised_classifier():
    """The randomised classifier of the bound (x_i drawn from the marginal, which is the exact
    conditional when variables are independent) has accuracy >= accuracy - mean EI."""
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"a": rng.uniform(size=4000), "b": rng.uniform(size=4000)})
    y = ((X.a + 0.3 * X.b) > 0.6).astype(int)
    net = random_network(X, hidden=(), n_out=1, seed=0)
    net = sn.Network.from_weights([np.array([[10.0], [3.0]])], [np.array([-6.0])], variables=net.encoder)
    r = expected_influence(net, X, y, conditional="marginal")
    Xs = X.copy()
    Xs["a"] = rng.permutation(X["a"].to_numpy())
    acc_random = np.mean(net.predict(Xs) == y)
    assert acc_random >= r.accuracy_bound()[0] - 0.02


# -- input checks -------------------------------------------------------------------------------
def test_errors_are_clear():
    X = mixed_frame(30, 0)
    net = random_network(X)
    with pytest.raises(ValueError, match="`conditional` must be one of"):
        expected_influence(net, X, conditional="gauss")
    with pytest.raises(ValueError, match="not a variable of this model"):
        potential_influence(net, X, variables=["nope"])
    with pytest.raises(ValueError, match="`n_neighbors` must be <= 29"):
        expected_influence(net, X, n_neighbors=30)
    with pytest.raises(ValueError, match="not one of the model's classes"):
        expected_influence(net, X, y=np.full(30, 9))
    bad = net.encode(X)
    bad[0, 2:5] = [1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="must be one-hot"):
        potential_influence(net, bad, encoded=True)
    with pytest.raises(TypeError, match="`chunk_size` must be"):
        potential_influence(net, X, chunk_size=0.5)
    with pytest.raises(ValueError, match="needs the true classes"):
        expected_influence(net, X).aggregate(by="true")
    with pytest.raises(ValueError, match="`reference_size` must be >= 2"):
        expected_influence(net, X, reference_size=1)
    with pytest.raises(ValueError, match="`reference_size` must be one of"):
        expected_influence(net, X, reference_size="all")
    with pytest.raises(TypeError, match="`progress` must be True or False"):
        potential_influence(net, X, progress="yes")


def test_reference_size_subsets_the_knn_search_only(capsys):
    X = mixed_frame(120, 4)
    net = random_network(X, seed=4)
    full = expected_influence(net, X, n_neighbors=8, reference_size=None)
    assert full.n_reference == 120
    same = expected_influence(net, X, n_neighbors=8, reference_size=120, progress=True)
    np.testing.assert_array_equal(same.expected, full.expected)
    assert "expected influence (4 variables)" in capsys.readouterr().err
    sub = expected_influence(net, X, n_neighbors=8, reference_size=50, random_state=3)
    assert sub.n_reference == 50
    np.testing.assert_array_equal(sub.marginal, full.marginal)  # the marginal uses every row
    np.testing.assert_array_equal(sub.potential, full.potential)
    assert not np.array_equal(sub.expected, full.expected)
    again = expected_influence(net, X, n_neighbors=8, reference_size=50, random_state=3)
    np.testing.assert_array_equal(again.expected, sub.expected)


def test_encoded_input_gives_the_same_result():
    X = mixed_frame(40, 9)
    net = random_network(X, seed=9)
    a = expected_influence(net, X, conditional="copula")
    b = expected_influence(net, net.encode(X), conditional="copula", encoded=True)
    np.testing.assert_array_equal(a.expected, b.expected)
