"""Conditional distributions of one variable given all the others, over its candidate set.

Expected influence weights the flip tensor ``F[n, g]`` by ``pi[n, g]``, the probability that
variable i takes candidate value g given the other variables of case n. Every estimator here
returns these masses on the SAME candidate set the flip tensor uses:

* real variables: the ``n_grid`` equally spaced points on [0, 1]; a value counts for its nearest
  grid point, i.e. grid point g stands for the cell between the midpoints to its neighbours
  (the two end cells extend to minus and plus infinity);
* binary variables: the values 0 and 1;
* enumerated variables: the K categories;
* a real variable with a missingness indicator: the ``n_grid`` grid points with the
  indicator off, then "missing" (the fill value with the indicator on), ``n_grid + 1`` in all.
  ``knn`` and ``marginal`` draw the (value, indicator) pair together; ``copula`` and
  ``model`` refuse such a variable (see :meth:`ParametricConditional.fit`).

Estimators (each states its assumptions in :data:`ASSUMPTIONS`):

``marginal``
    The empirical distribution of the variable in the reference data, ignoring every other
    variable. A baseline only: it overstates the influence of a variable that the others predict.
``knn`` (default)
    The values of the variable among the k nearest reference rows in the space of the OTHER
    variables (k = max(20, floor(sqrt(N_ref))) by default). Real columns are divided by their
    reference standard deviation, binary columns count 1 for a mismatch, and one-hot columns
    are divided by sqrt(2) so that a category mismatch also counts as one unit. The squared
    distance without variable i is the full squared distance minus variable i's own term, so
    ONE distance computation serves every variable. On the explained data itself the case is
    excluded from its own neighbours (leave-one-out). With ``reference_size`` smaller than the
    reference, the neighbours are searched among a random subset of that many reference rows
    (and k defaults to ``max(20, floor(sqrt(reference_size)))``): the cost per case is then
    bounded whatever N, so EI over N cases is linear in N. Ties at the k-th distance share the
    remaining weight equally, so the result does not depend on the row order. Distances are
    computed in float32 whatever the network's dtype (XLA's fast top-k selection on CPU is
    float32-only; neighbour ranks need no more precision).
``copula``
    Gaussian copula over the real variables: each real column is mapped to normal scores
    ``z = Phi^-1(F_hat(x))`` with its (interpolated) empirical distribution function, the scores
    are taken as jointly normal with correlation R, and ``z_i | z_-i ~ N(-sum_{j != i} Q_ij z_j /
    Q_ii, 1 / Q_ii)`` with ``Q = R^-1``. Conditions on real variables only. Binary and enumerated
    variables use the ``model`` estimator.
``model``
    Binary and enumerated variables: a multinomial (softmax) logistic regression of the category
    on all other encoded columns (scikit-learn, L2 with C = 1) gives ``p(c | x_-i)`` directly.
    Real variables: a linear regression on all other encoded columns with normal residuals.

Diagnostics (:func:`scores`): the share of cases whose own value lies in the conditional's
central 90 % interval (for categories: in the smallest most-probable set holding 90 %), and the
mean log probability of the case's own cell or category under the conditional mixed with 1 % of
the uniform distribution over the candidates (so that a kNN conditional that gives the own cell
no mass stays finite; the same mixture for every estimator keeps them comparable). Both are
honest out-of-sample figures: ``knn`` and ``marginal`` on the explained data leave each case
out; ``copula`` and ``model`` fitted on the explained data are scored by 5-fold cross-fitting
(:func:`cross_fitted_scores`: each case by a fit on the other folds; the EI itself uses the fit
on all cases); every estimator is scored out of sample when a separate reference is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import ndtr, ndtri

from .._validation import check_int
from ..devices import replicate, shard_rows, to_host
from ..data.variables import Variable
from ..models.layers import PRECISION
from ._inputs import candidate_count, observed_code

CONDITIONALS = ("knn", "copula", "model", "marginal")

ASSUMPTIONS = {
    "marginal": "The variable is independent of all the others (a baseline, not a model).",
    "knn": (
        "Cases close in the other variables (real columns in standard-deviation units, a "
        "category mismatch one unit) share the variable's distribution; k neighbours are "
        "enough and close enough."
    ),
    "copula": (
        "Real variables: normal scores of the marginals are jointly normal (dependence is "
        "linear in normal scores). Binary and enumerated variables: a softmax regression "
        "on the other columns."
    ),
    "model": (
        "Binary and enumerated variables: the log-odds of each category are linear in the "
        "other encoded columns. Real variables: linear mean and constant normal spread."
    ),
}


# -- helpers ----------------------------------------------------------------------------------
def cell_edges(n_grid: int) -> np.ndarray:
    """Edges of the cells of the real grid, shape ``(G + 1,)``, from -inf to +inf."""
    mids = (np.arange(n_grid - 1) + 0.5) / (n_grid - 1)
    return np.concatenate([[-np.inf], mids, [np.inf]])


def codes(variables: tuple[Variable, ...], x: np.ndarray, n_grid: int) -> np.ndarray:
    """Candidate index of each case's own value for each variable, shape ``(N, V)``."""
    return np.stack([observed_code(v, x, n_grid) for v in variables], axis=1)


