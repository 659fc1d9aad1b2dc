"""Input perturbation against closed forms, quadrature and a direct computation."""

import jax
import numpy as np
import pandas as pd
import pytest
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import log_expit
from scipy.stats import norm

import shallownet as sn
from shallownet.interpret import perturbation
from shallownet.interpret.perturbation import case_draws, input_perturbation


def _threshold_network(X, scale):
    """``d(x) = 1[x1 > 0]`` on the Gaussian pair as a steep logistic unit; x2 ignored."""
    enc = sn.Encoder().fit(X)
    v = enc.variables_[0]
    t = -v.minimum / v.scale  # encoded position of x1 = 0
    return sn.Network.from_weights([np.array([[scale], [0.0]])], [np.array([-scale * t])], variables=enc), t


def test_exact_threshold_classifier_closed_form():
    """With y = d(x) = 1[x1 > 0], noise of sd s flips case n with probability
    Phi(-|x1_n - t| / s) (encoded units), so the expected accuracy lost is its mean over cases.
    Every flip of a saturated output costs 2 in the Brier score and 2 in the squared output
    change, so mse = output = 2 x accuracy lost on the same draws. x2 is ignored: exactly 0."""
    ds = sn.datasets.gaussian_pair(1000, 0.5, random_state=0)
    net, t = _threshold_network(ds.X, 1e7)
    noise = (0.05, 0.2, 0.5)
    acc = input_perturbation(net, ds.X, ds.y, noise=noise, n_repeats=100, scoring="accuracy", random_state=2)
    x1 = net.encode(ds.X)[:, 0]
    expected = np.array([norm.cdf(-np.abs(x1 - t) / s).mean() for s in noise])
    # Each repeat is a mean of N independent flips (variance <= 1/4): sd <= 0.5 / sqrt(N R).
    np.testing.assert_allclose(acc.curve[0], expected, atol=4 * 0.5 / np.sqrt(1000 * 100))
    assert np.all(acc.increases[1] == 0) and acc.baseline == 1.0
    assert np.all(np.diff(acc.curve[0]) > 0)
    mse = input_perturbation(net, ds.X, ds.y, noise=noise, n_repeats=100, scoring="mse", random_state=2)
    out = input_perturbation(net, ds.X, noise=noise, n_repeats=100, random_state=2)
    assert out.scoring == "output" and mse.baseline < 1e-6
    np.testing.assert_allclose(mse.increases, 2 * acc.increases, atol=1e-4)
    np.testing.assert_allclose(out.increases, 2 * acc.increases, atol=1e-4)


def test_enumerated_and_binary_variables_are_resampled_as_a_whole():
    """A network that predicts the category of g (y = category): with probability s the group
    is replaced by the category of a random case, so the expected accuracy lost is
    s (1 - sum_c f_c^2). The same for a binary t predicted by a sigmoid unit: s * 2 f0 f1;
    that network ignores g, whose increase is exactly 0."""
    rng = np.random.default_rng(3)
    N, R = 800, 60
    c = rng.choice(3, size=N, p=[0.5, 0.3, 0.2])
    t = rng.uniform(size=N) < 0.3
    X = pd.DataFrame({"g": np.array(["a", "b", "c"])[c], "t": t, "z": rng.normal(size=N)})
    enc = sn.Encoder().fit(X)
    kinds = [v.kind for v in enc.variables_]
    assert kinds == ["enumerated", "binary", "real"]
    noise = (0.25, 1.0)
    tol = 4 * 0.5 / np.sqrt(N * R)

    W = np.zeros((5, 3))
    W[:3] = 10 * np.eye(3)
    net_g = sn.Network.from_weights([W], [np.zeros(3)], variables=enc)
    r = input_perturbation(net_g, X, c, noise=noise, n_repeats=R, scoring="accuracy", random_state=1,
                           variables=["g"])
    f = np.bincount(c) / N
    np.testing.assert_allclose(r.curve[0], np.array(noise) * (1 - (f**2).sum()), atol=tol)

    w = np.zeros((5, 1))
    w[3] = 20.0
    net_t = sn.Network.from_weights([w], [np.array([-10.0])], variables=enc)
    r = input_perturbation(net_t, X, t, noise=noise, n_repeats=R, scoring="accuracy", random_state=1,
                           variables=["t", "g"])
    p1 = t.mean()
    np.testing.assert_allclose(r.curve[0], np.array(noise) * 2 * p1 * (1 - p1), atol=tol)
    assert np.all(r.increases[1] == 0)


