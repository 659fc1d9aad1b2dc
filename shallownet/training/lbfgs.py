"""Full-batch L-BFGS for every member of an ensemble at once, each stopping on its own.

Small tabular data sets (hundreds to tens of thousands of rows) fit in one batch, and on them a
quasi-Newton method with a line search reaches the optimum of the penalised objective in tens
to hundreds of iterations, where minibatch first-order methods stop short of it (see
``theory/training.md``). The step is optax's :func:`optax.lbfgs` (two-loop recursion, memory
``memory_size``, zoom line search enforcing the strong Wolfe conditions), ``jax.vmap``-ed over
the member axis; iterations run in ``lax.while_loop`` chunks inside one ``jit``.

Objective (per member ``m``, the loss of :func:`shallownet.training.epochs.member_loss`)::

    L_m(theta) = sum_n w_mn loss_n(theta) / sum_n w_mn + alpha/2 sum_l ||W_l||^2

(``loss_n`` the cross-entropy, or half the squared error for a linear output).

Stopping rules, checked after every iteration, per member (the first that holds ends it):

* ``"gradient"``: ``max |grad L_m| <= gtol`` (scipy's L-BFGS-B ``gtol``, default 1e-5, on the
  infinity norm of the gradient);
* ``"objective"``: ``(L_prev - L) / max(|L_prev|, |L|, c) <= ftol`` with ``c = 1`` in float64
  (scipy's ``factr * eps`` test) and ``c`` the smallest normal number in float32, where
  ``ftol`` is set at the objective's own relative rounding, so that an objective far below 1
  (a regression that fits well) is not stopped while it still falls by a large share of itself
  (nnet's ``reltol`` is relative too);
* ``"validation"`` (early stopping only): the validation loss has not improved by ``tol`` for
  ``patience`` iterations; the best-on-validation parameters are kept;
* ``"max_iter"``: ``max_iter`` iterations done (not converged);
* ``"line search"``: the step raised the objective by more than ``ftol`` (the step is
  rejected; not converged);
* ``"not finite"``: the objective or gradient became NaN or infinite (the step is rejected;
  not converged).

The first three count as converged. A member that has stopped is never touched again, and no
member's arithmetic depends on another's (changing one member's start leaves the others
bit-identical); a member fitted alone follows the same path up to the rounding of batched
versus single matrix products.

The training rows are padded with zero-weight rows to one of a few lengths
(:func:`padded_length`), so that data sets of nearby sizes reuse one compilation.
"""

from __future__ import annotations

import os
from functools import lru_cache, partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import optax.tree_utils as otu

from ..checkpoint import fingerprint, read_checkpoint, write_checkpoint
from ..devices import check_devices, device_mesh, shard_members, to_host
from .epochs import _nll_and_accuracy, _select, has_member_axis, member_loss

REASONS = ("running", "gradient", "objective", "validation", "max_iter", "line search", "not finite")
"""Stop reasons, indexed by the codes in ``LbfgsState.reason``."""
CONVERGED_REASONS = ("gradient", "objective", "validation")

HISTORY = ("train_loss", "val_loss", "val_accuracy")
"""Per-iteration records, as the minibatch loop's per-epoch ones."""

GTOL = 1e-5
"""Default gradient tolerance (infinity norm), as scipy's L-BFGS-B."""


def scale_floor(dtype) -> float:
    """``c`` of the relative-decrease rule (module docstring): 1 in float64 (scipy), the
    smallest normal float32 in float32."""
    return 1.0 if np.dtype(dtype) == np.float64 else float(np.finfo(np.float32).tiny)


def default_ftol(dtype) -> float:
    """Default relative-decrease tolerance: scipy's ``factr * eps = 1e7 * 2.2e-16`` in float64;
    ``1e-6`` (about 8 float32 epsilons, the objective's own rounding) in float32."""
    return 2.220446049250313e-09 if np.dtype(dtype) == np.float64 else 1e-6


class LbfgsState(NamedTuple):
    """Everything carried between iterations; every leaf has the member axis M first."""

    params: Any
    opt_state: Any
    value: jax.Array  # (M,) objective at params
    grad_norm: jax.Array  # (M,) infinity norm of the gradient at params
    best_params: Any
    best_score: jax.Array  # (M,) best validation loss (early stopping)
    bad_iters: jax.Array  # (M,) iterations without validation improvement
    n_iter: jax.Array  # (M,) iterations taken
    reason: jax.Array  # (M,) int index into REASONS; 0 while running


