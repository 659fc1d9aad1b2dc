"""Accumulated local effects (Apley & Zhu 2020), first order, for one variable (pairs: :mod:`.ale2`).

Partial dependence averages the model over the marginal distribution of the other variables,
so with correlated inputs it evaluates the network where there are no data. ALE averages
*differences* of the model within narrow bins of the variable, over the cases that fall in each
bin, and adds them up: it only moves a case within its own neighbourhood.

Real variable, bin edges ``z_0 < z_1 < ... < z_B`` (by default the quantiles
``0, 1/B, ..., 1`` of the variable in ``X``, as the inverse of the empirical distribution
function, duplicates merged), case i in bin ``k(i)`` (``(z_{k-1}, z_k]``, the first bin closed
on the left):

    Delta_k = mean_{i: k(i) = k} [ f(x_i with the variable set to z_k) - f(x_i ... z_{k-1}) ]
    A_k = sum_{j <= k} Delta_j   (A_0 = 0)
    ALE(z_k) = A_k - sum_k n_k (A_{k-1} + A_k) / 2 / N

so that the effect, linearly interpolated between edges, has mean zero over the data. A bin
without cases (only possible with edges given explicitly) adds nothing and shows count 0.

Enumerated variable (Apley & Zhu, section 5.3): the categories that occur are first put in an
order in which neighbours are similar. The distance between two categories is the sum over the
other variables of the Kolmogorov-Smirnov distance between that variable's distributions in the
two groups (a real variable) or their total-variation distance (enumerated or binary); the
categories are ordered by the first coordinate of a classical multidimensional scaling of this
distance matrix. Then, for consecutive categories ``c_{k-1}, c_k``,

    Delta_k = sum over cases in c_{k-1} or c_k of [f(x_i <- c_k) - f(x_i <- c_{k-1})] / (n_{k-1} + n_k)

accumulated from ``A_1 = 0`` and centred as ``A_k - sum_k n_k A_k / N``. Reversing the order
changes nothing after centring (the MDS sign does not matter). A binary variable is the same with
its two values in their natural order. Categories absent from ``X`` get NaN.

``f`` is every class probability (a sigmoid output gives both classes), or every output of a
regression network. The substituted outputs come from the flip-tensor engine's rank-one update
of the first layer, jitted and chunked: for a real variable each case is evaluated at its own
bin's two edges only (2 passes a case whatever the number of bins), for an enumerated one at
every category (:func:`shallownet.interpret.flips.proba_grid`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import jax
import jax.numpy as jnp

from .._validation import check_int
from ..results import Result
from ._inputs import check_chunk_size, one_variable, prepare
from .flips import _members, chunk_length, map_chunks, proba_grid, widest_layer


def _edge_proba_impl(params, x, cols, lo, hi, activation, output):
    """Ensemble outputs at each case with the variable set to its own bin's two edges.

    Shapes: x (C, D), lo/hi (C,); returns (C, 2, K). The same rank-one update as the
    flip-tensor engine, with two candidates per case instead of a shared set."""
    cand = jnp.stack([lo, hi], axis=1)[:, :, None]  # (C, 2, 1)

    def one(xc, cc):
        mp, _ = _members(params, xc[None, :], cols, cc, activation, output)  # (M, 1, 2, K)
        return mp.mean(axis=0)[0]

    return jax.vmap(one)(x, cand)


_edge_proba = jax.jit(_edge_proba_impl, static_argnames=("activation", "output"))


@dataclass(frozen=True, eq=False, repr=False)
class AccumulatedLocalEffects(Result):
    """First-order ALE of one variable.

    Attributes
    ----------
    variable, kind : str
    values : ndarray (G,)
        Bin edges in raw units (real), or the categories / 0 and 1 in the order used.
    effects : ndarray (G, K)
        Centred ALE at each value for each output (class probability or regression output).
    counts : ndarray (G,) of int
        Cases in the bin ending at each edge (0 at the first edge), or in each category.
    outputs : ndarray (K,)
        Output labels (the classes, or the regression targets).
    ordered_by : str
        How the categories were ordered: ``"edges"`` (real), ``"natural"`` (binary),
        ``"mds"`` (Apley-Zhu) or ``"given"``.
    regression : bool
        The outputs are a regression network's predictions (else class probabilities).
    """

    variable: str
    kind: str
    values: np.ndarray
    effects: np.ndarray
    counts: np.ndarray
    outputs: np.ndarray
    ordered_by: str
    regression: bool = False

    @property
    def title(self) -> str:
        return f"Accumulated local effects of {self.variable!r} ({len(self.values)} values)"

    def to_frame(self) -> pd.DataFrame:
        """Long form: value, output, effect, count."""
        G, K = self.effects.shape
        return pd.DataFrame({
            "variable": self.variable,
            "value": np.repeat(np.asarray(self.values, dtype=object), K),
            "output": np.tile(np.asarray(self.outputs, dtype=object), G),
            "effect": self.effects.reshape(-1),
            "count": np.repeat(self.counts, K),
        })


def _quantile_edges(z: np.ndarray, bins: int) -> np.ndarray:
    """Edges at the quantiles 0, 1/B, ..., 1 (inverse empirical CDF), duplicates merged."""
    q = np.linspace(0.0, 1.0, bins + 1)
    return np.unique(np.quantile(z, q, method="inverted_cdf"))


def _edges(var, z: np.ndarray, bins: Any) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges ``(encoded, raw)`` from ``bins`` (a count, or raw edges covering the data).

    ``z`` holds the encoded values (the network's dtype); binning happens on that scale, so a
    case whose value is an edge falls in the bin that edge closes, with no rounding between
    raw and encoded units."""
    if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
        edges = _quantile_edges(z, check_int("bins", bins, 1))
        if len(edges) < 2:
            raise ValueError(f"Variable {var.name!r} takes one value in `X`; ALE needs at least two.")
        return edges, var.to_raw(edges)
    raw = np.asarray(bins, dtype=float)
    if raw.ndim != 1 or len(raw) < 2 or not np.isfinite(raw).all() or (np.diff(raw) <= 0).any():
        raise ValueError(f"`bins` must be an integer >= 1 or strictly increasing finite edges (at least 2). Got {bins!r}.")
    edges = var.to_scaled(raw).astype(z.dtype)
    if z.min() < edges[0] or z.max() > edges[-1]:
        lo, hi = var.to_raw(np.array([z.min(), z.max()]))
        raise ValueError(
            f"`bins`: the edges [{raw[0]:.6g}, {raw[-1]:.6g}] must cover the values of "
            f"{var.name!r} in `X` ([{lo:.6g}, {hi:.6g}]); no case is dropped."
        )
    return edges, raw


