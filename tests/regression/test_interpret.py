"""Every interpretation of a linear-output (regression) network, each against an oracle:
hand-computed weight products, finite differences, direct forward passes, scikit-learn's
R^2, and the closed form of expected influence for a bivariate normal."""

import jax
import matplotlib
import numpy as np
import pytest
from sklearn.metrics import r2_score

import shallownet as sn
from shallownet.data.encoder import Encoder

from ._data import simulate

matplotlib.use("Agg")
si = sn.interpret


@pytest.fixture(scope="module")
def data():
    X, y = simulate(200, seed=1)
    enc = Encoder().fit(X)
    return X, y, enc


def _net(enc, hidden=(4,), n_out=2, activation="tanh", seed=0):
    rng = np.random.default_rng(seed)
    sizes = (sum(v.width for v in enc.variables_), *hidden, n_out)
    Ws = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(size=b) for b in sizes[1:]]
    return sn.Network.from_weights(Ws, bs, activation=activation, output="linear", variables=enc), Ws, bs


@pytest.mark.parametrize("hidden", [(4,), (4, 3)])
def test_olden_is_the_weight_product_in_target_units(data, hidden):
    X, y, enc = data
    net, Ws, _ = _net(enc, hidden)
    res = si.olden(net)
    P = Ws[0]
    for W in Ws[1:]:
        P = P @ W  # (D, 2): target units per encoded unit
    assert res.outputs == ("y0", "y1")
    a, b = enc.variables_[0], enc.variables_[1]
    np.testing.assert_allclose(res.mean[0], P[0], rtol=1e-5)
    np.testing.assert_allclose(res.mean[1], P[1], rtol=1e-5)
    np.testing.assert_allclose(res.per_raw_unit[0, 0], P[0] / a.scale, rtol=1e-5)
    np.testing.assert_allclose(res.per_raw_unit[0, 1], P[1] / b.scale, rtol=1e-5)
    np.testing.assert_allclose(res.mean[2], np.ptp(P[2:5], axis=0), rtol=1e-5)  # enumerated: range
    np.testing.assert_allclose(res.mean[3], P[5], rtol=1e-5)  # binary: its one column


@pytest.mark.filterwarnings("ignore:Values outside the training range")
def test_olden_of_an_identity_network_is_its_slope(data):
    """With identity hidden units the network is affine; CW per raw unit = d prediction / d raw x."""
    X, y, enc = data
    net, Ws, _ = _net(enc, (3,), n_out=1, activation="identity")
    slope = si.olden(net).per_raw_unit[0, 0, 0]
    X2 = X.copy()
    X2["a"] = X2["a"] + 0.25
    np.testing.assert_allclose((net.predict(X2) - net.predict(X)) / 0.25, slope, rtol=1e-4)


def test_garson_and_milne_on_a_linear_output(data):
    X, y, enc = data
    net, Ws, _ = _net(enc, (4,))
    g = si.garson(net)
    np.testing.assert_allclose(g.mean.sum(axis=0), 1.0, rtol=1e-6)
    m = si.milne(net)
    assert m.outputs == ("y0", "y1")
    np.testing.assert_allclose(np.abs(m.mean).sum(axis=0), [1.0, 1.0], rtol=1e-6)
    # hand-worked Milne for the real variable a and output 0: shares of |w| (groups by range)
    W, V = Ws[0], Ws[1]
    spread = np.vstack([np.abs(W[0]), np.abs(W[1]), np.ptp(W[2:5], axis=0), np.abs(W[5])])
    Q = (W[0] / spread.sum(axis=0)) @ V
    Qall = np.vstack([(W[i] / spread.sum(axis=0)) @ V for i in (0, 1, 5)])
    Qg = np.ptp((W[2:5] - W[2:5].mean(axis=0)) / spread.sum(axis=0) @ V, axis=0)
    total = np.abs(Qall).sum(axis=0) + np.abs(Qg)
    np.testing.assert_allclose(m.mean[0], Q / total, rtol=1e-5)