class Settings(NamedTuple):
    """Dynamic settings (arrays, so that changing them never recompiles)."""

    alpha: jax.Array
    gtol: jax.Array
    ftol: jax.Array
    floor: jax.Array
    tol: jax.Array
    patience: jax.Array
    max_iter: jax.Array



@lru_cache(maxsize=None)
def lbfgs_optimizer(memory_size: int = 10) -> optax.GradientTransformationExtraArgs:
    """optax's L-BFGS with its zoom line search; the same object for the same memory, so that
    compiled iterations are reused across fits."""
    return optax.lbfgs(memory_size=memory_size)


def _inf_norm(tree) -> jax.Array:
    """``max |leaf|`` over every leaf of one member's pytree."""
    return jnp.max(jnp.stack([jnp.max(jnp.abs(a)) for a in jax.tree_util.tree_leaves(tree)]))


def _axes(y, w, output: str):
    return (0 if has_member_axis(y, output) else None), (0 if w.ndim == 2 else None)


@partial(jax.jit, static_argnames=("activation", "output"))
def objective_and_gradient(params, X, y, w, alpha, *, activation: str, output: str):
    """Every member's penalised objective and the infinity norm of its gradient, ``(M,)`` each.

    ``y`` is ``(N,)`` or ``(M, N)`` class indices (``(N, T)`` or ``(M, N, T)`` values for a
    linear output); ``w`` is ``(N,)`` or ``(M, N)``. The convergence evidence of every fit,
    whatever optimiser produced ``params``.
    """
    y_axis, w_axis = _axes(y, w, output)

    def one(p, yy, ww):
        v, g = jax.value_and_grad(member_loss)(p, X, yy, ww, alpha, activation, output)
        return v, _inf_norm(g)

    return jax.vmap(one, in_axes=(0, y_axis, w_axis))(params, y, w)


@partial(jax.jit, static_argnames=("optimizer", "activation", "output"))
def init_lbfgs(params, X, y, w, settings: Settings, *, optimizer, activation: str, output: str) -> LbfgsState:
    """The state before the first iteration (a member whose start already meets ``gtol`` is
    converged after 0 iterations)."""
    value, gnorm = objective_and_gradient(params, X, y, w, settings.alpha, activation=activation, output=output)
    m = value.shape[0]
    done = jnp.where(gnorm <= settings.gtol, REASONS.index("gradient"), 0)
    done = jnp.where(jnp.isfinite(value) & jnp.isfinite(gnorm), done, REASONS.index("not finite"))
    # optax's initial line-search info holds weakly typed scalars, the updated state strong
    # ones: made strong here, the second chunk reuses the first chunk's compilation.
    opt_state = jax.tree_util.tree_map(lambda a: jax.lax.convert_element_type(a, a.dtype),
                                       jax.vmap(optimizer.init)(params))
    return LbfgsState(
        params=params,
        opt_state=opt_state,
        value=value,
        grad_norm=gnorm,
        best_params=params,
        best_score=jnp.full((m,), jnp.inf, value.dtype),
        bad_iters=jnp.zeros((m,), jnp.int32),
        n_iter=jnp.zeros((m,), jnp.int32),
        reason=done.astype(jnp.int32),
    )


