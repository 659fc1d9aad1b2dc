"""The flip-tensor engine: the network's output with one variable substituted, for all cases.

For a variable occupying encoded columns ``cols`` (one for real and binary variables, the K
one-hot columns of an enumerated one) and a shared candidate set ``V`` of shape ``(G, w)``
(a grid on [0, 1], the two values of a binary variable, or the K one-hot rows), the engine
evaluates the network at every ``x_n`` with ``x_n[cols]`` replaced by ``V_g``. Potential and
expected influence, ICE curves, Lek profiles and contour maps are all reductions of it.

Rank-one update
---------------
Substituting the variable changes the first-layer pre-activation by
``(V_g - x_n[cols]) @ W1[cols, :]``: a rank-one change for a real variable, and for a one-hot
group the difference of two rows of ``W1`` (new category minus old). So with

    a0_n = x_n W1 + b1        (once per case, O(D H))
    a_ng = a0_n + (V_g - x_n[cols]) W1[cols]      (O(w H) per candidate)

each candidate costs O(H) instead of the O(D H) of a full forward pass. The remaining layers
(none for logistic regression, one or more hidden layers after the first) run as usual on
``a_ng``. When ``V_g`` equals the case's own value the change is exactly zero, so the
substituted output equals the case's own output bit for bit and never counts as a flip.

Compilation and memory
----------------------
``cols`` and ``V`` are traced arrays, so one compiled kernel serves every variable with the same
width ``w`` and candidate count ``G`` (all real variables; all enumerated variables with the
same number of categories). Cases are processed in chunks of a fixed number of rows (the last
chunk padded), which bounds memory at about ``chunk * M * G * H`` numbers for any ``N``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from ..data.variables import Variable
from ..devices import padded_length, replicate, shard_rows, to_host
from ..models.layers import PRECISION, activate, affine, output_values
from ..models import as_network
from ..results import Result
from ._inputs import check_chunk_size, check_n_grid, encode, one_variable

#: Numbers one chunk may hold in its largest intermediate array on a CPU (about 32 MiB in
#: float64). Larger chunks do not make a CPU faster (the kNN EI of the influence benchmark took
#: the same time per row with 64 and with 1,024 cases a chunk) and would only cost memory.
CHUNK_BUDGET = 2**22
#: The same on a GPU or TPU (about 256 MiB in float32): a CPU-sized chunk is a few dozen cases,
#: too little work per kernel launch to keep an accelerator busy.
ACCELERATOR_CHUNK_BUDGET = 2**26


def chunk_budget() -> int:
    """Numbers a chunk may hold: :data:`CHUNK_BUDGET` when JAX computes on the CPU,
    :data:`ACCELERATOR_CHUNK_BUDGET` on a GPU or TPU."""
    return CHUNK_BUDGET if jax.default_backend() == "cpu" else ACCELERATOR_CHUNK_BUDGET


# -- the forward pass from the first-layer pre-activation ---------------------------------------
def proba_from_preactivation(params, a: jax.Array, activation: str, output: str) -> jax.Array:
    """Class probabilities of ONE member given first-layer pre-activations ``a`` (..., n1).

    With no hidden layer ``a`` already holds the logits. A sigmoid output gives ``[1 - p, p]``;
    a linear output gives its predictions (``output_values``), so every reduction of this
    engine (sensitivities, profiles, ICE, permutation) reads a regression network's
    predictions where it reads a classifier's probabilities.
    """
    if len(params) == 1:
        z = a
    else:
        h = activate(a, activation)
        for layer in params[1:-1]:
            h = activate(affine(h, layer), activation)
        z = affine(h, params[-1])
    return output_values(z, output)


def substituted_member_proba(params, x, cols, cand, activation: str, output: str):
    """Probabilities of ONE member at every case with ``x[:, cols]`` set to each candidate.

    Parameters
    ----------
    params : tuple of Dense
        One member's layers (no member axis).
    x : array (C, D)
        Encoded cases.
    cols : int array (w,)
        Encoded columns of the variable.
    cand : array (G, w)
        Candidate values of those columns.

    Returns
    -------
    proba : array (C, G, K)
        Probabilities after substitution (rank-one update of the first layer, module docstring).
    base : array (C, K)
        Probabilities at the cases themselves.
    """
    first = params[0]
    a0 = affine(x, first)
    delta = cand[None, :, :] - x[:, cols][:, None, :]
    a = a0[:, None, :] + jnp.einsum("cgw,wh->cgh", delta, first.W[cols], precision=PRECISION)
    return (
        proba_from_preactivation(params, a, activation, output),
        proba_from_preactivation(params, a0, activation, output),
    )


def full_substitution_proba(params, x, cols, cand, activation: str, output: str) -> jax.Array:
    """The plain reference for :func:`substituted_member_proba`: build every substituted case
    and run the whole network on it (O(D H) per candidate). ONE member; shape ``(C, G, K)``."""
    C, G = x.shape[0], cand.shape[0]
    xs = jnp.broadcast_to(x[:, None, :], (C, G, x.shape[1]))
    xs = xs.at[:, :, cols].set(jnp.broadcast_to(cand[None, :, :], (C, G, cand.shape[1])))
    return proba_from_preactivation(params, affine(xs, params[0]), activation, output)


def _members(params, x, cols, cand, activation, output):
    """``(M, C, G, K)`` and ``(M, C, K)`` probabilities of every member."""
    return jax.vmap(lambda p: substituted_member_proba(p, x, cols, cand, activation, output))(params)


# -- jitted kernels ---------------------------------------------------------------------------
class FlipChunk(NamedTuple):
    """Decisions after substitution for one chunk of cases (rows first)."""

    base: jax.Array  # (C,) ensemble decision at the case
    decision: jax.Array  # (C, G) ensemble decision after substitution
    proba: jax.Array  # (C, G) ensemble probability of the base decision after substitution
    base_proba: jax.Array  # (C,) ensemble probability of the base decision at the case
    member_base: jax.Array  # (C, M) each member's own decision at the case
    member_decision: jax.Array  # (C, M, G) each member's decision after substitution


def _flip_chunk_impl(params, x, cols, cand, activation, output) -> FlipChunk:
    mp, mp0 = _members(params, x, cols, cand, activation, output)
    p, p0 = mp.mean(axis=0), mp0.mean(axis=0)
    d0 = jnp.argmax(p0, axis=-1)
    d = jnp.argmax(p, axis=-1)
    pd_ = jnp.take_along_axis(p, d0[:, None, None], axis=-1)[..., 0]
    p0d = jnp.take_along_axis(p0, d0[:, None], axis=-1)[:, 0]
    md0 = jnp.argmax(mp0, axis=-1).T
    md = jnp.moveaxis(jnp.argmax(mp, axis=-1), 0, 1)
    return FlipChunk(d0, d, pd_, p0d, md0, md)


flip_chunk = jax.jit(_flip_chunk_impl, static_argnames=("activation", "output"))


class InfluenceChunk(NamedTuple):
    """Per-case influence statistics of one variable for one chunk (rows first).

    ``J`` mass sets (conditional distributions over the candidates) are reduced at once, e.g.
    the chosen conditional and the marginal.
    """

    potential: jax.Array  # (C,) bool: some candidate flips the decision
    graded: jax.Array  # (C,) fraction of the candidates and the own value that flip it
    potential_towards: jax.Array  # (C, K) bool: some candidate moves the decision to class k
    member_potential: jax.Array  # (C, M) bool, each member against its own decision
    expected: jax.Array  # (C, J) sum_g pi[g] F[g]
    soft: jax.Array  # (C, J) sum_g pi[g] |p_d(x_{i<-g}) - p_d(x)|
    towards: jax.Array  # (C, K, J) sum_g pi[g] F[g] 1[decision_g = k]
    member_expected: jax.Array  # (C, M, J)
    base: jax.Array  # (C,) the decision at the case


def _influence_chunk_impl(params, x, cols, cand, masses, activation, output) -> InfluenceChunk:
    f = _flip_chunk_impl(params, x, cols, cand, activation, output)
    K = params[-1].W.shape[-1] if output == "softmax" else 2
    flips = f.decision != f.base[:, None]  # (C, G)
    fl = flips.astype(masses.dtype)
    onehot = jax.nn.one_hot(f.decision, K, dtype=masses.dtype) * fl[:, :, None]  # (C, G, K)
    mflips = f.member_decision != f.member_base[:, :, None]  # (C, M, G)
    change = jnp.abs(f.proba - f.base_proba[:, None])
    # Graded PI counts over the candidates plus the case's own value when that is not one of
    # them (an off-grid real value); the own value never flips the decision.
    own_listed = jnp.all(x[:, cols][:, None, :] == cand[None, :, :], axis=-1).any(axis=1)
    return InfluenceChunk(
        potential=flips.any(axis=1),
        graded=fl.sum(axis=1) / (cand.shape[0] + (~own_listed).astype(fl.dtype)),
        potential_towards=onehot.max(axis=1) > 0,
        member_potential=mflips.any(axis=2),
        expected=jnp.einsum("cgj,cg->cj", masses, fl, precision=PRECISION),
        soft=jnp.einsum("cgj,cg->cj", masses, change, precision=PRECISION),
        towards=jnp.einsum("cgj,cgk->ckj", masses, onehot, precision=PRECISION),
        member_expected=jnp.einsum("cgj,cmg->cmj", masses, mflips.astype(masses.dtype), precision=PRECISION),
        base=f.base,
    )


influence_chunk = jax.jit(_influence_chunk_impl, static_argnames=("activation", "output"))


class RegressionInfluenceChunk(NamedTuple):
    """Per-case influence statistics of one variable on a linear-output (regression) network,
    for one chunk (rows first; T outputs, J mass sets, M members). ``f`` is the ensemble's
    prediction (the members' mean), ``f_g`` the prediction with the variable set to candidate
    g, ``f_0`` at the case itself."""

    potential: jax.Array  # (C, T) range max_g f_g - min_g f_g, the own value f_0 included
    member_potential: jax.Array  # (C, M, T) the same for each member's own prediction
    expected: jax.Array  # (C, T, J) sum_g pi[g] |f_g - f_0|
    expected_sq: jax.Array  # (C, T, J) sum_g pi[g] (f_g - f_0)^2
    member_expected: jax.Array  # (C, M, T) sum_g pi[g] |f_mg - f_m0|, first mass set
    base: jax.Array  # (C, T) f_0


def _regression_influence_chunk_impl(params, x, cols, cand, masses, activation, output):
    mp, mp0 = _members(params, x, cols, cand, activation, output)  # (M, C, G, T), (M, C, T)
    f, f0 = mp.mean(axis=0), mp0.mean(axis=0)
    spread = jnp.maximum(f.max(axis=1), f0) - jnp.minimum(f.min(axis=1), f0)
    m_spread = jnp.maximum(mp.max(axis=2), mp0) - jnp.minimum(mp.min(axis=2), mp0)
    change = jnp.abs(f - f0[:, None, :])  # (C, G, T)
    m_change = jnp.abs(mp - mp0[:, :, None, :])  # (M, C, G, T)
    return RegressionInfluenceChunk(
        potential=spread,
        member_potential=jnp.moveaxis(m_spread, 0, 1),
        expected=jnp.einsum("cgj,cgt->ctj", masses, change, precision=PRECISION),
        expected_sq=jnp.einsum("cgj,cgt->ctj", masses, change**2, precision=PRECISION),
        member_expected=jnp.einsum("cg,mcgt->cmt", masses[..., 0], m_change, precision=PRECISION)
        if masses.shape[-1] else jnp.zeros((x.shape[0],) + m_spread.shape[::2], masses.dtype),
        base=f0,
    )


regression_influence_chunk = jax.jit(_regression_influence_chunk_impl, static_argnames=("activation", "output"))


def _proba_chunk_impl(params, x, cols, cand, activation, output):
    mp, mp0 = _members(params, x, cols, cand, activation, output)
    return mp.mean(axis=0), mp0.mean(axis=0)


proba_chunk = jax.jit(_proba_chunk_impl, static_argnames=("activation", "output"))


def _member_proba_chunk_impl(params, x, cols, cand, activation, output):
    mp, _ = _members(params, x, cols, cand, activation, output)
    return jnp.moveaxis(mp, 0, 1)


member_proba_chunk = jax.jit(_member_proba_chunk_impl, static_argnames=("activation", "output"))


# -- chunking ---------------------------------------------------------------------------------
def chunk_length(n_rows: int, per_row: int, chunk_size: int | None, multiple: int = 8) -> int:
    """Rows per chunk: ``chunk_size`` if given, else as many as keep ``per_row`` numbers a row
    under :func:`chunk_budget`, balanced so that the chunks of ``n_rows`` are about equal and,
    from ``multiple`` rows on, rounded up to a multiple of it (the padded last chunk repeats
    rows; ``multiple=1`` pads only to the balanced length)."""
    if chunk_size is not None:
        return max(1, min(chunk_size, n_rows))
    cap = max(8, chunk_budget() // max(per_row, 1))
    n_chunks = math.ceil(n_rows / cap)
    c = math.ceil(n_rows / n_chunks)
    return min(n_rows, multiple * math.ceil(c / multiple)) if c >= multiple else c


def chunk_bounds(n_rows: int, chunk: int):
    """``(start, stop)`` of consecutive row chunks of length ``chunk`` (the last may be short)."""
    return [(start, min(start + chunk, n_rows)) for start in range(0, n_rows, chunk)]


def pad_rows(arr: np.ndarray, chunk: int) -> np.ndarray:
    """Pad ``arr`` to ``chunk`` rows by repeating its last row (padding is dropped later)."""
    short = chunk - arr.shape[0]
    if short <= 0:
        return arr
    return np.concatenate([arr, np.repeat(arr[-1:], short, axis=0)], axis=0)


def map_chunks(fn: Callable, row_arrays: tuple, chunk: int, mesh=None):
    """Apply ``fn`` to row chunks of ``row_arrays`` (each with leading axis N) and return its
    pytree output concatenated along rows as NumPy arrays.

    Every call of ``fn`` sees arrays of exactly ``chunk`` rows (the last chunk padded by
    repeating its last row, and the padding dropped from the output), so a jitted ``fn``
    compiles once for any ``N``. With a row ``mesh`` (:func:`shallownet.devices.row_mesh`)
    ``chunk`` is first rounded up to a multiple of its device count and each chunk is split
    over the devices (:func:`shallownet.devices.shard_rows`); ``fn`` must then take device
    arrays.
    """
    chunk = padded_length(chunk, mesh)
    outs = []
    for start, stop in chunk_bounds(row_arrays[0].shape[0], chunk):
        out = fn(*(shard_rows(pad_rows(arr[start:stop], chunk), mesh) if mesh is not None
                   else pad_rows(arr[start:stop], chunk) for arr in row_arrays))
        outs.append(jax.tree_util.tree_map(lambda a, k=stop - start: to_host(a)[:k], out))
    return jax.tree_util.tree_map(lambda *a: np.concatenate(a, axis=0), *outs)


def substitution(variable: Variable, n_grid: int) -> tuple[np.ndarray, np.ndarray]:
    """``(cols, candidates)`` of a variable: int array (w,) and float array (G, w)."""
    return np.asarray(variable.columns, dtype=np.int32), variable.candidates(n_grid)


def widest_layer(net) -> int:
    """The largest layer width of the network (for chunk sizing)."""
    return max([net.n_outputs, *net.hidden_sizes, 2])


def proba_grid(net, x: np.ndarray, cols: np.ndarray, cand: np.ndarray, chunk_size: int | None = None,
               members: bool = False, mesh=None):
    """Probabilities with ``x[:, cols]`` set to each row of ``cand``; chunked and jitted.

    Returns ``(proba (N, G, K), base (N, K))`` for the ensemble (mean over members), or with
    ``members=True`` every member's ``(N, M, G, K)``. With a row ``mesh`` each chunk's rows
    are split over its devices (parameters and candidates replicated).
    """
    cand = np.asarray(cand, dtype=x.dtype)
    chunk = chunk_length(x.shape[0], net.n_members * cand.shape[0] * widest_layer(net), chunk_size)
    kernel = member_proba_chunk if members else proba_chunk
    params, cols, cand = replicate(
        (net.params, jnp.asarray(np.asarray(cols, dtype=np.int32)), jnp.asarray(cand)), mesh
    )
    fn = partial(kernel, params, cols=cols, cand=cand, activation=net.activation, output=net.output)
    return map_chunks(lambda xc: fn(jnp.asarray(xc)), (x,), chunk, mesh)


# -- the public primitive ---------------------------------------------------------------------
@dataclass(frozen=True, eq=False, repr=False)
class FlipTensor(Result):
    """The flip tensor of one variable: ``F[n, g] = 1[d(x_n with value g) != d(x_n)]``.

    Attributes
    ----------
    variable : str
    kind : str
    values : ndarray (G,)
        The candidate values in raw units (real), as 0/1 (binary) or category labels.
    flips : ndarray (N, G) of bool
        The flip tensor of the ensemble decision.
    decisions : ndarray (N, G) of int
        The decision (class index) after each substitution.
    base : ndarray (N,) of int
        The decision at each case.
    member_flips : ndarray (M, N, G) of bool
        Each member's flips against its own decision.
    classes : ndarray (K,)
    """

    variable: str
    kind: str
    values: np.ndarray
    flips: np.ndarray
    decisions: np.ndarray
    base: np.ndarray
    member_flips: np.ndarray
    classes: np.ndarray

    @property
    def title(self) -> str:
        return f"Flip tensor of {self.variable!r} ({self.flips.shape[0]} cases x {self.flips.shape[1]} values)"

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate value: the share of cases whose decision it flips."""
        return pd.DataFrame(
            {"variable": self.variable, "value": list(self.values), "flip_rate": self.flips.mean(axis=0)}
        )


def candidate_values(variable: Variable, n_grid: int) -> np.ndarray:
    """Candidate values in the user's units: raw grid, 0/1, or the category labels (a real
    variable with a missingness indicator: the raw grid, then NaN for "missing")."""
    if variable.has_indicator:
        return np.append(variable.to_raw(np.linspace(0.0, 1.0, n_grid)), np.nan)
    if variable.kind == "real":
        return variable.to_raw(np.linspace(0.0, 1.0, n_grid))
    if variable.kind == "binary":
        return np.array([0, 1])
    return np.asarray(variable.categories, dtype=object)


def flip_tensor(
    model: Any,
    X: Any,
    variable: Any,
    *,
    n_grid: int = 51,
    encoded: bool = False,
    chunk_size: Any = "auto",
) -> FlipTensor:
    """The flip tensor ``F[n, g]`` of one variable over its shared candidate set.

    ``F[n, g] = 1[d(x_n with the variable set to candidate g) != d(x_n)]`` where ``d`` is the
    ensemble decision (argmax of the mean probabilities). Candidates: ``n_grid`` equally spaced
    points over the training range (real), 0 and 1 (binary), every category (enumerated: the
    whole one-hot group is substituted). Potential influence is ``max_g F``, its graded form
    ``sum_g F / (G + 1[own value not a candidate])`` (the share of the candidates and the case's
    own value, which never flips, that change the decision), expected influence
    ``sum_g pi[n, g] F[n, g]`` (see
    :func:`shallownet.interpret.influence.expected_influence`, which reduces ``F`` chunk by
    chunk without storing it).

    Parameters
    ----------
    model : Network, ShallowNetClassifier or fitted MLPClassifier
    X : DataFrame or array (N, n_features)
        Raw cases (or encoded ones with ``encoded=True``).
    variable : str
        The variable's name.
    n_grid : int, default 51
        Grid points for a real variable.
    encoded : bool, default False
    chunk_size : "auto" or int
        Cases per chunk (memory is about ``chunk * M * G * H`` numbers).

    Returns
    -------
    FlipTensor
        ``N x G`` arrays; memory grows with ``N * G * M``.
    """
    net = as_network(model)
    var = one_variable(net, variable)
    n_grid = check_n_grid(n_grid)
    chunk_size = check_chunk_size(chunk_size)
    x = encode(net, X, encoded)
    cols, cand = substitution(var, n_grid)
    cand = cand.astype(x.dtype)
    G = cand.shape[0]
    chunk = chunk_length(x.shape[0], net.n_members * G * widest_layer(net), chunk_size)
    fn = partial(
        flip_chunk, net.params, cols=jnp.asarray(cols), cand=jnp.asarray(cand),
        activation=net.activation, output=net.output,
    )
    out = map_chunks(lambda xc: fn(jnp.asarray(xc)), (x,), chunk)
    flips = out.decision != out.base[:, None]
    member_flips = np.moveaxis(out.member_decision != out.member_base[:, :, None], 1, 0)
    return FlipTensor(
        variable=var.name, kind=var.kind, values=candidate_values(var, n_grid), flips=flips,
        decisions=out.decision.astype(np.int32), base=out.base.astype(np.int32),
        member_flips=member_flips, classes=np.asarray(net.classes),
    )
