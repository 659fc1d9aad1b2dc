"""Profiles of the classification function: Lek profiles, ICE and partial dependence, and the
function over two variables.

All three sweep variables through the candidate values of the flip-tensor engine
(:func:`shallownet.interpret.flips.proba_grid`): a grid over the training range of a real
variable, 0 and 1 for a binary one, every category of an enumerated one (the whole one-hot
group set at once).

* **Lek profile** (Lek et al. 1996): variable i is swept while the other variables are held at
  fixed "profiles": their quantiles 0, 0.2, ..., 1 (``groups="quantile"``; binary and enumerated
  variables are held at their most frequent value, a quantile having no meaning for
  categories), or the centres of a k-means clustering of the encoded data
  (``groups="kmeans"``; a centre's binary value is rounded and its one-hot group set to its
  largest entry, so each profile is a valid input).
* **ICE / partial dependence** (Goldstein et al. 2015; Friedman 2001): the curve of every case
  with variable i swept and the others as observed; partial dependence is their mean.
* **Decision surface**: the probabilities and the decision over a grid of two variables (their
  whole training range, or a span of quantiles where the data lie), the others held at one
  case (a given one, or the typical case of the densest region), at their medians, or at a
  chosen quantile.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_float, check_int, check_one_of, check_random_state
from ..results import Result
from ._inputs import check_chunk_size, check_n_grid, one_variable, prepare
from .flips import candidate_values, proba_grid, substitution


def _held_at_quantiles(variables, x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Rows ``(len(q), D)``: real variables at quantiles ``q``, others at their mode."""
    held = np.zeros((len(q), x.shape[1]), dtype=x.dtype)
    for v in variables:
        cols = list(v.columns)
        if v.kind == "real":
            held[:, cols[0]] = np.quantile(x[:, cols[0]].astype(np.float64), q)
        elif v.kind == "binary":
            held[:, cols[0]] = float(x[:, cols[0]].mean() > 0.5)
        else:
            held[:, cols[int(x[:, cols].sum(axis=0).argmax())]] = 1.0
    return held


def _snap(variables, rows: np.ndarray) -> np.ndarray:
    """Make rows valid inputs: round binary and indicator columns, set each one-hot group to its
    argmax."""
    out = rows.copy()
    for v in variables:
        cols = list(v.columns)
        if v.kind == "binary":
            out[:, cols[0]] = np.round(out[:, cols[0]])
        elif v.has_indicator:
            out[:, cols[1]] = np.round(out[:, cols[1]])
        elif v.kind == "enumerated":
            winner = out[:, cols].argmax(axis=1)
            out[:, cols] = 0.0
            out[np.arange(len(out)), np.asarray(cols)[winner]] = 1.0
    return out


@dataclass(frozen=True, eq=False, repr=False)
class LekProfile(Result):
    """Lek profile of one variable.

    Attributes
    ----------
    variable, kind : str
    values : ndarray (S,)
        Sweep values in raw units (real), 0/1 (binary) or category labels.
    groups : tuple of str
        Profile labels (``q=0.2`` or ``cluster 3 (n=41)``).
    held : ndarray (n_groups, D)
        The encoded rows the other variables are held at.
    curves : ndarray (n_groups, S, K)
        Class probabilities along the sweep for each profile.
    classes : ndarray (K,)
    method : str
        ``quantile`` or ``kmeans``.
    """

    variable: str
    kind: str
    values: np.ndarray
    groups: tuple
    held: np.ndarray
    curves: np.ndarray
    classes: np.ndarray
    method: str

    @property
    def title(self) -> str:
        return f"Lek profile of {self.variable!r} ({self.method} groups)"

    @property
    def ranges(self) -> np.ndarray:
        """Range of each curve, ``max - min`` of ``p_k`` along the sweep, shape
        ``(n_groups, K)``; its mean over groups is the usual Lek importance of the variable."""
        return self.curves.max(axis=1) - self.curves.min(axis=1)

    def to_frame(self) -> pd.DataFrame:
        """Long form: group, value, class, probability."""
        G, S, K = self.curves.shape
        return pd.DataFrame(
            {
                "variable": self.variable,
                "group": np.repeat(np.asarray(self.groups, dtype=object), S * K),
                "value": np.tile(np.repeat(np.asarray(self.values, dtype=object), K), G),
                "class": np.tile(np.asarray(self.classes, dtype=object), G * S),
                "probability": self.curves.reshape(-1),
            }
        )