def _real_ale(net, x, var, bins, chunk_size):
    col = var.columns[0]
    z = x[:, col]
    edges, edges_raw = _edges(var, z, bins)
    k = np.maximum(np.searchsorted(edges, z, side="left"), 1)  # bin k: (z_{k-1}, z_k]
    e = edges.astype(x.dtype)
    chunk = chunk_length(len(x), 2 * net.n_members * widest_layer(net), chunk_size)
    cols = jnp.asarray(np.array([col], dtype=np.int32))

    def run(xc, lo, hi):
        return _edge_proba(net.params, jnp.asarray(xc), cols, jnp.asarray(lo), jnp.asarray(hi),
                           activation=net.activation, output=net.output)

    both = map_chunks(run, (x, e[k - 1], e[k]), chunk).astype(np.float64)  # (N, 2, K)
    delta = both[:, 1] - both[:, 0]  # (N, K)
    G, K = len(edges), both.shape[-1]
    counts = np.bincount(k, minlength=G)
    sums = np.zeros((G, K))
    np.add.at(sums, k, delta)
    mean = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], 0.0)
    A = np.cumsum(mean, axis=0)  # A[0] = 0 (no case ends at the first edge)
    centre = (counts[1:, None] * (A[:-1] + A[1:]) / 2).sum(axis=0) / counts.sum()
    return edges_raw, A - centre, counts, "edges"


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov distance ``sup_t |F_a(t) - F_b(t)|``."""
    t = np.concatenate([a, b])
    Fa = np.searchsorted(np.sort(a), t, side="right") / len(a)
    Fb = np.searchsorted(np.sort(b), t, side="right") / len(b)
    return float(np.abs(Fa - Fb).max())


def category_order(net, x: np.ndarray, var, present: np.ndarray) -> np.ndarray:
    """Apley-Zhu order of the present categories (indices into ``var.categories``).

    Distance between categories: sum over the other variables of the KS distance (real) or the
    total-variation distance (enumerated, binary) between their distributions in the two
    groups; order: the first coordinate of classical MDS of the distance matrix."""
    codes = x[:, list(var.columns)].argmax(axis=1)
    cats = np.flatnonzero(present)
    K = len(cats)
    if K <= 2:
        return cats
    Dm = np.zeros((K, K))
    for other in net.variables:
        if other.name == var.name:
            continue
        block = x[:, list(other.columns)].astype(np.float64)
        for a in range(K):
            for b in range(a + 1, K):
                ia, ib = codes == cats[a], codes == cats[b]
                if other.kind == "real":
                    d = _ks(block[ia, 0], block[ib, 0])
                else:
                    onehot = block if other.kind == "enumerated" else np.c_[1 - block, block]
                    d = 0.5 * np.abs(onehot[ia].mean(axis=0) - onehot[ib].mean(axis=0)).sum()
                Dm[a, b] += d
                Dm[b, a] += d
    J = np.eye(K) - 1.0 / K
    B = -0.5 * J @ (Dm**2) @ J
    w, v = np.linalg.eigh(B)
    coord = v[:, -1] * np.sqrt(max(w[-1], 0.0))
    return cats[np.argsort(coord, kind="stable")]


def _discrete_ale(net, x, var, order, chunk_size):
    cols = list(var.columns)
    if var.kind == "binary":
        codes = x[:, cols[0]].astype(int)
        cand = np.array([[0.0], [1.0]])
        labels = list(var.categories) if var.categories else [0, 1]
        L = 2
    else:
        codes = x[:, cols].argmax(axis=1)
        cand = np.eye(len(cols))
        labels = list(var.categories)
        L = len(cols)
    counts_all = np.bincount(codes, minlength=L)
    present = counts_all > 0
    if order is not None:
        lookup = {str(c): i for i, c in enumerate(labels)}
        try:
            seq = np.array([lookup[str(c)] for c in order])
        except KeyError as err:
            raise ValueError(f"`order` names {err.args[0]!r}, not a category of {var.name!r}: {labels}.") from None
        if sorted(seq.tolist()) != list(range(L)):
            raise ValueError(f"`order` must list every category of {var.name!r} once: {labels}. Got {list(order)!r}.")
        seq = seq[present[seq]]
        how = "given"
    elif var.kind == "binary":
        seq, how = np.flatnonzero(present), "natural"
    else:
        seq, how = category_order(net, x, var, present), "mds"
    if len(seq) < 2:
        raise ValueError(f"Variable {var.name!r} takes one value in `X`; ALE needs at least two.")
    proba, _ = proba_grid(net, x, np.asarray(cols), cand.astype(x.dtype), chunk_size)
    proba = proba.astype(np.float64)  # (N, L, K)
    K = proba.shape[-1]
    A = np.zeros((len(seq), K))
    for j in range(1, len(seq)):
        lo, hi = seq[j - 1], seq[j]
        near = (codes == lo) | (codes == hi)
        A[j] = A[j - 1] + (proba[near, hi] - proba[near, lo]).mean(axis=0)
    n = counts_all[seq]
    effects_present = A - (n[:, None] * A).sum(axis=0) / n.sum()
    absent = np.flatnonzero(~present)
    values = [labels[i] for i in seq] + [labels[i] for i in absent]
    effects = np.vstack([effects_present, np.full((len(absent), K), np.nan)])
    counts = np.concatenate([n, np.zeros(len(absent), dtype=int)])
    return np.asarray(values, dtype=object), effects, counts, how


def ale(
    model: Any,
    X: Any,
    variable: Any,
    *,
    bins: Any = 20,
    order: Any = None,
    encoded: bool = False,
    chunk_size: Any = "auto",
) -> AccumulatedLocalEffects:
    """First-order accumulated local effects of ``variable`` (module docstring).

    Parameters
    ----------
    model : Network, ShallowNetClassifier or fitted MLPClassifier / MLPRegressor
    X : DataFrame or array (N, n_features)
        The data the effects are averaged over (raw, or encoded with ``encoded=True``).
    variable : str, or a pair of str
        A pair of real variables gives their second-order effect
        (:func:`shallownet.interpret.ale2.ale2`, with ``bins`` passed on).
    bins : int or sequence of float, default 20
        Real variables: the number of quantile bins (fewer when quantiles coincide), or the bin
        edges in raw units (strictly increasing, covering the variable's values in ``X``).
    order : sequence of categories, optional
        Enumerated variables: the order to accumulate in, instead of the Apley-Zhu MDS order.
    encoded : bool, default False
    chunk_size : "auto" or int

    Returns
    -------
    AccumulatedLocalEffects or SecondOrderALE
        ``effects`` of shape (G, K): one column per class probability (regression: per output).
    """
    if isinstance(variable, (tuple, list)):
        from .ale2 import ale2

        if order is not None:
            raise ValueError("`order` applies to one enumerated variable; a pair gets second-order ALE.")
        return ale2(model, X, variable, bins=bins, encoded=encoded, chunk_size=chunk_size)
    chunk_size = check_chunk_size(chunk_size)
    net, x, _ = prepare(model, X, None, encoded)
    var = one_variable(net, variable)
    if var.kind == "real":
        if order is not None:
            raise ValueError(f"`order` applies to enumerated variables; {var.name!r} is real.")
        values, effects, counts, how = _real_ale(net, x, var, bins, chunk_size)
    else:
        values, effects, counts, how = _discrete_ale(net, x, var, order, chunk_size)
    return AccumulatedLocalEffects(
        variable=var.name, kind=var.kind, values=values, effects=effects, counts=counts,
        outputs=np.asarray(net.classes), ordered_by=how, regression=net.is_regression,
    )
