"""Garson, Olden and Milne: hand-worked cases, invariances, closed forms, ensembles, adapters."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from shallownet import Network, Variable
from shallownet.interpret import as_network, garson, milne, olden
from shallownet.models.layers import logits

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
close = partial(np.testing.assert_allclose, rtol=1e-10, atol=1e-12)

# Two real inputs, two hidden nodes, one sigmoid output: worked by hand below.
W_HAND = np.array([[1.0, -2.0], [3.0, 4.0]])
V_HAND = np.array([[2.0], [1.0]])


def hand_net(V=V_HAND):
    return Network.from_weights([W_HAND, V], [np.zeros(2), np.zeros(1)])


def test_garson_hand_worked():
    # r = |w_ij| / column sums: [[1/4, 2/6], [3/4, 4/6]]; row sums [7/12, 17/12]; / 2 nodes
    result = garson(hand_net())
    close(result.values[0, :, 0], [7 / 24, 17 / 24])
    assert result.outputs == ("all outputs",)
    # the output weights cancel: any V, including a zero output weight (the limit case)
    close(garson(hand_net(np.array([[-50.0], [0.0]]))).values, result.values)


def test_garson_output_weight_variant_hand_worked():
    # sum_j r_ij |v_j| = [1/4*2 + 2/6*1, 3/4*2 + 4/6*1] = [5/6, 13/6] -> / 3
    result = garson(hand_net(), output_weights=True)
    close(result.values[0, :, 0], [5 / 18, 13 / 18])
    assert result.outputs == ("1 vs 0",)


def test_olden_hand_worked():
    # CW = W V = [1*2 - 2*1, 3*2 + 4*1] = [0, 10]
    result = olden(hand_net())
    close(result.values[0, :, 0], [0.0, 10.0])
    assert result.signed


def test_milne_hand_worked():
    # signed shares [[1/4, -2/6], [3/4, 4/6]] @ V = [1/2 - 1/3, 3/2 + 2/3] = [1/6, 13/6]; / (14/6)
    close(milne(hand_net()).values[0, :, 0], [1 / 14, 13 / 14])


def test_garson_two_layer_extension_hand_worked():
    W1 = np.array([[1.0, 1.0], [3.0, 1.0]])  # shares [[1/4, 1/2], [3/4, 1/2]]
    W2 = np.array([[2.0], [-6.0]])  # shares [[1/4], [3/4]]
    net = Network.from_weights([W1, W2, np.ones((1, 1))], [np.zeros(2), np.zeros(1), np.zeros(1)])
    result = garson(net)
    # paths: x0: 1/4*1/4 + 1/2*3/4 = 7/16; x1: 3/4*1/4 + 1/2*3/4 = 9/16
    close(result.values[0, :, 0], [7 / 16, 9 / 16])
    assert "EXTENSION" in result.note
    # Milne's extension, signed: [1/4*1/4 - 1/2*3/4, 3/4*1/4 - 1/2*3/4] = [-5/16, -3/16] -> / (8/16)
    close(milne(net).values[0, :, 0], [-5 / 8, -3 / 8])


# -- a richer network: two real variables, an enumerated group and a binary variable -----
VARIABLES = [
    Variable("a", "real", (0,), 0.0, 4.0),
    Variable("g", "enumerated", (1, 2, 3), categories=("x", "y", "z")),
    Variable("b", "real", (4,), -1.0, 1.0),
    Variable("flag", "binary", (5,), categories=(False, True)),
]


def random_net(hidden=(5,), K=3, M=1, activation="logistic", seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    sizes = (6, *hidden, 1 if K == 2 else K)
    Ws = [scale * rng.normal(size=(M, i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(size=(M, o)) for o in sizes[1:]]
    classes = [f"c{k}" for k in range(K)]
    return Network.from_weights(Ws, bs, activation=activation, variables=VARIABLES, classes=classes)


def valid_rows(n=9, seed=1):
    """Encoded rows that respect the encoding: one category of the group on, flag 0 or 1."""
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(size=n), np.eye(3)[rng.integers(0, 3, n)],
                            rng.uniform(size=n), rng.integers(0, 2, n)])


def rebuild(net, Ws, bs):
    return Network.from_weights(Ws, bs, activation=net.activation, output=net.output,
                                variables=net.variables, classes=net.classes)


def all_methods(net):
    return {"garson": garson(net), "garson_out": garson(net, output_weights=True),
            "olden": olden(net), "milne": milne(net)}


SHAPES = [((5,), 3), ((5,), 2), ((4, 3), 3), ((4, 3), 2)]


@pytest.mark.parametrize("hidden, K", SHAPES)
def test_garson_is_a_distribution(hidden, K):
    for result in (garson(random_net(hidden, K, M=3)), garson(random_net(hidden, K, M=3), True)):
        assert np.all(result.values >= 0)
        close(result.values.sum(axis=1), 1.0)


@pytest.mark.parametrize("hidden, K", SHAPES)
def test_milne_absolute_values_sum_to_one(hidden, K):
    close(np.abs(milne(random_net(hidden, K, M=2)).values).sum(axis=1), 1.0)


@pytest.mark.parametrize("hidden, K", SHAPES)
def test_permuting_hidden_nodes_changes_nothing(hidden, K):
    net = random_net(hidden, K, M=2)
    Ws, bs = net.weights(), net.biases()
    rng = np.random.default_rng(5)
    for l in range(len(hidden)):
        p = rng.permutation(hidden[l])
        Ws[l], bs[l], Ws[l + 1] = Ws[l][:, :, p], bs[l][:, p], Ws[l + 1][:, p, :]
    moved = rebuild(net, Ws, bs)
    X = valid_rows()
    close(net.predict_proba(X, encoded=True), moved.predict_proba(X, encoded=True))
    for name, result in all_methods(net).items():
        close(all_methods(moved)[name].values, result.values, err_msg=name)


@pytest.mark.parametrize("hidden, K", SHAPES)
def test_one_hot_and_softmax_shifts_change_nothing(hidden, K):
    net = random_net(hidden, K, M=2)
    Ws, bs = net.weights(), net.biases()
    rng = np.random.default_rng(7)
    delta = rng.normal(size=(2, hidden[0]))
    Ws[0] = Ws[0].copy()
    Ws[0][:, 1:4, :] += delta[:, None, :]  # the group's three columns
    bs[0] = bs[0] - delta
    if K > 2:  # softmax shift: a constant per last hidden node added to all classes
        Ws[-1] = Ws[-1] + rng.normal(size=(2, hidden[-1], 1))
    moved = rebuild(net, Ws, bs)
    X = valid_rows()
    close(net.predict_proba(X, encoded=True), moved.predict_proba(X, encoded=True))
    for name, result in all_methods(net).items():
        other = all_methods(moved)[name]
        close(other.values, result.values, err_msg=name)
        if result.column_values is not None:
            close(other.column_values, result.column_values, err_msg=name)


@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
def test_tanh_sign_flip_leaves_olden_and_milne_unchanged(hidden):
    net = random_net(hidden, 3, activation="tanh")
    Ws, bs = net.weights(), net.biases()
    for j in (0, 2):  # flip two first-layer nodes: in-weights, bias and out-weights
        Ws[0], bs[0], Ws[1] = Ws[0].copy(), bs[0].copy(), Ws[1].copy()
        Ws[0][:, :, j] *= -1
        bs[0][:, j] *= -1
        Ws[1][:, j, :] *= -1
    moved = rebuild(net, Ws, bs)
    X = valid_rows()
    close(net.predict_proba(X, encoded=True), moved.predict_proba(X, encoded=True))
    for f in (olden, milne, garson):
        close(f(moved).values, f(net).values)


@pytest.mark.parametrize("hidden, K", [((), 3), ((5,), 3), ((4, 3), 3), ((4, 3), 2)])
def test_olden_equals_the_collapsed_linear_map_for_identity_units(hidden, K):
    net = random_net(hidden, K, activation="identity")
    params = jax.tree_util.tree_map(lambda a: a[0], net.params)
    x0 = jnp.asarray(np.random.default_rng(3).uniform(size=6))
    J = np.asarray(jax.jacfwd(lambda x: logits(params, x, "identity"))(x0)).T  # (D, n_out)
    T = olden(net).layout.T
    expected = J @ T
    expected[1:4] -= expected[1:4].mean(axis=0)  # the group's categories, centred
    result = olden(net)
    close(result.column_values[0], expected, rtol=1e-9)
    # variable level: real and binary variables signed, the group its range
    close(result.values[0][[0, 2, 3]], expected[[0, 4, 5]], rtol=1e-9)
    close(result.values[0][1], expected[1:4].max(axis=0) - expected[1:4].min(axis=0), rtol=1e-9)


def test_olden_per_raw_unit_divides_by_the_training_range():
    result = olden(random_net())
    close(result.per_raw_unit[0][0], result.values[0][0] / 4.0)
    close(result.per_raw_unit[0][2], result.values[0][2] / 2.0)
    close(result.per_raw_unit[0][[1, 3]], result.values[0][[1, 3]])
    frame = result.to_frame()
    row = frame[(frame.variable == "a") & (frame.output == "c1")].iloc[0]
    assert row.mean_per_raw_unit == pytest.approx(row["mean"] / 4.0)
    assert set(frame[frame.variable == "g"].form) == {"range"}


def test_softmax_per_class_and_contrast_targets():
    net = random_net((5,), 3)
    result = olden(net)
    W, V = net.weights(0)
    CW = W @ V
    assert result.outputs == ("c0", "c1", "c2", "c1 vs c0", "c2 vs c0", "c2 vs c1")
    real = [0, 4]
    close(result.column_values[0][real, 3], CW[real, 1] - CW[real, 0])
    close(result.column_values[0][real, 1], CW[real, 1] - CW[real].mean(axis=1))


def test_ensemble_mean_and_sd_over_members():
    net = random_net((5,), 3, M=4)
    for f in (garson, olden, milne):
        result = f(net)
        single = np.stack([f(net.member(m)).values[0] for m in range(4)])
        close(result.values, single)
        close(result.mean, single.mean(axis=0))
        close(result.sd, single.std(axis=0, ddof=1))
        frame = result.to_frame()
        first = frame.iloc[0]
        assert first["mean"] == pytest.approx(single[:, 0, 0].mean())
        assert first["sd"] == pytest.approx(single[:, 0, 0].std(ddof=1))
    assert np.isnan(olden(net.member(0)).sd).all()


def test_ranks_order_by_absolute_mean():
    frame = olden(hand_net()).to_frame()
    assert frame.set_index("variable")["rank"].to_dict() == {"x0": 2, "x1": 1}


def test_one_hidden_layer_needed_for_garson_and_milne():
    net = Network.from_weights([W_HAND], [np.zeros(2)])
    with pytest.raises(ValueError, match="at least 1 hidden layer"):
        garson(net)
    with pytest.raises(ValueError, match="at least 1 hidden layer"):
        milne(net)
    assert olden(net).outputs == ("0", "1", "1 vs 0")
    close(olden(net).values[0][:, 2], W_HAND[:, 1] - W_HAND[:, 0])


def test_columns_frame_only_where_defined():
    with pytest.raises(ValueError, match="no per-column detail"):
        garson(random_net()).columns_frame()
    frame = olden(random_net()).columns_frame()
    assert frame[frame.variable == "g"].category.tolist()[:3] == ["x", "y", "z"]


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("hidden", [(4,), (4, 3)])
def test_through_the_sklearn_adapter(classes, hidden):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(80, 3))
    y = np.minimum((X[:, 0] * classes).astype(int), classes - 1)
    mlp = MLPClassifier(hidden, activation="tanh", max_iter=30, random_state=0).fit(X, y)
    P = mlp.coefs_[0]
    for W in mlp.coefs_[1:]:
        P = P @ W
    result = olden(mlp)
    if classes == 2:
        close(result.values[0][:, 0], P[:, 0], rtol=1e-6)
    else:
        close(result.values[0][:, 3], P[:, 1] - P[:, 0], rtol=1e-6)
    net = as_network(mlp)
    for f in (garson, olden, milne):
        close(f(mlp).values, f(net).values)
    share = np.abs(mlp.coefs_[0]) / np.abs(mlp.coefs_[0]).sum(axis=0)
    if len(hidden) == 1:
        close(garson(mlp).values[0][:, 0], share.sum(axis=1) / hidden[0], rtol=1e-6)


def test_models_of_the_wrong_type_are_refused():
    with pytest.raises(TypeError, match="`output_weights` must be True or False"):
        garson(hand_net(), output_weights="yes")
    with pytest.raises(TypeError, match="must be a shallownet.Network"):
        olden(object())
    with pytest.raises(ValueError, match="not fitted"):
        garson(MLPClassifier())
