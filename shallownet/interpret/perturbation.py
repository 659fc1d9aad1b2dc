"""Input perturbation: noise of growing size added to one variable at a time.

The method of Scardi & Harding (1999), used in the comparison of Gevrey et al. (2003): perturb
one input variable, leave the others as observed, and measure how much worse the network does.
The variable whose perturbation costs the most is the most important. Here, for variable i,
noise level s and repeat r, every case n gets its own perturbation:

* a **real** variable gets additive Gaussian noise on the encoded [0, 1] scale,
  ``x_ni <- x_ni + s * eps_nr`` with ``eps_nr ~ N(0, 1)``, so ``s`` is the noise's standard
  deviation as a fraction of the variable's training range. The result is not clipped: a
  perturbed value may leave the training range, where the network extrapolates.
* a **binary** or **enumerated** variable has no "small" change; with probability ``s`` its
  value (the whole one-hot group at once) is replaced by the value of a case drawn uniformly
  from the data, i.e. by a draw from the variable's empirical distribution, and otherwise kept.
  Every perturbed row is a valid input. (A replacement may draw the case's own category.)
  A real variable with a missingness indicator is treated the same way: its (value,
  indicator) pair is replaced by a donor case's pair, since noise cannot be added to
  "missing".

The importance is the mean increase of a per-case loss ``L``::

    increase_i(s, r) = mean_n L(p(x_n perturbed)) - mean_n L(p(x_n))

with ``p`` the class probabilities of the ensemble (the members' mean) and ``L`` one of:

* ``"mse"``: the Brier score ``sum_k (p_k - 1[k = y_n])^2`` (the squared error of the output
  vector, as in the original method for a continuous response);
* ``"log_loss"``: ``-log p_{y_n}``;
* ``"accuracy"``: the error indicator ``1[argmax p != y_n]`` (increase = accuracy lost);
* ``"output"`` (no ``y``): ``sum_k (p_k - p_k(x_n))^2``, the squared change of the network's
  own output, whose unperturbed value is 0.

The variable's single figure is the mean of ``increase_i(s, r)`` over the noise levels and
repeats (the area under its noise-response curve divided by the number of levels).

Random numbers are common to all noise levels (``x + s eps`` with the same ``eps``; the same
uniform decides a replacement, so the set replaced at a small ``s`` is contained in the set
replaced at a larger one), which makes each curve smooth in ``s``. They come from a
counter-based generator (:func:`case_draws`) keyed by the seed and the variable's position and
counted by the case's index, so results do not depend on how the cases are chunked nor on
which other variables are asked for.

The perturbed output uses the first-layer update of :mod:`shallownet.interpret.flips`:
``a = x W1 + b1 + delta W1[cols]``, O(w H) per perturbed case instead of O(D H).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax.extend.random import threefry_2x32
from jax.scipy.special import ndtri

from .._validation import check_int, check_one_of, check_random_state
from ..models.layers import PRECISION, affine
from ..results import Result
from ._inputs import check_chunk_size, prepare, select_variables
from .flips import chunk_bounds, chunk_length, pad_rows, proba_from_preactivation, widest_layer

SCORINGS = ("auto", "mse", "log_loss", "accuracy", "output")
LOSSES = ("mse", "log_loss", "accuracy", "output")
DEFAULT_NOISE = (0.1, 0.2, 0.3, 0.4, 0.5)


def case_draws(key_data, rows, n_rows: int, n_repeats: int, discrete: bool, dtype):
    """Random numbers of each case, ``(C, R)`` each: a draw and a donor case index.

    Counter-based: the Threefry-2x32 hash, under the variable's key (``key_data``, uint32
    (2,)), of the two-word block ``(n R + r, 0)`` gives two 32-bit words for case n (its index
    in the data, ``rows``) and repeat r, so a case's numbers depend on its index only, not on
    the chunking. Word 0 gives a uniform ``u`` on 24 bits (midpoints, so 0 < u < 1): a real
    variable gets ``Phi^-1(u)`` (standard normal, |draw| < 5.4), a discrete one ``u`` itself.
    Word 1 gives the donor case, modulo ``n_rows`` (bias below ``n_rows / 2^32``). Counters
    wrap beyond ``2^32 / R`` cases.
    """
    counter = rows.astype(jnp.uint32)[:, None] * n_repeats + jnp.arange(n_repeats, dtype=jnp.uint32)[None, :]
    flat = counter.reshape(-1)
    # threefry_2x32 hashes the pairs (count[i], count[i + L]) of the halves of its input.
    words = threefry_2x32(key_data, jnp.concatenate([flat, jnp.zeros_like(flat)])).reshape(2, *counter.shape)
    u = (words[0] >> 8).astype(dtype) * (2.0**-24) + 2.0**-25
    if discrete:
        return u, (words[1] % n_rows).astype(jnp.int32)
    return ndtri(u), jnp.zeros(u.shape, jnp.int32)


def case_losses(p: jax.Array, p0: jax.Array, y: jax.Array) -> jax.Array:
    """Per-case losses of probabilities ``p (..., K)``, one per entry of :data:`LOSSES`, stacked
    on a new last axis. ``p0`` are the unperturbed probabilities (used by ``"output"``) and
    ``y`` the true class indices, both broadcastable to ``p``."""
    K = p.shape[-1]
    onehot = jax.nn.one_hot(y, K, dtype=p.dtype)
    py = jnp.sum(p * onehot, axis=-1)
    return jnp.stack(
        [
            jnp.sum((p - onehot) ** 2, axis=-1),
            -jnp.log(jnp.clip(py, jnp.finfo(p.dtype).tiny, 1.0)),
            (jnp.argmax(p, axis=-1) != y).astype(p.dtype),
            jnp.sum((p - p0) ** 2, axis=-1),
        ],
        axis=-1,
    )


def case_losses_linear(p: jax.Array, p0: jax.Array, y: jax.Array) -> jax.Array:
    """Per-case losses of a linear (regression) output, laid out as :func:`case_losses`:
    ``"mse"`` is the squared error averaged over the ``T`` outputs, ``(1/T) sum_t (p_t -
    y_t)^2`` in the target's raw units; ``"output"`` is ``sum_t (p_t - p0_t)^2``; the two
    classification losses are zero (refused before this is reached). ``p`` is ``(..., T)``."""
    zero = jnp.zeros(p.shape[:-1], p.dtype)
    return jnp.stack(
        [jnp.mean((p - y) ** 2, axis=-1), zero, zero, jnp.sum((p - p0) ** 2, axis=-1)], axis=-1
    )


def _increase_sums_impl(params, x, y, rows, mask, cols, block, key_data, noise, activation, output,
                        discrete, n_repeats):
    """Masked sums over one chunk of cases, for every loss of :data:`LOSSES` at once (the
    forward pass dominates; one compiled kernel serves every scoring): ensemble increases
    ``(L, S, R)``, member increases ``(M, L, S, R)`` and the ensemble's unperturbed losses
    ``(L,)``."""
    draw, donor = case_draws(key_data, rows, block.shape[0], n_repeats, discrete, x.dtype)  # (C, R)
    xc = x[:, cols]  # (C, w)
    if discrete:
        replace = draw[:, None, :] < noise[None, :, None]  # (C, S, R)
        change = block[donor] - xc[:, None, :]  # (C, R, w)
        delta = jnp.where(replace[..., None], change[:, None, :, :], 0.0)
    else:
        delta = (noise[None, :, None] * draw[:, None, :])[..., None]  # (C, S, R, 1)

    def member(p):
        a0 = affine(x, p[0])  # (C, H)
        a = a0[:, None, None, :] + jnp.einsum("csrw,wh->csrh", delta, p[0].W[cols], precision=PRECISION)
        return (proba_from_preactivation(p, a, activation, output),
                proba_from_preactivation(p, a0, activation, output))

    mp, mp0 = jax.vmap(member)(params)  # (M, C, S, R, K), (M, C, K)

    losses = case_losses_linear if output == "linear" else case_losses

    def sums(p, p0):
        base = losses(p0, p0, y)  # (C, L)
        pert = losses(p, p0[:, None, None, :], y[:, None, None])  # (C, S, R, L)
        increase = jnp.einsum("c,csrl->lsr", mask, pert - base[:, None, None, :], precision=PRECISION)
        return increase, jnp.matmul(mask, base, precision=PRECISION)

    ens, ens_base = sums(mp.mean(axis=0), mp0.mean(axis=0))
    mem, _ = jax.vmap(sums)(mp, mp0)
    return ens, mem, ens_base


increase_sums = jax.jit(_increase_sums_impl, static_argnames=("activation", "output", "discrete", "n_repeats"))


@dataclass(frozen=True, eq=False, repr=False)
class InputPerturbation(Result):
    """Loss gained when each variable is perturbed (see the module docstring).

    Attributes
    ----------
    variables, kinds : tuple of str
    noise : ndarray (S,)
        Noise levels: the noise sd in training ranges (real variables), the replacement
        probability (binary and enumerated variables).
    increases : ndarray (V, S, R)
        Mean loss increase of the ensemble for each variable, noise level and repeat.
    member_increases : ndarray (M, V, S, R)
        The same for each member on its own output.
    baseline : float
        The ensemble's unperturbed score: accuracy for ``"accuracy"``, the mean loss for
        ``"mse"`` and ``"log_loss"``, 0 for ``"output"``.
    scoring : str
    """

    variables: tuple
    kinds: tuple
    noise: np.ndarray
    increases: np.ndarray
    member_increases: np.ndarray
    baseline: float
    scoring: str

    @property
    def title(self) -> str:
        S, R = self.increases.shape[1:]
        return f"Input perturbation ({self.scoring}, {S} noise levels x {R} repeats)"

    @property
    def curve(self) -> np.ndarray:
        """Mean increase over repeats at each noise level, (V, S)."""
        return self.increases.mean(axis=2)

    @property
    def curve_sd(self) -> np.ndarray:
        """Standard deviation of the increase over repeats at each noise level, (V, S)."""
        return self.increases.std(axis=2)

    @property
    def importances(self) -> np.ndarray:
        """Mean increase over noise levels and repeats, (V,)."""
        return self.increases.mean(axis=(1, 2))

    @property
    def member_importances(self) -> np.ndarray:
        """Each member's mean increase over noise levels and repeats, (M, V)."""
        return self.member_increases.mean(axis=(2, 3))

    def to_frame(self) -> pd.DataFrame:
        """One row per variable: ``importance`` (mean over levels and repeats), its sd over
        repeats, the sd over members (NaN for one network), ``rank`` (1 = largest) and the
        unperturbed ``baseline``."""
        imp = self.importances
        member = self.member_importances
        member_sd = member.std(axis=0, ddof=1) if member.shape[0] > 1 else np.full(imp.shape, np.nan)
        rank = np.empty(len(imp), dtype=int)
        rank[np.argsort(-imp, kind="stable")] = np.arange(1, len(imp) + 1)
        return pd.DataFrame(
            {
                "variable": list(self.variables), "kind": list(self.kinds), "importance": imp,
                "importance_sd": self.increases.mean(axis=1).std(axis=1), "member_sd": member_sd,
                "rank": rank, "baseline": self.baseline,
            }
        )

    def curves_frame(self) -> pd.DataFrame:
        """One row per variable and noise level: mean and sd of the increase over repeats."""
        V, S = self.curve.shape
        return pd.DataFrame(
            {
                "variable": np.repeat(np.asarray(self.variables, dtype=object), S),
                "kind": np.repeat(np.asarray(self.kinds, dtype=object), S),
                "noise": np.tile(self.noise, V),
                "increase_mean": self.curve.reshape(-1),
                "increase_sd": self.curve_sd.reshape(-1),
            }
        )


