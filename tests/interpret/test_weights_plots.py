"""Drawings of weight results: what is drawn matches the numbers."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from shallownet import Network, Variable  # noqa: E402
from shallownet.interpret import garson, hidden_activity, olden, weight_table  # noqa: E402
from shallownet.interpret.randomization import OldenTest, permutation_p_values  # noqa: E402
from shallownet.plots.weights import (  # noqa: E402
    NEGATIVE,
    POSITIVE,
    plot_hidden_activity,
    plot_importance,
    plot_network,
)

VARIABLES = [
    Variable("size", "real", (0,), 10.0, 30.0),
    Variable("colour", "enumerated", (1, 2, 3), categories=("red", "green", "blue")),
]
W1 = np.array([[2.0, -1.0], [1.0, 0.0], [4.0, 3.0], [1.0, -3.0]])
V = np.array([[1.0, 2.0, 6.0], [0.0, -3.0, 3.0]])
Z = np.array([[0.5, 1, 0, 0], [1.0, 0, 1, 0], [0.0, 0, 1, 0], [0.5, 0, 0, 1]])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def net(members=1):
    Ws = [np.stack([W1] * members), np.stack([V] * members)]
    bs = [np.zeros((members, 2)), np.zeros((members, 3))]
    return Network.from_weights(Ws, bs, variables=VARIABLES, classes=["a", "b", "c"])


def test_network_diagram_draws_each_identifiable_weight():
    act = hidden_activity(net(), Z, ["a", "b", "c", "a"], encoded=True)
    ax = plot_network(weight_table(net()), act, max_width=5.0)
    # identifiable weights: centred inputs (8, one exact zero) and class-centred outputs (6)
    centred_in = np.array([[2, -1], [-1, 0], [2, 3], [-1, -3]], dtype=float)
    centred_out = V - V.mean(axis=1, keepdims=True)
    weights = np.concatenate([centred_in.ravel(), centred_out.ravel()])
    weights = weights[weights != 0]
    edges = [line for line in ax.lines if line.get_color() in (POSITIVE, NEGATIVE)]
    assert len(edges) == len(weights)
    assert sum(line.get_color() == POSITIVE for line in edges) == np.sum(weights > 0)
    widths = sorted(line.get_linewidth() for line in edges)
    np.testing.assert_allclose(widths, sorted(5.0 * np.abs(weights) / np.abs(weights).max()))
    texts = [t.get_text() for t in ax.texts]
    assert {"colour", "size", "red", "green", "blue", "h1", "h2", "a", "b", "c"} <= set(texts)
    assert f"F={act.high[0][0, 0, 0]:.2f}" in texts
    assert len(ax.lines) == len(edges) + 1  # one bracket for the one enumerated group


def test_network_diagram_two_layers_sigmoid_and_member_choice():
    rng = np.random.default_rng(0)
    two = Network.from_weights([rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 2, 1))],
                               [np.zeros((2, 4)), np.zeros((2, 2)), np.zeros((2, 1))])
    ax = plot_network(weight_table(two), member=1)
    assert len(ax.lines) == 3 * 4 + 4 * 2 + 2 * 1
    assert "P(1)" in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError, match="`member` must be in"):
        plot_network(weight_table(two), member=2)
    with pytest.raises(ValueError, match="another shape"):
        plot_network(weight_table(two), hidden_activity(net(), Z, encoded=True))
    with pytest.raises(TypeError, match="must be a WeightTable"):
        plot_network(olden(net()))


def test_importance_bars_show_means_and_member_spread():
    rng = np.random.default_rng(1)
    ens = Network.from_weights([rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 2, 3))],
                               [np.zeros((3, 2)), np.zeros((3, 3))], variables=VARIABLES)
    result = olden(ens)
    ax = plot_importance(result)  # default: the three centred class logits
    bars = ax.patches
    assert len(bars) == 2 * 3
    got = sorted(b.get_width() for b in bars)
    np.testing.assert_allclose(got, sorted(result.mean[:, :3].ravel()))
    bar_sets = [c for c in ax.containers if hasattr(c, "errorbar")]
    assert len(bar_sets) == 3
    for t, bars in enumerate(bar_sets):  # error bars of +- 1 sd over members
        segments = bars.errorbar.lines[2][0].get_segments()
        half = [abs(seg[1][0] - seg[0][0]) / 2 for seg in segments]
        np.testing.assert_allclose(sorted(half), sorted(result.sd[:, t]))
    ax = plot_importance(result, output="contrasts")
    assert len(ax.patches) == 2 * 3
    ax = plot_importance(result, output="1 vs 0")
    np.testing.assert_allclose(sorted(b.get_width() for b in ax.patches), sorted(result.mean[:, 3]))
    ax = plot_importance(garson(ens))
    np.testing.assert_allclose(sorted(b.get_width() for b in ax.patches), sorted(garson(ens).mean[:, 0]))
    with pytest.raises(ValueError, match="`output` must be one of"):
        plot_importance(garson(ens), output="classes")


def test_importance_bars_of_a_randomisation_test_carry_p_values():
    observed = olden(net())
    null = np.zeros((4, 2, 6))
    test = OldenTest(observed, null, permutation_p_values(observed.mean, null), {})
    ax = plot_importance(test, output="b vs a")
    assert sorted(t.get_text().strip() for t in ax.texts) == ["p=0.2", "p=0.2"]


def test_activity_heatmap_shows_the_by_class_table():
    act = hidden_activity(net(), Z, ["a", "b", "c", "a"], encoded=True, high=0.6)
    ax = plot_hidden_activity(act, by="true")
    np.testing.assert_allclose(ax.images[0].get_array(), act.by_class(0, 0, "true").to_numpy())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    ax = plot_hidden_activity(act, by="predicted", which="low")
    np.testing.assert_allclose(ax.images[0].get_array(), act.by_class(0, 0, "predicted", "low").to_numpy())
    fig, given = plt.subplots()
    assert plot_hidden_activity(act, ax=given) is given
