"""Hidden activity, input weight x frequency, and output deltas."""

from functools import partial

import numpy as np
import pandas as pd
import pytest
from sklearn.neural_network import MLPClassifier

from shallownet import Encoder, Network, Variable
from shallownet.interpret import as_network, hidden_activity, output_deltas, weight_frequency
from shallownet.models.network import member_layer_outputs

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
close = partial(np.testing.assert_allclose, rtol=1e-10, atol=1e-12)


def switch_net(activation="logistic"):
    """h1 = s(40 x - 20) is on for x = 1 and off for x = 0; h2 = s(0) sits at the middle.

    The sigmoid output is 10 h1 - 5 (logistic): class 1 exactly when h1 is on.
    """
    return Network.from_weights(
        [np.array([[40.0, 0.0]]), np.array([[10.0], [0.0]])],
        [np.array([-20.0, 0.0]), np.array([-5.0])],
        activation=activation, classes=["no", "yes"],
    )


X_SWITCH = np.array([[0.0], [0.0], [1.0], [1.0], [1.0]])
Y_SWITCH = np.array(["no", "yes", "no", "yes", "yes"])


def test_firing_frequencies_hand_worked():
    act = hidden_activity(switch_net(), X_SWITCH, Y_SWITCH, encoded=True)
    assert act.groups == ("all", "true=no", "true=yes", "predicted=no", "predicted=yes")
    high, low = act.high[0][0], act.low[0][0]
    # h1: on in cases 2, 3, 4; true "no" = cases 0, 2 -> 1/2; true "yes" = 1, 3, 4 -> 2/3;
    # predicted "yes" = cases 2, 3, 4 -> 1; predicted "no" -> 0
    close(high[0], [3 / 5, 1 / 2, 2 / 3, 0, 1])
    close(low[0], [2 / 5, 1 / 2, 1 / 3, 1, 0])
    close(high[1], 0.0)  # h2 = 0.5 is neither near 1 nor near 0
    close(low[1], 0.0)
    close(act.counts[0], [5, 2, 3, 2, 3])
    close(act.lift(0, "high")[0, 0], [1, 5 / 6, 10 / 9, 0, 5 / 3])
    assert np.isnan(act.lift(0, "high")[0, 1]).all()  # F = 0: lift undefined
    frame = act.to_frame()
    row = frame[(frame.node == "h1") & (frame.group == "true=yes")].iloc[0]
    assert (row.n, row.high, row.lift_high) == (3, pytest.approx(2 / 3), pytest.approx(10 / 9))


def test_thresholds_are_configurable_and_checked():
    act = hidden_activity(switch_net(), X_SWITCH, encoded=True, high=0.4, low=0.3)
    close(act.high[0][0, 1, 0], 1.0)  # h2 = 0.5 >= 0.4
    close(act.low[0][0, 1, 0], 0.0)
    assert act.groups == ("all", "predicted=no", "predicted=yes")
    with pytest.raises(ValueError, match="`low` must be below `high`"):
        hidden_activity(switch_net(), X_SWITCH, encoded=True, high=0.2, low=0.3)
    with pytest.raises(ValueError, match="not classes of the model"):
        hidden_activity(switch_net(), X_SWITCH, ["no", "maybe", "no", "no", "no"], encoded=True)
    with pytest.raises(ValueError, match="`by` must be"):
        act.by_class(by="wrong")
    with pytest.raises(ValueError, match="No true classes"):
        act.by_class(by="true")


def test_tanh_off_state_is_minus_one():
    act = hidden_activity(switch_net("tanh"), X_SWITCH, encoded=True)
    assert act.thresholds == (0.9, -0.9)
    close(act.low[0][0, 0, 0], 2 / 5)  # tanh(-20) = -1 for the two x = 0 cases
    close(act.low[0][0, 1, 0], 0.0)  # tanh(0) = 0 is not off


