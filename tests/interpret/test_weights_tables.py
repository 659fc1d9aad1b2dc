"""Weight tables: hand-worked values, identifiable forms, raw units, and the sklearn adapter."""

from functools import partial

import numpy as np
import pandas as pd
import pytest
from sklearn.neural_network import MLPClassifier

from shallownet import Network, Variable
from shallownet.interpret import weight_table

close = partial(np.testing.assert_allclose, rtol=1e-12, atol=1e-12)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# One real variable (raw range 10..30, scale 20) and one enumerated variable with 3 categories.
VARIABLES = [
    Variable("size", "real", (0,), 10.0, 30.0),
    Variable("colour", "enumerated", (1, 2, 3), categories=("red", "green", "blue")),
]
W1 = np.array([
    [2.0, -1.0],   # size
    [1.0, 0.0],    # colour=red
    [4.0, 3.0],    # colour=green
    [1.0, -3.0],   # colour=blue
])
B1 = np.array([0.5, -0.5])
V = np.array([[1.0, 2.0, 6.0], [0.0, -3.0, 3.0]])
C = np.array([0.0, 1.0, -1.0])


def tiny(W1=W1, b1=B1, V=V, c=C):
    return Network.from_weights([W1, V], [b1, c], variables=VARIABLES, classes=["a", "b", "c"])


def test_hand_worked_identifiable_forms():
    wt = weight_table(tiny())
    # group means into h1: (1+4+1)/3 = 2, into h2: (0+3-3)/3 = 0
    close(wt.input_centred[0], [[2, -1], [-1, 0], [2, 3], [-1, -3]])
    close(wt.input_bias[0], [0.5 + 2, -0.5 + 0])
    # ranges: size |w|; colour max - min: h1 4 - 1 = 3, h2 3 - (-3) = 6
    close(wt.input_ranges[0], [[2, 1], [3, 6]])
    # per raw unit: size divided by 20, categories unchanged
    close(wt.input_per_raw_unit[0][0], [0.1, -0.05])
    close(wt.input_per_raw_unit[0][1:], wt.input_centred[0][1:])
    close(wt.ranges_per_raw_unit[0], [[0.1, 0.05], [3, 6]])
    # output targets: centred per class (row means 3 and 0), then contrasts b-a, c-a, c-b
    assert wt.layout.targets == ("a", "b", "c", "b vs a", "c vs a", "c vs b")
    close(wt.output_targets[0], [
        [1 - 3, 2 - 3, 6 - 3, 1, 5, 4],
        [0, -3, 3, -3, 3, 6],
    ])


def test_centred_form_reproduces_the_network():
    # the identifiable pieces reassemble the first-layer pre-activation exactly
    wt = weight_table(tiny())
    X = np.array([[0.3, 0, 1, 0], [1.0, 1, 0, 0], [0.0, 0, 0, 1]])
    close(X @ wt.input_centred[0] + wt.input_bias[0], X @ W1 + B1)


def shifted(delta, eps):
    """The same function: one-hot shift (delta per node) and softmax shift (eps per node)."""
    W = W1.copy()
    W[1:4] += delta
    return tiny(W1=W, b1=B1 - delta, V=V + eps[:, None])


def test_one_hot_and_softmax_shift_change_no_reported_value():
    base, moved = weight_table(tiny()), weight_table(shifted(np.array([5.0, -2.0]), np.array([3.0, -7.0])))
    X = np.array([[0.3, 0, 1, 0], [1.0, 1, 0, 0], [0.0, 0, 0, 1]])
    close(tiny().predict_proba(X, encoded=True),
                               shifted(np.array([5.0, -2.0]), np.array([3.0, -7.0])).predict_proba(X, encoded=True))
    assert not np.allclose(base.weights[0], moved.weights[0])  # the raw weights did move
    for name in ("input_centred", "input_bias", "input_ranges", "output_targets", "input_per_raw_unit"):
        close(getattr(base, name), getattr(moved, name), err_msg=name)
    close(base.table(0).to_numpy(), moved.table(0).to_numpy())
    close(base.table(1).to_numpy(), moved.table(1).to_numpy())


