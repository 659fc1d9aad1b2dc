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
def results():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60), "g": rng.choice(["u", "v"], 60)})
    enc = sn.Encoder().fit(X)
    x = enc.transform(X)
    W = [rng.normal(scale=3, size=(2, 4, 4)), rng.normal(scale=3, size=(2, 4, 3))]
    b = [-np.einsum("d,mdh->mh", x.mean(axis=0), W[0]), -W[1].sum(axis=1) / 2]  # centred
    net = sn.Network.from_weights(W, b, variables=enc)
    y = rng.integers(0, 3, 60)
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