def test_partial_derivatives_and_hessians_match_finite_differences(data):
    X, y, enc = data
    net, _, _ = _net(enc, (5,))
    x = enc.transform(X)[:30].astype(np.float64)
    s = si.sensitivity(net, x, encoded=True)
    h = 1e-3
    for i, col in ((0, 0), (1, 1)):
        up, down = x.copy(), x.copy()
        up[:, col] += h
        down[:, col] -= h
        fd = (net.predict(up, encoded=True) - net.predict(down, encoded=True)) / (2 * h)
        np.testing.assert_allclose(s.effects[:, i, :], fd, atol=2e-3)
    frame = s.to_frame()
    row = frame[(frame.variable == "a") & (frame["class"] == "y0")].iloc[0]
    assert row["mean_per_raw_unit"] == pytest.approx(s.effects[:, 0, 0].mean() / enc.variables_[0].scale)
    # binary variable: the difference f(flag=1) - f(flag=0)
    on, off = x.copy(), x.copy()
    on[:, 5], off[:, 5] = 1.0, 0.0
    np.testing.assert_allclose(s.effects[:, 3, :], net.predict(on, encoded=True) - net.predict(off, encoded=True), atol=1e-5)
    H = si.second_order(net, x, encoded=True).hessians  # (N, T, 2, 2) over a, b
    up, down = x.copy(), x.copy()
    up[:, 1] += h
    down[:, 1] -= h
    d_up = si.sensitivity(net, up, encoded=True).effects[:, 0, :]
    d_down = si.sensitivity(net, down, encoded=True).effects[:, 0, :]
    np.testing.assert_allclose(H[:, :, 0, 1], (d_up - d_down) / (2 * h), atol=5e-3)


def test_partial_dependence_and_surface_are_direct_forward_passes(data):
    X, y, enc = data
    net, _, _ = _net(enc, (4,))
    x = enc.transform(X).astype(np.float64)
    pd_ = si.partial_dependence(net, x, "b", encoded=True, n_grid=7)
    grid = np.linspace(0, 1, 7)
    for g, v in enumerate(grid):
        xs = x.copy()
        xs[:, 1] = v
        np.testing.assert_allclose(pd_.ice[:, g, :], net.predict(xs, encoded=True), atol=1e-5)
    surf = si.decision_surface(net, x, ("a", "b"), n_grid=5, encoded=True)
    assert surf.regression and "Regression surface" in surf.title
    held = surf.held.copy()
    held[0], held[1] = 0.5, 0.25  # grid points 2 and 1 of 5 on [0, 1]
    np.testing.assert_allclose(surf.proba[2, 1], net.predict(held[None], encoded=True)[0], atol=1e-5)
    assert "decision" not in surf.to_frame().columns
    from shallownet.plots.sensitivity import plot_surface

    plot_surface(surf)
    lek = si.profile(net, x, "a", encoded=True, n_steps=5)
    assert np.all(np.isfinite(lek.curves))


def test_permutation_importance_r2_and_rmse_by_hand(data):
    X, y, enc = data
    net, _, _ = _net(enc, (4,), n_out=1)
    x = enc.transform(X).astype(np.float64)
    res = si.permutation_importance(net, x, y, encoded=True, n_repeats=3, random_state=5)
    keys = jax.random.split(jax.random.PRNGKey(5), 3)
    base = r2_score(y, net.predict(x, encoded=True))
    assert res.baseline == pytest.approx(base, rel=1e-5)
    for r, k in enumerate(keys):
        perm = np.asarray(jax.random.permutation(k, len(y)))
        xs = x.copy()
        xs[:, 2:5] = x[perm][:, 2:5]  # the enumerated group g, permuted as one variable
        assert res.importances[2, r] == pytest.approx(base - r2_score(y, net.predict(xs, encoded=True)), abs=1e-5)
    rm = si.permutation_importance(net, x, y, encoded=True, n_repeats=2, scoring="rmse")
    assert rm.baseline == pytest.approx(np.sqrt(np.mean((y - net.predict(x, encoded=True)) ** 2)), rel=1e-5)
    with pytest.raises(ValueError, match="`scoring` must be one of"):
        si.permutation_importance(net, x, y, encoded=True, scoring="accuracy")