def test_sigmoid_output_target_is_its_weight():
    net = Network.from_weights([W1, V[:, :1]], [B1, C[:1]], variables=VARIABLES, classes=["no", "yes"])
    wt = weight_table(net)
    assert wt.layout.targets == ("yes vs no",)
    close(wt.output_targets[0][:, 0], V[:, 0])


def test_wide_tables_and_long_frame_agree():
    wt = weight_table(tiny())
    raw = wt.table(0, kind="raw")
    assert list(raw.index) == ["size", "colour=red", "colour=green", "colour=blue", "(bias)"]
    assert list(raw.columns) == ["h1", "h2"]
    close(raw.to_numpy(), np.vstack([W1, B1]))
    frame = wt.to_frame()
    inputs = frame[frame.layer == "input->hidden1"]
    got = inputs[(inputs.source == "colour=green") & (inputs.target == "h2")].iloc[0]
    assert (got.variable, got.category, got.weight, got.centred) == ("colour", "green", 3.0, 3.0)
    size = inputs[(inputs.source == "size") & (inputs.target == "h1")].iloc[0]
    assert size.per_raw_unit == pytest.approx(0.1)
    targets = frame[frame.layer == "hidden1->targets"]
    assert len(targets) == 2 * 6
    row = targets[(targets.source == "h2") & (targets.target == "c vs b")].iloc[0]
    assert row.weight == pytest.approx(6.0)
    # every raw weight appears once in the long frame (inputs 4x2 + 2 biases, outputs 2x3 + 3)
    assert len(frame[frame.layer.isin(["input->hidden1", "hidden1->output"])]) == 10 + 9
    assert "colour=green" in wt.summary()


def test_two_hidden_layers_and_ensemble():
    rng = np.random.default_rng(0)
    Ws = [rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 2, 1))]
    bs = [rng.normal(size=(3, 5)), rng.normal(size=(3, 2)), rng.normal(size=(3, 1))]
    wt = weight_table(Network.from_weights(Ws, bs))
    assert wt.n_members == 3 and wt.hidden == (("h1_1", "h1_2", "h1_3", "h1_4", "h1_5"), ("h2_1", "h2_2"))
    for m in range(3):
        close(wt.table(1, member=m).to_numpy(), Ws[1][m])
        close(wt.table(2, member=m).to_numpy(), Ws[2][m])
    layers = wt.to_frame().layer.unique().tolist()
    assert layers == ["input->hidden1", "hidden1->hidden2", "hidden2->output", "hidden2->targets"]


def test_no_hidden_layer_gives_identifiable_coefficients():
    W = np.array([[1.0, 2.0], [3.0, 5.0]])
    wt = weight_table(Network.from_weights([W], [np.array([0.5, 1.0])]))
    close(wt.table(0)["1 vs 0"].to_numpy(), [1.0, 2.0, 0.5])
    close(wt.input_ranges[0], np.abs(W @ wt.layout.T))


def test_sklearn_adapter_weights_are_the_mlps():
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(60, 3))
    y = np.array(["p", "q", "r"])[(X[:, 0] * 3).astype(int).clip(0, 2)]
    mlp = MLPClassifier((4,), max_iter=50, random_state=0).fit(pd.DataFrame(X, columns=["u", "v", "w"]), y)
    wt = weight_table(mlp)
    close(wt.weights[0][0], mlp.coefs_[0])
    close(wt.output_targets[0][:, 3], mlp.coefs_[1][:, 1] - mlp.coefs_[1][:, 0])
    assert wt.layout.variables == ("u", "v", "w")
    assert wt.layout.targets[3] == "q vs p"


@pytest.mark.parametrize("kwargs, message", [
    ({"layer": 2}, "`layer` must be in"),
    ({"member": 1}, "`member` must be in"),
    ({"kind": "odd"}, "`kind` must be one of"),
    ({"layer": 1, "kind": "ranges"}, "input layer"),
])
def test_table_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        weight_table(tiny()).table(**kwargs)
