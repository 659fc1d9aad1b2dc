"""Compiled kernels of :func:`shallownet.interpret.shapley`: coalition values and their sums.

Notation. V variables (players), D encoded columns, ``P`` the (V, D) 0/1 matrix with
``P[i, c] = 1`` when column c belongs to variable i (a one-hot group is one row). A coalition
is a 0/1 vector ``s`` of length V. For a case ``x`` and a reference row ``r`` the *hybrid*
input takes the columns of the variables in ``s`` from ``x`` and the others from ``r``.

The first layer is linear, so the hybrid's pre-activation needs no hybrid input at all:

    a(s, r) = b1 + sum_i C_r[i] + s @ (C_x - C_r),    C_x[i] = sum_{c in G_i} x_c W1[c, :]

with ``C_x`` and ``C_r`` the (V, H1) per-variable contributions. The exact kernel builds the
pre-activations of a block of L = 2^l coalitions by doubling over l of the variables (one
addition of H1 numbers per coalition and reference row, :func:`_block_values`); the
permutation kernel, whose coalitions are the prefixes of random orders, takes one
(L, V) @ (V, H1) product per reference row (:func:`_values`). The rest of the network runs on
them (:func:`~shallownet.interpret.flips.proba_from_preactivation`); its nonlinearities, one
per hidden unit, coalition and reference row, are the bulk of the work. The value of a
coalition is a weighted mean over the B reference rows,

    v(s) = sum_r w(s, r) out(a(s, r)),

with weights fixed (interventional: the background weights) or depending on s (conditional:
the k nearest reference rows to x in the variables of s, rows tied at the k-th distance
sharing the last places, as the kNN conditional of expected influence does).

Every kernel works on a chunk of cases of fixed length and takes the coalition masks as
arguments, so one compilation serves every chunk and every repeated call with the same shapes.
The memory of one call is about ``M * C * L * B * H_max`` numbers (members, cases, coalitions
per block, reference rows, widest layer); the caller picks C and L to fit the chunk budget.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from ..models.layers import PRECISION
from .flips import proba_from_preactivation


def _outputs(params, a, activation: str, net_output: str, output: str, T):
    """What is explained, from first-layer pre-activations ``a`` (..., H1) of ONE member:
    ``output="probability"`` the class probabilities (a sigmoid unit gives ``[1 - p, p]``),
    otherwise the output pre-activations ``z`` times ``T`` (n_out, n_targets): the identity
    for a linear output's predictions, the logit targets for ``"logit"``."""
    if output == "probability":
        return proba_from_preactivation(params, a, activation, net_output)
    z = proba_from_preactivation(params, a, activation, "linear")
    return jnp.matmul(z, T, precision=PRECISION)


def _contributions(params, x, P):
    """Per-variable first-layer contributions ``C[..., i, :] = sum_{c in G_i} x_c W1[c, :]``
    of ONE member, for ``x`` (..., D); returns (..., V, H1)."""
    return jnp.einsum("vd,...d,dh->...vh", P, x, params[0].W, precision=PRECISION)


def knn_weights(d, k: int):
    """Reference weights of each coalition from squared distances ``d`` (L, B): 1/k for the
    rows nearer than the k-th distance, the rest of the k places shared by the rows tied at
    it (so the result does not depend on the row order; the empty coalition, all distances
    0, weighs every row 1/B)."""
    tau = -jax.lax.top_k(-d, k)[0][:, k - 1 : k]
    less = d < tau
    tie = d == tau
    n_less = less.sum(axis=1, keepdims=True)
    n_tie = tie.sum(axis=1, keepdims=True)
    return (less + tie * (k - n_less) / n_tie) / k


def _weighted(pm, a, w, activation, net_output, output, T):
    """``sum_r w[l, r] out(a[l, r])`` for pre-activations ``a`` (L, B, H1) of ONE member."""
    out = _outputs(pm, a, activation, net_output, output, T)  # (L, B, n_targets)
    return jnp.einsum("lb,lbt->lt", w, out, precision=PRECISION)


def _values(params, Cx, C_ref, w, masks, activation, net_output, output, T):
    """Coalition values of one case for every member, (M, L, n_targets).

    ``Cx`` (M, V, H1), ``C_ref`` (M, B, V, H1), ``w`` (L, B), ``masks`` (L, V)."""

    def one(pm, cx, cr):
        base = pm[0].b[None, :] + cr.sum(axis=1)  # (B, H1): every variable from the reference
        a = base[None] + jnp.einsum("lv,bvh->lbh", masks, cx[None] - cr, precision=PRECISION)
        return _weighted(pm, a, w, activation, net_output, output, T)

    return jax.vmap(one)(params, Cx, C_ref)


def _block_values(params, Cx, C_ref, w, high, n_low: int, activation, net_output, output, T):
    """Values of the L = 2^n_low coalitions of one block, (M, L, n_targets): the coalitions
    that share the variables ``n_low ..`` given by ``high`` (V - n_low,) and run over every
    subset of the variables ``0 .. n_low - 1`` (row r holds variable i when bit i of r is set).

    The pre-activations are built by doubling: start from the block's common part and, for
    each low variable i in turn, append a copy with ``C_x[i] - C_r[i]`` added. That costs one
    addition of H1 numbers per coalition and reference row instead of a V-term sum."""

    def one(pm, cx, cr):
        delta = cx[None] - cr  # (B, V, H1)
        a = pm[0].b[None, :] + cr.sum(axis=1) + jnp.einsum(
            "v,bvh->bh", high, delta[:, n_low:], precision=PRECISION)
        a = a[None]  # (1, B, H1)
        for i in range(n_low):
            a = jnp.concatenate([a, a + delta[None, :, i]], axis=0)
        return _weighted(pm, a, w, activation, net_output, output, T)

    return jax.vmap(one)(params, Cx, C_ref)