def profile(
    model: Any,
    X: Any,
    variable: Any,
    *,
    groups: str = "quantile",
    n_groups: int = 6,
    n_steps: int = 100,
    encoded: bool = False,
    random_state: int | None = 0,
) -> LekProfile:
    """Lek profile: sweep ``variable`` with the others held at quantile or k-means profiles.

    Parameters
    ----------
    model : Network, ShallowNetClassifier or fitted MLPClassifier
    X : DataFrame or array
        Data the profiles are taken from (raw, or encoded with ``encoded=True``).
    variable : str
    groups : {"quantile", "kmeans"}, default "quantile"
        Quantile groups hold the other real variables at the quantiles
        ``linspace(0, 1, n_groups)`` (0, 0.2, ..., 1 by default); k-means groups hold every other
        variable at the centres of ``n_groups`` clusters (scikit-learn ``KMeans``).
    n_groups : int, default 6
    n_steps : int, default 100
        Sweep points for a real variable.
    random_state : int or None, default 0
        Seed of k-means.

    Returns
    -------
    LekProfile
    """
    check_one_of("groups", groups, ("quantile", "kmeans"))
    n_groups = check_int("n_groups", n_groups, 1)
    n_steps = check_int("n_steps", n_steps, 2)
    net, x, _ = prepare(model, X, None, encoded)
    var = one_variable(net, variable)
    if groups == "quantile":
        q = np.linspace(0.0, 1.0, n_groups) if n_groups > 1 else np.array([0.5])
        held = _held_at_quantiles(net.variables, x, q)
        labels = tuple(f"q={v:.2g}" for v in q)
    else:
        from sklearn.cluster import KMeans

        if n_groups > x.shape[0]:
            raise ValueError(f"`n_groups` must be <= the number of rows ({x.shape[0]}). Got {n_groups}.")
        km = KMeans(n_clusters=n_groups, n_init=10, random_state=check_random_state(random_state))
        labels_ = km.fit_predict(x.astype(np.float64))
        held = _snap(net.variables, km.cluster_centers_).astype(x.dtype)
        counts = np.bincount(labels_, minlength=n_groups)
        labels = tuple(f"cluster {g + 1} (n={counts[g]})" for g in range(n_groups))
    cols, cand = substitution(var, n_steps)
    curves, _ = proba_grid(net, held, cols, cand)
    return LekProfile(
        variable=var.name, kind=var.kind, values=candidate_values(var, n_steps), groups=labels,
        held=held, curves=curves.astype(np.float64), classes=np.asarray(net.classes), method=groups,
    )


@dataclass(frozen=True, eq=False, repr=False)
class PartialDependence(Result):
    """ICE curves and partial dependence of one variable.

    Attributes
    ----------
    variable, kind : str
    values : ndarray (G,)
    ice : ndarray (N, G, K)
        Each case's class probabilities with the variable set to each value (for a
        regression network, ``regression=True``: its predictions, raw target units).
    classes : ndarray (K,)
    regression : bool
    """

    variable: str
    kind: str
    values: np.ndarray
    ice: np.ndarray
    classes: np.ndarray
    regression: bool = False

    @property
    def average(self) -> np.ndarray:
        """Partial dependence: the mean ICE curve, (G, K)."""
        return self.ice.mean(axis=0)

    @property
    def title(self) -> str:
        return f"Partial dependence of {self.variable!r} ({self.ice.shape[0]} cases)"

    def to_frame(self) -> pd.DataFrame:
        """One row per value and class: partial dependence and the 10 % / 90 % ICE quantiles."""
        G, K = self.average.shape
        return pd.DataFrame(
            {
                "variable": self.variable,
                "value": np.repeat(np.asarray(self.values, dtype=object), K),
                "class": np.tile(np.asarray(self.classes, dtype=object), G),
                "partial_dependence": self.average.reshape(-1),
                "ice_q10": np.quantile(self.ice, 0.1, axis=0).reshape(-1),
                "ice_q90": np.quantile(self.ice, 0.9, axis=0).reshape(-1),
            }
        )


