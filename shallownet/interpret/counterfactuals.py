"""Counterfactuals: the smallest change to a case that changes the network's decision.

The decision is ``d(x) = argmax_k p_k(x)`` (for an ensemble the argmax of the members' mean
probabilities). A counterfactual of case ``x0`` is a valid input ``x`` with ``d(x) != d(x0)``;
we look for the nearest one under the distance

    dist(x0, x) = sum_{v real} |x_v - x0_v| / s_v + sum_{v discrete} 1[x_v != x0_v]     (L1)

(or the square root of the sum of squares, ``norm="l2"``). ``x_v`` is the encoded value, so a
real variable stays in its training range [0, 1]; ``s_v`` is its spread in those units: 1
(``scale="range"``, so a real distance of 1 is a move over the whole training range), its
median absolute deviation or its standard deviation on the reference data. An enumerated
variable is switched whole from one category to another and a binary one flipped; either
counts 1. ``immutable`` variables never change.

Two searches serve two questions.

**One variable at a time** (potential influence made quantitative). For a real variable the
network restricted to the line ``x0_{v<-u}``, ``u in [0, 1]``, is evaluated on the shared grid
of the flip-tensor engine (:func:`shallownet.interpret.flips.proba_grid`); on each side of the
case's own value the first grid point that changes the decision brackets the nearest flip
point, and bisection on the line narrows the bracket to ``tol``. The flipped end of the bracket
is returned, so the change reported always flips the decision. A flip and flip back between two
neighbouring grid points is not seen (the grid's resolution, ``n_grid``). For an enumerated
variable every category is tried (the categories that flip are reported); for a binary one the
other value. None (NaN) where the variable alone cannot change the decision.

**Several variables** (the adversarial-example question). A mixed search: the discrete part
changes at most ONE enumerated or binary variable (every single switch is a start, and so is
the case itself); from each start the real mutable variables move by sequential linear
programming on the margin ``g(x) = max_{k != d0} log p_k(x) - log p_{d0}(x)`` (``g > 0`` iff
the decision changed). Each step linearises ``g`` at the current point ``x_t`` and solves, from
the start ``s``, the box-constrained problem

    min_x  sum_v |x_v - s_v| / spread_v   s.t.   g(x_t) + grad g(x_t) . (x - x_t) >= eta,  0 <= x <= 1

exactly: an L1 cost with one linear constraint is a fractional knapsack (move the variables
in order of ``|dg/dx_v| spread_v``, each to its bound, the last one partly); the L2 version moves
``x_v - s_v = clip(t spread_v^2 dg/dx_v)`` with ``t`` found by bisection. When the solution flips
the decision, bisection along the segment from ``s`` shrinks it onto the boundary (the flipped
end kept), and the next step linearises there. For a network without hidden layers ``g`` is
linear in the inputs (a sigmoid output; for softmax, piecewise linear) and one step finds the
exact minimum. Being local beyond that, the search runs from several first linearisation points
per start (the case, its single-variable flip points, the start's nearest flip on a coarse grid
over every pair of real variables), and the best point is polished by moving each changed real
coordinate back towards the start while the decision stays flipped. The best flipped point of all
starts and steps, and the best single-variable flip, is the answer; every answer is checked by a
forward pass of the network. "Flipped" means past the boundary by ``margin``:
``g(x) > margin``, so that rounding to raw units keeps the flip.

Plausibility: the distance from the counterfactual to its ``n_neighbors``-th nearest reference
row (real columns divided by their spread, one-hot columns by sqrt 2 so a switch counts 1) is
compared with the same distance of the reference rows themselves (leave one out); a
counterfactual is ``plausible`` when it lies within the 95th percentile of theirs.

Compilation: one jitted kernel per numerical region (the line bisection, the pair grid, the
mixed search),
batched over cases with ``jax.vmap`` and run in fixed-size row chunks, so repeated calls with
the same network and settings do not recompile.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from .._validation import check_float, check_int, check_one_of
from ..models.layers import log_probabilities, logits
from ..results import Result
from ._inputs import check_chunk_size, check_n_grid, encode, select_variables
from ._layout import network_of, refuse_regression
from .flips import chunk_length, map_chunks, proba_grid, substitution, widest_layer

SCALES = ("range", "mad", "sd")
NORMS = ("l1", "l2")
ETA = 1e-3
"""Margin overshoot (log-probability units) each linearised step aims for."""
PLAUSIBLE_QUANTILE = 0.95


# -- the margin -------------------------------------------------------------------------------
def _log_proba(params, x, activation, output):
    """Log ensemble probabilities at ONE encoded case ``x`` (D,), shape (K,).

    ``log mean_m p_m = logsumexp_m log p_m - log M``, stable where a probability underflows."""
    lp = jax.vmap(lambda p: log_probabilities(logits(p, x, activation), output))(params)
    return jax.scipy.special.logsumexp(lp, axis=0) - jnp.log(lp.shape[0])


def _margin(params, x, base, activation, output):
    """``max_{k != base} log p_k(x) - log p_base(x)``: positive iff the decision is not ``base``."""
    lp = _log_proba(params, x, activation, output)
    other = jnp.max(jnp.where(jnp.arange(lp.shape[0]) == base, -jnp.inf, lp))
    return other - lp[base]


# -- single-variable line bisection -------------------------------------------------------------
def _bisect_line_impl(params, x, col, lo, hi, base, need, activation, output, steps):
    """Per case: bisect ``u`` in [lo, hi] (``hi`` flips, ``lo`` not) on the line x_{col<-u}.

    Shapes: x (C, D), lo/hi (C,), base (C,); returns the flipped end (C,)."""

    def one(xc, l, h, b):
        def flips(u):
            return _margin(params, xc.at[col].set(u), b, activation, output) > need

        def body(_, lh):
            l, h = lh
            mid = 0.5 * (l + h)
            f = flips(mid)
            return jnp.where(f, l, mid), jnp.where(f, mid, h)

        return jax.lax.fori_loop(0, steps, body, (l, h))[1]

    return jax.vmap(one)(x, lo, hi, base)


_bisect_line = jax.jit(_bisect_line_impl, static_argnames=("activation", "output", "steps"))


# -- the mixed multi-variable search ------------------------------------------------------------
def _start_point(xc, sset, sval):
    """The case ``xc`` (D,) with a start's discrete switch applied (binary flips as value -1)."""
    return jnp.where(sset > 0, jnp.where(sval < 0, 1.0 - xc, sval), xc)


