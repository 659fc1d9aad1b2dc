"""Compiled kernels of :func:`shallownet.interpret.shapley`: coalition values and their sums.

Notation. V variables (players), D encoded columns, ``P`` the (V, D) 0/1 matrix with
``P[i, c] = 1`` when column c belongs to variable i (a one-hot group is one row). A coalition
is a 0/1 vector ``s`` of length V. For a case ``x`` and a reference row ``r`` the *hybrid*
input takes the columns of the variables in ``s`` from ``x`` and the others from ``r``.

The first layer is linear, so the hybrid's pre-activation needs no hybrid input at all:

    a(s, r) = b1 + sum_i C_r[i] + s @ (C_x - C_r),    C_x[i] = sum_{c in G_i} x_c W1[c, :]

with ``C_x`` and ``C_r`` the (V, H1) per-variable contributions and ``delta = C_x - C_r``.
The permutation kernel, whose coalitions are the prefixes of random orders, takes one
(L, V) @ (V, H1) product per reference row (:func:`_values`) and runs the rest of the network
on them (:func:`~shallownet.interpret.flips.proba_from_preactivation`).

The exact kernel needs every coalition. Split the variables of a block of 2^(n1 + n2)
coalitions into n1 *low*, n2 *middle* and the rest *high* (fixed in the block); then

    a(s, r) = common(r) + mid[j](r) + lo[i](r),

``lo[i] = sum_{v in i} delta[v]`` over the 2^n1 subsets of the low variables and ``mid[j]``
over the 2^n2 subsets of the middle ones (:func:`subset_sums`, once per case), and
``common`` the bias, the reference row and the block's high variables. The network runs on
that 2^n2 x 2^n1 grid with the reference rows on the last axis (:func:`_block_values`), so
that XLA fuses the sum, the hidden nonlinearity, the output layer and the weighted mean into
one pass and the (coalitions, B, H1) pre-activations are never written out. For logistic and
tanh units even the exponential goes: ``e^(-k a) = e^(-k m') e^(-k l')`` is a product of
factors computed once per subset (:func:`_grid_hidden`), leaving a product, a sum and a
division per hidden unit, coalition and reference row, the bulk of the work. The value of a
coalition is a weighted mean over the B reference rows,

    v(s) = sum_r w(s, r) out(a(s, r)),

with weights fixed (interventional: the background weights) or depending on s (conditional:
the k nearest reference rows to x in the variables of s, rows tied at the k-th distance
sharing the last places, as the kNN conditional of expected influence does).

Every kernel works on a chunk of cases of fixed length and takes the coalition masks as
arguments, so one compilation serves every chunk and every repeated call with the same shapes.
The memory of one call is at most about ``M * C * L * B * H_max`` numbers (members, cases,
coalitions per block, reference rows, widest layer; less where the grid's layers are fused);
the caller picks C and L to fit the chunk budget.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp

from ..models.layers import PRECISION, activate
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


#: Hidden activations that are functions of ``e^(-k a)``: ``logistic(a) = 1 / (1 + e^-a)`` and
#: ``tanh(a) = 2 / (1 + e^-2a) - 1`` (the value is k). The exact kernel builds ``e^(-k a)`` of a
#: coalition as a product of two precomputed factors, so it needs no exponential per coalition.
EXPONENT = {"logistic": 1, "tanh": 2}


def subset_sums(d):
    """Sums over every subset of the rows of ``d`` (n, ...): ``out[j] = sum_{i in j} d[i]``
    (2^n, ...), row i in subset j when bit i of j is set; by doubling (append a copy of what
    there is with ``d[i]`` added, for i = 0 .. n - 1), one addition per subset."""
    out = jnp.zeros((1,) + d.shape[1:], d.dtype)
    for i in range(d.shape[0]):
        out = jnp.concatenate([out, out + d[i : i + 1]], axis=0)
    return out


def split_widths(n_low: int) -> tuple[int, int]:
    """Variables of the inner and the middle factor of a block of 2^n_low coalitions."""
    return n_low // 2, n_low - n_low // 2


def product_safe(mid, activation: str, dtype) -> jax.Array:
    """Whether the product form of :func:`_grid_hidden` is exact for the middle sums ``mid``
    (..., L2, H, B): after centring on the midpoint of their range over the L2 subsets,
    ``k |m'| <= ln(max float) / 2`` everywhere. Then ``e^(-k m')`` is finite and nonzero,
    and where ``e^(-k l')`` or the product overflows or underflows, ``|k a| > ln(max) / 2``
    and the activation equals its limit to rounding (below ``e^-44`` in float32)."""
    spread = (mid.max(axis=-3) - mid.min(axis=-3)) / 2
    return EXPONENT[activation] * spread.max() <= 0.5 * math.log(jnp.finfo(dtype).max)


def _grid_hidden(mid, lo, activation: str, product: bool):
    """First-layer outputs of the L2 x L1 coalitions ``a = mid[j] + lo[i]``, (L2, L1, H, B),
    from ``mid`` (L2, H, B) and ``lo`` (L1, H, B).

    Additive form: the activation of the sum. Product form (logistic and tanh, when
    :func:`product_safe`): with ``c`` the midpoint of ``mid``'s range over its subsets,
    ``m' = mid - c`` and ``l' = lo + c``, ``e^(-k a) = e^(-k m') e^(-k l')``: one exponential
    per subset of each factor, then per coalition a product, a sum and a division,
    ``u = 1 / (1 + e^(-k m') e^(-k l'))`` (logistic: u; tanh: 2u - 1).
    """
    if not product:
        return activate(mid[:, None] + lo[None], activation)
    k = EXPONENT[activation]
    c = (mid.max(axis=0) + mid.min(axis=0)) / 2
    u = 1 / (1 + jnp.exp(-k * (mid - c[None]))[:, None] * jnp.exp(-k * (lo + c[None]))[None])
    return u if activation == "logistic" else 2 * u - 1


def _grid_dense(h, layer):
    """``z[k] = sum_j W[j, k] h[j] + b[k]`` along the second-last axis: (..., n_in, B) ->
    (..., n_out, B), as products and a sum that XLA fuses with the producer of ``h`` (a dot
    would first write ``h`` out; on the CPU a (n, 16) @ (16, 1) dot ran 4x slower than the
    fused sum, and for one output unit the size-1 axis is kept out of the product)."""
    if layer.W.shape[1] == 1:
        z = (h * _lead(layer.W, h.ndim)).sum(axis=-2, keepdims=True)
    else:
        z = (h[..., :, None, :] * _lead(layer.W[:, :, None], h.ndim + 1)).sum(axis=-3)
    return z + _lead(layer.b[:, None], z.ndim)


def _lead(a, ndim: int):
    """``a`` with leading axes of length 1 up to ``ndim`` axes (explicit broadcasting)."""
    return a.reshape((1,) * (ndim - a.ndim) + a.shape)


def _grid_outputs(params, h, activation, net_output, output, T):
    """What is explained (..., n_targets, B) from ``h`` (..., H1, B): the first hidden layer's
    outputs (with no hidden layer, the output pre-activations). The forward pass of
    :func:`_outputs` with the reference rows on the last axis, where they stay contiguous
    through every layer (moving the axis costs a transpose of the whole grid)."""
    if len(params) == 1:
        z = h
    else:
        for layer in params[1:-1]:
            h = activate(_grid_dense(h, layer), activation)
        z = _grid_dense(h, params[-1])
    if output != "probability":
        return (z[..., :, None, :] * _lead(T[:, :, None], z.ndim + 1)).sum(axis=-3)
    if net_output == "softmax":
        return jax.nn.softmax(z, axis=-2)
    p = jax.nn.sigmoid(z[..., 0, :])
    return jnp.stack([1 - p, p], axis=-2)


def _block_values(params, lo, mid, common, w, activation, net_output, output, T, product):
    """Values of the L = L2 L1 coalitions of one block, (M, L, n_targets).

    Coalition ``j L1 + i`` of the block has first-layer pre-activations
    ``a = common + mid[j] + lo[i]``: ``common`` (M, H, B) the part shared by the block (bias,
    reference row, the block's high variables), ``mid`` (M, L2, H, B) and ``lo``
    (M, L1, H, B) the sums over the subsets of its middle and low variables. The network runs
    on that L2 x L1 grid without writing the grid's pre-activations out, and
    ``v = sum_r w[l, r] out[l, :, r]`` with ``w`` (L, B)."""

    def one(pm, lo_m, mid_m, common_m):
        lo_m = lo_m + common_m[None]
        if len(pm) == 1:  # no hidden layer: the pre-activations are the logits
            h = mid_m[:, None] + lo_m[None]
        else:
            h = _grid_hidden(mid_m, lo_m, activation, product)
        out = _grid_outputs(pm, h, activation, net_output, output, T)  # (L2, L1, n_t, B)
        out = out.reshape((-1,) + out.shape[2:])
        return (out * w[:, None, :]).sum(axis=-1)

    return jax.vmap(one)(params, lo, mid, common)


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
    :func:`~shallownet.interpret.shapley.coalition_table` (L = 2^n_low): they share the
    variables ``n_low ..`` and run over every subset of the low ones. The low variables are
    split into ``n1`` inner and ``n2`` middle ones (:func:`split_widths`), whose subset sums
    of ``delta = C_x - C_r`` (2^n1 and 2^n2 of them, :func:`subset_sums`) are formed once per
    case; a block adds its common part and runs the network on their L2 x L1 grid
    (:func:`_block_values`).

    For logistic and tanh hidden layers the chunk takes the product form of
    :func:`_grid_hidden` when :func:`product_safe` holds for all its cases (``lax.cond``;
    both forms are compiled), the additive form otherwise.

    Returns ``phi`` (C, M, V, n_targets) and the end values (C, M, 2, n_targets).
    """
    C_ref = jax.vmap(lambda pm: _contributions(pm, ref, P))(params)  # (M, B, V, H1)
    M, V = C_ref.shape[0], P.shape[0]
    n_low = mask_blocks.shape[1].bit_length() - 1
    n1, n2 = split_widths(n_low)
    args = (activation, net_output, output, T)
    cr = jnp.moveaxis(C_ref, 1, -1)  # (M, V, H1, B)
    base = params[0].b[:, :, None] + cr.sum(axis=1)  # (M, H1, B): every variable from the reference

    def parts(xc):
        """The case's contributions, weights, low and middle subset sums and high deltas."""
        Cx, weights = _case_setup(params, xc, P, ref, ref_w, scale, k)
        delta = Cx[:, :, :, None] - cr  # (M, V, H1, B)
        lo = jax.vmap(subset_sums)(delta[:, :n1])
        mid = jax.vmap(subset_sums)(delta[:, n1:n_low])
        return Cx, weights, lo, mid, delta[:, n_low:]

    def per_case(xc, product):
        Cx, weights, lo, mid, high_delta = parts(xc)

        def step(acc, block):
            masks, coef = block
            common = base + jnp.einsum("v,mvhb->mhb", masks[0, n_low:], high_delta,
                                       precision=PRECISION)
            v = _block_values(params, lo, mid, common, weights(masks), *args, product)
            return acc + jnp.einsum("lv,mlt->mvt", coef, v, precision=PRECISION), None

        phi, _ = jax.lax.scan(step, jnp.zeros((M, V, T.shape[1]), x.dtype), (mask_blocks, coef_blocks))
        return phi, _ends(params, Cx, C_ref, weights, V, x.dtype, args)

    run = lambda product: jax.vmap(lambda xc: per_case(xc, product))(x)
    if activation not in EXPONENT or len(params) == 1:
        return run(False)
    safe = product_safe(jax.vmap(lambda xc: parts(xc)[3])(x), activation, x.dtype)
    return jax.lax.cond(safe, lambda: run(True), lambda: run(False))


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
