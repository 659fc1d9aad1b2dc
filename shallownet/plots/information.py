"""Drawings of :class:`~shallownet.information.InformationPlane` results (matplotlib, imported lazily)."""

from __future__ import annotations

import numpy as np


def _epoch_norm(epochs: np.ndarray):
    """Logarithmic colour scale of epochs (the snapshots are log-spaced); epoch 0 takes epoch 1's colour."""
    from matplotlib.colors import LogNorm

    return LogNorm(vmin=1, vmax=max(int(np.max(epochs)), 2), clip=True)


def plot_information_plane(plane, ax=None, *, cmap: str = "viridis", connect_layers: bool = True,
                           annotate: bool = True):
    """The information plane as Shwartz-Ziv & Tishby draw it, averaged over seeds.

    Every snapshot of every layer is a point at (mean I(X; T), mean I(T; Y)) coloured by its
    epoch (log scale, colour bar on the right); a thin grey line follows each layer through
    training, and with ``connect_layers`` a line coloured by epoch joins the layers of one
    snapshot, input side to output side, as in the paper's figures.

    Parameters
    ----------
    plane : InformationPlane
    ax : matplotlib Axes, optional
    cmap : str
    connect_layers : bool
    annotate : bool
        Write each layer's name next to its last point.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.8))
    ixt, ity = plane.mean("I_XT"), plane.mean("I_TY")
    norm = _epoch_norm(plane.epochs)
    colours = plt.get_cmap(cmap)(norm(np.maximum(plane.epochs, 1)))
    if connect_layers:
        for e in range(len(plane.epochs)):
            ax.plot(ixt[e], ity[e], color=colours[e], lw=0.6, alpha=0.5, zorder=1)
    for j, name in enumerate(plane.layers):
        ax.plot(ixt[:, j], ity[:, j], color="0.6", lw=0.8, zorder=2)
        ax.scatter(ixt[:, j], ity[:, j], c=colours, s=14, edgecolors="none", zorder=3)
        if annotate:
            ax.annotate(name, (ixt[-1, j], ity[-1, j]), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="epoch")
    ax.set_xlabel("I(X; T) (bits)")
    ax.set_ylabel("I(T; Y) (bits)")
    seeds = f"mean of {plane.n_seeds} seeds" if plane.n_seeds > 1 else "1 seed"
    ax.set_title(f"{plane.activation}, {plane.estimator}, {seeds}", fontsize=9)
    return ax


def plot_information_curves(plane, axes=None, *, cmap: str = "plasma"):
    """I(X; T) and I(T; Y) against epoch, one line per layer with a band of +-1 sd over seeds.

    Parameters
    ----------
    plane : InformationPlane
    axes : pair of matplotlib Axes, optional

    Returns
    -------
    ndarray of two matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes = np.asarray(axes).ravel()
    if axes.size != 2:
        raise ValueError(f"`axes` must hold two Axes. Got {axes.size}.")
    colours = plt.get_cmap(cmap)(np.linspace(0, 0.85, len(plane.layers)))
    x = np.maximum(plane.epochs, 0) + 1
    for ax, q, label in zip(axes, ("I_XT", "I_TY"), ("I(X; T) (bits)", "I(T; Y) (bits)")):
        mean, sd = plane.mean(q), plane.std(q)
        for j, name in enumerate(plane.layers):
            ax.plot(x, mean[:, j], color=colours[j], label=name, lw=1.2)
            if plane.n_seeds > 1:
                ax.fill_between(x, mean[:, j] - sd[:, j], mean[:, j] + sd[:, j], color=colours[j], alpha=0.2, lw=0)
        ax.set_xscale("log")
        ax.set_xlabel("epoch + 1")
        ax.set_ylabel(label)
    axes[1].legend(fontsize=8, frameon=False)
    axes[0].set_title(f"{plane.activation}, {plane.estimator}", fontsize=9)
    return axes