def _pair_grid_impl(params, x0, mask, vals, starts_set, starts_val, cost, real, base, need,
                    activation, output, norm):
    """Per case and start, the nearest flipped point of a shared set of substitutions.

    ``mask``/``vals`` (Q, D): point q is the start with the masked columns set to ``vals``
    (every pair of real mutable variables on a G x G grid). Returns (point (C, S, D),
    found (C, S)); the distance counts the real columns only (the start's switch is common)."""
    def one(xc, b, sset, sval):
        s = _start_point(xc, sset, sval)
        pts = jnp.where(mask > 0, vals, s[None, :])
        flips = jax.vmap(lambda p: _margin(params, p, b, activation, output))(pts) > need
        d = (pts - s[None, :]) / cost[None, :] * real[None, :]
        dist = jnp.sum(jnp.abs(d), axis=1) if norm == "l1" else jnp.sqrt(jnp.sum(d**2, axis=1))
        dist = jnp.where(flips, dist, jnp.inf)
        k = jnp.argmin(dist)
        return pts[k], jnp.isfinite(dist[k])

    per_start = jax.vmap(one, in_axes=(None, None, 0, 0))
    return jax.vmap(lambda xc, b: per_start(xc, b, starts_set, starts_val))(x0, base)


_pair_grid = jax.jit(_pair_grid_impl, static_argnames=("activation", "output", "norm"))


