"""Information-plane drawings and the ``shallownet bottleneck`` command."""

import json

import numpy as np
import pytest

from shallownet.cli import main
from shallownet.information import InformationPlane
from shallownet.plots.information import plot_information_curves, plot_information_plane


def _plane(n_seeds=3):
    rng = np.random.default_rng(0)
    epochs = np.array([0, 1, 2, 10, 100])
    base = np.linspace(1, 10, 3)[None, None, :] + np.linspace(0, 1, 5)[None, :, None]
    ixt = base + 0.1 * rng.standard_normal((n_seeds, 5, 3))
    ity = np.clip(ixt / 12, 0, 1)
    return InformationPlane(epochs, ("h1", "h2", "output"), (4, 3, 2), ixt, ity, None, None,
                            12.0, 1.0, "binning", "tanh")


def test_information_plane_plot_draws_means_coloured_by_epoch():
    import matplotlib.pyplot as plt

    plane = _plane()
    ax = plot_information_plane(plane)
    assert len(ax.figure.axes) == 2 and ax.figure.axes[1].get_ylabel() == "epoch"  # colour bar
    collections = ax.collections
    assert len(collections) == 3  # one scatter per layer
    np.testing.assert_allclose(collections[0].get_offsets()[:, 0], plane.mean("I_XT")[:, 0])
    colours = collections[0].get_facecolors()
    assert len(np.unique(colours, axis=0)) == 4  # epochs 0 and 1 share the colour of epoch 1
    assert "mean of 3 seeds" in ax.get_title()
    plt.close(ax.figure)


def test_information_curves_plot_has_a_band_per_layer_for_several_seeds():
    import matplotlib.pyplot as plt

    axes = plot_information_curves(_plane())
    assert len(axes) == 2 and len(axes[0].lines) == 3 and len(axes[0].collections) == 3
    np.testing.assert_allclose(axes[1].lines[2].get_ydata(), _plane().mean("I_TY")[:, 2])
    plt.close(axes[0].figure)
    one = plot_information_curves(_plane(1))
    assert len(one[0].collections) == 0
    with pytest.raises(ValueError, match="two Axes"):
        plot_information_curves(_plane(), axes=[one[0]])
    plt.close(one[0].figure)


def test_numerical_core_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import shallownet.information, sys; print('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


@pytest.fixture(autouse=True)
def no_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SHALLOWNET_CACHE_DIR", "off")


def test_bottleneck_writes_its_folder_and_never_overwrites_without_force(tmp_path, capsys):
    out = tmp_path / "ib"
    argv = ["bottleneck", "--epochs", "60", "--seeds", "2", "--snapshots", "8", "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "mutual information" in captured.err and "training 2 network(s)" in captured.err  # progress
    assert "Information plane (binning (30 edges on [-1, 1]); tanh; 2 seed(s)" in captured.out
    for name in ("information_plane.png", "information_curves.png", "plane.csv", "results.json", "summary.txt"):
        assert (out / name).exists()
    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["seeds"] == 2 and results["plane"]["n_seeds"] == 2
    assert main(argv) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert main(argv + ["--force", "--quiet", "--estimator", "kde", "--noise-variance", "0.01"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "KDE (s2 = 0.01)" in captured.out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ib-")]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["bottleneck", "--seeds", "0"], "--seeds must be a positive integer"),
        (["bottleneck", "--snapshots", "1"], "--snapshots must be at least 2"),
        (["bottleneck", "--estimator", "kde", "--noise-variance", "-1", "--epochs", "1"],
         "`noise_variance` must be > 0"),
    ],
)
def test_bottleneck_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
