"""Olden & Jackson's randomisation test (small R and few epochs: the test is about plumbing,
the p-value formula, and a planted signal that any working version detects)."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

import shallownet.interpret.randomization as randomization
from shallownet import Network, ShallowNetClassifier
from shallownet.interpret import olden, olden_test
from shallownet.training.epochs import run_epochs
from shallownet.training.estimator import AUTO_LBFGS_MAX_VALUES
from shallownet.training.lbfgs import run_lbfgs

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_p_value_formula_hand_worked():
    observed = np.array([1.0, -2.0, 0.5])
    null = np.array([[0.5, 3.0, 0.1], [-1.0, 1.0, 0.2], [2.0, -2.0, 0.3]])
    # |null| >= |observed|: var0 -> 1, 2 (two); var1 -> 3, 2 (two); var2 -> none
    np.testing.assert_allclose(randomization.permutation_p_values(observed, null), [3 / 4, 3 / 4, 1 / 4])


def planted(n=150, seed=0):
    """x0 drives a logistic model, P(y = 1) = 1 / (1 + exp(-8 (x0 - 1/2))); x1 is noise.

    (Noisy labels on purpose: with separable labels weights grow without bound and the fitted
    boundary tilts towards the noise variable, which the test then rightly calls "used".)
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 2))
    return X, (rng.uniform(size=n) < 1 / (1 + np.exp(-8 * (X[:, 0] - 0.5)))).astype(int)


SETTINGS = dict(hidden_layer_sizes=(3,), learning_rate=0.05, max_iter=40, n_iter_no_change=None)


def test_planted_signal_is_detected_and_noise_is_not():
    X, y = planted()
    clf = ShallowNetClassifier(**SETTINGS, random_state=0).fit(X, y)
    result = olden_test(clf, X, y, n_permutations=19, random_state=0)
    p = result.p_values[:, 0]
    assert p[0] == pytest.approx(1 / 20)  # no permuted replicate reaches the real signal
    # Not significant at the 5% level: some permuted replicate reaches the noise variable's
    # |CW| (p = 1/20 would mean none did). Its exact p depends on the training seed.
    assert p[1] > 1 / 20 + 1e-12
    assert result.null.shape == (19, 2, 1)
    frame = result.to_frame()
    assert frame.p_value.tolist() == pytest.approx(p.tolist())
    assert frame.observed.tolist() == pytest.approx(olden(clf).values[0, :, 0].tolist())
    assert result.settings["max_iter"] == 40 and result.settings["learning_rate"] == 0.05
    assert result.to_dict()["settings"]["n_permutations"] == 19


def test_replicates_are_trained_together_and_match_a_lone_training(monkeypatch):
    X, y = planted(40)
    net = Network.from_weights([np.ones((2, 2, 3)), np.ones((2, 3, 1))], [np.zeros((2, 3)), np.zeros((2, 1))])
    calls = []
    real_train = randomization.train

    def spy(params, X, y, **kwargs):
        calls.append((params, np.asarray(y), kwargs))
        return real_train(params, X, y, **kwargs)

    monkeypatch.setattr(randomization, "train", spy)
    result = olden_test(net, X, y, n_permutations=5, max_iter=10, n_iter_no_change=None, optimizer="adam",
                        random_state=3, encoded=True)
    assert len(calls) == 1  # all R x M = 10 networks in one call
    init, targets, kwargs = calls[0]
    assert targets.shape == (10, 40)
    np.testing.assert_array_equal(targets[0::2], targets[1::2])  # members share a permutation
    for row in targets:
        assert np.bincount(row, minlength=2).tolist() == np.bincount(y, minlength=2).tolist()
    assert len({row.tobytes() for row in targets[0::2]}) == 5
    # oracle: replicate 2 trained alone (same initial weights, same minibatch key)
    lone_init = tuple(type(layer)(layer.W[4:6], layer.b[4:6]) for layer in init)
    lone, _, _ = real_train(lone_init, X, targets[4:6], **kwargs)
    lone_net = Network.from_weights([np.asarray(layer.W) for layer in lone], [np.asarray(layer.b) for layer in lone])
    np.testing.assert_allclose(result.null[2], olden(lone_net).values.mean(axis=0), rtol=1e-6)


def test_chunks_have_fixed_shapes_and_nothing_recompiles(monkeypatch):
    X, y = planted(40)
    net = Network.from_weights([np.ones((2, 3)), np.ones((3, 1))], [np.zeros(3), np.zeros(1)])
    shapes = []
    real_train = randomization.train
    monkeypatch.setattr(randomization, "train",
                        lambda p, X, y, **kw: shapes.append(np.shape(y)) or real_train(p, X, y, **kw))
    kwargs = dict(n_permutations=5, chunk_size=2, max_iter=3, n_iter_no_change=None, encoded=True,
                  optimizer="adam")
    first = olden_test(net, X, y, random_state=0, **kwargs)
    compiled = run_epochs._cache_size()
    olden_test(net, X, y, random_state=1, **kwargs)
    assert run_epochs._cache_size() == compiled
    assert shapes == [(2, 40)] * 6  # ceil(5 / 2) calls of 2 networks, twice
    assert first.null.shape == (5, 2, 1)