def test_hidden_activity_groups_by_quarters_of_the_target(data):
    X, y, enc = data
    net, Ws, bs = _net(enc, (4,), n_out=1, activation="logistic")
    res = si.hidden_activity(net, X, y)
    assert "true=Q1" in res.groups and "predicted=Q4" in res.groups
    x = enc.transform(X).astype(np.float64)
    hidden = 1 / (1 + np.exp(-(x @ Ws[0] + bs[0])))
    q = np.quantile(y, [0.25, 0.5, 0.75])
    first = y <= q[0]
    g = res.groups.index("true=Q1")
    np.testing.assert_allclose(res.high[0][0, :, g], (hidden[first] >= 0.9).mean(axis=0), atol=1e-6)


def test_classification_notions_are_refused(data):
    X, y, enc = data
    net, _, _ = _net(enc, (4,))
    with pytest.raises(ValueError, match="linear \\(regression\\) output"):
        si.output_deltas(net)
    with pytest.raises(ValueError, match="linear \\(regression\\) output"):
        si.hidden_logic(net, X)


def test_potential_influence_is_the_range_of_the_prediction(data):
    """Brute force: the prediction at every grid value (and the case's own value)."""
    X, y, enc = data
    net, _, _ = _net(enc, (4, 3))
    x = enc.transform(X).astype(np.float64)[:25]
    res = si.potential_influence(net, x, encoded=True, n_grid=9)
    grid = np.linspace(0, 1, 9)
    preds = []
    for v in grid:
        xs = x.copy()
        xs[:, 1] = v
        preds.append(net.predict(xs, encoded=True))
    preds.append(net.predict(x, encoded=True))
    P = np.stack(preds)  # (G + 1, N, T)
    np.testing.assert_allclose(res.potential[:, 1, :], P.max(axis=0) - P.min(axis=0), atol=1e-5)
    cats = []
    for c in range(3):
        xs = x.copy()
        xs[:, 2:5] = np.eye(3)[c]
        cats.append(net.predict(xs, encoded=True))
    C = np.stack(cats)
    np.testing.assert_allclose(res.potential[:, 2, :], C.max(axis=0) - C.min(axis=0), atol=1e-5)
    assert set(res.to_frame()["output"]) == {"y0", "y1"}