def partial_dependence(
    model: Any,
    X: Any,
    variable: Any,
    *,
    n_grid: int = 51,
    encoded: bool = False,
    chunk_size: Any = "auto",
) -> PartialDependence:
    """ICE curves of every case and their mean (partial dependence) for one variable.

    Returns
    -------
    PartialDependence
    """
    n_grid = check_n_grid(n_grid)
    chunk_size = check_chunk_size(chunk_size)
    net, x, _ = prepare(model, X, None, encoded)
    var = one_variable(net, variable)
    cols, cand = substitution(var, n_grid)
    ice, _ = proba_grid(net, x, cols, cand, chunk_size)
    return PartialDependence(
        variable=var.name, kind=var.kind, values=candidate_values(var, n_grid),
        ice=ice.astype(np.float64), classes=np.asarray(net.classes), regression=net.is_regression,
    )


@dataclass(frozen=True, eq=False, repr=False)
class DecisionSurface(Result):
    """Class probabilities and decision over a grid of two variables.

    Attributes
    ----------
    variables : tuple of two str
    kinds : tuple of two str
    values : tuple of two ndarrays (G1,), (G2,)
    proba : ndarray (G1, G2, K)
    decision : ndarray (G1, G2) of int (class index)
    held : ndarray (D,)
        The encoded row the other variables are held at.
    at : str
        Where the others are held (``median``, ``quantile 0.25``, ``case 17``).
    classes : ndarray (K,)
    regression : bool
        True for a linear (regression) output: ``proba`` then holds the predictions
        ``(G1, G2, T)`` in raw units of the targets (``classes`` their names) and ``decision``
        is not meaningful (all zeros).
    """

    variables: tuple
    kinds: tuple
    values: tuple
    proba: np.ndarray
    decision: np.ndarray
    held: np.ndarray
    at: str
    classes: np.ndarray
    regression: bool = False

    @property
    def title(self) -> str:
        if self.regression:
            return (f"Regression surface over {self.variables[0]!r} and {self.variables[1]!r} "
                    f"(others at {self.at})")
        return f"Decision surface over {self.variables[0]!r} and {self.variables[1]!r} (others at {self.at})"

    def to_frame(self) -> pd.DataFrame:
        """One row per grid point: both values, every class probability, the decision."""
        G1, G2, K = self.proba.shape
        frame = pd.DataFrame(
            {
                self.variables[0]: np.repeat(np.asarray(self.values[0], dtype=object), G2),
                self.variables[1]: np.tile(np.asarray(self.values[1], dtype=object), G1),
            }
        )
        for k, c in enumerate(self.classes):
            frame[str(c) if self.regression else f"p({c})"] = self.proba[:, :, k].reshape(-1)
        if not self.regression:
            frame["decision"] = self.classes[self.decision.reshape(-1)]
        return frame


def typical_row(x: np.ndarray, n_neighbors: int = 10, max_rows: int = 2000) -> int:
    """The row of ``x`` (encoded) in the densest region: the smallest distance to its
    ``n_neighbors``-th nearest neighbour (Euclidean, encoded scale), among at most ``max_rows``
    evenly spaced rows (searched against all of them)."""
    n = x.shape[0]
    if n < 2:
        return 0
    k = min(n_neighbors, n - 1)
    candidates = np.unique(np.linspace(0, n - 1, min(n, max_rows)).astype(int))
    x64 = np.asarray(x, dtype=np.float64)
    sq = (x64 ** 2).sum(axis=1)
    radius = np.empty(len(candidates))
    for start in range(0, len(candidates), 256):
        idx = candidates[start:start + 256]
        d2 = sq[idx, None] + sq[None, :] - 2.0 * x64[idx] @ x64.T
        radius[start:start + 256] = np.partition(d2, k, axis=1)[:, k]  # column 0 is the row itself
    return int(candidates[np.argmin(radius)])


