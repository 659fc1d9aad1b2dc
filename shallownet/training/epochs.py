"""One compiled region per chunk of epochs: the training state, the step and the epoch.

Used by :func:`shallownet.training.loop.train` (in-device epochs, :func:`run_epochs`) and by
:mod:`shallownet.training.streaming` (the same step applied to blocks sent from the host).
The loss and the layout are described in :mod:`shallownet.training.loop`.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ..models.layers import log_probabilities, logits


class TrainState(NamedTuple):
    """Everything the loop carries from epoch to epoch (every leaf has the member axis M,
    except ``key`` and ``epoch``)."""

    params: Any
    opt_state: Any
    best_params: Any
    best_score: jax.Array  # (M,)
    bad_epochs: jax.Array  # (M,) int
    stopped: jax.Array  # (M,) bool
    epochs_run: jax.Array  # (M,) int
    key: jax.Array
    epoch: jax.Array  # scalar int


class Hyper(NamedTuple):
    """Dynamic hyper-parameters (arrays: changing them does not recompile)."""

    alpha: jax.Array
    tol: jax.Array
    patience: jax.Array
    max_epochs: jax.Array


def has_member_axis(y, output: str, leading: int = 0) -> bool:
    """Whether targets ``y`` carry a member axis after ``leading`` batch axes: one member's
    targets are class indices ``(N,)``, or for a linear output values ``(N, T)``."""
    return y.ndim > leading + (2 if output == "linear" else 1)


def row_losses(z, y, output: str):
    """Per-row data loss from logits ``z`` (B, n_out): the cross-entropy ``-log p_{y}`` of
    class indices ``y`` (B,), or for a linear output half the mean squared error over the T
    outputs, ``sum_t (z_t - y_t)^2 / (2 T)``, of values ``y`` (B, T) (module
    :mod:`shallownet.training.loop` relates it to scikit-learn's and nnet's losses)."""
    if output == "linear":
        return 0.5 * jnp.mean((z - y) ** 2, axis=-1)
    lp = log_probabilities(z, output)
    return -jnp.take_along_axis(lp, y[:, None], axis=1)[:, 0]


def member_loss(params, x, y, w, alpha, activation: str, output: str):
    """Penalised weighted mean cross-entropy (half squared error for a linear output) of ONE
    member, ``sum_n w_n loss_n / sum_n w_n + alpha/2 sum_l ||W_l||^2`` (biases are not
    penalised; module docstring of :mod:`shallownet.training.loop`)."""
    nll = row_losses(logits(params, x, activation), y, output)
    total = jnp.sum(w)
    data = jnp.sum(w * nll) / jnp.where(total > 0, total, 1)
    l2 = sum(jnp.sum(layer.W**2) for layer in params)
    return data + 0.5 * alpha * l2


def _nll_and_accuracy(params, x, y, activation: str, output: str):
    """Mean validation loss and accuracy of ONE member (for a linear output the mean of
    :func:`row_losses` and NaN: accuracy is a classification figure)."""
    if output == "linear":
        loss = jnp.mean(row_losses(logits(params, x, activation), y, output))
        return loss, jnp.full_like(loss, jnp.nan)
    lp = log_probabilities(logits(params, x, activation), output)
    nll = -jnp.mean(jnp.take_along_axis(lp, y[:, None], axis=1))
    acc = jnp.mean(jnp.argmax(lp, axis=1) == y)
    return nll, acc


@partial(jax.jit, static_argnames=("optimizer", "dtype"))
def init_state(params, optimizer: optax.GradientTransformation, learning_rate, key, dtype) -> TrainState:
    """A fresh training state for member-stacked ``params`` (one compiled region, so a fresh
    process loads one executable instead of dispatching dozens of small operations)."""
    opt_state = jax.vmap(optimizer.init)(params)
    if hasattr(opt_state, "hyperparams") and "learning_rate" in opt_state.hyperparams:
        hp = dict(opt_state.hyperparams)
        hp["learning_rate"] = jnp.full_like(hp["learning_rate"], learning_rate)
        opt_state = opt_state._replace(hyperparams=hp)
    m = params[0].W.shape[0]
    return TrainState(
        params=params,
        opt_state=opt_state,
        best_params=params,
        best_score=jnp.full((m,), jnp.inf, dtype),
        bad_epochs=jnp.zeros((m,), jnp.int32),
        stopped=jnp.zeros((m,), bool),
        epochs_run=jnp.zeros((m,), jnp.int32),
        key=key,
        epoch=jnp.zeros((), jnp.int32),
    )


def _select(mask, new, old):
    """Per-member choice between two pytrees with leading axis M."""
    def pick(a, b):
        return jnp.where(mask.reshape((-1,) + (1,) * (a.ndim - 1)), a, b)
    return jax.tree_util.tree_map(pick, new, old)


def make_step(alpha, activation: str, output: str, optimizer, y_axis, w_axis):
    """One optimizer step of every member on one minibatch (a ``lax.scan`` body).

    The carry is ``(params, opt_state, active)``; a batch is ``(x, y, w, valid)``. Members
    that are not active, and batches that are not valid (padding of a streamed block), leave
    parameters and optimizer state unchanged.
    """
    grad_fn = jax.vmap(
        jax.value_and_grad(member_loss), in_axes=(0, None, y_axis, w_axis, None, None, None)
    )

    def step(carry, batch):
        params, opt_state, active = carry
        xb, yb, w, valid = batch
        loss, grads = grad_fn(params, xb, yb, w, alpha, activation, output)
        updates, new_opt = jax.vmap(optimizer.update)(grads, opt_state, params)
        new_params = optax.apply_updates(params, updates)
        live = active & valid
        params = _select(live, new_params, params)
        opt_state = _select(live, new_opt, opt_state)
        return (params, opt_state, active), loss

    return step


def epoch_loss(losses, batch_weight):
    """Batch losses weighted by their rows' total weight: the exact (weighted) mean over the
    epoch's rows, so a short last batch does not add noise to the monitored loss.
    ``losses`` (batches, M); ``batch_weight`` (batches,) or (batches, M)."""
    if batch_weight.ndim == 1:
        batch_weight = batch_weight[:, None]
    return jnp.sum(losses * batch_weight, axis=0) / jnp.sum(batch_weight, axis=0)


def finish_epoch(state: TrainState, key, active, params, opt_state, train_loss, val_loss, val_acc,
                  hyper: Hyper, early_stopping: bool):
    """Early-stopping bookkeeping after one epoch; returns ``(new_state, record)``."""
    score = val_loss if early_stopping else train_loss
    improved = score < state.best_score - hyper.tol
    better = score < state.best_score
    bad = jnp.where(improved, 0, state.bad_epochs + 1)
    best_params = _select(better & active, params, state.best_params) if early_stopping else params
    new_state = TrainState(
        params=params,
        opt_state=opt_state,
        best_params=best_params,
        best_score=jnp.where(active & better, score, state.best_score),
        bad_epochs=jnp.where(active, bad, state.bad_epochs),
        stopped=state.stopped | (active & (bad >= hyper.patience)),
        epochs_run=state.epochs_run + active.astype(jnp.int32),
        key=key,
        epoch=state.epoch + 1,
    )
    record = {
        "train_loss": jnp.where(active, train_loss, jnp.nan),
        "val_loss": jnp.where(active, val_loss, jnp.nan),
        "val_accuracy": jnp.where(active, val_acc, jnp.nan),
    }
    return new_state, record


def epoch_start(state: TrainState, hyper: Hyper):
    """Which members train this epoch, and the keys: ``(next_key, shuffle_key, active)``."""
    active = (~state.stopped) & (state.epoch < hyper.max_epochs)
    key, sub = jax.random.split(state.key)
    return key, sub, active


@partial(
    jax.jit,
    static_argnames=("activation", "output", "optimizer", "batch_size", "n_epochs",
                     "early_stopping", "record_params"),
)
def run_epochs(
    state: TrainState,
    X, y, X_val, y_val, hyper: Hyper,
    sample_weight=None,
    *,
    activation: str,
    output: str,
    optimizer: optax.GradientTransformation,
    batch_size: int,
    n_epochs: int,
    early_stopping: bool,
    record_params: bool,
):
    """Run ``n_epochs`` epochs for every member; returns ``(state, history)``.

    ``y`` has shape ``(N,)`` (shared) or ``(M, N)`` (one target vector per member); for a
    linear output ``(N, T)`` or ``(M, N, T)`` (:func:`has_member_axis`);
    ``sample_weight`` is None, ``(N,)`` or ``(M, N)`` (e.g. bootstrap counts per member).
    ``history`` holds per-epoch ``train_loss``, ``val_loss``, ``val_accuracy`` (M each) and,
    with ``record_params``, the parameters after each epoch.
    """
    n = X.shape[0]
    n_batches = -(-n // batch_size)
    padded = n_batches * batch_size
    y_axis = 0 if has_member_axis(y, output) else None
    w_axis = 0 if sample_weight is not None and sample_weight.ndim == 2 else None
    step = make_step(hyper.alpha, activation, output, optimizer, y_axis, w_axis)

    def epoch_fn(state: TrainState, _):
        key, sub, active = epoch_start(state, hyper)
        perm = jax.random.permutation(sub, n) if n_batches > 1 else jnp.arange(n)
        idx = jnp.concatenate([perm, perm[: padded - n]]).reshape(n_batches, batch_size)
        w = (jnp.arange(padded) < n).astype(X.dtype).reshape(n_batches, batch_size)
        if w_axis == 0:
            w = jnp.moveaxis(sample_weight[:, idx], 0, 1) * w[:, None, :]  # (batches, M, B)
        elif sample_weight is not None:
            w = sample_weight[idx] * w
        # One gather per epoch; the scan then walks contiguous batches.
        yb = jnp.moveaxis(y[:, idx], 0, 1) if y_axis == 0 else y[idx]
        valid = jnp.ones((n_batches,), bool)
        (params, opt_state, _), losses = jax.lax.scan(
            step, (state.params, state.opt_state, active), (X[idx], yb, w, valid)
        )
        train_loss = epoch_loss(losses, jnp.sum(w, axis=-1))
        if X_val.shape[0] > 0:
            y_val_axis = 0 if has_member_axis(y_val, output) else None
            val_loss, val_acc = jax.vmap(
                _nll_and_accuracy, in_axes=(0, None, y_val_axis, None, None)
            )(params, X_val, y_val, activation, output)
        else:
            val_loss = val_acc = jnp.full_like(train_loss, jnp.nan)
        new_state, record = finish_epoch(
            state, key, active, params, opt_state, train_loss, val_loss, val_acc, hyper, early_stopping
        )
        if record_params:
            record["params"] = params
        return new_state, record

    return jax.lax.scan(epoch_fn, state, None, length=n_epochs)