def _case_setup(params, xc, P, ref, ref_w, scale, k):
    """Contributions of the case and a function from masks (L, V) to reference weights."""
    Cx = jax.vmap(lambda pm: _contributions(pm, xc, P))(params)  # (M, V, H1)
    dist = jnp.matmul(P, (((xc[None, :] - ref) * scale[None, :]) ** 2).T, precision=PRECISION)  # (V, B)

    def weights(masks):
        if k:
            return knn_weights(jnp.matmul(masks, dist, precision=PRECISION), k)
        return jnp.broadcast_to(ref_w[None, :], (masks.shape[0], ref_w.shape[0]))

    return Cx, weights


def _ends(params, Cx, C_ref, weights, V, dtype, args):
    """Values of the empty and the full coalition, (M, 2, n_targets): ``E f`` and ``f(x)``."""
    masks = jnp.stack([jnp.zeros(V, dtype), jnp.ones(V, dtype)])
    return _values(params, Cx, C_ref, weights(masks), masks, *args)


@partial(jax.jit, static_argnames=("activation", "net_output", "output", "k"))
def exact_chunk(params, x, P, ref, ref_w, scale, mask_blocks, coef_blocks, T, *, activation,
                net_output, output, k):
    """Exact Shapley values of a chunk of cases by summing over every coalition.

    ``phi_i = sum_s c[s, i] v(s)`` with ``c[s, i] = w(|s| - 1)`` when i is in s and
    ``-w(|s|)`` when not, ``w(m) = m! (V - m - 1)! / V!``; the 2^V coalitions come in
    ``mask_blocks`` / ``coef_blocks`` of shape (n_blocks, L, V), scanned so that only one
    block is held at a time. Block j holds the coalitions ``j L .. j L + L - 1`` of
    :func:`~shallownet.interpret.shapley.coalition_table` (L a power of two), whose
    pre-activations :func:`_block_values` builds by doubling.

    Returns ``phi`` (C, M, V, n_targets) and the end values (C, M, 2, n_targets).
    """
    C_ref = jax.vmap(lambda pm: _contributions(pm, ref, P))(params)  # (M, B, V, H1)
    M, V = C_ref.shape[0], P.shape[0]
    n_low = mask_blocks.shape[1].bit_length() - 1
    args = (activation, net_output, output, T)

    def per_case(xc):
        Cx, weights = _case_setup(params, xc, P, ref, ref_w, scale, k)

        def step(acc, block):
            masks, coef = block
            v = _block_values(params, Cx, C_ref, weights(masks), masks[0, n_low:], n_low, *args)
            return acc + jnp.einsum("lv,mlt->mvt", coef, v, precision=PRECISION), None

        phi, _ = jax.lax.scan(step, jnp.zeros((M, V, T.shape[1]), x.dtype), (mask_blocks, coef_blocks))
        return phi, _ends(params, Cx, C_ref, weights, V, x.dtype, args)

    return jax.vmap(per_case)(x)


@partial(jax.jit, static_argnames=("activation", "net_output", "output", "k", "n_pairs"))
def permutation_chunk(params, x, case_keys, P, ref, ref_w, scale, T, *, activation, net_output,
                      output, k, n_pairs):
    """Antithetic permutation estimate of the Shapley values of a chunk of cases.

    For each case, ``n_pairs`` uniformly random orders of the variables, each with its reverse:
    walking an order from the empty coalition, each variable's contribution is the change of
    v when it joins. The mean of the two contributions of an order and its reverse is one
    draw; it is unbiased because each of the two orders alone is uniform, and it has a smaller
    variance than two independent orders (a variable early in one is late in the other).

    ``case_keys`` (C, 2): a PRNG key per case. Returns the sum over draws per member
    (C, M, V, n_t), the sum of squares of the member-mean draws (C, V, n_t) and the end values
    (C, M, 2, n_t).
    """
    C_ref = jax.vmap(lambda pm: _contributions(pm, ref, P))(params)
    M, V = C_ref.shape[0], P.shape[0]
    n_t = T.shape[1]
    args = (activation, net_output, output, T)
    steps = jnp.arange(V + 1)

    def per_case(xc, key):
        Cx, weights = _case_setup(params, xc, P, ref, ref_w, scale, k)

        def draw(carry, kk):
            total, squares = carry
            rank = jnp.argsort(jax.random.permutation(kk, V))  # position of each variable
            back = V - 1 - rank  # its position in the reversed order
            masks = jnp.concatenate(
                [(rank[None, :] < steps[:, None]), (back[None, :] < steps[:, None])]
            ).astype(x.dtype)  # (2V + 2, V): the prefixes of both orders
            v = _values(params, Cx, C_ref, weights(masks), masks, *args)
            fwd, rev = v[:, : V + 1], v[:, V + 1 :]
            pair = 0.5 * ((fwd[:, rank + 1] - fwd[:, rank]) + (rev[:, back + 1] - rev[:, back]))
            return (total + pair, squares + pair.mean(axis=0) ** 2), None

        zero = (jnp.zeros((M, V, n_t), x.dtype), jnp.zeros((V, n_t), x.dtype))
        (total, squares), _ = jax.lax.scan(draw, zero, jax.random.split(key, n_pairs))
        return total, squares, _ends(params, Cx, C_ref, weights, V, x.dtype, args)

    return jax.vmap(per_case)(x, case_keys)