def test_logistic_regression_log_loss_matches_quadrature():
    """No hidden layer: z = a + b x. Case n's expected loss under noise is
    E softplus(-(2y - 1)(a + b (x_n + s eps))), a one-dimensional Gaussian integral
    (Gauss-Hermite, 80 nodes); the estimate must land within Monte Carlo error of it."""
    ds = sn.datasets.logistic_model(600, (3.0, 0.0), intercept=-1.5, random_state=0)
    a, b = -1.2, 2.5
    net = sn.Network.from_weights([np.array([[b], [0.0]])], [np.array([a])], variables=sn.Encoder().fit(ds.X))
    s, R = 0.3, 50
    r = input_perturbation(net, ds.X, ds.y, noise=(s,), n_repeats=R, scoring="log_loss", random_state=0)
    x = net.encode(ds.X)[:, 0]
    sign = 2.0 * ds.y.to_numpy() - 1.0
    nodes, weights = hermegauss(80)
    weights = weights / np.sqrt(2 * np.pi)
    loss = -log_expit(sign[:, None] * (a + b * (x[:, None] + s * nodes[None, :])))  # (N, 80)
    mean, second = loss @ weights, loss**2 @ weights
    base = -log_expit(sign * (a + b * x))
    expected = np.mean(mean - base)
    sd = np.sqrt(np.mean(second - mean**2) / (len(x) * R))
    assert abs(r.curve[0, 0] - expected) < 5 * sd
    assert abs(r.baseline - base.mean()) < 1e-12
    assert np.all(r.increases[1] == 0)


def _mixed_ensemble(rng):
    X = pd.DataFrame(
        {"a": rng.normal(size=40), "g": rng.choice(["u", "v", "w"], 40), "t": rng.uniform(size=40) < 0.5,
         "b": rng.uniform(size=40)}
    )
    enc = sn.Encoder().fit(X)
    Ws = [rng.normal(size=(2, 6, 4)), rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 3, 3))]
    bs = [rng.normal(size=(2, 4)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))]
    return X, sn.Network.from_weights(Ws, bs, activation="tanh", variables=enc)


def _loss(p, p0, y, scoring):
    if scoring == "output":
        return ((p - p0) ** 2).sum(axis=-1)
    if scoring == "mse":
        return ((p - np.eye(p.shape[-1])[y]) ** 2).sum(axis=-1)
    if scoring == "log_loss":
        return -np.log(p[np.arange(len(y)), y])
    return (p.argmax(axis=-1) != y).astype(float)


def test_jitted_increases_equal_a_direct_forward_pass():
    """Two hidden layers, softmax, two members, real, enumerated and binary variables: the
    kernel's increases equal predictions on the perturbed matrices built in NumPy from the
    same random numbers, for the ensemble and for each member."""
    rng = np.random.default_rng(5)
    X, net = _mixed_ensemble(rng)
    y = rng.integers(0, 3, 40)
    x = net.encode(X)
    noise, R, seed = (0.2, 0.7), 3, 11
    draws = jax.jit(case_draws, static_argnames=("n_rows", "n_repeats", "discrete", "dtype"))
    for scoring in ("mse", "log_loss", "accuracy", "output"):
        r = input_perturbation(net, X, None if scoring == "output" else y, noise=noise, n_repeats=R,
                               scoring=scoring, random_state=seed)
        mp0 = net.member_proba(x, encoded=True)
        for j, v in enumerate(net.variables):
            cols = list(v.columns)
            key = jax.random.key_data(jax.random.fold_in(jax.random.PRNGKey(seed), j))
            draw, donor = (np.asarray(d) for d in draws(key, np.arange(40), n_rows=40, n_repeats=R,
                                                        discrete=v.kind != "real", dtype=x.dtype))
            for si, s in enumerate(noise):
                for rep in range(R):
                    xp = x.copy()
                    if v.kind == "real":
                        xp[:, cols[0]] += s * draw[:, rep]
                    else:
                        hit = draw[:, rep] < s
                        xp[np.ix_(hit, cols)] = x[np.ix_(donor[hit, rep], cols)]
                    mp = net.member_proba(xp, encoded=True)
                    want = [(_loss(m, m0, y, scoring) - _loss(m0, m0, y, scoring)).mean() for m, m0 in zip(mp, mp0)]
                    p, p0 = mp.mean(axis=0), mp0.mean(axis=0)
                    ens = (_loss(p, p0, y, scoring) - _loss(p0, p0, y, scoring)).mean()
                    np.testing.assert_allclose(r.increases[j, si, rep], ens, rtol=1e-10, atol=1e-12)
                    np.testing.assert_allclose(r.member_increases[:, j, si, rep], want, rtol=1e-10, atol=1e-12)


