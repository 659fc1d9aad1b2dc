"""Influence of a real variable with a missingness indicator: the (value, indicator) pair is
substituted together (issue 15).

Oracles: brute-force substitution of every candidate pair ``(g, 0)`` and ``(fill', 1)`` through
the network's own forward pass, with the kNN and marginal conditionals recomputed by hand; a
variable whose missingness alone determines the class (large influence) against one whose
missingness is noise (influence near zero).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.interpret import expected_influence, permutation_importance, potential_influence
from shallownet.interpret.conditionals import knn_scaling

N_GRID = 11


def table(seed, n=40):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice(["x", "y"], n).astype(object)})
    X.loc[rng.choice(n, 8, replace=False), "a"] = np.nan
    X.loc[rng.choice(n, 3, replace=False), "c"] = None
    return X


def fit(X, y):
    """Every fit here has the same shapes (one compilation)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sn.ShallowNetClassifier(hidden_layer_sizes=(4,), max_iter=300, missing="indicator", alpha=1e-3,
                                       random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def determined():
    """Missingness of 'a' alone decides the class."""
    X = table(0)
    y = X["a"].isna().to_numpy().astype(int)
    return X, y, fit(X, y)


def brute_force(clf, X, variable, k):
    """PI, graded PI, marginal EI and kNN EI of ``variable`` by explicit substitution."""
    net = clf.network_
    v = next(u for u in net.variables if u.name == variable)
    Z = net.encode(X).astype(np.float32)
    N = Z.shape[0]
    decide = lambda M: net.predict_proba(M, encoded=True).argmax(axis=1)  # noqa: E731
    base = decide(Z)
    cand = np.vstack([np.column_stack([np.linspace(0, 1, N_GRID), np.zeros(N_GRID)]),
                      [[v.fill_scaled, 1.0]]]).astype(np.float32)
    flips = np.zeros((N, len(cand)), bool)
    for g, row in enumerate(cand):
        M = Z.copy()
        M[:, list(v.columns)] = row
        flips[:, g] = decide(M) != base
    own_listed = (Z[:, list(v.columns)][:, None, :] == cand[None]).all(axis=2).any(axis=1)
    graded = flips.sum(axis=1) / (len(cand) + ~own_listed)
    code = np.where(Z[:, v.columns[1]] == 1, N_GRID, np.clip(np.rint(Z[:, v.columns[0]] * (N_GRID - 1)), 0, N_GRID - 1)).astype(int)
    counts = np.bincount(code, minlength=len(cand)).astype(float)
    marginal = np.array([(flips[n] * (counts - np.eye(len(cand))[code[n]])).sum() / (N - 1) for n in range(N)])
    # kNN: distances over the OTHER variables' columns, scaled as the library documents.
    scale = knn_scaling(net.variables, Z.astype(np.float64))
    others = [c for c in range(Z.shape[1]) if c not in v.columns]
    T = Z[:, others].astype(np.float64) * scale[others]
    knn = np.zeros(N)
    for n in range(N):
        d = ((T - T[n]) ** 2).sum(axis=1)
        d[n] = np.inf
        near = np.argsort(d, kind="stable")[:k]
        knn[n] = flips[n, code[near]].mean()
    return flips.any(axis=1), graded, marginal, knn


def test_influence_of_the_pair_equals_brute_force_substitution(determined):
    X, y, clf = determined
    assert clf.network_.variables[0].has_indicator
    pi = potential_influence(clf, X, y, n_grid=N_GRID)
    ei = expected_influence(clf, X, y, n_grid=N_GRID, n_neighbors=5)
    bf_pi, bf_graded, bf_marginal, bf_knn = brute_force(clf, X, "a", k=5)
    j = list(ei.variables).index("a")
    np.testing.assert_array_equal(pi.potential[:, j], bf_pi)
    np.testing.assert_allclose(pi.graded[:, j], bf_graded, rtol=0, atol=1e-6)  # float32 ratio
    np.testing.assert_allclose(ei.expected[:, j], bf_knn, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ei.marginal[:, j], bf_marginal, rtol=0, atol=1e-6)


def test_missingness_that_determines_the_class_is_influential(determined):
    X, y, clf = determined
    assert (clf.predict(X) == y).all()
    frame = expected_influence(clf, X, y, n_grid=N_GRID).to_frame().set_index("variable")
    assert frame.loc["a", "potential"] == 1.0  # every decision flips with "missing" / "known"
    assert frame.loc["a", "expected"] > 0.25  # about 2 * 8 * 32 / (40 * 39) under independence
    assert frame.loc["a", "expected"] > 5 * frame.drop(index="a")["expected"].max()
    perm = permutation_importance(clf, X, y, random_state=0).to_frame().set_index("variable")
    assert perm.loc["a", "importance_mean"] > 0.1  # the pair is permuted as one variable


def test_missingness_that_is_noise_has_little_influence():
    X = table(1)
    y = (X["b"] > X["b"].median()).to_numpy().astype(int)
    clf = fit(X, y)
    frame = expected_influence(clf, X, y, n_grid=N_GRID).to_frame().set_index("variable")
    assert frame.loc["a", "expected"] < 0.1
    assert frame.loc["b", "expected"] > 3 * frame.loc["a", "expected"]


def test_parametric_conditionals_refuse_the_pair(determined):
    X, y, clf = determined
    for name in ("copula", "model"):
        with pytest.raises(ValueError, match=rf"conditional='{name}' is not defined for a real variable with "
                                             r"a missingness indicator \(\['a'\]\).*conditional='knn'"):
            expected_influence(clf, X, y, conditional=name, n_grid=N_GRID)
    # The model conditional of OTHER variables may use the indicator as a regressor.
    expected_influence(clf, X, y, conditional="model", variables=["b", "c"], n_grid=N_GRID)


def test_missingness_flips_equal_predicting_with_the_cell_blanked(determined):
    from shallownet.analysis import missingness_flips

    X, y, clf = determined
    flips = missingness_flips(clf, X)
    assert set(flips) == {"a", "c"}  # the variables whose missingness the model encodes
    for name in ("a", "c"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            blanked = clf.predict(X.assign(**{name: None}))
        assert flips[name] == pytest.approx(np.mean(blanked != clf.predict(X)))
    assert flips["a"] == pytest.approx(1 - y.mean())  # every known case flips to the missing class
