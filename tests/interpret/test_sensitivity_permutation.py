"""Grouped permutation importance against closed forms and a direct computation."""

import jax
import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.interpret.permutation import permutation_importance, permuted_scores


def test_ignored_variable_and_exact_classifier_closed_form():
    """d(x) = 1[x1 > 0] on the Gaussian pair with y = d(x). Permuting x1 makes the decision at
    case n the sign of a random other case: E[accuracy] = (n+^2 + n-^2) / N^2, so the expected
    importance is 1 minus that. x2 is ignored: importance 0 in every repeat."""
    ds = sn.datasets.gaussian_pair(1000, 0.5, random_state=0)
    enc = sn.Encoder().fit(ds.X)
    v = enc.variables_[0]
    t = -v.minimum / v.scale
    net = sn.Network.from_weights([np.array([[1e4], [0.0]])], [np.array([-1e4 * t])], variables=enc)
    r = permutation_importance(net, ds.X, ds.y, n_repeats=200, random_state=1)
    n_pos = int(ds.y.sum())
    expected = 1 - (n_pos**2 + (1000 - n_pos) ** 2) / 1000**2
    # Each repeat's accuracy is a mean of N nearly independent agreements: sd about 0.5/sqrt(N).
    assert abs(r.importances_mean[0] - expected) < 4 * 0.5 / np.sqrt(1000) / np.sqrt(200)
    assert np.all(r.importances[1] == 0) and r.baseline == 1.0


def test_enumerated_group_permuted_as_one():
    """The network predicts the category of g (y = category): permuting the group keeps valid
    one-hot rows and gives E[accuracy] = sum_c (n_c / N)^2."""
    rng = np.random.default_rng(3)
    c = rng.choice(3, size=600, p=[0.5, 0.3, 0.2])
    X = pd.DataFrame({"g": np.array(["a", "b", "c"])[c], "z": rng.normal(size=600)})
    enc = sn.Encoder().fit(X)
    W = np.zeros((4, 3))
    W[:3] = 10 * np.eye(3)
    net = sn.Network.from_weights([W], [np.zeros(3)], variables=enc)
    r = permutation_importance(net, X, c, n_repeats=100, random_state=0)
    share = np.bincount(c) / 600
    expected = 1 - (share**2).sum()
    assert abs(r.importances_mean[0] - expected) < 4 * 0.5 / np.sqrt(600) / np.sqrt(100)
    assert np.all(r.importances[1] == 0)


def test_permuted_scores_equal_a_direct_forward_pass():
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"a": rng.normal(size=50), "g": rng.choice(["u", "v", "w"], 50), "b": rng.uniform(size=50)})
    enc = sn.Encoder().fit(X)
    Ws = [rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 4, 3))]
    bs = [rng.normal(size=(2, 4)), rng.normal(size=(2, 3))]
    net = sn.Network.from_weights(Ws, bs, activation="relu", variables=enc)
    x = net.encode(X)
    y = rng.integers(0, 3, 50)
    perms = jax.random.permutation(jax.random.PRNGKey(0), 50)[None]
    cols = np.array([1, 2, 3], dtype=np.int32)  # the one-hot group of g
    for scoring in ("accuracy", "log_loss"):
        got = permuted_scores(net.params, x, y, cols, perms, activation="relu", output="softmax", scoring=scoring)
        xp = x.copy()
        xp[:, 1:4] = x[np.asarray(perms[0])][:, 1:4]
        p = net.predict_proba(xp, encoded=True)
        want = np.mean(p.argmax(axis=1) == y) if scoring == "accuracy" else -np.mean(np.log(p[np.arange(50), y]))
        np.testing.assert_allclose(np.asarray(got)[0], want, rtol=1e-12)


def test_log_loss_scoring_and_errors():
    ds = sn.datasets.logistic_model(300, (4.0, 0.0), random_state=0)
    net = sn.Network.from_weights([np.array([[4.0], [0.0]])], [np.array([0.0])], variables=sn.Encoder().fit(ds.X))
    r = permutation_importance(net, ds.X, ds.y, scoring="log_loss", n_repeats=5)
    assert r.importances_mean[0] > 0 and np.all(r.importances[1] == 0)
    assert list(r.to_frame().columns) == ["variable", "kind", "importance_mean", "importance_sd", "baseline"]
    with pytest.raises(ValueError, match="`scoring` must be one of"):
        permutation_importance(net, ds.X, ds.y, scoring="auc")
    with pytest.raises(ValueError, match="`y` is required"):
        permutation_importance(net, ds.X, None)