def _axis(v, x: np.ndarray, n_grid: int, span):
    """``(cols, candidates, values)`` of one axis: a grid over the whole training range, or for a
    real variable with ``span`` over those quantiles of its known values (never "missing")."""
    cols, cand = substitution(v, n_grid)
    if span is None or v.kind != "real":
        return cols, cand, candidate_values(v, n_grid)
    values = x[:, v.columns[0]].astype(np.float64)
    if v.has_indicator:
        values = values[x[:, v.columns[1]] < 0.5]
    grid = np.linspace(*np.quantile(values, span), n_grid)
    cand = np.column_stack([grid, np.zeros(n_grid)]) if v.has_indicator else grid[:, None]
    return cols, cand, v.to_raw(grid)


def decision_surface(
    model: Any,
    X: Any,
    variables: Any,
    *,
    at: Any = "median",
    span: Any = None,
    n_grid: int = 41,
    encoded: bool = False,
) -> DecisionSurface:
    """The classification function over two variables, the others held fixed (for a linear
    output, the regression function: the predictions, ``regression=True``).

    Parameters
    ----------
    variables : pair of str
        The two variables of the map (any kinds; a binary or enumerated one gives a categorical
        axis).
    at : "median", "densest", float in [0, 1], or int
        Hold the other variables at their medians, at that quantile (binary and enumerated ones
        at their most frequent value), at the typical case of the densest region (the row of
        ``X`` closest to its 10th nearest neighbour, :func:`typical_row`: a real case, unlike a
        row of column medians), or at row ``at`` of ``X``.
    span : pair of floats in [0, 1], optional
        Draw a real axis over these quantiles of the variable's known values in ``X`` (e.g.
        ``(0.01, 0.99)``: where the data lie) instead of its whole training range; the
        "missing" value of a variable with an indicator is then left out.
    n_grid : int, default 41
        Grid points per real axis.

    Returns
    -------
    DecisionSurface
    """
    n_grid = check_n_grid(n_grid)
    net, x, _ = prepare(model, X, None, encoded)
    if isinstance(variables, str) or len(variables) != 2:
        raise ValueError(f"`variables` must name two variables. Got {variables!r}.")
    va, vb = (one_variable(net, v) for v in variables)
    if va.name == vb.name:
        raise ValueError(f"`variables` must name two different variables. Got {variables!r}.")
    if span is not None:
        try:
            low, high = (float(q) for q in span)
        except (TypeError, ValueError):
            raise ValueError(f"`span` must be a pair of quantiles (low, high). Got {span!r}.") from None
        if not 0.0 <= low < high <= 1.0:
            raise ValueError(f"`span` must satisfy 0 <= low < high <= 1. Got {span!r}.")
        span = (low, high)
    if isinstance(at, str):
        check_one_of("at", at, ("median", "densest"))
        if at == "median":
            held, where = _held_at_quantiles(net.variables, x, np.array([0.5]))[0], "median"
        else:
            row = typical_row(x)
            held, where = x[row].copy(), f"the typical case {row}"
    elif isinstance(at, numbers.Integral) and not isinstance(at, bool):
        if not -x.shape[0] <= at < x.shape[0]:
            raise ValueError(f"`at` must be a row of `X` (0 .. {x.shape[0] - 1}). Got {at}.")
        held, where = x[at].copy(), f"case {at}"
    else:
        q = check_float("at", at, 0.0, 1.0)
        held, where = _held_at_quantiles(net.variables, x, np.array([q]))[0], f"quantile {q:g}"
    cols_a, cand_a, values_a = _axis(va, x, n_grid, span)
    cols_b, cand_b, values_b = _axis(vb, x, n_grid, span)
    G1, G2 = cand_a.shape[0], cand_b.shape[0]
    cand = np.concatenate([np.repeat(cand_a, G2, axis=0), np.tile(cand_b, (G1, 1))], axis=1)
    cols = np.concatenate([cols_a, cols_b])
    proba, _ = proba_grid(net, held[None, :], cols, cand)
    proba = proba[0].reshape(G1, G2, -1).astype(np.float64)
    return DecisionSurface(
        variables=(va.name, vb.name), kinds=(va.kind, vb.kind), values=(values_a, values_b), proba=proba,
        decision=np.zeros(proba.shape[:2], int) if net.is_regression else proba.argmax(axis=-1),
        held=held, at=where, classes=np.asarray(net.classes), regression=net.is_regression,
    )