def _iterate(state: LbfgsState, X, y, w, X_val, y_val, settings: Settings, optimizer,
             activation: str, output: str, early_stopping: bool):
    """One L-BFGS iteration of every running member; returns
    ``(state, objective, val_loss, val_accuracy)`` (NaN for stopped members)."""
    y_axis, w_axis = _axes(y, w, output)

    def one(p, s, yy, ww):
        fn = lambda q: member_loss(q, X, yy, ww, settings.alpha, activation, output)  # noqa: E731
        v, g = optax.value_and_grad_from_state(fn)(p, state=s)
        updates, s_new = optimizer.update(g, s, p, value=v, grad=g, value_fn=fn)
        p_new = optax.apply_updates(p, updates)
        return p_new, s_new, otu.tree_get(s_new, "value"), _inf_norm(otu.tree_get(s_new, "grad"))

    p_new, s_new, v_new, g_new = jax.vmap(one, in_axes=(0, 0, y_axis, w_axis))(
        state.params, state.opt_state, y, w
    )
    active = state.reason == 0
    finite = jnp.isfinite(v_new) & jnp.isfinite(g_new)
    scale = jnp.maximum(jnp.maximum(jnp.abs(state.value), jnp.abs(v_new)), settings.floor)
    rel = (state.value - v_new) / scale
    rose = rel < -settings.ftol
    accept = active & finite & ~rose
    n_iter = state.n_iter + active.astype(jnp.int32)

    best_params, best_score, bad = state.best_params, state.best_score, state.bad_iters
    val_stop = jnp.zeros_like(active)
    val_loss = val_acc = jnp.full_like(v_new, jnp.nan)
    if early_stopping:
        yv_axis = 0 if has_member_axis(y_val, output) else None
        val_loss, val_acc = jax.vmap(_nll_and_accuracy, in_axes=(0, None, yv_axis, None, None))(
            p_new, X_val, y_val, activation, output
        )
        better = accept & (val_loss < best_score)
        improved = accept & (val_loss < best_score - settings.tol)
        bad = jnp.where(active, jnp.where(improved, 0, bad + 1), bad)
        best_params = _select(better, p_new, best_params)
        best_score = jnp.where(better, val_loss, best_score)
        val_stop = bad >= settings.patience

    code = jnp.where(n_iter >= settings.max_iter, REASONS.index("max_iter"), 0)
    code = jnp.where(val_stop, REASONS.index("validation"), code)
    code = jnp.where(rel <= settings.ftol, REASONS.index("objective"), code)
    code = jnp.where(g_new <= settings.gtol, REASONS.index("gradient"), code)
    code = jnp.where(rose, REASONS.index("line search"), code)
    code = jnp.where(finite, code, REASONS.index("not finite"))
    new = LbfgsState(
        params=_select(accept, p_new, state.params),
        opt_state=_select(accept, s_new, state.opt_state),
        value=jnp.where(accept, v_new, state.value),
        grad_norm=jnp.where(accept, g_new, state.grad_norm),
        best_params=best_params,
        best_score=best_score,
        bad_iters=bad,
        n_iter=n_iter,
        reason=jnp.where(active, code, state.reason).astype(jnp.int32),
    )
    nan = jnp.nan
    return (new, jnp.where(active, v_new, nan), jnp.where(active, val_loss, nan),
            jnp.where(active, val_acc.astype(v_new.dtype), nan))


@partial(jax.jit, static_argnames=("optimizer", "activation", "output", "n_iters", "early_stopping"))
def run_lbfgs(state: LbfgsState, X, y, w, X_val, y_val, settings: Settings, *, optimizer,
              activation: str, output: str, n_iters: int, early_stopping: bool):
    """Up to ``n_iters`` iterations (fewer once every member has stopped), in one compiled
    ``lax.while_loop``; returns ``(state, history, iterations_run)`` with per-iteration
    ``train_loss``, ``val_loss`` and ``val_accuracy`` of shape ``(n_iters, M)`` (NaN for
    stopped members, for iterations not run, and for validation figures without early
    stopping; ``val_accuracy`` is NaN for a linear output)."""
    m = state.value.shape[0]
    blank = jnp.full((n_iters, m), jnp.nan, state.value.dtype)

    def cond(carry):
        i, st, _ = carry
        return (i < n_iters) & jnp.any(st.reason == 0)

    def body(carry):
        i, st, h = carry
        st, *row = _iterate(st, X, y, w, X_val, y_val, settings, optimizer, activation, output,
                            early_stopping)
        return i + 1, st, tuple(a.at[i].set(r) for a, r in zip(h, row))

    i, state, h = jax.lax.while_loop(cond, body, (jnp.zeros((), jnp.int32), state, (blank,) * 3))
    return state, dict(zip(HISTORY, h)), i


