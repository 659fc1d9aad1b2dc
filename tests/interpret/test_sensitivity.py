"""Partial derivatives and Hessians against finite differences and closed forms."""

import jax
import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.interpret.sensitivity import second_order, sensitivity

from _mixed_data import frame


def network(X, hidden, n_out, members=1, seed=0, activation="tanh"):
    enc = sn.Encoder().fit(X)
    rng = np.random.default_rng(seed)
    sizes = (enc.n_features_out_, *hidden, n_out)
    lead = (members,) if members > 1 else ()
    Ws = [rng.normal(size=lead + (i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(size=lead + (o,)) for o in sizes[1:]]
    return sn.Network.from_weights(Ws, bs, activation=activation, variables=enc)


def finite_difference_jacobian(net, x, col, eps=1e-6):
    up, down = x.copy(), x.copy()
    up[:, col] += eps
    down[:, col] -= eps
    return (net.predict_proba(up, encoded=True) - net.predict_proba(down, encoded=True)) / (2 * eps)


@pytest.mark.parametrize(
    "hidden, n_out, members", [((5,), 3, 1), ((4, 3), 3, 2), ((5,), 1, 1), ((4, 3), 1, 1)]
)
def test_partial_derivatives_match_finite_differences(hidden, n_out, members):
    X = frame(25, 0)
    net = network(X, hidden, n_out, members)
    x = net.encode(X)
    s = sensitivity(net, X)
    for name in ("a", "b"):
        j = s.variables.index(name)
        col = net.encoder.variables_[[v.name for v in net.encoder.variables_].index(name)].columns[0]
        np.testing.assert_allclose(s.effects[:, j, :], finite_difference_jacobian(net, x, col), atol=1e-7)
    if n_out == 1:  # sigmoid: the signed effects of the two classes mirror each other
        signed = [s.variables.index(v) for v in ("a", "b", "flag")]
        np.testing.assert_allclose(s.effects[:, signed, 0], -s.effects[:, signed, 1], atol=1e-15)


def test_softmax_jacobian_closed_form_for_logistic_regression():
    """No hidden layer: z = x W + c, so dp_k/dx_i = p_k (W_ik - sum_l p_l W_il)."""
    X = frame(30, 1)
    net = network(X, (), 3)
    s = sensitivity(net, X, variables=["a", "b"])
    p = net.predict_proba(X)
    W = net.weights(0)[0]
    for j, col in enumerate([0, 1]):  # encoded columns of a and b
        want = p * (W[col][None, :] - (p * W[col][None, :]).sum(axis=1, keepdims=True))
        np.testing.assert_allclose(s.effects[:, j, :], want, atol=1e-13)


def test_differences_for_binary_and_enumerated_variables():
    X = frame(40, 2)
    net = network(X, (5,), 3, members=2)
    s = sensitivity(net, X)
    proba = {}
    for value in (False, True):
        Xs = X.copy()
        Xs["flag"] = value
        proba[value] = net.predict_proba(Xs)
    np.testing.assert_allclose(s.effects[:, s.variables.index("flag")], proba[True] - proba[False], atol=1e-13)
    cats = {}
    for c in ("u", "v", "w"):
        Xs = X.copy()
        Xs["g"] = c
        cats[c] = net.predict_proba(Xs)
    P = np.stack([cats[c] for c in "uvw"], axis=1)
    np.testing.assert_allclose(s.effects[:, s.variables.index("g")], P.max(axis=1) - P.min(axis=1), atol=1e-13)
    con = s.contrasts("g")
    row = con[(con.category == "w") & (con["class"] == 2)].iloc[0]
    np.testing.assert_allclose(row.mean_diff, (cats["w"] - cats["u"])[:, 2].mean(), atol=1e-13)
    # Member spread: each member's mean difference for the binary variable.
    for m in range(2):
        d = net.member(m).predict_proba(pd.concat([X.assign(flag=True)])) - net.member(m).predict_proba(X.assign(flag=False))
        np.testing.assert_allclose(s.member_means[m, s.variables.index("flag")], d.mean(axis=0), atol=1e-13)


def test_summaries_and_raw_units():
    X = frame(50, 3)
    net = network(X, (5,), 3)
    s = sensitivity(net, X)
    np.testing.assert_allclose(s.rms**2, s.mean**2 + s.sd**2, rtol=1e-10)
    np.testing.assert_allclose(s.relative_ssd.sum(axis=0), 1.0)
    f = s.to_frame()
    a = f[(f.variable == "a") & (f["class"] == 0)].iloc[0]
    scale = X["a"].max() - X["a"].min()
    np.testing.assert_allclose(a.mean_per_raw_unit, a["mean"] / scale)
    assert a.statistic == "derivative"
    assert set(f.statistic) == {"derivative", "category range", "difference 1-0"}


def test_ignored_variable_has_zero_sensitivity():
    X = frame(20, 4)
    net = network(X, (4,), 3)
    W = [w.copy() for w in net.weights(0)]
    W[0][0] = 0.0
    net = sn.Network.from_weights(W, net.biases(0), activation="tanh", variables=net.encoder)
    s = sensitivity(net, X)
    assert np.all(s.effects[:, s.variables.index("a")] == 0)


@pytest.mark.parametrize("hidden, n_out", [((5,), 3), ((4, 3), 1)])
def test_hessian_matches_finite_differences_of_the_jacobian(hidden, n_out):
    X = frame(15, 5)
    net = network(X, hidden, n_out)
    x = net.encode(X)
    h = second_order(net, X)
    assert h.variables == ("a", "b")
    cols = [0, 1]  # encoded columns of a and b
    eps = 1e-5
    for jj, cj in enumerate(cols):
        up, down = x.copy(), x.copy()
        up[:, cj] += eps
        down[:, cj] -= eps
        s_up = sensitivity(net, up, encoded=True, variables=["a", "b"]).effects
        s_down = sensitivity(net, down, encoded=True, variables=["a", "b"]).effects
        fd = (s_up - s_down) / (2 * eps)  # (N, V, K): d/dx_j of dp_k/dx_i
        np.testing.assert_allclose(h.hessians[:, :, :, jj], np.moveaxis(fd, 2, 1), atol=1e-6)
    np.testing.assert_allclose(h.hessians, np.swapaxes(h.hessians, 2, 3), atol=1e-12)
    f = h.to_frame()
    assert len(f) == net.n_classes * 3  # pairs (a, a), (a, b), (b, b) per class


def test_jitted_and_plain_chunked_and_unchunked_identical():
    X = frame(12, 6)
    net = network(X, (4,), 3, members=2)
    ref = sensitivity(net, X)
    chunked = sensitivity(net, X, chunk_size=5)
    np.testing.assert_allclose(chunked.effects, ref.effects, rtol=0, atol=1e-15)
    with jax.disable_jit():  # the autodiff path (the category path is the influence engine's)
        plain = sensitivity(net, X, variables=["a", "b"], chunk_size=5)
    np.testing.assert_allclose(plain.effects, ref.effects[:, :2], rtol=0, atol=1e-13)
    np.testing.assert_allclose(
        second_order(net, X, chunk_size=5).hessians, second_order(net, X).hessians, rtol=0, atol=1e-13
    )


def test_sensitivity_errors():
    X = frame(10, 7)
    net = network(X, (3,), 3)
    with pytest.raises(ValueError, match="must be real variables"):
        second_order(net, X, variables=["g"])
    s = sensitivity(net, X)
    with pytest.raises(ValueError, match="enumerated variable of this result"):
        s.contrasts("a")


def test_member_means_of_real_and_enumerated_variables_are_each_members_own_effects():
    """Real rows: each member's mean of its own dp_k/dx_i (finite differences on that member
    alone); enumerated rows: each member's mean over cases of its OWN range over categories
    (not the range of the ensemble's mean probability)."""
    X = frame(30, 8)
    net = network(X, (4, 3), 3, members=3, seed=1)
    x = net.encode(X)
    s = sensitivity(net, X)
    assert s.member_means.shape == (3, 4, 3)
    for m in range(3):
        member = net.member(m)
        for name, col in (("a", 0), ("b", 1)):
            want = finite_difference_jacobian(member, x, col).mean(axis=0)
            np.testing.assert_allclose(s.member_means[m, s.variables.index(name)], want, atol=1e-7)
        P = np.stack([member.predict_proba(X.assign(g=c)) for c in "uvw"], axis=1)  # (N, C, K)
        want = (P.max(axis=1) - P.min(axis=1)).mean(axis=0)
        np.testing.assert_allclose(s.member_means[m, s.variables.index("g")], want, atol=1e-13)
    # The ensemble's effect of a real variable is the mean of the members' derivatives.
    np.testing.assert_allclose(s.mean[:2], s.member_means[:, :2].mean(axis=0), atol=1e-13)


def test_second_order_of_an_ensemble_is_the_hessian_of_the_mean_probability():
    """Documented: per-case Hessians of the ensemble mean probability, i.e. the mean of the
    members' Hessians. Oracles: central second differences of the ensemble's predict_proba,
    and the mean of each member's own second_order."""
    X = frame(12, 9)
    net = network(X, (4,), 3, members=3, seed=2)
    x = net.encode(X)
    h = second_order(net, X)
    eps = 1e-4
    cols = [0, 1]  # encoded columns of a and b

    def p(di, dj, ci, cj):
        z = x.copy()
        z[:, ci] += di
        z[:, cj] += dj
        return net.predict_proba(z, encoded=True)

    for i, ci in enumerate(cols):
        for j, cj in enumerate(cols):
            fd = (p(eps, eps, ci, cj) - p(eps, -eps, ci, cj) - p(-eps, eps, ci, cj) + p(-eps, -eps, ci, cj)) / (4 * eps**2)
            np.testing.assert_allclose(h.hessians[:, :, i, j], fd, atol=1e-6)
    per_member = np.mean([second_order(net.member(m), X).hessians for m in range(3)], axis=0)
    np.testing.assert_allclose(h.hessians, per_member, atol=1e-13)
    assert np.abs(h.hessians).max() > 1e-2  # not a trivially zero comparison
