"""Boolean reading of hidden nodes: planted OR / AND structure, k-of-n, patterns, adapters."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from shallownet import Network
from shallownet.interpret import hidden_logic

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)
BITS = RNG.integers(0, 2, size=(200, 4)).astype(float)


def planted_softmax():
    """Each input switches one hidden node (h_j = s(20 x_j - 10)). Class A is the default,
    B = h1 OR h2 (z_B = 10 h1 + 10 h2 - 5), C = h3 AND h4 (z_C = 10 h3 + 10 h4 - 15)."""
    V = np.array([[0, 10, 0], [0, 10, 0], [0, 0, 10], [0, 0, 10.0]])
    return Network.from_weights([np.eye(4) * 20, V], [-10 * np.ones(4), np.array([0, -5, -15.0])],
                                classes=["A", "B", "C"])


def units(result, member=0):
    return {(u.connection, u.target): u for u in result.units if u.member == member}


def test_planted_or_and_outputs_are_classified():
    u = units(hidden_logic(planted_softmax(), BITS, encoded=True))
    b, c, a = u["hidden1->output", "B"], u["hidden1->output", "C"], u["hidden1->output", "A"]
    assert (b.kind, b.k, b.support, b.minimal_sets) == ("OR", 1, ("h1", "h2"), (("h1",), ("h2",)))
    assert (c.kind, c.k, c.support, c.minimal_sets) == ("AND", 2, ("h3", "h4"), (("h3", "h4"),))
    assert b.inhibitors == () and set(b.mixed) == {"h3", "h4"}  # they favour C, not A
    assert (a.kind, a.support, a.minimal_sets) == ("default", (), ((),))
    # fires: B's rule holds when x1 or x2 is on, C's when both x3 and x4 are
    assert b.fires == pytest.approx(np.mean(BITS[:, 0] + BITS[:, 1] > 0))
    assert c.fires == pytest.approx(np.mean(BITS[:, 2] * BITS[:, 3]))


def test_planted_two_layer_network_or_and_in_the_second_layer():
    # layer 2: g1 = h1 OR h2, g2 = h1 AND h2; sigmoid output "1" = g1 AND g2
    net = Network.from_weights(
        [np.eye(2) * 20, np.array([[10, 10], [10, 10.0]]), np.array([[5.0], [5.0]])],
        [-10 * np.ones(2), np.array([-5, -15.0]), np.array([-7.0])],
    )
    result = hidden_logic(net, BITS[:, :2], encoded=True)
    assert result.connections == ("hidden2->output", "hidden1->hidden2")
    u = units(result)
    assert u["hidden1->hidden2", "h2_1"].kind == "OR"
    assert u["hidden1->hidden2", "h2_2"].kind == "AND"
    assert u["hidden2->output", "1"].kind == "AND"
    assert u["hidden2->output", "0"].kind == "default"
    assert u["hidden2->output", "0"].inhibitors == ("h2_1", "h2_2")
    np.testing.assert_array_equal(result.fidelity, 1.0)
    frame = result.patterns_frame()
    layer1 = frame[frame.layer == "hidden1"].set_index("pattern")
    # the implied layer-2 pattern of each layer-1 pattern: OR and AND of the two bits
    assert layer1.implied.to_dict() == {"11": "11", "10": "10", "01": "10", "00": "00"}
    for pattern, row in layer1.iterrows():
        assert row["count"] == np.sum((BITS[:, 0] == int(pattern[0])) & (BITS[:, 1] == int(pattern[1])))
    assert frame.groupby("layer")["count"].sum().tolist() == [200, 200]
    assert frame.groupby("layer")["frequency"].sum().tolist() == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize("weights, bias, kind, k, minimal", [
    ([10, 10, 10], -15, "k-of-n", 2, {("h1", "h2"), ("h1", "h3"), ("h2", "h3")}),
    ([10, 5, 5], -12, "mixed", None, {("h1", "h2"), ("h1", "h3")}),
    ([10, 10, 10], -35, "never", None, set()),
    ([10, 10, 10], 1, "default", 0, {()}),
    ([10, 0, 0], -5, "single", 1, {("h1",)}),
])
def test_threshold_logic_kinds(weights, bias, kind, k, minimal):
    net = Network.from_weights([np.eye(3) * 20, np.array(weights, dtype=float)[:, None]],
                               [-10 * np.ones(3), np.array([float(bias)])])
    u = units(hidden_logic(net, BITS[:, :3], encoded=True))["hidden1->output", "1"]
    assert (u.kind, u.k, set(u.minimal_sets)) == (kind, k, minimal)


def test_tanh_nodes_are_off_at_minus_one():
    # margin = 3 + sum_j v_j h_j with h in {-1, 1} and v = (2, 2): all off gives -1
    net = Network.from_weights([np.eye(2) * 20, np.array([[2.0], [2.0]])], [-10 * np.ones(2), np.array([3.0])],
                               activation="tanh")
    result = hidden_logic(net, BITS[:, :2], encoded=True)
    assert result.levels == (-1.0, 1.0)
    u = units(result)["hidden1->output", "1"]
    assert u.kind == "OR"  # one node on: 3 + 2 - 2 = 3 > 0
    # with levels (0, 1) nothing needs to be on: 3 > 0
    at_zero = hidden_logic(net, BITS[:, :2], encoded=True, levels=(0, 1))
    assert units(at_zero)["hidden1->output", "1"].kind == "default"
    with pytest.raises(ValueError, match="tanh units lie in"):
        hidden_logic(net, BITS[:, :2], encoded=True, levels=(-2, 1))


def test_permuting_hidden_nodes_relabels_but_keeps_the_logic():
    net = planted_softmax()
    p = np.array([2, 0, 3, 1])
    W, V = net.weights(0)
    moved = Network.from_weights([W[:, p], V[p]], [net.biases(0)[0][p], net.biases(0)[1]], classes=["A", "B", "C"])
    a, b = hidden_logic(net, BITS, encoded=True), hidden_logic(moved, BITS, encoded=True)
    relabel = {f"h{p[i] + 1}": f"h{i + 1}" for i in range(4)}
    for ua, ub in zip(a.units, b.units):
        assert ua.kind == ub.kind and ua.fires == ub.fires
        assert {tuple(sorted(relabel[n] for n in s)) for s in ua.minimal_sets} == set(ub.minimal_sets)


def test_ensemble_and_sklearn_adapter():
    X = BITS[:, :2]
    y = (X[:, 0] + X[:, 1] > 0).astype(int)  # OR of the inputs
    mlp = MLPClassifier((2,), max_iter=20, random_state=0).fit(X, y)
    mlp.coefs_ = [np.eye(2) * 20, np.array([[10.0], [10.0]])]
    mlp.intercepts_ = [-10 * np.ones(2), np.array([-5.0])]
    u = units(hidden_logic(mlp, X))
    assert u["hidden1->output", "1"].kind == "OR"
    net = Network.from_weights([np.stack([np.eye(2) * 20] * 2), np.array([[[10.0], [10.0]], [[10.0], [10.0]]])],
                               [-10 * np.ones((2, 2)), np.array([[-5.0], [-15.0]])])
    result = hidden_logic(net, X, encoded=True)
    assert units(result, 0)["hidden1->output", "1"].kind == "OR"
    assert units(result, 1)["hidden1->output", "1"].kind == "AND"
    assert result.fidelity.shape == (2, 1)
    assert set(result.to_frame().member) == {0, 1}
    assert "fidelity" in result.summary()


def test_large_supports_are_refused_with_a_remedy():
    net = Network.from_weights([np.eye(4), np.ones((4, 1))], [np.zeros(4), np.zeros(1)])
    with pytest.raises(ValueError, match="max_support=3"):
        hidden_logic(net, BITS, encoded=True, max_support=3)
    with pytest.raises(ValueError, match="levels"):
        hidden_logic(net, BITS, encoded=True, levels=(1, 0))
