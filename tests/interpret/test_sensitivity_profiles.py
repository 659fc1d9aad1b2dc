"""Lek profiles, ICE / partial dependence and the decision surface against direct predictions
and scikit-learn's partial_dependence."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.inspection import partial_dependence as sk_partial_dependence
from sklearn.neural_network import MLPClassifier

import shallownet as sn
from shallownet.interpret.profiles import decision_surface, partial_dependence, profile

from _mixed_data import frame


def network(X, seed=0, members=1):
    enc = sn.Encoder().fit(X)
    rng = np.random.default_rng(seed)
    lead = (members,) if members > 1 else ()
    W = [rng.normal(scale=2, size=lead + (enc.n_features_out_, 5)), rng.normal(size=lead + (5, 3))]
    b = [rng.normal(size=lead + (5,)), rng.normal(size=lead + (3,))]
    return sn.Network.from_weights(W, b, variables=enc)


def test_lek_quantile_profiles_are_predictions_at_the_held_rows():
    X = frame(80, 3)  # category counts 32 / 26 / 22: a unique mode
    net = network(X, members=2)
    p = profile(net, X, "a", n_steps=7)
    assert p.groups == ("q=0", "q=0.2", "q=0.4", "q=0.6", "q=0.8", "q=1")
    x = net.encode(X)
    np.testing.assert_allclose(p.held[:, 1], np.quantile(x[:, 1], np.linspace(0, 1, 6)))
    # Enumerated and binary variables are held at their most frequent value.
    mode = X["g"].value_counts().idxmax()
    assert np.all(p.held[:, 2 + ["u", "v", "w"].index(mode)] == 1) and np.all(p.held[:, 2:5].sum(axis=1) == 1)
    assert np.all(p.held[:, 5] == float(X["flag"].mean() > 0.5))
    for gi in range(6):
        rows = np.repeat(p.held[gi : gi + 1], 7, axis=0)
        rows[:, 0] = np.linspace(0, 1, 7)
        np.testing.assert_allclose(p.curves[gi], net.predict_proba(rows, encoded=True), atol=1e-13)
    np.testing.assert_allclose(p.values, X["a"].min() + np.linspace(0, 1, 7) * (X["a"].max() - X["a"].min()))
    assert len(p.to_frame()) == 6 * 7 * 3


def test_lek_kmeans_profiles_are_valid_inputs_and_sweep_categories():
    X = frame(90, 1)
    net = network(X)
    p = profile(net, X, "g", groups="kmeans", n_groups=4, random_state=0)
    assert len(p.groups) == 4 and all(label.startswith("cluster") for label in p.groups)
    assert np.all(p.held[:, 2:5].sum(axis=1) == 1) and np.all(np.isin(p.held[:, 5], (0.0, 1.0)))
    assert list(p.values) == ["u", "v", "w"]
    for gi in range(4):
        rows = np.repeat(p.held[gi : gi + 1], 3, axis=0)
        rows[:, 2:5] = np.eye(3)
        np.testing.assert_allclose(p.curves[gi], net.predict_proba(rows, encoded=True), atol=1e-13)


def test_lek_kmeans_profiles_hold_the_snapped_kmeans_centres_of_the_encoded_data():
    """Documented: KMeans (n_init=10, the given random_state) on the ENCODED rows; a centre's
    binary column rounded, its one-hot group set to the largest entry; real columns kept as
    the centres' coordinates. Oracle: scikit-learn KMeans run here with those settings."""
    X = frame(120, 7)
    net = network(X, seed=2)
    x = net.encode(X).astype(np.float64)
    # Four groups: one category per centre; two groups: a centre mixes categories (u 0.46,
    # w 0.54 here), so the one-hot snap is exercised; flag centres near 0.35-0.45 get rounded.
    for n_groups, seed in ((4, 0), (2, 5)):
        p = profile(net, X, "b", groups="kmeans", n_groups=n_groups, n_steps=5, random_state=seed)
        km = KMeans(n_clusters=n_groups, n_init=10, random_state=seed).fit(x)
        centres = km.cluster_centers_
        want = centres.copy()
        want[:, 2:5] = np.eye(3)[centres[:, 2:5].argmax(axis=1)]  # g: u, v, w
        want[:, 5] = (centres[:, 5] > 0.5).astype(float)  # flag
        np.testing.assert_allclose(p.held, want, rtol=0, atol=1e-12)
        counts = np.bincount(km.labels_, minlength=n_groups)
        assert p.groups == tuple(f"cluster {g + 1} (n={counts[g]})" for g in range(n_groups))
        assert np.unique(np.round(p.held[:, :2], 6), axis=0).shape[0] == n_groups  # distinct centres
        # The sweep of b runs from each held centre.
        for gi in range(n_groups):
            rows = np.repeat(want[gi : gi + 1], 5, axis=0)
            rows[:, 1] = np.linspace(0, 1, 5)
            np.testing.assert_allclose(p.curves[gi], net.predict_proba(rows, encoded=True), atol=1e-13)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_dependence_matches_scikit_learn():
    rng = np.random.default_rng(2)
    X = rng.uniform(size=(120, 3))
    y = (X[:, 0] + X[:, 1] > 1).astype(int) + (X[:, 2] > 0.6)
    mlp = MLPClassifier(hidden_layer_sizes=(6,), max_iter=200, random_state=0).fit(X, y)
    grid = np.linspace(0, 1, 9)
    ours = partial_dependence(mlp, X, "x1", n_grid=9)
    theirs = sk_partial_dependence(
        mlp, X, [1], custom_values={1: grid}, method="brute", kind="both", response_method="predict_proba"
    )
    np.testing.assert_allclose(ours.average.T, theirs["average"], atol=1e-12)
    np.testing.assert_allclose(np.moveaxis(ours.ice, 2, 0), theirs["individual"], atol=1e-12)