def fit_lbfgs(
    params,
    X: np.ndarray,
    y: np.ndarray,
    *,
    activation: str,
    output: str,
    alpha: float,
    max_iter: int,
    gtol: float = GTOL,
    ftol: float | None = None,
    sample_weight: np.ndarray | None = None,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    early_stopping: bool = False,
    tol: float = 1e-4,
    patience: int | None = 10,
    memory_size: int = 10,
    chunk_iters: int = 100,
    progress: Callable[[int, int, float], None] | None = None,
    dtype=jnp.float32,
    devices: str | int = "auto",
    checkpoint: str | os.PathLike | None = None,
):
    """Minimise every member's penalised objective with full-batch L-BFGS.

    Parameters
    ----------
    params : tuple of Dense
        Initial parameters with a leading member axis M.
    X : array (N, D)
        Encoded inputs (all on the device: every step uses every row).
    y : int array (N,) or (M, N); for ``output="linear"`` float array (N, T) or (M, N, T)
        Class indices (or target values), shared or one set per member.
    alpha : float
        L2 penalty on weights; see ``member_loss``.
    max_iter : int
        Iterations at most, per member (each iteration is one line search, usually one to
        three evaluations of the objective and gradient).
    gtol, ftol : float
        The gradient and relative-decrease tolerances of the module docstring; ``ftol=None``
        takes :func:`default_ftol` of ``dtype``.
    sample_weight : array (N,) or (M, N), optional
        Row weights (bootstrap counts for bagging).
    X_val, y_val, early_stopping, tol, patience :
        With ``early_stopping``, the validation loss is computed after every iteration, the
        best parameters are kept and a member stops after ``patience`` iterations without an
        improvement of ``tol``.
    memory_size : int, default 10
        Pairs of L-BFGS memory (scipy's ``maxcor``).
    chunk_iters : int, default 100
        Iterations per compiled call: progress is reported and the checkpoint written between
        chunks. Results do not depend on it.
    devices : {"auto", "none", 1}
        "auto" splits the member axis over the visible devices when there are several.
    checkpoint : path, optional
        A ``.npz`` file written atomically after every chunk with the whole state; a later call
        with the same settings, data and initial parameters resumes from it and ends with the
        numbers of an uninterrupted run (``ValueError`` for a file from another run).

    Returns
    -------
    params : the final (with early stopping, the best-on-validation) parameters.
    history : dict with ``train_loss``, ``val_loss`` and ``val_accuracy`` (iterations, M), and per member
        ``n_iter``, ``reason`` (strings of :data:`REASONS`), ``converged``, ``objective`` and
        ``grad_norm`` (at the final iterate).
    """
    check_devices(devices)
    X = jnp.asarray(X, dtype)
    m = jax.tree_util.tree_leaves(params)[0].shape[0]
    target_dtype = dtype if output == "linear" else jnp.int32
    y = jnp.asarray(y, target_dtype)
    w = jnp.ones((X.shape[0],), dtype) if sample_weight is None else jnp.asarray(sample_weight, dtype)
    if w.shape[-1] != X.shape[0] or w.ndim not in (1, 2):
        raise ValueError(f"`sample_weight` must have shape (N,) or (M, N) with N = {X.shape[0]}. Got {w.shape}.")
    X, y, w = pad_rows(X, y, w, output)
    if X_val is None:
        X_val = np.zeros((0, X.shape[1]))
        y_val = np.zeros((0, *y.shape[-1:]) if output == "linear" else (0,))
    X_val = jnp.asarray(X_val, dtype)
    y_val = jnp.asarray(y_val, target_dtype)
    early_stopping = bool(early_stopping) and X_val.shape[0] > 0
    ftol = default_ftol(dtype) if ftol is None else float(ftol)
    settings = Settings(
        alpha=jnp.asarray(alpha, dtype),
        gtol=jnp.asarray(gtol, dtype),
        ftol=jnp.asarray(ftol, dtype),
        floor=jnp.asarray(scale_floor(dtype), dtype),
        tol=jnp.asarray(tol, dtype),
        patience=jnp.asarray(patience if patience is not None else np.iinfo(np.int32).max, jnp.int32),
        max_iter=jnp.asarray(max_iter, jnp.int32),
    )
    optimizer = lbfgs_optimizer(int(memory_size))
    statics = dict(optimizer=optimizer, activation=activation, output=output)
    state = init_lbfgs(params, X, y, w, settings, **statics)
    chunk = int(min(chunk_iters, max_iter))
    records: list[dict] = []
    done = 0
    stamp = None
    if checkpoint is not None:
        stamp = fingerprint(
            dict(kind="lbfgs", activation=activation, output=output, alpha=float(alpha),
                 gtol=float(gtol), ftol=ftol, tol=float(tol), patience=patience,
                 early_stopping=early_stopping, memory_size=int(memory_size), dtype=np.dtype(dtype).name),
            [X, y, w, X_val, y_val, *jax.tree_util.tree_leaves(params)],
        )
        if os.path.exists(checkpoint):
            state, records, done = _resume(checkpoint, state, stamp, max_iter)
    mesh = device_mesh(devices)
    if mesh is not None:
        state = shard_members(state, mesh)
    while done < max_iter and bool(np.any(to_host(state.reason) == 0)):
        state, record, ran = run_lbfgs(
            state, X, y, w, X_val, y_val, settings, n_iters=chunk, early_stopping=early_stopping, **statics
        )
        ran = int(ran)
        records.append({k: to_host(v)[:ran] for k, v in record.items()})
        done += ran
        if checkpoint is not None:
            _save(checkpoint, state, records, done, stamp)
        if progress is not None:
            progress(done, max_iter, float(np.mean(to_host(state.value))))
    host = to_host(state._replace(params=None, opt_state=None, best_params=None))
    broken = np.flatnonzero(host.reason == REASONS.index("not finite"))
    if broken.size:
        raise ValueError(
            f"Training diverged: L-BFGS found the objective or its gradient NaN or infinite for "
            f"member(s) {broken.tolist()} at iteration(s) {host.n_iter[broken].tolist()} "
            "(0: at the initial weights). Check the inputs for extreme values, lower the initial "
            "weights' scale or raise alpha."
        )
    if records:
        history = {k: np.concatenate([r[k] for r in records]) for k in records[0]}
    else:
        history = {k: np.zeros((0, m)) for k in HISTORY}
    reasons = np.array([REASONS[int(c)] for c in host.reason])
    history.update(
        n_iter=host.n_iter,
        reason=reasons,
        converged=np.isin(reasons, CONVERGED_REASONS),
        objective=host.value,
        grad_norm=host.grad_norm,
    )
    final = state.best_params if early_stopping else state.params
    return final, history


