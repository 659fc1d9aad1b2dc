"""Sensitivity, profile and surface plots draw what the results hold."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.interpret.profiles import decision_surface, partial_dependence, profile
from shallownet.interpret.sensitivity import sensitivity
from shallownet.plots.sensitivity import plot_partial_dependence, plot_profile, plot_sensitivity, plot_surface


@pytest.fixture(scope="module")
def net_and_data():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=40), "b": rng.uniform(size=40), "g": rng.choice(["u", "v", "w"], 40)})
    enc = sn.Encoder().fit(X)
    W = [rng.normal(scale=2, size=(5, 4)), rng.normal(size=(4, 1))]
    net = sn.Network.from_weights(W, [rng.normal(size=4), rng.normal(size=1)], variables=enc)
    return net, X


def test_sensitivity_plots(net_and_data):
    net, X = net_and_data
    s = sensitivity(net, X)
    ax = plot_sensitivity(s)
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_allclose(offsets[:, 0], s.mean[:, 1])  # positive class by default
    np.testing.assert_allclose(offsets[:, 1], s.sd[:, 1])
    ax = plot_sensitivity(s, kind="rms", class_=0)
    np.testing.assert_allclose([p.get_width() for p in ax.patches[:3]], s.rms[:, 0])
    with pytest.raises(ValueError, match="`class_` must be one of"):
        plot_sensitivity(s, class_="nope")
    plt.close("all")


def test_profile_and_partial_dependence_plots(net_and_data):
    net, X = net_and_data
    p = profile(net, X, "a", n_steps=9)
    ax = plot_profile(p)
    assert len(ax.lines) == 6
    np.testing.assert_allclose(ax.lines[2].get_ydata(), p.curves[2, :, 1])
    ax = plot_profile(profile(net, X, "g"))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["u", "v", "w"]
    pdp = partial_dependence(net, X, "b", n_grid=7)
    ax = plot_partial_dependence(pdp, max_ice=10)
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), pdp.average[:, 1])
    assert len(ax.lines) == 11
    plt.close("all")


def test_surface_plots(net_and_data):
    net, X = net_and_data
    ax = plot_surface(decision_surface(net, X, ["a", "b"], n_grid=9))
    assert ax.get_xlabel() == "a" and ax.get_ylabel() == "b"
    s = decision_surface(net, X, ["a", "g"], n_grid=9, at=3)
    ax = plot_surface(s)
    np.testing.assert_allclose(ax.collections[0].get_array().reshape(3, 9), s.proba[:, :, 1].T)
    with pytest.raises(TypeError, match="decision_surface"):
        plot_surface(s.proba)
    plt.close("all")
