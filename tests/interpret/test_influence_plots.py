"""Influence plots draw what the results hold."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.container import ErrorbarContainer
import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.interpret.influence import expected_influence, potential_influence
from shallownet.plots.influence import plot_influence, plot_influence_heatmap


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60), "g": rng.choice(["u", "v"], 60)})
    enc = sn.Encoder().fit(X)
    x = enc.transform(X)
    W = [rng.normal(scale=3, size=(2, 4, 4)), rng.normal(scale=3, size=(2, 4, 3))]
    b = [-np.einsum("d,mdh->mh", x.mean(axis=0), W[0]), -W[1].sum(axis=1) / 2]  # centred
    net = sn.Network.from_weights(W, b, variables=enc)
    y = rng.integers(0, 3, 60)
    return net, X, y


@pytest.fixture(scope="module")
def results(setup):
    net, X, y = setup
    return expected_influence(net, X, y, n_grid=11), potential_influence(net, X, y, n_grid=11)


def test_influence_bars(results):
    ei, pi = results
    ax = plot_influence(ei)
    bars = ax.patches
    assert len(bars) == 3 * 3  # PI, EI, marginal EI for 3 variables
    np.testing.assert_allclose([p.get_height() for p in bars[3:6]], ei.to_frame()["expected"])
    # The EI bars carry the range over the two members.
    assert any(isinstance(c, ErrorbarContainer) for c in ax.containers)
    assert np.all(ei.to_frame()["expected"] > 0)
    ax = plot_influence(ei, by="predicted")
    assert len(ax.patches) == 3 * 3  # one bar per class and variable
    ax = plot_influence(pi)
    np.testing.assert_allclose([p.get_height() for p in ax.patches[3:]], pi.to_frame()["graded"])
    plt.close("all")


def test_influence_bars_per_true_and_predicted_class(setup, results):
    """Bar k*V + j is the mean of variable j's per-case influence over the cases whose true
    (or predicted) class is k: oracle from the per-case arrays, the y passed in and the argmax
    of net.predict_proba; the aggregate table must hold the same numbers."""
    net, X, y = setup
    predicted = net.predict_proba(X).argmax(axis=1)
    for result, measure in ((results[0], "expected"), (results[1], "potential")):
        np.testing.assert_array_equal(result.predicted, predicted)
        values = getattr(result, measure).astype(np.float64)  # (N, V)
        for by, groups in (("true", y), ("predicted", predicted)):
            want = np.array([
                values[groups == k].mean(axis=0) if np.any(groups == k) else np.zeros(3) for k in range(3)
            ])  # (K, V)
            assert np.ptp(want) > 0.05  # the classes differ, so a wrong grouping shows
            ax = plot_influence(result, by=by)
            heights = np.array([p.get_height() for p in ax.patches]).reshape(3, 3)
            np.testing.assert_allclose(heights, want, atol=1e-12)
            agg = result.aggregate(measure, by=by)
            table = agg.pivot(index="group", columns="variable", values=measure).loc[list(result.classes), list(result.variables)]
            np.testing.assert_allclose(np.nan_to_num(table.to_numpy()), want, atol=1e-12)
            assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"{by} class {c}" for c in result.classes]
            plt.close(ax.figure)


def test_influence_heatmap(results):
    ei, _ = results
    ax = plot_influence_heatmap(ei)
    image = ax.images[0].get_array()
    assert image.shape == (60, 3)
    order = np.lexsort((-ei.expected.sum(axis=1), ei.predicted))
    np.testing.assert_allclose(image, ei.expected[order])
    plt.close("all")


def test_plot_errors(results):
    with pytest.raises(TypeError, match="potential_influence or expected_influence"):
        plot_influence(object())
    with pytest.raises(ValueError, match="`by` must be one of"):
        plot_influence(results[0], by="correct")