@pytest.mark.parametrize("rho", [0.5, 0.8])
@pytest.mark.parametrize("conditional", ["knn", "copula"])
def test_expected_influence_of_x1_has_the_bivariate_normal_closed_form(rho, conditional):
    """f(x) = x1, (x1, x2) standard bivariate normal with correlation rho. Given x2, x1 and an
    independent draw x1' are both N(rho x2, 1 - rho^2), so x1' - x1 ~ N(0, 2 (1 - rho^2)) and
    E|x1' - x1| = sqrt(2 (1 - rho^2)) sqrt(2 / pi) = 2 sqrt(1 - rho^2) / sqrt(pi). The marginal
    gives 2 / sqrt(pi) (rho = 0), x2 has no influence, and PI_1 is the training range."""
    n = 4000
    rng = np.random.default_rng(11)
    Z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    enc = Encoder().fit(Z)
    v = enc.variables_
    net = sn.Network.from_weights([np.array([[v[0].scale], [0.0]])], [np.array([v[0].minimum])],
                                  output="linear", variables=enc)
    res = si.expected_influence(net, Z, Z[:, 0], conditional=conditional, n_grid=401)
    sd_abs = np.sqrt(2 * (1 - rho**2)) * np.sqrt(1 - 2 / np.pi)  # sd of |x1' - x1|
    want = 2 * np.sqrt(1 - rho**2) / np.sqrt(np.pi)
    assert res.expected[:, 0, 0].mean() == pytest.approx(want, abs=4 * sd_abs / np.sqrt(n) + 0.01)
    marginal = 2 / np.sqrt(np.pi)
    assert res.marginal[:, 0, 0].mean() == pytest.approx(marginal, abs=4 * np.sqrt(2) * 0.603 / np.sqrt(n) + 0.01)
    np.testing.assert_allclose(res.expected[:, 1, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(res.potential[:, 0, 0], v[0].scale, rtol=1e-5)
    frame = res.to_frame()
    spread = res.prediction_spread()[0]  # E|x1 - x1'| over pairs of cases: 2 / sqrt(pi)
    assert spread == pytest.approx(marginal, abs=0.05)
    assert frame["share"].iloc[0] == pytest.approx(res.expected[:, 0, 0].mean() / spread)
    bounds = res.bounds()
    assert bounds["mae_without_ub"].iloc[0] == pytest.approx(res.expected[:, 0, 0].mean(), abs=1e-5)


def test_prediction_spread_is_the_mean_absolute_difference():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(40, 2))
    res = si.RegressionInfluence(variables=("x",), kinds=("real",), outputs=np.array(["a", "b"]),
                                 potential=np.zeros((40, 1, 2)), member_potential=np.zeros((1, 40, 1, 2)),
                                 predicted=f, y=None, n_grid=3)
    brute = np.abs(f[:, None, :] - f[None, :, :]).sum(axis=(0, 1)) / (40 * 39)
    np.testing.assert_allclose(res.prediction_spread(), brute)


def test_randomisation_test_on_a_regression_network(data):
    """Observed CW of a network whose output follows `a` strongly; networks trained on permuted
    targets have small CW, so `a` gets the smallest p-value 1 / (R + 1)."""
    X, y, enc = data
    D = sum(v.width for v in enc.variables_)
    W1 = np.zeros((D, 2))
    W1[0] = [30.0, 30.0]
    net = sn.Network.from_weights([W1, np.ones((2, 1))], [np.zeros(2), np.zeros(1)],
                                  activation="identity", output="linear", variables=enc)
    res = si.olden_test(net, X, y, n_permutations=9, max_iter=20, random_state=0)
    assert res.null.shape == (9, 4, 1)
    assert res.p_values[0, 0] == pytest.approx(0.1)


def test_regression_influence_kernel_compiles_once_for_repeated_calls(data):
    from shallownet.interpret.flips import regression_influence_chunk

    X, y, enc = data
    net, _, _ = _net(enc, (4,), n_out=1)
    si.expected_influence(net, X, y, n_grid=11)
    size = regression_influence_chunk._cache_size()
    X2, y2 = X.sample(frac=1.0, random_state=3), y[::-1]
    si.expected_influence(net, X2, y2, n_grid=11)
    assert regression_influence_chunk._cache_size() == size


def test_input_perturbation_of_a_linear_network_has_its_closed_form():
    """f(x) = x w + b on encoded inputs: Gaussian noise s eps on variable i raises the squared
    output change by w_i^2 s^2 eps^2, so both 'output' and (in expectation) 'mse' increase by
    w_i^2 s^2 (a zero-weight variable by exactly 0); classification losses are refused."""
    rng = np.random.default_rng(3)
    Z = rng.random((300, 3))
    w = np.array([2.0, -0.5, 0.0])
    net = sn.Network.from_weights([w[:, None]], [np.array([0.3])], output="linear")
    y = Z @ w + 0.3 + 0.1 * rng.standard_normal(300)
    noise = (0.1, 0.3)
    for scoring in ("output", "mse"):
        res = si.input_perturbation(net, Z, None if scoring == "output" else y, scoring=scoring,
                                    noise=noise, n_repeats=400, encoded=True)
        want = w[:, None] ** 2 * np.square(noise)[None, :]  # (V, S)
        got = res.increases.mean(axis=-1)
        # eps^2 has mean 1 and sd sqrt(2) over 300 x 400 draws; 'mse' adds 2 w s eps (f - y)
        np.testing.assert_allclose(got, want, rtol=0.03, atol=1e-4)
        np.testing.assert_allclose(got[2], 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="classification loss"):
        si.input_perturbation(net, Z, y, scoring="log_loss", encoded=True)
