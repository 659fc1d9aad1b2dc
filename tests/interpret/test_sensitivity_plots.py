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
    ax = plot_surface(decision_surface(net, X, ["a", "b"], n_grid=9, at=5))
    assert ax.get_xlabel() == "a" and ax.get_ylabel() == "b"
    # Oracle: p(1) from predict_proba on the raw grid of a and b, g held at case 5's value;
    # the filled contours and the decision boundary drawn from it must be the plotted ones.
    ga = np.linspace(X["a"].min(), X["a"].max(), 9)
    gb = np.linspace(X["b"].min(), X["b"].max(), 9)
    rows = pd.DataFrame({"a": np.repeat(ga, 9), "b": np.tile(gb, 9), "g": X["g"].iloc[5]})
    P = net.predict_proba(rows)[:, 1].reshape(9, 9).T  # rows: b
    assert 0.05 < (P > 0.5).mean() < 0.95  # the boundary crosses the map
    _, ref = plt.subplots()
    want = [  # decision 0/1; the plot asks for levels 0.5 and 1.5, the second draws nothing
        ref.contourf(ga, gb, P, levels=np.linspace(0, 1, 11)),
        ref.contour(ga, gb, (P > 0.5).astype(float), levels=[0.5, 1.5]),
    ]
    drawn = [c for c in ax.collections if c.__class__.__name__.endswith("ContourSet")]
    assert len(drawn) == 2 and len(drawn[1].get_paths()[0].vertices) > 2  # a boundary is drawn
    for got, exp in zip(drawn, want):
        np.testing.assert_allclose(got.levels, exp.levels)
        assert len(got.get_paths()) == len(exp.get_paths())
        for gp, ep in zip(got.get_paths(), exp.get_paths()):
            np.testing.assert_allclose(gp.vertices, ep.vertices, atol=1e-12)
    s = decision_surface(net, X, ["a", "g"], n_grid=9, at=3)
    ax = plot_surface(s)
    np.testing.assert_allclose(ax.collections[0].get_array().reshape(3, 9), s.proba[:, :, 1].T)
    with pytest.raises(TypeError, match="decision_surface"):
        plot_surface(s.proba)
    plt.close("all")
