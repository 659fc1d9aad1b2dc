"""The forward pass, the network view and the adapters."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

import shallownet as sn
from shallownet.models import Network


def test_forward_pass_worked_by_hand():
    # x = (1, 0.5); W1 = [[1, -1], [2, 0]], b1 = (0, 1): a = (1 + 1, -1 + 1) = (2, 0)
    # logistic: h = (1/(1+e^-2), 1/2) = (0.880797, 0.5)
    # V = [[1], [-2]], c = 0.5: z = 0.880797 - 1 + 0.5 = 0.380797; p = 1/(1+e^-z) = 0.594066
    net = Network.from_weights(
        [np.array([[1.0, -1.0], [2.0, 0.0]]), np.array([[1.0], [-2.0]])],
        [np.array([0.0, 1.0]), np.array([0.5])],
        activation="logistic",
    )
    p = net.predict_proba(np.array([[1.0, 0.5]]))
    np.testing.assert_allclose(p, [[1 - 0.5940661, 0.5940661]], atol=1e-6)
    hidden, out = net.layer_outputs(np.array([[1.0, 0.5]]))
    np.testing.assert_allclose(hidden[0, 0], [0.8807971, 0.5], atol=1e-6)
    np.testing.assert_allclose(out[0, 0], [0.5940661], atol=1e-6)


def test_softmax_two_hidden_layers_by_hand():
    # tanh, identity weights: h1 = tanh(x), h2 = tanh(h1), z = h2 @ I + 0 -> softmax
    x = np.array([[0.3, -0.2]])
    net = Network.from_weights([np.eye(2), np.eye(2), np.eye(2)], [np.zeros(2)] * 3, activation="tanh")
    z = np.tanh(np.tanh(x))
    expected = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(net.predict_proba(x), expected, atol=1e-7)
    assert net.output == "softmax" and net.hidden_sizes == (2, 2)


def test_relu_and_identity_activations():
    x = np.array([[1.0, -3.0]])
    W = [np.eye(2), np.array([[1.0], [1.0]])]
    b = [np.zeros(2), np.zeros(1)]
    relu = Network.from_weights(W, b, activation="relu").predict_proba(x)[0, 1]
    ident = Network.from_weights(W, b, activation="identity").predict_proba(x)[0, 1]
    np.testing.assert_allclose(relu, 1 / (1 + np.exp(-1.0)), atol=1e-7)
    np.testing.assert_allclose(ident, 1 / (1 + np.exp(2.0)), atol=1e-7)


def test_ensemble_averages_member_probabilities():
    rng = np.random.default_rng(0)
    W1, W2 = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 5, 3))
    b1, b2 = rng.normal(size=(3, 5)), rng.normal(size=(3, 3))
    net = Network.from_weights([W1, W2], [b1, b2])
    X = rng.uniform(size=(7, 4))
    members = net.member_proba(X)
    assert members.shape == (3, 7, 3) and net.n_members == 3
    np.testing.assert_allclose(net.predict_proba(X), members.mean(axis=0))
    one = Network.from_weights([W1[1], W2[1]], [b1[1], b2[1]])
    np.testing.assert_allclose(net.member(1).predict_proba(X), one.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(net.member(-1).predict_proba(X), members[2], atol=1e-6)


@pytest.mark.parametrize(
    "weights, biases, message",
    [
        ([np.ones((2, 3))], [np.ones(2)], "b has shape"),
        ([np.ones((2, 3)), np.ones((4, 2))], [np.ones(3), np.ones(2)], "Layer 1 takes 4 inputs"),
        ([np.ones(3)], [np.ones(3)], "must be 2-D"),
        ([], [], "non-empty"),
    ],
)
def test_from_weights_rejects_inconsistent_shapes(weights, biases, message):
    with pytest.raises(ValueError, match=message):
        Network.from_weights(weights, biases)


def test_view_rejects_bad_output_and_inputs():
    with pytest.raises(ValueError, match="softmax output needs K >= 2"):
        Network.from_weights([np.ones((2, 1))], [np.ones(1)], output="softmax")
    with pytest.raises(ValueError, match="`activation` must be one of"):
        Network.from_weights([np.ones((2, 1))], [np.ones(1)], activation="swish")
    net = Network.from_weights([np.ones((2, 1))], [np.ones(1)])
    with pytest.raises(ValueError, match="has 3 columns, but the network takes 2"):
        net.predict_proba(np.ones((4, 3)))
    with pytest.raises(ValueError, match="NaN or infinity"):
        net.predict_proba(np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
def test_sklearn_mlp_adapter_reproduces_predict_proba(hidden, n_classes, activation):
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(60, 4))
    y = np.array(["a", "b", "c"])[rng.integers(0, n_classes, 60)]
    mlp = MLPClassifier(hidden, activation=activation, max_iter=50, random_state=0).fit(X, y)
    net = sn.as_network(mlp)
    np.testing.assert_allclose(net.predict_proba(X), mlp.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(net.predict(X), mlp.predict(X))
    assert net.output == ("sigmoid" if n_classes == 2 else "softmax")
    assert net.hidden_sizes == hidden


def test_adapter_rejects_unfitted_and_foreign_models():
    with pytest.raises(ValueError, match="not fitted"):
        sn.as_network(MLPClassifier())
    with pytest.raises(TypeError, match="must be a shallownet.Network"):
        sn.as_network(object())
    with pytest.raises(ValueError, match="Multilabel"):
        rng = np.random.default_rng(0)
        X = rng.uniform(size=(30, 3))
        Y = rng.integers(0, 2, (30, 2))
        sn.as_network(MLPClassifier((3,), max_iter=5).fit(X, Y))