def _check_noise(noise: Any) -> np.ndarray:
    try:
        arr = np.asarray(noise, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"`noise` must be a sequence of numbers in (0, 1]. Got {noise!r}.") from None
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"`noise` must be a non-empty 1-D sequence of levels. Got shape {arr.shape}.")
    if not np.all(np.isfinite(arr) & (arr > 0) & (arr <= 1)):
        raise ValueError(
            "`noise` levels must lie in (0, 1]: the noise sd in training ranges for a real "
            f"variable, the replacement probability for a binary or enumerated one. Got {arr.tolist()}."
        )
    return arr


def input_perturbation(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    noise: Any = DEFAULT_NOISE,
    n_repeats: int = 10,
    scoring: str = "auto",
    variables: Any = None,
    random_state: int | None = 0,
    encoded: bool = False,
    chunk_size: Any = "auto",
) -> InputPerturbation:
    """Input perturbation importance: the loss gained when noise is added to one variable.

    Parameters
    ----------
    model : Network, ShallowNetClassifier or fitted MLPClassifier
    X : DataFrame or array (N, n_features)
        Raw cases; with ``encoded=True`` the encoded matrix.
    y : array-like (N,), optional
        True labels (numeric targets for a linear output); required by ``"mse"``,
        ``"log_loss"`` and ``"accuracy"``, refused by ``"output"``.
    noise : sequence of float in (0, 1], default (0.1, 0.2, 0.3, 0.4, 0.5)
        Noise levels ``s``: a real variable gets ``x + s eps`` (``eps ~ N(0, 1)``, encoded
        scale, i.e. an sd of ``s`` training ranges); a binary or enumerated variable is
        replaced, with probability ``s``, by a draw from its empirical distribution.
    n_repeats : int, default 10
        Independent perturbations of every case at each level.
    scoring : {"auto", "mse", "log_loss", "accuracy", "output"}, default "auto"
        Per-case loss (module docstring); ``"auto"`` is ``"mse"`` with ``y`` and ``"output"``
        without. For a linear (regression) output ``"mse"`` is the squared error in the
        target's raw units (mean over the outputs) and the classification losses are refused.
    variables : list of str, optional
    random_state : int or None, default 0
        Seed of the JAX key of the noise.
    encoded : bool, default False
    chunk_size : "auto" or int
        Cases per chunk; memory is about ``chunk * M * S * R * max(H, w)`` numbers (w the
        widest one-hot group).

    Returns
    -------
    InputPerturbation
        ``importances`` (V,) and the curves over noise levels, for the ensemble and per member.
    """
    check_one_of("scoring", scoring, SCORINGS)
    n_repeats = check_int("n_repeats", n_repeats, 1)
    levels = _check_noise(noise)
    chunk_size = check_chunk_size(chunk_size)
    seed = check_random_state(random_state)
    if scoring == "auto":
        scoring = "output" if y is None else "mse"
    if scoring == "output" and y is not None:
        raise ValueError("`scoring='output'` compares the network with itself and uses no `y`; pass y=None.")
    if scoring != "output" and y is None:
        raise ValueError(f"`y` is required by scoring={scoring!r}: it measures the error gained.")
    net, x, yi = prepare(model, X, y, encoded)
    if net.is_regression and scoring in ("log_loss", "accuracy"):
        raise ValueError(
            f"`scoring={scoring!r}` is a classification loss; a linear (regression) output is "
            "scored by 'mse' (squared error in the target's units) or 'output'."
        )
    vars_ = select_variables(net, variables)
    N = x.shape[0]
    loss = LOSSES.index(scoring)
    if yi is not None:
        yj = yi.astype(x.dtype) if net.is_regression else yi
    else:
        yj = np.zeros((N, net.n_outputs), x.dtype) if net.is_regression else np.zeros(N, dtype=np.int32)
    widest = max(widest_layer(net), *(v.width for v in vars_))
    chunk = chunk_length(N, net.n_members * levels.size * n_repeats * widest, chunk_size)
    position = {v.name: i for i, v in enumerate(net.variables)}
    root = jax.random.PRNGKey(seed)
    noise_j = jnp.asarray(levels.astype(x.dtype))
    ens = np.zeros((len(vars_), levels.size, n_repeats))
    mem = np.zeros((net.n_members, len(vars_), levels.size, n_repeats))
    base = 0.0
    for j, v in enumerate(vars_):
        cols = np.asarray(v.columns, dtype=np.int32)
        fn = partial(
            increase_sums, net.params, cols=jnp.asarray(cols), block=jnp.asarray(x[:, cols]),
            key_data=jax.random.key_data(jax.random.fold_in(root, position[v.name])), noise=noise_j,
            activation=net.activation, output=net.output, discrete=not v.ordered,
            n_repeats=n_repeats,
        )
        sums = [np.zeros((levels.size, n_repeats)), np.zeros((net.n_members, levels.size, n_repeats)), 0.0]
        for start, stop in chunk_bounds(N, chunk):
            rows = np.arange(start, stop, dtype=np.int32)
            mask = np.zeros(chunk, dtype=x.dtype)
            mask[: stop - start] = 1
            out = fn(
                jnp.asarray(pad_rows(x[start:stop], chunk)), jnp.asarray(pad_rows(yj[start:stop], chunk)),
                jnp.asarray(pad_rows(rows, chunk)), jnp.asarray(mask),
            )
            ens_sum, mem_sum, base_sum = (np.asarray(o, dtype=np.float64) for o in out)
            sums[0] = sums[0] + ens_sum[loss]
            sums[1] = sums[1] + mem_sum[:, loss]
            sums[2] = sums[2] + base_sum[loss]
        ens[j], mem[:, j] = sums[0] / N, sums[1] / N
        base = sums[2] / N
    baseline = 1.0 - base if scoring == "accuracy" else base
    return InputPerturbation(
        variables=tuple(v.name for v in vars_), kinds=tuple(v.kind for v in vars_), noise=levels,
        increases=ens, member_increases=mem, baseline=float(baseline), scoring=scoring,
    )