def padded_length(n: int) -> int:
    """The row count the compiled iteration is built for: ``n`` rounded up to at least 64, and
    beyond that to ``c * 2**e`` with ``8 <= c <= 16`` (at most an eighth more rows).

    Each new row count costs a compilation of the L-BFGS iteration (seconds); rounding lets the
    folds of a cross-validation, bootstrap refits and data sets of nearby sizes share one.
    """
    if n <= 64:
        return 64
    e = n.bit_length() - 4  # n / 2**e lies in [8, 16)
    return -(-n // 2**e) * 2**e


def pad_rows(X, y, w, output: str):
    """``X``, ``y`` (with or without a member axis, see :func:`objective_and_gradient`) and
    the weights ``w`` ((N,) or (M, N)) with zero rows appended up to :func:`padded_length`: a
    padded row has weight 0, so it adds 0 to ``sum_n w_n loss_n`` and to ``sum_n w_n``, and the
    objective, its gradient and every iterate are those of the unpadded data (up to the order
    of the floating-point sums)."""
    extra = padded_length(X.shape[0]) - X.shape[0]
    if extra == 0:
        return X, y, w

    def rows(a, axis):
        widths = [(0, 0)] * a.ndim
        widths[axis] = (0, extra)
        return jnp.pad(a, widths)

    y_axis, w_axis = _axes(y, w, output)
    return rows(X, 0), rows(y, 0 if y_axis is None else 1), rows(w, 0 if w_axis is None else 1)


def _save(path, state: LbfgsState, records: list[dict], done: int, stamp: str) -> None:
    """Write the state and the history so far (format ``shallownet.lbfgs``); under several
    processes every process gathers, process 0 writes, all wait (as the Adam loop does)."""
    arrays = {f"state_{i}": to_host(leaf) for i, leaf in enumerate(jax.tree_util.tree_leaves(state))}
    for k in records[0]:
        arrays[f"history_{k}"] = np.concatenate([r[k] for r in records])
    meta = dict(format="shallownet.lbfgs", version=1, fingerprint=stamp, iterations_done=done,
                history=sorted(records[0]))
    if jax.process_index() == 0:
        write_checkpoint(path, arrays, meta)
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(f"shallownet lbfgs checkpoint {done}")


def _resume(path, template: LbfgsState, stamp: str, max_iter: int):
    """Read a checkpoint written by :func:`_save` into the structure of ``template``."""
    arrays, meta = read_checkpoint(path)
    name = os.fspath(path)
    if meta.get("format") != "shallownet.lbfgs":
        raise ValueError(f"`checkpoint` {name!r} is not an L-BFGS training checkpoint of shallownet.")
    if meta.get("fingerprint") != stamp:
        raise ValueError(
            f"`checkpoint` {name!r} was written by a run with other settings, data or initial "
            "parameters; it cannot be resumed by this call. Remove the file or pass another path "
            "to start afresh."
        )
    leaves, treedef = jax.tree_util.tree_flatten(template)
    loaded = []
    for i, leaf in enumerate(leaves):
        a = arrays.get(f"state_{i}")
        if a is None or a.shape != leaf.shape or a.dtype != leaf.dtype:
            raise ValueError(f"`checkpoint` {name!r}: state entry {i} does not match this run.")
        loaded.append(jnp.asarray(a))
    done = int(meta["iterations_done"])
    if done > max_iter:
        raise ValueError(
            f"`checkpoint` {name!r} holds a run of {done} iterations; it cannot end at max_iter={max_iter}."
        )
    records = [{k: arrays[f"history_{k}"] for k in meta["history"]}]
    state = jax.tree_util.tree_unflatten(treedef, loaded)
    # A larger max_iter continues the members that stopped only because of the old one.
    reopen = (state.reason == REASONS.index("max_iter")) & (state.n_iter < max_iter)
    return state._replace(reason=jnp.where(reopen, 0, state.reason)), records, done
