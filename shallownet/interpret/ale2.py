"""Second-order accumulated local effects of two real variables (Apley & Zhu 2020, section 3).

The pure interaction of variables ``j`` and ``l``: what the network does over the pair beyond
the sum of what each does alone. Edges ``z_{j,0} < ... < z_{j,K}`` and ``z_{l,0} < ... < z_{l,L}``
(quantile edges as in the first-order :func:`~shallownet.interpret.ale.ale`, or given in raw
units) cut the plane into cells ``(k, m)``; case i lies in the cell of its two values (bins
``(z_{k-1}, z_k]``, the first closed on the left). Per cell, the mean second-order difference
over its ``n_{km}`` cases,

    Delta_{km} = mean_i [ f(z_{j,k}, z_{l,m}) - f(z_{j,k-1}, z_{l,m})
                          - f(z_{j,k}, z_{l,m-1}) + f(z_{j,k-1}, z_{l,m-1}) ]   (others at x_i)

is accumulated over both axes, ``G_{km} = sum_{k' <= k, m' <= m} Delta_{k'm'}`` (``G`` is zero on
the first row and column). A cell without cases takes the ``Delta`` of the nearest cell with
cases, nearness measured between cell centres with each axis divided by its range (as in
Apley & Zhu's ALEPlot and in PyALE; reported in ``imputed``). Then the first-order effects of
``G`` itself are removed: along ``j``,

    D_{km} = ((G_{k,m-1} - G_{k-1,m-1}) + (G_{km} - G_{k-1,m})) / 2
    F_j(k) = sum_{k' <= k} sum_m n_{k'm} D_{k'm} / n_{k'.}   (F_j(0) = 0; a row of empty cells adds 0)

and likewise ``F_l`` along ``l``; ``H = G - F_j - F_l`` is finally centred so that the mean
over the cases of ``H`` averaged over each case's four cell corners is zero:

    ALE_{jl}(z_{j,k}, z_{l,m}) = H_{km} - sum_{k,m} n_{km} (mean of H at the cell's corners) / N

For an additive ``f = g(x_j) + h(x_l) + r(others)`` every second difference vanishes, so the
effect is zero. ``f`` is every class probability (both classes of a sigmoid output) or every
regression output. Each case is evaluated at its own cell's four corners only (four passes a
case, whatever the number of bins), by the rank-one update of the first layer used by the
flip-tensor engine, jitted, vmapped over cases and run in fixed-size row chunks.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import jax
import jax.numpy as jnp

from ..results import Result
from ._inputs import check_chunk_size, prepare, select_variables
from .ale import _edges
from .flips import _members, chunk_length, map_chunks, widest_layer


def _corner_proba_impl(params, x, cols, corners, activation, output):
    """Ensemble outputs at each case with the two columns set to its cell's four corners.

    Shapes: x (C, D), corners (C, 4, 2) in the order (lo, lo), (hi, lo), (lo, hi), (hi, hi);
    returns (C, 4, K)."""

    def one(xc, cc):
        mp, _ = _members(params, xc[None, :], cols, cc, activation, output)  # (M, 1, 4, K)
        return mp.mean(axis=0)[0]

    return jax.vmap(one)(x, corners)


_corner_proba = jax.jit(_corner_proba_impl, static_argnames=("activation", "output"))


@dataclass(frozen=True, eq=False, repr=False)
class SecondOrderALE(Result):
    """Second-order ALE of a pair of real variables.

    Attributes
    ----------
    variables : tuple of two str
    values : tuple of two ndarray, (G1,) and (G2,)
        Bin edges of each variable in raw units.
    effects : ndarray (G1, G2, K)
        Centred interaction effect at each pair of edges, per output.
    counts : ndarray (G1 - 1, G2 - 1) of int
        Cases in each cell.
    imputed : ndarray (G1 - 1, G2 - 1) of bool
        Cells without cases whose difference was taken from the nearest cell with cases.
    outputs : ndarray (K,)
    regression : bool
    """

    variables: tuple
    values: tuple
    effects: np.ndarray
    counts: np.ndarray
    imputed: np.ndarray
    outputs: np.ndarray
    regression: bool = False

    @property
    def title(self) -> str:
        return (f"Second-order ALE of {self.variables[0]!r} and {self.variables[1]!r} "
                f"({self.counts.shape[0]} x {self.counts.shape[1]} cells)")

    def to_frame(self) -> pd.DataFrame:
        """Long form: the two edge values, output, effect."""
        G1, G2, K = self.effects.shape
        a, b = self.variables
        return pd.DataFrame({
            a: np.repeat(self.values[0], G2 * K),
            b: np.tile(np.repeat(self.values[1], K), G1),
            "output": np.tile(np.asarray(self.outputs, dtype=object), G1 * G2),
            "effect": self.effects.reshape(-1),
        })

    def summary(self, digits: int = 3) -> str:
        span = np.nanmax(self.effects, axis=(0, 1)) - np.nanmin(self.effects, axis=(0, 1))
        lines = [self.title, "=" * len(self.title),
                 f"{int(self.imputed.sum())} of {self.imputed.size} cells without cases (imputed)"]
        lines += [f"range of the interaction effect on {o}: {s:.{digits}g}" for o, s in zip(self.outputs, span)]
        return "\n".join(lines)


def _fill_empty(delta: np.ndarray, counts: np.ndarray, e1: np.ndarray, e2: np.ndarray) -> np.ndarray:
    """Empty cells take the difference of the nearest non-empty cell (centres over ranges)."""
    empty = counts == 0
    if not empty.any():
        return delta
    c1 = (e1[:-1] + e1[1:]) / 2 / (e1[-1] - e1[0])
    c2 = (e2[:-1] + e2[1:]) / 2 / (e2[-1] - e2[0])
    P = np.stack(np.meshgrid(c1, c2, indexing="ij"), axis=-1)  # (K1, K2, 2)
    full = P[~empty]
    gaps = ((P[empty][:, None, :] - full[None, :, :]) ** 2).sum(axis=-1)
    out = delta.copy()
    out[empty] = delta[~empty][gaps.argmin(axis=1)]
    return out


def centre_second_order(delta: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Accumulate cell differences ``delta`` (K1, K2, K) and remove the first-order effects
    and the mean (module docstring); returns (K1 + 1, K2 + 1, K)."""
    K1, K2, K = delta.shape
    G = np.zeros((K1 + 1, K2 + 1, K))
    G[1:, 1:] = delta.cumsum(axis=0).cumsum(axis=1)
    n = counts[:, :, None].astype(float)
    d1 = G[1:] - G[:-1]  # (K1, K2 + 1, K)
    d1 = (d1[:, :-1] + d1[:, 1:]) / 2
    row = n.sum(axis=1)
    step1 = np.where(row > 0, (n * d1).sum(axis=1) / np.maximum(row, 1), 0.0)  # (K1, K)
    F1 = np.vstack([np.zeros((1, K)), np.cumsum(step1, axis=0)])
    d2 = G[:, 1:] - G[:, :-1]  # (K1 + 1, K2, K)
    d2 = (d2[:-1] + d2[1:]) / 2
    col = n.sum(axis=0)
    step2 = np.where(col > 0, (n * d2).sum(axis=0) / np.maximum(col, 1), 0.0)  # (K2, K)
    F2 = np.vstack([np.zeros((1, K)), np.cumsum(step2, axis=0)])
    H = G - F1[:, None, :] - F2[None, :, :]
    corners = (H[:-1, :-1] + H[1:, :-1] + H[:-1, 1:] + H[1:, 1:]) / 4
    return H - (n * corners).sum(axis=(0, 1)) / n.sum()