def test_chunks_subsets_and_members_give_identical_numbers():
    rng = np.random.default_rng(6)
    X, net = _mixed_ensemble(rng)
    y = rng.integers(0, 3, 40)
    kw = dict(noise=(0.2, 0.7), n_repeats=3, random_state=3)
    whole = input_perturbation(net, X, y, **kw)
    chunked = input_perturbation(net, X, y, chunk_size=7, **kw)
    np.testing.assert_allclose(chunked.increases, whole.increases, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(chunked.member_increases, whole.member_increases, rtol=1e-12, atol=1e-14)
    subset = input_perturbation(net, X, y, variables=["b", "g"], **kw)
    np.testing.assert_allclose(subset.increases, whole.increases[[3, 1]], rtol=1e-12, atol=1e-14)
    for m in range(2):
        alone = input_perturbation(net.member(m), X, y, variables=["g", "t"], **kw)
        np.testing.assert_allclose(alone.increases, whole.member_increases[m, 1:3], rtol=1e-12, atol=1e-14)
    frame = whole.to_frame()
    assert list(frame.columns) == ["variable", "kind", "importance", "importance_sd", "member_sd", "rank", "baseline"]
    np.testing.assert_allclose(frame["importance"], whole.increases.mean(axis=(1, 2)))
    assert sorted(frame["rank"]) == [1, 2, 3, 4] and frame["member_sd"].notna().all()
    curves = whole.curves_frame()
    assert len(curves) == 4 * 2 and np.allclose(curves["increase_mean"], whole.curve.reshape(-1))
    assert "Input perturbation (mse" in whole.summary()


def test_no_recompilation_across_calls_and_variables_of_a_kind():
    rng = np.random.default_rng(7)
    X, net = _mixed_ensemble(rng)
    y = rng.integers(0, 3, 40)
    input_perturbation(net, X, y, noise=(0.1, 0.3), n_repeats=3, random_state=0)
    before = perturbation.increase_sums._cache_size()
    input_perturbation(net, X, y, noise=(0.2, 0.4), n_repeats=3, random_state=9, variables=["b", "t"])
    input_perturbation(net, X, noise=(0.2, 0.4), n_repeats=3, random_state=9, scoring="output")
    assert perturbation.increase_sums._cache_size() == before


def test_errors_are_raised_before_any_work():
    rng = np.random.default_rng(8)
    X, net = _mixed_ensemble(rng)
    y = rng.integers(0, 3, 40)
    with pytest.raises(ValueError, match="`y` is required by scoring='log_loss'"):
        input_perturbation(net, X, scoring="log_loss")
    with pytest.raises(ValueError, match="uses no `y`"):
        input_perturbation(net, X, y, scoring="output")
    with pytest.raises(ValueError, match="`scoring` must be one of"):
        input_perturbation(net, X, y, scoring="auc")
    with pytest.raises(ValueError, match=r"`noise` levels must lie in \(0, 1\]"):
        input_perturbation(net, X, y, noise=(0.1, 1.5))
    with pytest.raises(ValueError, match="non-empty 1-D"):
        input_perturbation(net, X, y, noise=[])
    with pytest.raises(ValueError, match="`n_repeats` must be >= 1"):
        input_perturbation(net, X, y, n_repeats=0)
    with pytest.raises(ValueError, match="not a variable of this model"):
        input_perturbation(net, X, y, variables=["nope"])