def _pair_patterns(columns: list[int], n_inputs: int, n_grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks and values (Q, D) of every pair of ``columns`` on an ``n_grid`` x ``n_grid`` grid."""
    g = np.linspace(0.0, 1.0, n_grid)
    A, B = np.meshgrid(g, g, indexing="ij")
    masks, vals = [], []
    for i, j in itertools.combinations(columns, 2):
        m = np.zeros((A.size, n_inputs))
        v = np.zeros((A.size, n_inputs))
        m[:, [i, j]] = 1
        v[:, i], v[:, j] = A.ravel(), B.ravel()
        masks.append(m), vals.append(v)
    return np.concatenate(masks), np.concatenate(vals)


def _knapsack_l1(a, s, cost, mutable, r):
    """``argmin sum |x - s| / cost`` s.t. ``a . (x - s) >= r``, ``0 <= x <= 1`` (movable coords
    only): fill in decreasing order of gain per unit distance, ``|a_v| cost_v``."""
    room = jnp.where(a > 0, 1.0 - s, s) * mutable
    absa = jnp.abs(a)
    cap = absa * room  # the most gain each coordinate can give
    eff = jnp.where(cap > 0, absa * cost, -1.0)
    order = jnp.argsort(-eff)
    caps = cap[order]
    before = jnp.cumsum(caps) - caps
    take = jnp.clip(r - before, 0.0, caps)  # gain taken from each, in order
    move = jnp.where(caps > 0, take / jnp.where(absa[order] > 0, absa[order], 1.0), 0.0)
    step = jnp.zeros_like(s).at[order].set(move)
    return s + jnp.sign(a) * step


def _knapsack_l2(a, s, cost, mutable, r, steps=50):
    """``argmin sum ((x - s) / cost)^2`` s.t. ``a . (x - s) >= r``, ``0 <= x <= 1``.

    KKT: ``x - s = clip(t cost^2 a, -s, 1 - s)`` on movable coordinates, ``t >= 0`` the
    smallest with enough gain; the gain is nondecreasing in ``t``, found by bisection."""
    a = a * mutable
    w = cost**2 * a

    def at(t):
        return jnp.clip(t * w, -s, 1.0 - s) * mutable

    room = jnp.where(a > 0, 1.0 - s, s)
    t_max = jnp.max(jnp.where(jnp.abs(w) > 0, room / jnp.where(jnp.abs(w) > 0, jnp.abs(w), 1.0), 0.0))

    def body(_, lh):
        l, h = lh
        mid = 0.5 * (l + h)
        ok = a @ at(mid) >= r
        return jnp.where(ok, l, mid), jnp.where(ok, mid, h)

    _, h = jax.lax.fori_loop(0, steps, body, (0.0 * r, t_max + 0.0 * r))
    return s + jnp.where(r > 0, 1.0, 0.0) * at(h)


def _distance(d, cost, real, disc_changed, norm):
    """Distance of a real-column step ``d`` (D,) plus ``disc_changed`` discrete switches."""
    if norm == "l1":
        return jnp.sum(jnp.abs(d) / cost * real) + disc_changed
    return jnp.sqrt(jnp.sum((d / cost) ** 2 * real) + disc_changed)


def _search_impl(params, x0, inits, starts_set, starts_val, start_cost, cost, mutable, base, need,
                 activation, output, norm, n_iter, steps):
    """Best flipped point per case over all starts, first linearisation points and steps.

    Shapes: x0 (C, D); inits (C, S, R, D): per start, points whose real mutable columns are
    where the first step linearises (the case itself, its single-variable flip points, the
    start's nearest flip on the pair grid); starts_set/starts_val
    (S, D) (columns a start overwrites, and with what; binary flips are encoded as value -1
    meaning ``1 - x``); start_cost (S,); cost, mutable (D,) (mutable: real columns that may
    move); base (C,). Returns (x (C, D), distance (C,), found (C,))."""
    real = mutable

    def from_start(xc, b, sset, sval, scost, init):
        s = _start_point(xc, sset, sval)
        # a start that sets the case's own category changes nothing and costs nothing
        disc = scost * (jnp.sum(jnp.abs(s - xc)) > 0.5)
        def margin(z):  # positive iff the decision moved away from b by more than `need`
            return _margin(params, z, b, activation, output) - need

        def shrink(y):
            def body(_, lh):
                l, h = lh
                mid = 0.5 * (l + h)
                f = margin(s + mid * (y - s)) > 0
                return jnp.where(f, l, mid), jnp.where(f, mid, h)

            _, h = jax.lax.fori_loop(0, steps, body, (0.0, 1.0))
            return s + h * (y - s)

        g0 = margin(s)
        best_d = jnp.where(g0 > 0, _distance(s - xc, cost, 0.0 * real, disc, norm), jnp.inf)
        best_x = s

        def step(carry, _):
            x, bx, bd = carry
            g, a = jax.value_and_grad(margin)(x)
            a = a * real
            r = ETA - g + a @ (x - s)
            y = _knapsack_l1(a, s, cost, real, r) if norm == "l1" else _knapsack_l2(a, s, cost, real, r)
            y = jnp.clip(y, 0.0, 1.0)
            fy = margin(y) > 0
            yb = jnp.where(fy, shrink(y), y)
            fb = margin(yb) > 0
            d = _distance(yb - s, cost, real, disc, norm)
            better = fb & (d < bd)
            bx = jnp.where(better, yb, bx)
            bd = jnp.where(better, d, bd)
            x = jnp.where(fy, yb, y)
            return (x, bx, bd), None

        def polish(b):
            # move each changed real column back towards the start while the decision stays
            # flipped (bisection on that coordinate alone): never longer, often shorter
            def coord(j, b):
                def body(_, lh):
                    l, h = lh
                    mid = 0.5 * (l + h)
                    f = margin(b.at[j].set(s[j] + mid * (b[j] - s[j]))) > 0
                    return jnp.where(f, l, mid), jnp.where(f, mid, h)

                _, h = jax.lax.fori_loop(0, steps, body, (0.0, 1.0))
                moved = b.at[j].set(s[j] + h * (b[j] - s[j]))
                return jnp.where((real[j] > 0) & (margin(moved) > 0), moved, b)

            return jax.lax.fori_loop(0, 2 * b.shape[0], lambda i, b: coord(i % b.shape[0], b), b)

        first = jnp.where(real > 0, init, s)
        d_first = _distance(first - s, cost, real, disc, norm)
        take = (margin(first) > 0) & (d_first < best_d)
        best_x = jnp.where(take, first, best_x)
        best_d = jnp.where(take, d_first, best_d)
        (_, bx, bd), _ = jax.lax.scan(step, (first, best_x, best_d), None, length=n_iter)
        px = polish(bx)
        pd_ = _distance(px - s, cost, real, disc, norm)
        ok = jnp.isfinite(bd) & (margin(px) > 0) & (pd_ <= bd)
        return jnp.where(ok, px, bx), jnp.where(ok, pd_, bd)

    def one(xc, b, ini):
        over_inits = jax.vmap(from_start, in_axes=(None, None, None, None, None, 0))
        over_starts = jax.vmap(over_inits, in_axes=(None, None, 0, 0, 0, 0))
        xs, ds = over_starts(xc, b, starts_set, starts_val, start_cost, ini)
        xs, ds = xs.reshape(-1, xs.shape[-1]), ds.reshape(-1)
        k = jnp.argmin(ds)
        return xs[k], ds[k], jnp.isfinite(ds[k])

    return jax.vmap(one)(x0, base, inits)


_search = jax.jit(_search_impl, static_argnames=("activation", "output", "norm", "n_iter", "steps"))


# -- the result --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, repr=False)
class Counterfactuals(Result):
    """Nearest counterfactuals of each case, over one variable and over several.

    Distances are in the units of ``scale`` (module docstring): a real variable's change over
    its spread ``spreads`` (raw units), plus 1 per switched enumerated or binary variable.

    Attributes
    ----------
    variables, kinds : tuple of str
        Variable names and kinds (an enumerated group is one variable).
    classes : ndarray (K,)
    scale, norm : str
    spreads : ndarray (V,)
        Each variable's spread in raw units (1 for discrete variables, meaning one switch).
    immutable : tuple of str
    x : ndarray (N, D)
        The encoded cases.
    base : ndarray (N,) of int
        The decision at each case (class index).
    single_distance : ndarray (N, V)
        Distance of the nearest flip changing variable v alone; NaN where none exists.
    single_value : ndarray (N, V) of object
        The new value of that flip (raw units, a category label, or 0/1); None where none.
    single_class : ndarray (N, V) of int
        The decision after that flip (-1 where none).
    single_proba : ndarray (N, V)
        The probability of that new decision after the flip (NaN where none).
    flipping_categories : dict of str -> ndarray (N, K_v) of bool
        For each enumerated (and binary) variable, which of its values flip the decision alone.
    counterfactual : ndarray (N, D)
        The nearest multi-variable counterfactual, encoded (NaN rows where none was found).
    distance : ndarray (N,)
        Its distance (NaN where none).
    found : ndarray (N,) of bool
        A counterfactual was found and a forward pass confirms that it changes the decision.
    new_class : ndarray (N,) of int
        The decision at the counterfactual (-1 where none).
    new_proba : ndarray (N,)
        The probability of that decision there.
    changed : ndarray (N, V) of bool
        The variables the counterfactual changes.
    knn_distance : ndarray (N,)
        Distance of the counterfactual to its ``n_neighbors``-th nearest reference row.
    plausible : ndarray (N,) of bool
        ``knn_distance`` within the 95th percentile of the reference rows' own.
    raw_cases, raw_counterfactuals : DataFrame
        Cases and counterfactuals in raw units (one column per variable).
    """

    variables: tuple
    kinds: tuple
    classes: np.ndarray
    scale: str
    norm: str
    spreads: np.ndarray
    immutable: tuple
    x: np.ndarray
    base: np.ndarray
    single_distance: np.ndarray
    single_value: np.ndarray
    single_class: np.ndarray
    single_proba: np.ndarray
    flipping_categories: dict
    counterfactual: np.ndarray
    distance: np.ndarray
    found: np.ndarray
    new_class: np.ndarray
    new_proba: np.ndarray
    changed: np.ndarray
    knn_distance: np.ndarray
    plausible: np.ndarray
    raw_cases: pd.DataFrame
    raw_counterfactuals: pd.DataFrame

    @property
    def title(self) -> str:
        return (f"Counterfactuals of {len(self.base)} cases ({self.norm.upper()} distance, "
                f"scale {self.scale!r}; {int(self.found.sum())} found)")

    def to_frame(self) -> pd.DataFrame:
        """One row per case: decision, counterfactual decision and probability, distance, the
        variables changed as ``name: old -> new`` in raw units, plausibility."""
        rows = []
        for n in range(len(self.base)):
            changes = []
            if self.found[n]:
                for v in np.flatnonzero(self.changed[n]):
                    name = self.variables[v]
                    changes.append(f"{name}: {_fmt(self.raw_cases.iloc[n][name])} -> "
                                   f"{_fmt(self.raw_counterfactuals.iloc[n][name])}")
            rows.append({
                "case": n,
                "class": self.classes[self.base[n]],
                "counterfactual_class": self.classes[self.new_class[n]] if self.found[n] else None,
                "probability": self.new_proba[n],
                "distance": self.distance[n],
                "n_changed": int(self.changed[n].sum()),
                "changes": "; ".join(changes),
                "plausible": bool(self.plausible[n]) if self.found[n] else None,
            })
        return pd.DataFrame(rows)

    def changes_frame(self) -> pd.DataFrame:
        """Long form: one row per changed variable of each found counterfactual, old and new
        value in raw units, the raw change (real variables) and its share of the distance."""
        rows = []
        for n in np.flatnonzero(self.found):
            for v in np.flatnonzero(self.changed[n]):
                name = self.variables[v]
                old, new = self.raw_cases.iloc[n][name], self.raw_counterfactuals.iloc[n][name]
                real = self.kinds[v] == "real"
                rows.append({"case": int(n), "variable": name, "old": old, "new": new,
                             "change": float(new) - float(old) if real else np.nan,
                             "distance": abs(float(new) - float(old)) / self.spreads[v] if real else 1.0})
        return pd.DataFrame(rows, columns=["case", "variable", "old", "new", "change", "distance"])

    def variable_frame(self) -> pd.DataFrame:
        """Per variable: share of cases one change of it alone flips, median distance of that
        flip (over cases where it exists), share of cases within one spread of such a flip, and
        how often the variable is part of the nearest multi-variable counterfactual."""
        sd = self.single_distance
        with np.errstate(all="ignore"):
            med = np.array([np.nanmedian(c) if np.isfinite(c).any() else np.nan for c in sd.T])
        n_found = max(int(self.found.sum()), 1)
        return pd.DataFrame({
            "variable": list(self.variables),
            "kind": list(self.kinds),
            "spread": self.spreads,
            "flips_alone": np.isfinite(sd).mean(axis=0),
            "median_distance": med,
            "within_one_spread": (np.nan_to_num(sd, nan=np.inf) <= 1.0).mean(axis=0),
            "in_counterfactual": self.changed[self.found].sum(axis=0) / n_found,
        })

    def _html_figures(self) -> list[tuple[str, str]]:
        from .._html import format_value

        found = self.found
        med = float(np.median(self.distance[found])) if found.any() else np.nan
        return [*super()._html_figures(), ("cases", str(len(self.base))), ("found", f"{found.mean():.1%}"),
                ("median distance", format_value(med))]

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        return [("One row per case.", self.to_frame()), ("Per variable.", self.variable_frame())]

    def summary(self, digits: int = 3) -> str:
        fmt = lambda v: f"{v:.{digits}g}"  # noqa: E731
        with pd.option_context("display.width", 120, "display.max_columns", 30):
            per_var = self.variable_frame().to_string(index=False, float_format=fmt)
            cases = self.to_frame().head(10).to_string(index=False, float_format=fmt)
        found = self.found
        med = np.median(self.distance[found]) if found.any() else np.nan
        lines = [self.title, "=" * len(self.title),
                 f"found for {found.mean():.1%} of cases; median distance {fmt(med)}; "
                 f"plausible {self.plausible[found].mean() if found.any() else np.nan:.1%}",
                 "", "Per variable", per_var, "", "First cases", cases]
        return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


# -- inputs ------------------------------------------------------------------------------------
def _spreads(net, ref: np.ndarray, scale: str) -> np.ndarray:
    """Spread of each variable in encoded units (1 for discrete ones)."""
    out = np.ones(len(net.variables))
    for i, v in enumerate(net.variables):
        if v.kind != "real" or scale == "range":
            continue
        col = ref[:, v.columns[0]].astype(np.float64)
        s = np.median(np.abs(col - np.median(col))) if scale == "mad" else col.std()
        if not s > 0:
            raise ValueError(
                f"`scale`={scale!r}: variable {v.name!r} has zero spread on the reference data, "
                "so distances along it are undefined. Use scale='range' or another reference."
            )
        out[i] = s
    return out


def _starts(net, immutable: set) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The case itself and every single switch of a mutable discrete variable:
    ``(set (S, D), value (S, D), cost (S,))`` (binary flips as value -1)."""
    D = net.n_inputs
    sets, vals, costs = [np.zeros(D)], [np.zeros(D)], [0.0]
    for v in net.variables:
        if v.kind == "real" or v.name in immutable:
            continue
        if v.kind == "binary":
            s, val = np.zeros(D), np.zeros(D)
            s[v.columns[0]], val[v.columns[0]] = 1, -1
            sets.append(s), vals.append(val), costs.append(1.0)
        else:
            for c in v.columns:
                s, val = np.zeros(D), np.zeros(D)
                s[list(v.columns)] = 1
                val[c] = 1
                sets.append(s), vals.append(val), costs.append(1.0)
    return np.array(sets), np.array(vals), np.array(costs)


def _distances(net, x0: np.ndarray, x: np.ndarray, spreads: np.ndarray, norm: str):
    """Exact distance and changed variables between encoded rows (host, float64)."""
    N = x0.shape[0]
    parts = np.zeros((N, len(net.variables)))
    changed = np.zeros((N, len(net.variables)), dtype=bool)
    for i, v in enumerate(net.variables):
        cols = list(v.columns)
        diff = x[:, cols].astype(np.float64) - x0[:, cols].astype(np.float64)
        if v.kind == "real":
            parts[:, i] = np.abs(diff[:, 0]) / spreads[i]
            changed[:, i] = diff[:, 0] != 0
        else:
            changed[:, i] = np.abs(diff).sum(axis=1) > 0.5
            parts[:, i] = changed[:, i]
    dist = parts.sum(axis=1) if norm == "l1" else np.sqrt((parts**2).sum(axis=1))
    return dist, changed


def _raw_frame(net, x: np.ndarray) -> pd.DataFrame:
    """Encoded rows as a frame of raw values, one column per variable (NaN rows stay empty)."""
    cols = {}
    ok = np.isfinite(x).all(axis=1)
    for v in net.variables:
        block = x[:, list(v.columns)]
        if v.kind == "real":
            cols[v.name] = np.where(ok, v.to_raw(block[:, 0]), np.nan)
        else:
            labels = v.categories if v.kind == "enumerated" else (v.categories or (0, 1))
            idx = block.argmax(axis=1) if v.kind == "enumerated" else np.rint(np.nan_to_num(block[:, 0])).astype(int)
            cols[v.name] = np.array([labels[k] if o else None for k, o in zip(idx, ok)], dtype=object)
    return pd.DataFrame(cols)


def _plausibility(net, ref, x, found, spreads, n_neighbors):
    """kNN distance of each counterfactual to the reference rows and the plausibility flag."""
    from sklearn.neighbors import NearestNeighbors

    w = np.ones(net.n_inputs)
    for i, v in enumerate(net.variables):
        w[list(v.columns)] = 1.0 / spreads[i] if v.kind == "real" else (1 / math.sqrt(2) if v.kind == "enumerated" else 1.0)
    R = ref.astype(np.float64) * w
    k = min(n_neighbors, len(R) - 1)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(R)
    own = nn.kneighbors(R)[0][:, k]  # the row itself is its own nearest neighbour
    threshold = np.quantile(own, PLAUSIBLE_QUANTILE)
    dist = np.full(len(x), np.nan)
    if found.any():
        dist[found] = nn.kneighbors(x[found].astype(np.float64) * w, n_neighbors=k)[0][:, k - 1]
    return dist, found & (dist <= threshold)


# -- single-variable flips ---------------------------------------------------------------------
def _flipped(proba: np.ndarray, base: np.ndarray, need: float) -> np.ndarray:
    """``max_{k != d} log p_k - log p_d > need`` on the host, for probabilities (N, G, K)."""
    with np.errstate(divide="ignore"):
        lp = np.log(proba.astype(np.float64))
    own = np.take_along_axis(lp, base[:, None, None], axis=-1)[..., 0]
    np.put_along_axis(lp, np.broadcast_to(base[:, None, None], lp.shape[:-1] + (1,)), -np.inf, axis=-1)
    return lp.max(axis=-1) - own > need


def _single_real(net, x, v, base, n_grid, steps, chunk_size, need):
    """Nearest flip of real variable ``v`` alone: (new encoded value or NaN) per case."""
    cols, cand = substitution(v, n_grid)
    proba, _ = proba_grid(net, x, cols, cand, chunk_size)
    flips = _flipped(proba, base, need)  # (N, G)
    grid = cand[:, 0]
    u = x[:, cols[0]].astype(np.float64)
    N = len(x)
    sides = []
    for side in (+1, -1):
        beyond = (grid[None, :] > u[:, None]) if side > 0 else (grid[None, :] < u[:, None])
        cand_f = flips & beyond
        has = cand_f.any(axis=1)
        if side > 0:
            j = np.where(has, cand_f.argmax(axis=1), 0)
            prev = grid[np.maximum(j - 1, 0)]
            lo = np.where((j > 0) & (prev > u), prev, u)
        else:
            j = np.where(has, len(grid) - 1 - cand_f[:, ::-1].argmax(axis=1), 0)
            nxt = grid[np.minimum(j + 1, len(grid) - 1)]
            lo = np.where((j < len(grid) - 1) & (nxt < u), nxt, u)
        sides.append((has, lo, grid[j]))
    rows = np.concatenate([x, x])
    lo = np.concatenate([s[1] for s in sides]).astype(x.dtype)
    hi = np.concatenate([s[2] for s in sides]).astype(x.dtype)
    b2 = np.concatenate([base, base]).astype(np.int32)
    chunk = chunk_length(2 * N, net.n_members * widest_layer(net) * 4, chunk_size)
    fn = partial(_bisect_line, net.params, col=int(cols[0]), need=jnp.asarray(need, x.dtype),
                 activation=net.activation, output=net.output, steps=steps)
    found = map_chunks(lambda a, l_, h_, b_: fn(jnp.asarray(a), lo=jnp.asarray(l_), hi=jnp.asarray(h_),
                                                 base=jnp.asarray(b_)), (rows, lo, hi, b2), chunk)
    right, left = found[:N].astype(np.float64), found[N:].astype(np.float64)
    dr = np.where(sides[0][0], np.abs(right - u), np.inf)
    dl = np.where(sides[1][0], np.abs(left - u), np.inf)
    out = np.where(dr <= dl, right, left)
    out[~(sides[0][0] | sides[1][0])] = np.nan
    return out


def _check_immutable(net, immutable) -> set:
    if immutable is None:
        return set()
    names = [v.name for v in select_variables(net, immutable)]
    return set(names)


def counterfactuals(
    model: Any,
    X: Any,
    *,
    immutable: Any = None,
    scale: str = "range",
    norm: str = "l1",
    reference: Any = None,
    n_grid: int = 51,
    tol: float = 1e-5,
    n_iter: int = 10,
    pair_grid: int = 11,
    margin: float = 1e-3,
    n_neighbors: int = 10,
    encoded: bool = False,
    chunk_size: Any = "auto",
) -> Counterfactuals:
    """Nearest changes of each case that change the network's decision (module docstring).

    Parameters
    ----------
    model : Network, ShallowNetClassifier or fitted MLPClassifier
        A classifier (sigmoid or softmax output); one or more hidden layers, or none.
    X : DataFrame or array (N, n_features)
        The cases to explain (raw, or encoded with ``encoded=True``).
    immutable : str or list of str, optional
        Variables that may not change (neither alone nor in the multi-variable search).
    scale : {"range", "mad", "sd"}, default "range"
        Unit of a real variable's change: its training range (the encoded [0, 1] scale), its
        median absolute deviation or its standard deviation on ``reference``.
    norm : {"l1", "l2"}, default "l1"
        How the variables' changes add up in the multi-variable distance.
    reference : DataFrame or array, optional
        Data for the spreads and the plausibility check (default: ``X``), same form as ``X``.
    n_grid : int, default 51
        Grid points bracketing a real variable's flip before bisection.
    tol : float, default 1e-5
        Bisection tolerance in encoded (range) units.
    n_iter : int, default 10
        Linearised steps of the multi-variable search from each start.
    pair_grid : int, default 11
        Points per axis of the coarse grid over every pair of mutable real variables whose
        nearest flip is one of the search's first linearisation points (``R (R - 1) / 2 *
        pair_grid**2`` forward passes per case for R such variables).
    margin : float, default 1e-3
        How far past the decision boundary a counterfactual must lie: ``log p_new - log
        p_old > margin`` (the new decision's probability at least ``1 / (1 + e^-margin)`` of
        the two). The default keeps the flip through rounding to raw units; a larger value
        asks for a confident counterfactual (``log 3`` for odds of 3 to 1).
    n_neighbors : int, default 10
        Neighbours of the plausibility check.
    encoded : bool, default False
    chunk_size : "auto" or int
        Cases per compiled chunk.

    Returns
    -------
    Counterfactuals
    """
    check_one_of("scale", scale, SCALES)
    check_one_of("norm", norm, NORMS)
    n_grid = check_n_grid(n_grid)
    tol = check_float("tol", tol, 0.0, 0.5, open_min=True)
    n_iter = check_int("n_iter", n_iter, 1)
    pair_grid = check_int("pair_grid", pair_grid, 2)
    n_neighbors = check_int("n_neighbors", n_neighbors, 1)
    margin = check_float("margin", margin, 0.0)
    chunk_size = check_chunk_size(chunk_size)
    net = network_of(model, 0, "counterfactuals")
    refuse_regression(net, "A counterfactual")
    immutable_set = _check_immutable(net, immutable)
    x = encode(net, X, encoded)
    ref = x if reference is None else encode(net, reference, encoded, "reference")
    if len(ref) < 2:
        raise ValueError(f"`reference` needs at least 2 rows for the plausibility check. Got {len(ref)}.")
    spreads = _spreads(net, ref, scale)
    steps = max(1, math.ceil(math.log2(1.0 / tol)))
    base = net.predict_proba(x, encoded=True).argmax(axis=1).astype(np.int32)
    N, V = len(x), len(net.variables)

    # one variable at a time
    s_dist = np.full((N, V), np.nan)
    s_value = np.full((N, V), None, dtype=object)
    s_x = []
    flipping = {}
    for i, v in enumerate(net.variables):
        cols = list(v.columns)
        xv = x.copy()
        if v.name in immutable_set:
            s_x.append(np.full_like(x, np.nan))
            continue
        if v.kind == "real":
            new = _single_real(net, x, v, base, n_grid, steps, chunk_size, margin)
            ok = np.isfinite(new)
            xv[:, cols[0]] = np.where(ok, new, xv[:, cols[0]])
            s_dist[ok, i] = np.abs(new[ok] - x[ok, cols[0]]) / spreads[i]
            s_value[ok, i] = v.to_raw(new[ok])
        else:
            vcols, cand = substitution(v, n_grid)
            proba, _ = proba_grid(net, x, vcols, cand, chunk_size)
            fl = _flipped(proba, base, margin)
            flipping[v.name] = fl
            score = np.where(fl, proba.max(axis=-1), -1.0)
            best = score.argmax(axis=1)
            ok = fl.any(axis=1)
            xv[np.ix_(ok, cols)] = cand[best[ok]]
            s_dist[ok, i] = 1.0
            labels = v.categories if v.kind == "enumerated" else (v.categories or (0, 1))
            for n in np.flatnonzero(ok):
                s_value[n, i] = labels[best[n]]
        xv[~ok] = np.nan
        s_x.append(xv)
    s_x = np.stack(s_x, axis=1)  # (N, V, D)
    s_proba = np.full((N, V), np.nan)
    s_class = np.full((N, V), -1, dtype=np.int32)
    ok_all = np.isfinite(s_dist)
    if ok_all.any():
        p = net.predict_proba(s_x[ok_all], encoded=True)
        s_class[ok_all] = p.argmax(axis=1)
        s_proba[ok_all] = p.max(axis=1)
        # a forward pass confirms every single-variable flip
        bad = s_class[ok_all] == np.broadcast_to(base[:, None], (N, V))[ok_all]
        if bad.any():
            idx = tuple(a[bad] for a in np.nonzero(ok_all))
            s_dist[idx], s_class[idx], s_proba[idx], s_value[idx] = np.nan, -1, np.nan, None

    # several variables: the mixed search
    sset, sval, scost = _starts(net, immutable_set)
    mutable = np.zeros(net.n_inputs)
    cost = np.ones(net.n_inputs)
    for i, v in enumerate(net.variables):
        if v.kind == "real":
            cost[v.columns[0]] = spreads[i]
            mutable[v.columns[0]] = v.name not in immutable_set
    dt = x.dtype
    real_ok = [i for i, v in enumerate(net.variables) if v.kind == "real" and v.name not in immutable_set]
    S = len(sset)
    chunk = chunk_length(N, S * (2 + len(real_ok)) * net.n_members * widest_layer(net) * 8, chunk_size)
    fn = partial(_search, net.params, starts_set=jnp.asarray(sset, dt), starts_val=jnp.asarray(sval, dt),
                 start_cost=jnp.asarray(scost, dt), cost=jnp.asarray(cost, dt), mutable=jnp.asarray(mutable, dt),
                 need=jnp.asarray(margin, dt),
                 activation=net.activation, output=net.output, norm=norm, n_iter=n_iter, steps=steps)
    shared = np.concatenate([x[:, None, :], np.where(np.isfinite(s_x[:, real_ok]), s_x[:, real_ok],
                                                     x[:, None, :])], axis=1)
    inits = [np.broadcast_to(shared[:, None], (N, S) + shared.shape[1:])]
    real_cols = [net.variables[i].columns[0] for i in real_ok]
    if len(real_cols) >= 2:  # each start's nearest flip on a coarse grid of every pair of reals
        mask, vals = _pair_patterns(real_cols, net.n_inputs, pair_grid)
        gchunk = chunk_length(N, S * len(mask) * (net.n_members * widest_layer(net) + net.n_inputs), chunk_size)
        gfn = partial(_pair_grid, net.params, mask=jnp.asarray(mask, dt), vals=jnp.asarray(vals, dt),
                      starts_set=jnp.asarray(sset, dt), starts_val=jnp.asarray(sval, dt),
                      cost=jnp.asarray(cost, dt), real=jnp.asarray(mutable, dt), need=jnp.asarray(margin, dt),
                      activation=net.activation, output=net.output, norm=norm)
        g_x, g_found = map_chunks(lambda a, b_: gfn(jnp.asarray(a), base=jnp.asarray(b_)), (x, base), gchunk)
        inits.append(np.where(g_found[..., None], g_x, x[:, None, :])[:, :, None, :])
    inits = np.concatenate(inits, axis=2).astype(dt)
    m_x, _, m_found = map_chunks(lambda a, i_, b_: fn(jnp.asarray(a), jnp.asarray(i_), base=jnp.asarray(b_)),
                                 (x, inits, base), chunk)
    m_x = np.where(m_found[:, None], m_x, np.nan)
    m_dist, _ = _distances(net, x, np.nan_to_num(m_x), spreads, norm)
    m_dist = np.where(m_found, m_dist, np.inf)
    s_best = np.nanargmin(np.where(ok_all, s_dist, np.inf), axis=1)
    s_best_d = np.where(ok_all.any(axis=1), s_dist[np.arange(N), s_best], np.inf)
    use_single = s_best_d <= m_dist
    cf = np.where(use_single[:, None], s_x[np.arange(N), s_best], m_x)
    found = np.isfinite(cf).all(axis=1)
    new_class = np.full(N, -1, dtype=np.int32)
    new_proba = np.full(N, np.nan)
    if found.any():
        p = net.predict_proba(cf[found].astype(dt), encoded=True)
        new_class[found] = p.argmax(axis=1)
        new_proba[found] = p.max(axis=1)
    found &= new_class != base  # verified by a forward pass
    cf[~found] = np.nan
    new_class[~found], new_proba[~found] = -1, np.nan
    dist, changed = _distances(net, x, np.nan_to_num(cf), spreads, norm)
    dist = np.where(found, dist, np.nan)
    changed &= found[:, None]
    knn, plausible = _plausibility(net, ref, np.nan_to_num(cf), found, spreads, n_neighbors)
    raw_spreads = np.array([s * v.scale if v.kind == "real" else 1.0 for s, v in zip(spreads, net.variables)])
    return Counterfactuals(
        variables=tuple(v.name for v in net.variables), kinds=tuple(v.kind for v in net.variables),
        classes=np.asarray(net.classes), scale=scale, norm=norm, spreads=raw_spreads,
        immutable=tuple(sorted(immutable_set)), x=x, base=base, single_distance=s_dist,
        single_value=s_value, single_class=s_class, single_proba=s_proba, flipping_categories=flipping,
        counterfactual=cf, distance=dist, found=found, new_class=new_class, new_proba=new_proba,
        changed=changed, knn_distance=knn, plausible=plausible, raw_cases=_raw_frame(net, x),
        raw_counterfactuals=_raw_frame(net, cf),
    )