def test_two_layers_ensemble_and_no_recompilation():
    rng = np.random.default_rng(0)
    Ws = [rng.normal(size=(2, 3, 4)) * 3, rng.normal(size=(2, 4, 2)) * 3, rng.normal(size=(2, 2, 3))]
    bs = [rng.normal(size=(2, 4)), rng.normal(size=(2, 2)), rng.normal(size=(2, 3))]
    net = Network.from_weights(Ws, bs)
    X = rng.uniform(size=(50, 3))
    y = rng.integers(0, 3, 50)
    act = hidden_activity(net, X, y, encoded=True)
    before = member_layer_outputs._cache_size()
    again = hidden_activity(net, X, y, encoded=True)
    assert member_layer_outputs._cache_size() == before
    close(again.high[1], act.high[1])
    assert act.layers == ("hidden1", "hidden2") and act.nodes[1] == ("h2_1", "h2_2")
    # oracle: the second layer of member 1 by hand
    h1 = 1 / (1 + np.exp(-(X @ Ws[0][1] + bs[0][1])))
    h2 = 1 / (1 + np.exp(-(h1 @ Ws[1][1] + bs[1][1])))
    close(act.high[1][1, :, 0], (h2 >= 0.9).mean(axis=0))
    for k in range(3):
        close(act.low[1][1, :, 1 + k], (h2[y == k] <= 0.1).mean(axis=0))
    # predicted groups use each member's own prediction
    pred = net.member_proba(X, encoded=True)[1].argmax(axis=1)
    close(act.counts[1, 4:], np.bincount(pred, minlength=3))
    assert act.by_class(1, 1, "predicted").shape == (2, 3)


# -- input weight x input frequency -------------------------------------------------------
VARIABLES = [
    Variable("size", "real", (0,), 10.0, 30.0),
    Variable("colour", "enumerated", (1, 2, 3), categories=("red", "green", "blue")),
]
W1 = np.array([[2.0, -1.0], [1.0, 0.0], [4.0, 3.0], [1.0, -3.0]])
Z = np.array([[0.5, 1, 0, 0], [1.0, 0, 1, 0], [0.0, 0, 1, 0], [0.5, 0, 0, 1]])


def colour_net(W=W1, b=np.zeros(2)):
    return Network.from_weights([W, np.ones((2, 1))], [b, np.zeros(1)], variables=VARIABLES)


def test_weight_frequency_hand_worked():
    wf = weight_frequency(colour_net(), Z, encoded=True)
    # means: size 0.5; red 1/4, green 1/2, blue 1/4. Centred colour weights: h1 [-1, 2, -1]
    close(wf.column_mean, [0.5, 0.25, 0.5, 0.25])
    close(wf.contributions[0][:, 0], [2 * 0.5, -1 * 0.25, 2 * 0.5, -1 * 0.25])
    close(wf.variable_mean[0][:, 0], [1.0, 0.5])
    # spread of colour's contribution into h1 over the four rows: values [1, 4, 4, 1] -> sd 1.5
    close(wf.variable_sd[0][1, 0], 1.5)
    close(wf.variable_sd[0][0, 0], 2 * np.std(Z[:, 0]))
    frame = wf.columns_frame()
    size = frame[(frame.column == "size") & (frame.node == "h1")].iloc[0]
    assert size.mean_input_raw == pytest.approx(20.0)  # 10 + 0.5 * 20
    green = frame[(frame.column == "colour=green") & (frame.node == "h1")].iloc[0]
    assert green.mean_input_raw == pytest.approx(0.5)
    assert len(wf.to_frame()) == 2 * 2


def test_weight_frequency_is_one_hot_shift_invariant():
    W = W1.copy()
    W[1:] += np.array([7.0, -2.0])
    a = weight_frequency(colour_net(), Z, encoded=True)
    b = weight_frequency(colour_net(W, -np.array([7.0, -2.0])), Z, encoded=True)
    for name in ("contributions", "variable_mean", "variable_sd"):
        close(getattr(a, name), getattr(b, name), err_msg=name)