def test_ice_at_the_own_category_is_the_prediction():
    X = frame(50, 3)
    net = network(X)
    pdp = partial_dependence(net, X, "g")
    own = X["g"].map({"u": 0, "v": 1, "w": 2}).to_numpy()
    np.testing.assert_allclose(pdp.ice[np.arange(50), own], net.predict_proba(X), atol=1e-13)
    np.testing.assert_allclose(pdp.average, pdp.ice.mean(axis=0))


@pytest.mark.parametrize("at", ["median", 0.25, 7])
def test_decision_surface_is_the_prediction_on_the_grid(at):
    X = frame(60, 4)
    net = network(X, seed=1)
    s = decision_surface(net, X, ["b", "g"], at=at, n_grid=5)
    assert s.proba.shape == (5, 3, 3)
    x = net.encode(X)
    if at == 7:
        np.testing.assert_array_equal(s.held, x[7])
    rows = np.repeat(s.held[None], 15, axis=0)
    rows[:, 1] = np.repeat(np.linspace(0, 1, 5), 3)
    rows[:, 2:5] = np.tile(np.eye(3), (5, 1))
    want = net.predict_proba(rows, encoded=True).reshape(5, 3, 3)
    np.testing.assert_allclose(s.proba, want, atol=1e-13)
    np.testing.assert_array_equal(s.decision, want.argmax(axis=-1))
    assert len(s.to_frame()) == 15


def test_profile_errors():
    X = frame(20, 5)
    net = network(X)
    with pytest.raises(ValueError, match="`groups` must be one of"):
        profile(net, X, "a", groups="deciles")
    with pytest.raises(ValueError, match="two different variables"):
        decision_surface(net, X, ["a", "a"])
    with pytest.raises(ValueError, match="must be a row of `X`"):
        decision_surface(net, X, ["a", "b"], at=20)
    with pytest.raises(ValueError, match="`at` must be <= 1"):
        decision_surface(net, X, ["a", "b"], at=1.5)


def test_lek_ranges_vanish_for_an_ignored_variable():
    X = frame(40, 6)
    net = network(X)
    W = [w.copy() for w in net.weights(0)]
    W[0][1] = 0.0  # b ignored
    net = sn.Network.from_weights(W, net.biases(0), variables=net.encoder)
    assert np.all(profile(net, X, "b", n_steps=5).ranges == 0)
    r = profile(net, X, "a", n_steps=5)
    np.testing.assert_allclose(r.ranges, r.curves.max(axis=1) - r.curves.min(axis=1))
    assert r.ranges.max() > 0
