"""A two-dimensional map of a hidden layer: its activations projected by PCA.

For cases x_n with activations ``h_n`` (H,) of the chosen hidden layer (of one member), PCA
(scikit-learn, full SVD) gives the mean ``mu``, orthonormal components ``u_1, u_2`` and the
coordinates ``t_nk = (h_n - mu) . u_k``. The map shows the cases at ``(t_n1, t_n2)``, coloured by
their true class, with the cases the network misclassifies marked. The loadings ``u_k[j]`` say
how much hidden unit j moves along component k; the explained variance ratio says how much of
the layer's variance the plane keeps.

Decision regions. The network's output is a function of any hidden layer's activations (the
layers after it take them alone). On the plane, a point ``(t_1, t_2)`` stands for the hidden
vector ``h = mu + t_1 u_1 + t_2 u_2``: every further component at its mean (score 0). The map
evaluates the rest of the network at that vector. The region is *well defined* only where
``h`` is a vector the layer can produce: inside the activation's range, ``[0, 1]`` for
logistic units, ``[-1, 1]`` for tanh, ``>= 0`` for relu (identity units: everywhere); points
outside are masked. The regions are a slice of the output, not its projection: a case off the
plane (large scores on the other components) can be decided otherwise than the region under
its point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np
import pandas as pd

from .._validation import check_int, check_one_of
from ..results import Result
from ._inputs import class_index, encode
from ._layout import network_of
from ..models.layers import activate, affine, output_values

METHODS = ("pca",)
RANGES = {"logistic": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, np.inf), "identity": (-np.inf, np.inf)}


@dataclass(frozen=True, eq=False, repr=False)
class HiddenMap(Result):
    """PCA map of one hidden layer (see the module docstring).

    Attributes
    ----------
    layer : int
        Index of the hidden layer (0 = first).
    member : int
        The ensemble member whose activations and decisions are mapped.
    units : tuple of str
        Hidden-unit labels.
    coordinates : ndarray (N, n_components)
        PCA scores of the cases (n_components = min(2, H)).
    explained_variance_ratio : ndarray (n_components,)
    loadings : ndarray (H, n_components)
        Component weights of each hidden unit.
    mean : ndarray (H,)
        Mean activation of each unit over the cases.
    activations : ndarray (N, H)
    classes : ndarray (K,)
        Class labels (target names for a regression network).
    predicted : ndarray (N,)
        The member's predicted class index (its prediction for a regression network).
    y : ndarray (N,) or None
        True class index (or true values for a regression network).
    grid_x, grid_y : ndarray (G,)
        Plane coordinates of the decision-region grid (empty with one component).
    region : ndarray (G, G, K)
        The member's output (class probabilities, or predictions) at
        ``mu + grid_x[i] u_1 + grid_y[j] u_2``, indexed ``[j, i]``; NaN where the vector is
        outside the activation's range.
    is_regression : bool
    """

    layer: int
    member: int
    units: tuple
    coordinates: np.ndarray
    explained_variance_ratio: np.ndarray
    loadings: np.ndarray
    mean: np.ndarray
    activations: np.ndarray
    classes: np.ndarray
    predicted: np.ndarray
    y: np.ndarray | None
    grid_x: np.ndarray
    grid_y: np.ndarray
    region: np.ndarray
    is_regression: bool

    @property
    def title(self) -> str:
        kept = 100 * float(self.explained_variance_ratio.sum())
        return f"Hidden layer {self.layer + 1} on its first principal components ({kept:.1f} % of the variance)"

    @property
    def misclassified(self) -> np.ndarray | None:
        """Cases the member misclassifies (None without ``y`` or for a regression)."""
        if self.y is None or self.is_regression:
            return None
        return self.predicted != self.y

    @property
    def region_class(self) -> np.ndarray:
        """Decided class index at each grid point (G, G), -1 where not defined."""
        if self.is_regression:
            raise AttributeError("A regression network has no decided class; read `region`.")
        ok = np.isfinite(self.region).all(axis=-1)
        return np.where(ok, np.nan_to_num(self.region).argmax(axis=-1), -1)

    def to_frame(self) -> pd.DataFrame:
        """One row per hidden unit: its loadings on the components and its mean activation."""
        frame = pd.DataFrame(self.loadings, columns=[f"pc{k + 1}" for k in range(self.loadings.shape[1])])
        frame.insert(0, "unit", list(self.units))
        frame["mean_activation"] = self.mean
        return frame

    def points(self) -> pd.DataFrame:
        """One row per case: coordinates, predicted and (with ``y``) true class, misclassified."""
        frame = pd.DataFrame(self.coordinates, columns=[f"pc{k + 1}" for k in range(self.coordinates.shape[1])])
        if self.is_regression:
            frame["predicted"] = self.predicted
            return frame
        frame["predicted"] = self.classes[self.predicted]
        if self.y is not None:
            frame["true"] = self.classes[self.y]
            frame["misclassified"] = self.misclassified
        return frame

    def summary(self, digits: int = 3) -> str:
        """Loadings table, explained variance, and what the regions are."""
        ratio = ", ".join(f"pc{k + 1} {100 * r:.1f} %" for k, r in enumerate(self.explained_variance_ratio))
        note = ("Decision regions: the output at mu + t1 u1 + t2 u2, every further component "
                "at its mean; masked where that vector lies outside the activation's range.")
        return f"{super().summary(digits)}\n\nExplained variance: {ratio}\n{note}"


def hidden_map(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    layer: int = -1,
    method: str = "pca",
    member: int = 0,
    n_grid: int = 80,
    encoded: bool = False,
) -> HiddenMap:
    """PCA map of a hidden layer's activations, with the decision regions on its plane.

    Parameters
    ----------
    model : Network, ShallowNetClassifier, ShallowNetRegressor or fitted MLPClassifier
        With at least one hidden layer.
    X : DataFrame or array (N, n_features)
    y : array-like (N,), optional
        True classes (colours and misclassified marks), or true values of a regression.
    layer : int, default -1
        Hidden layer (0 = first, negative counts from the last hidden layer).
    method : {"pca"}
        The projection (scikit-learn PCA with a full SVD).
    member : int, default 0
        Ensemble member mapped (each member has its own hidden units).
    n_grid : int, default 80
        Grid points per axis of the decision regions (>= 2).
    encoded : bool, default False

    Returns
    -------
    HiddenMap
    """
    check_one_of("method", method, METHODS)
    net = network_of(model, 1, "hidden_map")
    n_layers = len(net.hidden_sizes)
    layer = check_int("layer", layer)
    if not -n_layers <= layer < n_layers:
        raise ValueError(f"`layer` must be in [{-n_layers}, {n_layers - 1}] for this network's "
                         f"{n_layers} hidden layer(s). Got {layer}.")
    layer %= n_layers
    member = check_int("member", member)
    if not -net.n_members <= member < net.n_members:
        raise ValueError(f"`member` must be in [{-net.n_members}, {net.n_members - 1}]. Got {member}.")
    member %= net.n_members
    n_grid = check_int("n_grid", n_grid, 2)
    x = encode(net, X, encoded)
    yi = class_index(net, y, x.shape[0])
    one = net.member(member)
    outs = one.layer_outputs(x, encoded=True)
    h = np.asarray(outs[layer][0], dtype=np.float64)  # (N, H)
    final = np.asarray(outs[-1][0], dtype=np.float64)
    predicted = final[:, 0] if net.is_regression and final.shape[1] == 1 else (
        final if net.is_regression else final.argmax(axis=1))
    from sklearn.decomposition import PCA

    n_comp = min(2, h.shape[1], h.shape[0])
    pca = PCA(n_components=n_comp, svd_solver="full").fit(h)
    coords = pca.transform(h)
    gx = gy = np.zeros(0)
    region = np.zeros((0, 0, net.n_classes))
    if n_comp == 2:
        gx, gy = (_axis(coords[:, k], n_grid) for k in range(2))
        tx, ty = np.meshgrid(gx, gy)  # [j, i]
        hv = pca.mean_ + tx[..., None] * pca.components_[0] + ty[..., None] * pca.components_[1]
        region = _forward_from(one, layer, hv)
        lo, hi = RANGES[net.activation]
        region[~((hv >= lo) & (hv <= hi)).all(axis=-1)] = np.nan
    width = net.hidden_sizes[layer]
    units = tuple(f"h{j + 1}" for j in range(width)) if n_layers == 1 else tuple(
        f"h{layer + 1}_{j + 1}" for j in range(width))
    return HiddenMap(
        layer=layer, member=member, units=units, coordinates=coords,
        explained_variance_ratio=pca.explained_variance_ratio_, loadings=pca.components_.T,
        mean=pca.mean_, activations=h, classes=np.asarray(net.classes), predicted=predicted, y=yi,
        grid_x=gx, grid_y=gy, region=region, is_regression=net.is_regression,
    )


def _axis(t: np.ndarray, n: int) -> np.ndarray:
    """``n`` points over the range of ``t`` widened by 5 % each side."""
    lo, hi = float(t.min()), float(t.max())
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    return np.linspace(lo - pad, hi + pad, n)


def _forward_from(net, layer: int, h: np.ndarray) -> np.ndarray:
    """Output of ONE-member ``net`` given activations ``h`` (..., H) of hidden layer ``layer``."""
    params = [type(p)(p.W[0], p.b[0]) for p in net.params]
    a = jnp.asarray(h, dtype=params[0].W.dtype)
    for p in params[layer + 1 : -1]:
        a = activate(affine(a, p), net.activation)
    return np.array(output_values(affine(a, params[-1]), net.output), dtype=np.float64)