def test_weight_frequency_of_raw_data_goes_through_the_encoder():
    X = pd.DataFrame({"size": [10.0, 30.0, 20.0, 15.0, 25.0, 12.0],
                      "colour": ["red", "green", "green", "blue", "red", "blue"]})
    encoder = Encoder().fit(X)  # colour's categories in sorted order: blue, green, red
    net = Network.from_weights([W1, np.ones((2, 1))], [np.zeros(2), np.zeros(1)], variables=encoder)
    wf = weight_frequency(net, X)
    close(wf.column_mean, [np.mean((X["size"] - 10) / 20), 2 / 6, 2 / 6, 2 / 6])
    assert wf.layout.columns == ("size", "colour=blue", "colour=green", "colour=red")
    close(wf.contributions[0], weight_frequency(net, encoder.transform(X), encoded=True).contributions[0])


# -- output deltas ---------------------------------------------------------------------------
def test_output_deltas_hand_worked():
    V = np.array([[1.0, 3.0, 0.0], [2.0, -1.0, 1.5]])
    net = Network.from_weights([np.ones((1, 2)), V], [np.zeros(2), np.zeros(3)], classes=["a", "b", "c"])
    d = output_deltas(net)
    assert d.pairs == ((1, 0), (2, 0), (2, 1))
    close(d.differences[0], [[2, -1, -3], [-3, -0.5, 2.5]])
    close(d.deltas[0], [[2, 1, 3], [3, 0.5, 2.5]])
    assert d.favoured[0].tolist() == [1, 0]
    close(d.strength[0], [2.0, 0.5])
    frame = d.to_frame()
    assert frame.favours.tolist() == ["b", "a", "b", "a", "a", "c"]
    assert d.nodes_frame().favours.tolist() == ["b", "a"]
    # softmax shift: unchanged
    shifted = output_deltas(Network.from_weights([np.ones((1, 2)), V + np.array([[5.0], [-4.0]])],
                                                 [np.zeros(2), np.zeros(3)], classes=["a", "b", "c"]))
    close(shifted.differences, d.differences)
    close(shifted.strength, d.strength)


def test_delta_is_the_margin_contribution_at_h_equal_one():
    # identity hidden units: h = x, so the margin z_k - z_l moves by v_jk - v_jl per unit of h_j
    rng = np.random.default_rng(2)
    V = rng.normal(size=(3, 4))
    net = Network.from_weights([np.eye(3), V], [np.zeros(3), rng.normal(size=4)], activation="identity")
    d = output_deltas(net)
    P = net.predict_proba(np.vstack([np.zeros(3), np.eye(3)]), encoded=True)
    logp = np.log(P)
    for p, (k, l) in enumerate(d.pairs):
        margin_gain = (logp[1:, k] - logp[1:, l]) - (logp[0, k] - logp[0, l])
        close(d.differences[0][:, p], margin_gain, rtol=1e-9)


def test_sigmoid_deltas_and_sklearn_adapter():
    d = output_deltas(switch_net())
    assert d.pairs == ((1, 0),)
    close(d.differences[0][:, 0], [10.0, 0.0])
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(60, 2))
    mlp = MLPClassifier((3, 2), max_iter=20, random_state=0).fit(X, (X[:, 0] > 0.5).astype(int))
    d = output_deltas(mlp)
    close(d.differences[0][:, 0], mlp.coefs_[-1][:, 0])
    assert d.nodes == ("h2_1", "h2_2")
    act = hidden_activity(mlp, X, (X[:, 0] > 0.5).astype(int))
    close(act.high[0], hidden_activity(as_network(mlp), X, (X[:, 0] > 0.5).astype(int), encoded=True).high[0])
    wf = weight_frequency(mlp, X)
    close(wf.contributions[0], mlp.coefs_[0] * X.mean(axis=0)[:, None])


def test_needs_a_hidden_layer():
    net = Network.from_weights([np.ones((2, 1))], [np.zeros(1)])
    for f in (output_deltas,):
        with pytest.raises(ValueError, match="at least 1 hidden layer"):
            f(net)
    with pytest.raises(ValueError, match="at least 1 hidden layer"):
        hidden_activity(net, np.zeros((2, 2)), encoded=True)
    with pytest.raises(ValueError, match="encoded columns"):
        weight_frequency(switch_net(), np.zeros((2, 3)), encoded=True)