def ale2(
    model: Any,
    X: Any,
    variables: Any,
    *,
    bins: Any = 10,
    encoded: bool = False,
    chunk_size: Any = "auto",
) -> SecondOrderALE:
    """Second-order accumulated local effects of two real variables (module docstring).

    Parameters
    ----------
    model : Network, ShallowNetClassifier or fitted MLPClassifier / MLPRegressor
    X : DataFrame or array (N, n_features)
    variables : pair of str
        Two different real variables.
    bins : int or pair, default 10
        An integer: the number of quantile bins of each variable (fewer when quantiles
        coincide). A pair ``(b1, b2)``: per variable, a number of quantile bins or the edges in
        raw units (strictly increasing, covering the variable's values in ``X``).
    encoded : bool, default False
    chunk_size : "auto" or int

    Returns
    -------
    SecondOrderALE
        ``effects`` of shape (G1, G2, K).
    """
    chunk_size = check_chunk_size(chunk_size)
    if isinstance(variables, str) or not hasattr(variables, "__len__") or len(variables) != 2:
        raise ValueError(f"`variables` must be a pair of variable names. Got {variables!r}.")
    net, x, _ = prepare(model, X, None, encoded)
    pair = select_variables(net, list(variables))
    for v in pair:
        if v.kind != "real":
            raise ValueError(f"Second-order ALE needs two real variables; {v.name!r} is {v.kind}.")
    if isinstance(bins, (tuple, list)) and len(bins) == 2:
        per_var = tuple(bins)
    elif isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
        per_var = (bins, bins)
    else:
        raise ValueError(f"`bins` must be an integer or a pair (one per variable) of integers or edge "
                         f"sequences. Got {bins!r}.")
    cols = [v.columns[0] for v in pair]
    edges, raws, codes = [], [], []
    for v, c, b in zip(pair, cols, per_var):
        e, raw = _edges(v, x[:, c], b)
        edges.append(e.astype(x.dtype))
        raws.append(raw)
        codes.append(np.maximum(np.searchsorted(e, x[:, c], side="left"), 1))
    (e1, e2), (k1, k2) = edges, codes
    lo1, hi1, lo2, hi2 = e1[k1 - 1], e1[k1], e2[k2 - 1], e2[k2]
    corners = np.stack([np.c_[lo1, lo2], np.c_[hi1, lo2], np.c_[lo1, hi2], np.c_[hi1, hi2]], axis=1)
    chunk = chunk_length(len(x), 4 * net.n_members * widest_layer(net), chunk_size)
    jcols = jnp.asarray(np.array(cols, dtype=np.int32))

    def run(xc, cc):
        return _corner_proba(net.params, jnp.asarray(xc), jcols, jnp.asarray(cc),
                             activation=net.activation, output=net.output)

    f = map_chunks(run, (x, corners.astype(x.dtype)), chunk).astype(np.float64)  # (N, 4, K)
    second = f[:, 3] - f[:, 2] - f[:, 1] + f[:, 0]
    K1, K2, K = len(e1) - 1, len(e2) - 1, f.shape[-1]
    counts = np.zeros((K1, K2), dtype=int)
    np.add.at(counts, (k1 - 1, k2 - 1), 1)
    sums = np.zeros((K1, K2, K))
    np.add.at(sums, (k1 - 1, k2 - 1), second)
    delta = sums / np.maximum(counts, 1)[:, :, None]
    delta = _fill_empty(delta, counts, e1.astype(np.float64), e2.astype(np.float64))
    return SecondOrderALE(
        variables=(pair[0].name, pair[1].name), values=(np.asarray(raws[0], float), np.asarray(raws[1], float)),
        effects=centre_second_order(delta, counts), counts=counts, imputed=counts == 0,
        outputs=np.asarray(net.classes), regression=net.is_regression,
    )
