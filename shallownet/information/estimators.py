"""Mutual-information estimators for one layer: I(X; T) and I(T; Y) in bits.

Every estimator is a small frozen object, registered as a pytree (its noise variance or bin
width is a traced leaf, everything else static), with one method of one signature::

    estimator.estimate(T, y, X, key, n_classes) -> {"I_XT": ..., "I_TY": ..., ...}

``T`` (N, d) is a layer's activity on the N input patterns (equally likely), ``y`` (N,) holds
class indices in ``[0, n_classes)`` (``n_classes`` is static), ``X`` (N, D) the encoded
inputs (used by KSG only) and ``key`` a PRNG key (used where noise is added). The method is
pure JAX, so it is jit-compiled once per shape and setting and ``vmap``-ed over snapshot
epochs and seeds by :func:`shallownet.information.information_plane`. KDE and KSG are means
over rows of per-row terms; they also expose ``prepare`` (noise), ``row_stats`` (the terms of
given query rows) and ``finish`` (terms' means to estimates), which
:func:`estimate_layer_rows` uses to split the query rows over several devices.

Estimators (the maths is in ``theory/information.md``):

* :class:`Binning`: each unit's value is mapped to a bin, a row of bin indices is one
  symbol, and entropies are plug-in estimates over the N patterns. A deterministic layer on
  distinct patterns has ``H(T | X) = 0``, so ``I(X; T) = H(T)``; ``I(T; Y) = H(T) + H(Y) -
  H(T, Y)``. Rows are compared exactly by ONE lexicographic sort of the bin-index rows
  (packed into uint32 words, ``y`` in the lowest bits) followed by counting runs; there is
  no per-pattern loop.
* :class:`KDE`: the Kolchinsky-Tracey upper and lower bounds for ``T = h(X) + N(0, s2 I)``.
* :class:`KSG`: k-nearest-neighbour estimators (Kraskov et al. 2004 for I(X; T); the
  mixed continuous/discrete form of Ross 2014 for I(T; Y)) on ``T`` plus Gaussian noise.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import digamma, xlogy

from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from .._validation import check_float, check_int, check_one_of
from ..devices import ROW_AXIS, padded_length
from ..models.layers import PRECISION

LN2 = math.log(2.0)
BINNING_RULES = ("original", "fixed", "adaptive")


def _pytree(*dynamic: str):
    """Register an estimator dataclass as a pytree whose ``dynamic`` float fields are leaves.

    The other fields (rule, counts, block sizes) are static, so compiled code is reused when
    only a noise variance or a bin width changes. Unflattening bypasses ``__init__`` (its
    checks ran when the object was made; inside ``jit`` the leaves are tracers).
    """

    def register(cls):
        static = tuple(f.name for f in dataclasses.fields(cls) if f.name not in dynamic)

        def flatten(obj):
            return [getattr(obj, n) for n in dynamic], tuple(getattr(obj, n) for n in static)

        def unflatten(aux, children):
            obj = object.__new__(cls)
            for name, value in (*zip(dynamic, children), *zip(static, aux)):
                object.__setattr__(obj, name, value)
            return obj

        jax.tree_util.register_pytree_node(cls, flatten, unflatten)
        return cls

    return register


# -- plug-in entropies of discrete symbols ------------------------------------------------------
def _run_entropy(starts: jax.Array, dtype) -> jax.Array:
    """Plug-in entropy (nats) of a sorted sequence given where its runs start.

    ``starts[i]`` is True where a new symbol begins. With run lengths ``c_g`` and ``N`` items,
    ``H = log N - (1/N) sum_g c_g log c_g``.
    """
    n = starts.shape[0]
    group = jnp.cumsum(starts.astype(jnp.int32)) - 1
    counts = jax.ops.segment_sum(jnp.ones((n,), dtype), group, num_segments=n)
    return jnp.log(jnp.asarray(n, dtype)) - jnp.sum(xlogy(counts, counts)) / n


def _changes(a: jax.Array) -> jax.Array:
    """True where a sorted column differs from the row before (position 0 excluded)."""
    return a[1:] != a[:-1]


def _bit_length(n: int) -> int:
    return max(int(n).bit_length(), 1)


def pack_layout(n_units: int, code_bits: int, label_bits: int) -> list[list[tuple[int, int]]] | None:
    """Where each unit's code goes when rows are packed into 32-bit words.

    The label takes the lowest ``label_bits`` of the least significant word; units follow,
    ``code_bits`` each, a new word starting when one is full. Returns the words from most to
    least significant, each a list of ``(unit, shift)`` with unit -1 for the label, or None
    when a single field does not fit in a word.
    """
    if code_bits + label_bits > 32:
        return None
    words = [[(-1, 0)]]
    used = label_bits
    for j in range(n_units):
        if used + code_bits > 32:
            words.append([])
            used = 0
        words[-1].append((j, used))
        used += code_bits
    return words[::-1]


def symbol_keys(codes: jax.Array, y: jax.Array, n_classes: int, code_bits: int | None) -> tuple:
    """Sort keys of the (T, Y) symbols: a tuple of (N,) arrays, most significant first.

    With bounded codes each row is packed into a few uint32 words (``y`` in the lowest
    ``label_bits`` of the last word, :func:`pack_layout`); otherwise the keys are the ``d`` code
    columns followed by ``y``. Row-local, so it may be computed block by block.
    """
    label_bits = _bit_length(n_classes - 1)
    layout = None if code_bits is None else pack_layout(codes.shape[1], code_bits, label_bits)
    if layout is None:
        return tuple(codes[:, j] for j in range(codes.shape[1])) + (y,)
    u_codes, u_y = codes.astype(jnp.uint32), y.astype(jnp.uint32)
    words = []
    for fields in layout:
        word = jnp.zeros(y.shape, jnp.uint32)
        for unit, shift in fields:
            value = u_y if unit < 0 else u_codes[:, unit]
            word = word | (value << shift)
        words.append(word)
    return tuple(words)


def entropies_of_keys(keys: tuple, y: jax.Array, n_classes: int, packed: bool, dtype):
    """``H(T)``, ``H(T, Y)``, ``H(Y)`` in nats from the keys of :func:`symbol_keys`."""
    ordered = jax.lax.sort(keys, dimension=0, num_keys=len(keys))
    if packed:
        last_without_label = ordered[-1] >> _bit_length(n_classes - 1)
        changes = [_changes(k) for k in ordered[:-1]] + [_changes(last_without_label)]
    else:
        changes = [_changes(k) for k in ordered[:-1]]
    t_changed = functools.reduce(jnp.logical_or, changes)
    ty_changed = t_changed | _changes(ordered[-1])
    first = jnp.ones((1,), bool)
    t_starts = jnp.concatenate([first, t_changed])
    ty_starts = jnp.concatenate([first, ty_changed])
    y_starts = jnp.concatenate([first, _changes(jnp.sort(y))])
    return _run_entropy(t_starts, dtype), _run_entropy(ty_starts, dtype), _run_entropy(y_starts, dtype)


def _is_packed(n_units: int, n_classes: int, code_bits: int | None) -> bool:
    return code_bits is not None and pack_layout(n_units, code_bits, _bit_length(n_classes - 1)) is not None


def discrete_entropies(codes: jax.Array, y: jax.Array, n_classes: int, code_bits: int | None, dtype):
    """``H(T)``, ``H(T, Y)`` and ``H(Y)`` in nats for integer symbols.

    Parameters
    ----------
    codes : int array (N, d)
        One row of bin indices per pattern; a row is one symbol of T.
    y : int array (N,)
        Class indices in ``[0, n_classes)``.
    n_classes : int
        Number of classes (static).
    code_bits : int or None
        Bits that hold any code (codes in ``[0, 2**code_bits)``), or None when codes are
        unbounded.

    Notes
    -----
    One lexicographic sort whose keys are the code columns followed by ``y`` makes both the
    T-symbols and the (T, Y)-symbols contiguous runs, so one sort serves ``H(T)`` and
    ``H(T, Y)``; counting runs gives the entropies. Exact (no hashing), ``O(N log N)``.
    With bounded codes each row is first packed into a few uint32 words (``y`` in the lowest
    bits), so the sort has ``ceil((d * code_bits + label bits) / 32)`` keys instead of
    ``d + 1``: a single-key sort is several times faster than a multi-key one on CPU.
    """
    keys = symbol_keys(codes, y, n_classes, code_bits)
    packed = _is_packed(codes.shape[1], n_classes, code_bits)
    return entropies_of_keys(keys, y, n_classes, packed, dtype)


def _sorted_columns(T: jax.Array) -> jax.Array:
    """Each column of ``T`` (N, d) sorted, as rows of a (d, N) array; one column at a time."""
    return jax.lax.map(jnp.sort, T.T)


# -- binning ------------------------------------------------------------------------------------
@_pytree("width")
@dataclass(frozen=True)
class Binning:
    """Plug-in estimates after binning each unit.

    Parameters
    ----------
    rule : {"original", "fixed", "adaptive"}, default "original"
        * "original": the rule of Shwartz-Ziv & Tishby's code. ``n_bins`` equally spaced
          EDGES ``e = linspace(low, high, n_bins)`` in float32 (30 edges on [-1, 1] by
          default, i.e. 29 intervals); a value ``t`` gets index ``i`` with
          ``e[i-1] <= t < e[i]`` (NumPy's ``digitize``). Values ``>= high`` share the last
          index, and so do values ``< low``, because the original looks the index up as
          ``edges[i - 1]``, which wraps around to the last edge for ``i = 0``. For relu
          units every value ``>= 1`` falls in one bin: the range artefact of Saxe et al.
        * "fixed": bins of width ``width`` over an unbounded range, index ``floor(t / width)``
          (Saxe et al.'s rule; 0.07 in their paper). Indices are int32, so values must stay
          below ``2**31 * width`` in magnitude.
        * "adaptive": ``n_bins`` equal-mass bins per unit (choice: per unit, from that unit's
          values over the N patterns): index ``floor(n_bins * #{j: t_j < t} / N)``, so tied
          values share a bin and each bin holds about ``N / n_bins`` patterns.
    n_bins : int, default 30
        Number of edges ("original") or of bins ("adaptive").
    width : float, default 0.07
        Bin width of the "fixed" rule.
    low, high : float, default -1, 1
        Range of the "original" rule.
    block_size : int or None, default 65536
        Rows whose codes are computed and packed into sort keys at once (None: all N). The
        result does not depend on it (the same integer keys); it bounds the working memory of
        the binning step to ``O(block_size * d * n_bins)``. What stays ``O(N)`` is inherent to
        an exact plug-in entropy: the N sort keys (one or a few uint32 words per row, ``d + 1``
        int32 for the "fixed" rule) and, for the "adaptive" rule, the d sorted columns.
        Time is ``O(N log N)`` (one sort).
    """

    rule: str = "original"
    n_bins: int = 30
    width: float = 0.07
    low: float = -1.0
    high: float = 1.0
    block_size: int | None = 65536

    def __post_init__(self):
        check_one_of("rule", self.rule, BINNING_RULES)
        check_int("n_bins", self.n_bins, 2)
        check_float("width", self.width, 0.0, open_min=True)
        check_float("low", self.low)
        check_float("high", self.high)
        if self.high <= self.low:
            raise ValueError(f"`high` must be > `low`. Got low={self.low!r}, high={self.high!r}.")
        if self.block_size is not None:
            check_int("block_size", self.block_size, 1)

    @property
    def name(self) -> str:
        """A short description for tables and figures."""
        if self.rule == "original":
            return f"binning ({self.n_bins} edges on [{self.low:g}, {self.high:g}])"
        if self.rule == "fixed":
            return f"binning (width {self.width:g}, unbounded)"
        return f"binning ({self.n_bins} equal-mass bins per unit)"

    @property
    def code_bits(self) -> int | None:
        """Bits that hold every bin index (None: unbounded indices of the "fixed" rule)."""
        if self.rule == "original":
            return _bit_length(self.n_bins)
        if self.rule == "adaptive":
            return _bit_length(self.n_bins - 1)
        return None

    def codes(self, T: jax.Array, sorted_columns: jax.Array | None = None) -> jax.Array:
        """Bin index of every value, shape (N, d) int32.

        ``sorted_columns`` (d, N_all): for the "adaptive" rule, the columns of the whole layer,
        each sorted, against which the rows ``T`` are ranked (default: ``T``'s own).
        """
        if self.rule == "original":
            # digitize: i = #{edges <= t}, so e[i-1] <= t < e[i]; counted by comparisons,
            # which XLA fuses (several times faster than a binary search on CPU).
            edges = jnp.asarray(np.linspace(self.low, self.high, self.n_bins, dtype=np.float32), T.dtype)
            idx = jnp.sum(T[..., None] >= edges.reshape((1,) * T.ndim + (-1,)), axis=-1, dtype=jnp.int32)
            idx = jnp.where(idx == 0, self.n_bins, idx)
        elif self.rule == "fixed":
            idx = jnp.floor(T / jnp.asarray(self.width, T.dtype)).astype(jnp.int32)
        else:
            ref = _sorted_columns(T) if sorted_columns is None else sorted_columns
            below = jax.vmap(lambda s, col: jnp.searchsorted(s, col, side="left"),
                             in_axes=(0, 1), out_axes=1)(ref, T)
            idx = (below.astype(jnp.int32) * self.n_bins) // ref.shape[1]
        return idx

    def estimate(self, T, y, X, key, n_classes: int) -> dict:
        """``{"I_XT": H(T), "I_TY": H(T) + H(Y) - H(T, Y)}`` in bits (``X``, ``key`` unused)."""
        n, d = T.shape
        ref = _sorted_columns(T) if self.rule == "adaptive" else None
        block = n if self.block_size is None else min(self.block_size, n)

        def keys_of(rows):
            return symbol_keys(self.codes(T[rows], ref), y[rows], n_classes, self.code_bits)

        if block == n:
            keys = keys_of(jnp.arange(n))
        else:
            n_blocks = -(-n // block)
            rows = jnp.minimum(jnp.arange(n_blocks * block), n - 1).reshape(n_blocks, block)
            keys = tuple(k.reshape(-1)[:n] for k in jax.lax.map(keys_of, rows))
        packed = _is_packed(d, n_classes, self.code_bits)
        h_t, h_ty, h_y = entropies_of_keys(keys, y, n_classes, packed, T.dtype)
        return {"I_XT": h_t / LN2, "I_TY": (h_t + h_y - h_ty) / LN2}

    def working_bytes(self, n: int, d: int, n_inputs: int) -> int:
        """Rough peak memory of one estimate (for chunking): the N sort keys and their sort,
        the sorted columns of the "adaptive" rule, and one block of comparisons."""
        bits = self.code_bits
        words = d + 1 if bits is None else -(-(d * bits + 8) // 32)
        rows = n if self.block_size is None else min(self.block_size, n)
        sorted_columns = 4 * n * d if self.rule == "adaptive" else 0
        return 4 * n * (3 * words + 4) + sorted_columns + 4 * rows * d * (self.n_bins + 2)


# -- estimators that are means of per-row terms -------------------------------------------------
def row_blocks(fn, rows: jax.Array, block_size: int) -> jax.Array:
    """``fn`` over blocks of ``block_size`` query-row indices; per-row results ``(S, R)``.

    ``rows`` (R,) is cut into ``ceil(R / block)`` blocks (the last padded with its final
    index, the padding dropped) mapped one after another with ``lax.map``, so memory is that
    of one block. ``fn(idx)`` returns ``(S, len(idx))``.
    """
    r = rows.shape[0]
    block = min(block_size, r)
    n_blocks = -(-r // block)
    idx = rows[jnp.minimum(jnp.arange(n_blocks * block), r - 1)].reshape(n_blocks, block)
    stats = jax.lax.map(fn, idx)  # (n_blocks, S, block)
    return jnp.moveaxis(stats, 1, 0).reshape(stats.shape[1], n_blocks * block)[:, :r]


def _estimate_by_rows(est, T, y, X, key) -> dict:
    """``est.finish`` of the mean over all N rows of ``est.row_stats`` (KDE and KSG)."""
    T, X = est.prepare(T, X, key)
    n = T.shape[0]
    return est.finish(jnp.mean(est.row_stats(T, y, X, jnp.arange(n)), axis=1), n)


# -- KDE bounds ---------------------------------------------------------------------------------
@_pytree("noise_variance")
@dataclass(frozen=True)
class KDE:
    """Kolchinsky-Tracey bounds on the information of a noisy layer ``T = h(X) + N(0, s2 I)``.

    With ``D_ij = ||h_i - h_j||^2`` over the N equally likely patterns::

        I(X; T) upper = log N - (1/N) sum_i log sum_j exp(-D_ij / (2 s2))
        I(X; T) lower = the same with 8 s2 in place of 2 s2
        I(T; Y)       = [the I(X;T) expression]  - sum_c p_c [the same over class c only]

    (the Gaussian entropy ``H(T | X) = d/2 log(2 pi e s2)`` cancels). Computed in row blocks
    of ``block_size`` so memory is ``O(block_size * N)``, not ``O(N^2)``; reported in bits.
    The time is ``O(N^2 d)`` whatever the block size: every pair of patterns enters the sums,
    so N = 1e5 is minutes and N = 1e6 hours on a CPU (``benchmarks/bench_scaling.py``).
    The I(T; Y) values are the papers' estimates (a bound applied to both terms), not bounds.

    Parameters
    ----------
    noise_variance : float, default 0.1
        ``s2``, a free scale: 0.1 in Saxe et al.; 1e-3 is also used.
    block_size : int, default 256
        Rows of the N x N distance matrix held at once.
    """

    noise_variance: float = 0.1
    block_size: int = 256

    def __post_init__(self):
        check_float("noise_variance", self.noise_variance, 0.0, open_min=True)
        check_int("block_size", self.block_size, 1)

    @property
    def name(self) -> str:
        """A short description for tables and figures."""
        return f"KDE (s2 = {self.noise_variance:g})"

    def estimate(self, T, y, X, key, n_classes: int) -> dict:
        """Upper bounds as ``I_XT``, ``I_TY`` and lower bounds as ``I_XT_lower``, ``I_TY_lower`` (bits).

        Only ``T`` and ``y`` are used. Every row sum includes the pattern itself
        (``exp(0) = 1``), so sums are >= 1 and need no max-shift.
        """
        return _estimate_by_rows(self, T, y, X, key)

    def prepare(self, T, X, key):
        """The layer and inputs the row statistics are computed on (unchanged for KDE)."""
        return T, X

    def row_stats(self, T, y, X, rows) -> jax.Array:
        """Per-row terms ``(5, R)`` for the query rows ``rows`` (R,) against all N rows of ``T``:
        log-sum-exp over all rows and over the row's class, at scales 2 s2 and 8 s2, and
        ``log N_{y_i}``. The estimates are functions of their means over the N rows."""
        s2 = jnp.asarray(self.noise_variance, T.dtype)
        sq = jnp.sum(T * T, axis=1)

        def one_block(idx):
            d = jnp.maximum(sq[idx][:, None] + sq[None, :] - 2 * jnp.matmul(T[idx], T.T, precision=PRECISION), 0)
            same = y[idx][:, None] == y[None, :]
            out = []
            for scale in (2, 8):
                e = jnp.exp(-d / (scale * s2))
                out.append(jnp.log(jnp.sum(e, axis=1)))
                out.append(jnp.log(jnp.sum(jnp.where(same, e, 0), axis=1)))
            out.append(jnp.log(jnp.sum(same, axis=1).astype(T.dtype)))
            return jnp.stack(out)

        return row_blocks(one_block, rows, self.block_size)

    def finish(self, mean: jax.Array, n: int) -> dict:
        """The bounds (bits) from the means over rows of :meth:`row_stats`."""
        log_n = jnp.log(jnp.asarray(n, mean.dtype))
        upper_xt = log_n - mean[0]
        lower_xt = log_n - mean[2]
        # sum_c p_c [log N_c - mean_{i in c} lse_same_i] = mean_i log N_{y_i} - mean_i lse_same_i
        upper_ty = upper_xt - (mean[4] - mean[1])
        lower_ty = lower_xt - (mean[4] - mean[3])
        return {"I_XT": upper_xt / LN2, "I_TY": upper_ty / LN2,
                "I_XT_lower": lower_xt / LN2, "I_TY_lower": lower_ty / LN2}

    def working_bytes(self, n: int, d: int, n_inputs: int) -> int:
        """Rough peak memory of one estimate (for chunking)."""
        return 4 * min(self.block_size, n) * n * 8 + 4 * n * d


# -- k-nearest neighbours -----------------------------------------------------------------------
def _max_norm_distances(A_rows: jax.Array, A: jax.Array) -> jax.Array:
    """Chebyshev distances between ``A_rows`` (B, d) and ``A`` (N, d): shape (B, N)."""
    return jnp.max(jnp.abs(A_rows[:, None, :] - A[None, :, :]), axis=-1)


def ksg_terms(A: jax.Array, B: jax.Array, idx: jax.Array, k: int) -> jax.Array:
    """KSG terms (Kraskov et al. 2004, algorithm 1), max-norm, for the query rows ``idx`` (R,).

    ``eps_i`` = distance from row i to its k-th nearest neighbour in the joint space (max of
    the two Chebyshev distances); ``n_a(i) = #{j: ||a_j - a_i|| < eps_i}`` counting i itself
    (so it is KSG's ``n_x + 1``), likewise ``n_b``. Returns ``psi(n_a) + psi(n_b)`` per row;
    ``I(A; B) = psi(k) + psi(N) - <psi(n_a) + psi(n_b)>`` in nats, the counting convention
    of scikit-learn's ``mutual_info_regression``. Needs continuous A and B without ties.
    """
    n = A.shape[0]
    da = _max_norm_distances(A[idx], A)
    db = _max_norm_distances(B[idx], B)
    joint = jnp.where(idx[:, None] == jnp.arange(n)[None, :], jnp.inf, jnp.maximum(da, db))
    eps = -jax.lax.top_k(-joint, k)[0][:, k - 1]
    n_a = jnp.sum(da < eps[:, None], axis=1).astype(A.dtype)
    n_b = jnp.sum(db < eps[:, None], axis=1).astype(A.dtype)
    return digamma(n_a) + digamma(n_b)


def knn_class_terms(T: jax.Array, y: jax.Array, idx: jax.Array, k: int) -> jax.Array:
    """k-NN terms (Ross 2014) for continuous T and discrete Y, max-norm, for the rows ``idx``.

    ``eps_i`` = distance to the k-th nearest neighbour of the same class; ``m_i`` = number of
    rows (any class, i included) closer than ``eps_i``; ``N_y`` the class size. Returns
    ``psi(N_{y_i}) + psi(m_i)`` per row; ``I(T; Y) = psi(N) + psi(k) - <psi(N_y) + psi(m)>``
    in nats (scikit-learn's ``mutual_info_classif`` convention). Every class needs more than
    k rows.
    """
    n = T.shape[0]
    dt = _max_norm_distances(T[idx], T)
    same = y[idx][:, None] == y[None, :]
    self_ = idx[:, None] == jnp.arange(n)[None, :]
    within = jnp.where(same & ~self_, dt, jnp.inf)
    eps = -jax.lax.top_k(-within, k)[0][:, k - 1]
    m = jnp.sum(dt < eps[:, None], axis=1).astype(T.dtype)
    n_y = jnp.sum(same, axis=1).astype(T.dtype)
    return digamma(n_y) + digamma(m)


@_pytree("noise_variance")
@dataclass(frozen=True)
class KSG:
    """k-nearest-neighbour estimates on a noisy layer ``T = h(X) + N(0, s2 I)``.

    A deterministic layer of continuous inputs has infinite I(X; T); the noise (variance
    ``noise_variance``, drawn with the explicit ``key``) makes it finite and breaks ties.
    I(X; T) by KSG between the encoded inputs and T (it needs continuous inputs); I(T; Y) by
    the mixed estimator of Ross (2014). ``O(N^2 (d + D))`` in row blocks; bits.

    Parameters
    ----------
    k : int, default 3
        Neighbours.
    noise_variance : float, default 1e-3
        Variance of the Gaussian noise added to every unit (0 for none).
    block_size : int, default 128
        Rows of the N x N distance matrices held at once.
    """

    k: int = 3
    noise_variance: float = 1e-3
    block_size: int = 128

    def __post_init__(self):
        check_int("k", self.k, 1)
        check_float("noise_variance", self.noise_variance, 0.0)
        check_int("block_size", self.block_size, 1)

    @property
    def name(self) -> str:
        """A short description for tables and figures."""
        return f"KSG (k = {self.k}, noise s2 = {self.noise_variance:g})"

    def estimate(self, T, y, X, key, n_classes: int) -> dict:
        """``{"I_XT": KSG(X; T + noise), "I_TY": Ross(T + noise; Y)}`` in bits."""
        return _estimate_by_rows(self, T, y, X, key)

    def prepare(self, T, X, key):
        """``T`` plus the Gaussian noise drawn with ``key``, and ``X`` in the dtype of ``T``."""
        noise = jax.random.normal(key, T.shape, T.dtype) * jnp.sqrt(jnp.asarray(self.noise_variance, T.dtype))
        return T + noise, X.astype(T.dtype)

    def row_stats(self, T, y, X, rows) -> jax.Array:
        """Per-row terms ``(2, R)``: :func:`ksg_terms` of (X, T) and :func:`knn_class_terms`."""
        k = self.k
        return row_blocks(
            lambda idx: jnp.stack([ksg_terms(X, T, idx, k), knn_class_terms(T, y, idx, k)]),
            rows, self.block_size,
        )

    def finish(self, mean: jax.Array, n: int) -> dict:
        """The estimates (bits) from the means over rows of :meth:`row_stats`."""
        base = digamma(jnp.asarray(self.k, mean.dtype)) + digamma(jnp.asarray(n, mean.dtype))
        return {"I_XT": (base - mean[0]) / LN2, "I_TY": (base - mean[1]) / LN2}

    def working_bytes(self, n: int, d: int, n_inputs: int) -> int:
        """Rough peak memory of one estimate (for chunking)."""
        return 4 * min(self.block_size, n) * n * (d + n_inputs + 6)


ESTIMATORS = {"binning": Binning, "kde": KDE, "ksg": KSG}


def make_estimator(estimator) -> Binning | KDE | KSG:
    """An estimator object from a name ("binning", "kde", "ksg") or an estimator object."""
    if isinstance(estimator, (Binning, KDE, KSG)):
        return estimator
    if isinstance(estimator, str) and estimator in ESTIMATORS:
        return ESTIMATORS[estimator]()
    raise ValueError(
        "`estimator` must be 'binning', 'kde', 'ksg' or an estimator object such as "
        f"Binning(rule='fixed', width=0.07) or KDE(noise_variance=1e-3). Got {estimator!r}."
    )


@partial(jax.jit, static_argnames=("n_classes", "mesh"))
def estimate_layer_rows(T, y, X, key, estimator, *, n_classes, mesh):
    """``estimate_layer`` of KDE or KSG with the query rows split over a row ``mesh``.

    The per-row terms (:meth:`KDE.row_stats`, :meth:`KSG.row_stats`) of the N rows (padded
    to a multiple of the D devices with the last row) are computed with ``shard_map``: each
    device takes N/D query rows against all N rows of ``T`` (replicated), so the O(N^2)
    work is split D ways. The terms are then gathered and reduced as on one device."""
    T, X = estimator.prepare(T, X, key)
    n = T.shape[0]
    rows = jnp.minimum(jnp.arange(padded_length(n, mesh)), n - 1)
    stats = jax.shard_map(
        lambda t, yy, x, est, r: est.row_stats(t, yy, x, r), mesh=mesh,
        in_specs=(P(), P(), P(), P(), P(ROW_AXIS)), out_specs=P(None, ROW_AXIS), check_vma=False,
    )(T, y, X, estimator, rows)
    stats = jax.lax.with_sharding_constraint(stats, NamedSharding(mesh, P()))
    return estimator.finish(jnp.mean(stats[:, :n], axis=1), n)


@partial(jax.jit, static_argnames=("n_classes",))
def estimate_layer(T, y, X, key, estimator, *, n_classes):
    """Jitted ``estimator.estimate`` for one layer (used by :func:`mutual_information`).

    The estimator is a pytree argument: its noise variance or bin width may change between
    calls without recompiling."""
    return estimator.estimate(T, y, X, key, n_classes)