def test_lbfgs_replicates_come_in_fixed_chunks_and_nothing_recompiles(monkeypatch):
    X, y = planted(40)
    net = Network.from_weights([np.ones((2, 3)), np.ones((3, 1))], [np.zeros(3), np.zeros(1)])
    shapes = []
    real_fit = randomization.fit_lbfgs
    monkeypatch.setattr(randomization, "fit_lbfgs",
                        lambda p, X, y, **kw: shapes.append(np.shape(y)) or real_fit(p, X, y, **kw))
    kwargs = dict(n_permutations=5, chunk_size=2, max_iter=20, encoded=True, optimizer="lbfgs")
    first = olden_test(net, X, y, random_state=0, **kwargs)
    compiled = run_lbfgs._cache_size()
    olden_test(net, X, y, random_state=1, **kwargs)
    assert run_lbfgs._cache_size() == compiled
    assert shapes == [(2, 40)] * 6
    assert first.null.shape == (5, 2, 1)


def test_an_lbfgs_replicate_is_the_lone_lbfgs_fit_of_its_permutation(monkeypatch):
    X, y = planted(40)
    net = Network.from_weights([np.ones((2, 3)), np.ones((3, 1))], [np.zeros(3), np.zeros(1)])
    calls = []
    real_fit = randomization.fit_lbfgs
    monkeypatch.setattr(randomization, "fit_lbfgs",
                        lambda p, X, y, **kw: calls.append((p, np.asarray(y), kw)) or real_fit(p, X, y, **kw))
    result = olden_test(net, X, y, n_permutations=4, max_iter=200, optimizer="lbfgs", alpha=1e-2,
                        random_state=2, encoded=True)
    init, targets, kw = calls[0]
    lone_init = tuple(type(layer)(layer.W[2:3], layer.b[2:3]) for layer in init)
    lone, _ = real_fit(lone_init, X, targets[2:3], **kw)
    lone_net = Network.from_weights([np.asarray(layer.W) for layer in lone], [np.asarray(layer.b) for layer in lone])
    np.testing.assert_allclose(result.null[2], olden(lone_net).values.mean(axis=0), rtol=1e-5, atol=1e-8)


def test_settings_come_from_the_model_unless_given():
    X, y = planted(40)
    mlp = MLPClassifier((3,), alpha=0.4, batch_size=20, learning_rate_init=0.02, max_iter=4,
                        random_state=0).fit(X, y)
    s, _ = randomization._settings(mlp, {}, 40, 80)
    assert (s["alpha"], s["batch_size"], s["learning_rate"], s["max_iter"]) == (0.02, 20, 0.02, 4)
    assert s["optimizer"] == "adam"
    s, _ = randomization._settings(mlp, {"max_iter": 9}, 40, 80)
    assert s["max_iter"] == 9 and "overridden: ['max_iter']" in s["source"]
    s, _ = randomization._settings(ShallowNetClassifier((2,), alpha=0.3, max_iter=7), {}, 40, 80)
    assert (s["alpha"], s["max_iter"], s["batch_size"]) == (0.3, 7, 40)
    net = Network.from_weights([np.ones((2, 1))], [np.zeros(1)])
    s, opt = randomization._settings(net, {}, 40, 80)
    assert s["source"] == "defaults of ShallowNetClassifier" and s["max_iter"] == 300
    assert s["optimizer"] == "lbfgs" and opt is None  # "auto" resolved as the estimator does
    s, opt = randomization._settings(net, {}, 40, AUTO_LBFGS_MAX_VALUES + 1)
    assert s["optimizer"] == "adam" and opt is not None
    result = olden_test(mlp, X, y, n_permutations=3, random_state=0)
    assert result.null.shape == (3, 2, 1)


def test_bad_arguments_are_refused():
    X, y = planted(20)
    net = Network.from_weights([np.ones((2, 1))], [np.zeros(1)])
    with pytest.raises(ValueError, match="`n_permutations` must be >= 1"):
        olden_test(net, X, y, n_permutations=0, encoded=True)
    with pytest.raises(ValueError, match="not classes of the model"):
        olden_test(net, X, y + 5, encoded=True)
    with pytest.raises(TypeError, match="`optimizer` must be"):
        olden_test(net, X, y, optimizer=3, encoded=True)
    with pytest.raises(ValueError, match="`X` has 20 rows but `y` has 19"):
        olden_test(net, X, y[:-1], encoded=True)