def _normal_cell_masses(mu: np.ndarray, sd: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``P(edge_g <= Z < edge_g+1)`` for ``Z ~ N(mu_n, sd_n^2)``; edges may vary per case.

    ``edges`` has shape ``(G + 1,)`` or ``(N, G + 1)``; returns ``(N, G)``.
    """
    e = edges if edges.ndim == 2 else edges[None, :]
    cdf = ndtr((e - mu[:, None]) / sd[:, None])
    return np.diff(cdf, axis=1)


# -- marginal ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class MarginalConditional:
    """Empirical marginal of each variable over its candidates (leave-one-out on the explained
    data itself)."""

    counts: tuple  # per variable, (G_v,) counts in the reference
    n_ref: int
    n_grid: int
    variables: tuple
    name: str = "marginal"

    @classmethod
    def fit(cls, variables, x_ref, n_grid):
        c = codes(variables, x_ref, n_grid)
        counts = tuple(
            np.bincount(c[:, j], minlength=candidate_count(v, n_grid)).astype(np.float64)
            for j, v in enumerate(variables)
        )
        return cls(counts, x_ref.shape[0], n_grid, variables)

    def masses(self, x: np.ndarray, exclude_self: bool) -> list[np.ndarray]:
        """Per variable, masses of shape ``(C, G_v)``."""
        out = []
        own = codes(self.variables, x, self.n_grid) if exclude_self else None
        for j, cnt in enumerate(self.counts):
            m = np.broadcast_to(cnt[None, :], (x.shape[0], cnt.size)).copy()
            if exclude_self:
                m[np.arange(x.shape[0]), own[:, j]] -= 1.0
                out.append(m / (self.n_ref - 1))
            else:
                out.append(m / self.n_ref)
        return out


# -- k nearest neighbours ---------------------------------------------------------------------
def knn_scaling(all_variables, x_ref: np.ndarray) -> np.ndarray:
    """Per-column factors that put every variable on the distance scale of :data:`knn`:
    1 / sd for real columns, 1 for binary, 1 / sqrt(2) for one-hot columns, shape ``(D,)``."""
    scale = np.ones(x_ref.shape[1])
    for v in all_variables:
        if v.kind == "real":
            sd = float(np.std(x_ref[:, v.columns[0]].astype(np.float64)))
            scale[v.columns[0]] = 1.0 / sd if sd > 0 else 1.0
        elif v.kind == "enumerated":
            scale[list(v.columns)] = 1.0 / np.sqrt(2.0)
    return scale


def _knn_chunk_impl(t, rows, t_ref, codes_ref, own_cols, k: int, g_max: int):
    """Neighbour masses of every target variable for one chunk of cases.

    t (C, D) scaled cases; rows (C,) their row in the reference or -1; t_ref (N, D); codes_ref
    (N, V) candidate index of each reference row per variable; own_cols (V, w_max) columns of
    each variable, padded with the index D (a zero column). Returns (V, C, g_max).
    """
    C, D = t.shape
    N = t_ref.shape[0]

    def add_column(c, acc):
        diff = t[:, c][:, None] - t_ref[:, c][None, :]
        return acc + diff * diff

    full = jax.lax.fori_loop(0, D, add_column, jnp.zeros((C, N), t.dtype))
    full = jnp.where(rows[:, None] == jnp.arange(N)[None, :], jnp.inf, full)
    t_pad = jnp.concatenate([t, jnp.zeros((C, 1), t.dtype)], axis=1)
    r_pad = jnp.concatenate([t_ref, jnp.zeros((N, 1), t.dtype)], axis=1)

    def one_variable(args):
        cols, code = args
        own = jnp.zeros((C, N), t.dtype)
        for j in range(own_cols.shape[1]):
            diff = t_pad[:, cols[j]][:, None] - r_pad[:, cols[j]][None, :]
            own = own + diff * diff
        d = full - own
        # Only the indices of top_k are used: XLA then selects with its fast TopK kernel
        # (using the values too turns it into a full sort on CPU). One index more than k, in
        # ascending distance: the (k+1)-th distance equal to the k-th means rows tied at the
        # k-th distance are left out (a gather instead of a pass over all N distances).
        # (Slice what is gathered with the indices, never the indices themselves: a slice of
        # them turns XLA's TopK back into a full sort.)
        idx = jax.lax.top_k(-d, min(k + 1, N))[1]
        near = jnp.take_along_axis(d, idx, axis=1)
        tau = near[:, k - 1]
        hist_sel = jax.vmap(lambda c: jnp.bincount(c, length=g_max))(code[idx][:, :k]).astype(t.dtype)
        tied_out = near[:, k] == tau if k < N else jnp.zeros(C, bool)

        def split_ties(_):
            lt = d < tau[:, None]
            eq = d == tau[:, None]
            onehot = jax.nn.one_hot(code, g_max, dtype=t.dtype)
            n_lt = lt.sum(axis=1)
            w_eq = (k - n_lt).astype(t.dtype) / jnp.maximum(eq.sum(axis=1), 1).astype(t.dtype)
            hist = (jnp.matmul(lt.astype(t.dtype), onehot, precision=PRECISION)
                    + w_eq[:, None] * jnp.matmul(eq.astype(t.dtype), onehot, precision=PRECISION))
            return jnp.where(tied_out[:, None], hist, hist_sel)

        hist = jax.lax.cond(tied_out.any(), split_ties, lambda _: hist_sel, None)
        return hist / k

    return jax.lax.map(one_variable, (own_cols, codes_ref.T))


knn_chunk = jax.jit(_knn_chunk_impl, static_argnames=("k", "g_max"))


@dataclass(frozen=True)
class KnnConditional:
    """k-nearest-neighbour conditional of every target variable (module docstring)."""

    t_ref: np.ndarray  # (N_ref, D) scaled reference
    scale: np.ndarray  # (D,)
    codes_ref: np.ndarray  # (N_ref, V)
    own_cols: np.ndarray  # (V, w_max)
    k: int
    sizes: tuple  # G_v per target variable
    n_grid: int
    positions: np.ndarray | None = None  # (N_given,) row of each given reference row in t_ref, or -1
    name: str = "knn"

    @classmethod
    def fit(cls, all_variables, variables, x_ref, n_grid, n_neighbors, exclude_self,
            reference_size=None, seed=0):
        """Fit on the encoded reference ``x_ref``; with ``reference_size`` < its rows, on a
        random subset of that many rows (without replacement, from ``seed``)."""
        positions = None
        if reference_size is not None and reference_size < x_ref.shape[0]:
            keep = np.sort(np.random.default_rng(seed).choice(x_ref.shape[0], reference_size, replace=False))
            positions = np.full(x_ref.shape[0], -1, dtype=np.int64)
            positions[keep] = np.arange(reference_size)
            x_ref = x_ref[keep]
        n_ref = x_ref.shape[0]
        cap = n_ref - 1 if exclude_self else n_ref
        if cap < 1:
            raise ValueError(
                "The kNN conditional needs at least 2 reference rows (each case is left out of "
                f"its own neighbours). Got {n_ref}."
            )
        if n_neighbors is None:
            k = min(max(20, int(np.sqrt(n_ref))), cap)
        else:
            k = check_int("n_neighbors", n_neighbors, 1)
            if k > cap:
                raise ValueError(
                    f"`n_neighbors` must be <= {cap} (the reference rows available to each case). "
                    f"Got {k}."
                )
        scale = knn_scaling(all_variables, x_ref).astype(np.float32)
        D = x_ref.shape[1]
        w_max = max(v.width for v in variables)
        own = np.full((len(variables), w_max), D, dtype=np.int32)
        for j, v in enumerate(variables):
            own[j, : v.width] = v.columns
        return cls(
            t_ref=x_ref.astype(np.float32) * scale[None, :], scale=scale, codes_ref=codes(variables, x_ref, n_grid),
            own_cols=own, k=k, sizes=tuple(candidate_count(v, n_grid) for v in variables),
            n_grid=n_grid, positions=positions,
        )

    @property
    def n_ref(self) -> int:
        """Reference rows the neighbours are searched among."""
        return self.t_ref.shape[0]

    @property
    def per_row(self) -> int:
        """Numbers a case needs in the chunk kernel (for chunk sizing)."""
        return 6 * self.t_ref.shape[0] + self.k * max(self.sizes)

    def masses(self, x: np.ndarray, rows: np.ndarray, mesh=None) -> list[np.ndarray]:
        """Per variable, masses ``(C, G_v)``; ``rows`` is each case's row in the reference
        it was fitted on (before any subsetting), or -1. With a device ``mesh`` the C cases
        (a multiple of its device count) are split over its devices and the reference is
        replicated on each; every case's neighbours are found exactly as on one device."""
        rows = np.asarray(rows)
        if self.positions is not None:
            rows = np.where(rows >= 0, self.positions[np.maximum(rows, 0)], -1)
        t = (x.astype(np.float32) * self.scale[None, :]).astype(np.float32)
        reference = replicate((self.t_ref, self.codes_ref, self.own_cols), mesh)
        out = to_host(
            knn_chunk(
                shard_rows(t, mesh), shard_rows(rows.astype(np.int32), mesh), *map(jnp.asarray, reference),
                k=self.k, g_max=max(self.sizes),
            )
        )
        return [out[j, :, :g].astype(x.dtype) for j, g in enumerate(self.sizes)]


# -- parametric conditionals ------------------------------------------------------------------
def _ecdf_knots(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct sorted values and their normal scores ``Phi^-1(mean rank / (N + 1))``."""
    s = np.sort(values)
    uniq, first, counts = np.unique(s, return_index=True, return_counts=True)
    mean_rank = first + (counts + 1) / 2.0
    return uniq, ndtri(mean_rank / (len(s) + 1))


def _normal_scores(v: np.ndarray, knots: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Interpolated normal scores of values ``v`` (held at the end scores beyond the data)."""
    return np.interp(v, knots[0], knots[1])


def _other_columns(all_variables, target: Variable) -> np.ndarray:
    return np.asarray([c for v in all_variables if v.name != target.name for c in v.columns], dtype=int)


@dataclass(frozen=True)
class _SoftmaxModel:
    """p(category | other columns) by multinomial logistic regression.

    With a single category in the reference, or no other column to regress on, the
    reference frequencies are used for every case (``fixed``)."""

    columns: np.ndarray
    size: int
    model: Any  # fitted LogisticRegression, or None
    fixed: np.ndarray | None  # (G,) masses used when there is no model

    @classmethod
    def fit(cls, all_variables, target, x_ref, n_grid):
        from sklearn.linear_model import LogisticRegression

        cols = _other_columns(all_variables, target)
        size = candidate_count(target, n_grid)
        y = observed_code(target, x_ref, n_grid)
        if np.unique(y).size < 2 or cols.size == 0:
            return cls(cols, size, None, np.bincount(y, minlength=size) / len(y))
        model = LogisticRegression(C=1.0, max_iter=2000)
        model.fit(x_ref[:, cols].astype(np.float64), y)
        return cls(cols, size, model, None)

    def masses(self, x):
        if self.model is None:
            return np.broadcast_to(self.fixed[None, :], (x.shape[0], self.size)).copy()
        out = np.zeros((x.shape[0], self.size))
        out[:, self.model.classes_] = self.model.predict_proba(x[:, self.columns].astype(np.float64))
        return out


@dataclass(frozen=True)
class _LinearGaussian:
    """x_i | others ~ N(a + b . x_others, s^2), masses over the grid cells."""

    columns: np.ndarray
    coef: np.ndarray
    sd: float
    n_grid: int

    @classmethod
    def fit(cls, all_variables, target, x_ref, n_grid):
        cols = _other_columns(all_variables, target)
        A = np.column_stack([np.ones(x_ref.shape[0]), x_ref[:, cols].astype(np.float64)])
        y = x_ref[:, target.columns[0]].astype(np.float64)
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        resid = y - A @ coef
        dof = max(len(y) - np.linalg.matrix_rank(A), 1)
        sd = float(np.sqrt(resid @ resid / dof))
        if not sd > 0:
            raise ValueError(
                f"The model conditional of {target.name!r} has zero residual spread (the other "
                "variables determine it exactly); use conditional='knn'."
            )
        return cls(cols, coef, sd, n_grid)

    def masses(self, x):
        mu = self.coef[0] + x[:, self.columns].astype(np.float64) @ self.coef[1:]
        return _normal_cell_masses(mu, np.full(x.shape[0], self.sd), cell_edges(self.n_grid))


@dataclass(frozen=True)
class _GaussianCopula:
    """Real targets given the other real variables through a Gaussian copula."""

    real_cols: np.ndarray  # encoded columns of all real variables, in order
    knots: tuple  # per real column: (values, normal scores)
    precision: np.ndarray  # Q = R^-1 over the real columns
    n_grid: int

    @classmethod
    def fit(cls, all_variables, x_ref, n_grid):
        real = [v for v in all_variables if v.kind == "real"]
        cols = np.asarray([v.columns[0] for v in real], dtype=int)
        knots = tuple(_ecdf_knots(x_ref[:, c].astype(np.float64)) for c in cols)
        for v, kn in zip(real, knots):
            if kn[0].size < 2:
                raise ValueError(f"The copula needs a non-constant {v.name!r} in the reference data.")
        Z = np.column_stack([_normal_scores(x_ref[:, c].astype(np.float64), kn) for c, kn in zip(cols, knots)])
        R = np.atleast_2d(np.corrcoef(Z, rowvar=False))
        eig = np.linalg.eigvalsh(R)
        if eig.min() <= 1e-10 * eig.max():
            raise ValueError(
                "The normal-score correlation matrix of the real variables is singular (a real "
                "variable is a function of the others); use conditional='knn'."
            )
        return cls(cols, knots, np.linalg.inv(R), n_grid)

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Normal scores of the real columns of ``x``, shape ``(C, n_real)``."""
        return np.column_stack(
            [_normal_scores(x[:, c].astype(np.float64), kn) for c, kn in zip(self.real_cols, self.knots)]
        )

    def masses(self, Z: np.ndarray, target: Variable) -> np.ndarray:
        """Cell masses of real variable ``target`` given the normal scores ``Z`` of a chunk."""
        j = int(np.flatnonzero(self.real_cols == target.columns[0])[0])
        q = self.precision
        others = np.arange(len(self.real_cols)) != j
        mu = -(Z[:, others] @ q[j, others]) / q[j, j]
        sd = np.full(Z.shape[0], 1.0 / np.sqrt(q[j, j]))
        edges = cell_edges(self.n_grid)
        z_edges = np.concatenate([[-np.inf], _normal_scores(edges[1:-1], self.knots[j]), [np.inf]])
        return _normal_cell_masses(mu, sd, z_edges)


@dataclass(frozen=True)
class ParametricConditional:
    """``copula`` or ``model``: one fitted model per target variable."""

    name: str
    variables: tuple
    fitted: tuple  # per target: _SoftmaxModel, _LinearGaussian, or the shared copula
    dtype: Any

    @classmethod
    def fit(cls, name, all_variables, variables, x_ref, n_grid):
        paired = [v.name for v in (all_variables if name == "copula" else variables) if v.has_indicator]
        if paired:
            why = ("its normal scores treat the filled values as observed ones, so the copula "
                   "of the real variables is not defined" if name == "copula" else
                   "a normal linear model cannot give a mass to 'missing' beside the value grid")
            raise ValueError(
                f"conditional={name!r} is not defined for a real variable with a missingness "
                f"indicator ({paired}): {why}. Use conditional='knn' (it draws the (value, "
                "indicator) pair from the neighbours) or 'marginal'."
            )
        copula = None
        if name == "copula" and any(v.kind == "real" for v in variables):
            copula = _GaussianCopula.fit(all_variables, x_ref, n_grid)
        fitted = []
        for v in variables:
            if v.kind != "real":
                fitted.append(_SoftmaxModel.fit(all_variables, v, x_ref, n_grid))
            elif name == "copula":
                fitted.append(copula)
            else:
                fitted.append(_LinearGaussian.fit(all_variables, v, x_ref, n_grid))
        return cls(name, tuple(variables), tuple(fitted), x_ref.dtype)

    def masses(self, x: np.ndarray) -> list[np.ndarray]:
        out = []
        Z = None
        for v, f in zip(self.variables, self.fitted):
            if isinstance(f, _GaussianCopula):
                Z = f.scores(x) if Z is None else Z
                m = f.masses(Z, v)
            else:
                m = f.masses(x)
            out.append(m.astype(self.dtype))
        return out


# -- one entry point --------------------------------------------------------------------------
def fit_conditional(
    name: str, all_variables, variables, x_ref: np.ndarray, n_grid: int,
    n_neighbors: int | None = None, exclude_self: bool = False,
    reference_size: int | None = None, seed: int = 0,
):
    """Fit the conditional ``name`` (one of :data:`CONDITIONALS`) on encoded reference rows.

    ``reference_size`` and ``seed`` apply to ``knn`` only (a random subset of the reference
    rows to search). Returns an object with ``name`` and ``masses(...)`` (see
    :func:`chunk_masses`).
    """
    if name == "marginal":
        return MarginalConditional.fit(variables, x_ref, n_grid)
    if name == "knn":
        return KnnConditional.fit(
            all_variables, variables, x_ref, n_grid, n_neighbors, exclude_self, reference_size, seed
        )
    return ParametricConditional.fit(name, all_variables, variables, x_ref, n_grid)


def chunk_masses(conditional, x: np.ndarray, rows: np.ndarray, exclude_self: bool, mesh=None) -> list[np.ndarray]:
    """Masses of every target variable for a chunk of encoded cases, list of ``(C, G_v)``.

    With a device ``mesh`` (:func:`shallownet.devices.row_mesh`) the kNN search splits the
    chunk's cases over its devices; ``C`` must then be a multiple of the device count."""
    if isinstance(conditional, KnnConditional):
        return conditional.masses(x, rows if exclude_self else np.full_like(rows, -1), mesh)
    if isinstance(conditional, MarginalConditional):
        return conditional.masses(x, exclude_self)
    return conditional.masses(x)


# -- diagnostics ------------------------------------------------------------------------------
#: Folds of the cross-fitted diagnostics of ``copula`` and ``model`` on the explained data.
DIAGNOSTIC_FOLDS = 5
#: Held-out cases scored at a time by :func:`cross_fitted_scores` (bounds its memory).
DIAGNOSTIC_BLOCK = 65536


def cross_fitted_scores(name: str, all_variables, variables, x: np.ndarray, n_grid: int, seed: int = 0,
                        n_folds: int = DIAGNOSTIC_FOLDS):
    """Held-out diagnostics of the parametric conditional ``name`` fitted on ``x`` itself.

    The cases are split at random (from ``seed``) into ``n_folds`` folds; the conditional is
    fitted on all folds but one and scores (:func:`scores`) the cases of that fold, so every
    case is scored by a model that never saw it. Returns the mean ``(coverage90 (V,),
    log_score (V,))`` over all cases, or None when a fold cannot be fitted (too few cases, or
    a variable constant in the other folds): the caller then keeps the in-sample figures and
    says so. ``knn`` and ``marginal`` need none of this: they leave each case out already.
    """
    N, V = x.shape[0], len(variables)
    if N < 2 * n_folds:
        return None
    fold = np.empty(N, dtype=np.int64)
    fold[np.random.default_rng(seed).permutation(N)] = np.arange(N) % n_folds
    own = codes(variables, x, n_grid)
    coverage, log_score = np.zeros(V), np.zeros(V)
    for f in range(n_folds):
        test = np.flatnonzero(fold == f)
        try:
            fitted = ParametricConditional.fit(name, all_variables, variables, x[fold != f], n_grid)
        except ValueError:
            return None
        for start in range(0, test.size, DIAGNOSTIC_BLOCK):
            rows = test[start:start + DIAGNOSTIC_BLOCK]
            for j, (v, m) in enumerate(zip(variables, fitted.masses(x[rows]))):
                covered, score = scores(m, own[rows, j], v.ordered)
                coverage[j] += covered.sum()
                log_score[j] += score.sum()
    return coverage / N, log_score / N


def scores(masses: np.ndarray, own: np.ndarray, ordered: bool):
    """Per-case diagnostics of a conditional: ``(covered (C,), log_score (C,))``.

    ``covered``: the case's own candidate lies in the central 90 % interval of ``masses``
    (ordered candidates, i.e. a real grid) or in the smallest most-probable set of candidates
    holding 90 % (categories). ``log_score``: ``log(0.99 pi[own] + 0.01 / G)``.
    """
    C = masses.shape[0]
    if ordered:
        cdf = np.cumsum(masses, axis=1)
        tol = 1e-9
        lo = (cdf < 0.05 - tol).sum(axis=1)
        hi = (cdf < 0.95 - tol).sum(axis=1)
        covered = (own >= lo) & (own <= hi)
    else:
        order = np.argsort(-masses, axis=1, kind="stable")
        sorted_m = np.take_along_axis(masses, order, axis=1)
        before = np.cumsum(sorted_m, axis=1) - sorted_m
        in_set = before < 0.9 - 1e-9
        rank = np.argsort(order, axis=1)[np.arange(C), own]
        covered = in_set[np.arange(C), rank]
    mix = 0.99 * masses[np.arange(C), own].astype(np.float64) + 0.01 / masses.shape[1]
    return covered, np.log(mix)
