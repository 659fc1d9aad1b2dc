"""Streamed training: the data stay in host memory and reach the device block by block.

Each epoch draws the permutation of the in-device loop from the same key (on the host CPU),
gathers its minibatches in NumPy and sends ``block_batches`` of them at a time to one compiled
block function, so the device holds one block, not N rows, and the trained parameters are those
of :func:`shallownet.training.epochs.run_epochs`. Used by :func:`shallownet.training.loop.train`
with ``stream=True``.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..devices import to_host
from ..models.layers import log_probabilities, logits
from .epochs import (
    Hyper,
    TrainState,
    epoch_loss,
    epoch_start,
    finish_epoch,
    has_member_axis,
    make_step,
    row_losses,
)


STREAM_BYTES = 1 << 30
"""Default byte budget of ``train(stream="auto")``: larger training arrays are streamed."""

BLOCK_BYTES = 32 << 20
"""Target size of the inputs of one streamed block (sets the default ``block_batches``)."""


def _training_bytes(X, y, sample_weight, X_val, y_val, dtype) -> int:
    """Bytes the training arrays take on a device in the training dtype."""
    item = np.dtype(dtype).itemsize
    total = int(np.prod(np.shape(X))) * item + int(np.prod(np.shape(y))) * 4
    if sample_weight is not None:
        total += int(np.prod(np.shape(sample_weight))) * item
    if X_val is not None:
        total += int(np.prod(np.shape(X_val))) * item + int(np.prod(np.shape(y_val))) * 4
    return total


@partial(jax.jit, static_argnames=("activation", "output", "optimizer"))
def _run_block(params, opt_state, active, X_block, y_block, w_block, valid, alpha, *,
               activation: str, output: str, optimizer):
    """Steps over one streamed block of minibatches.

    ``X_block`` (K, B, D); ``y_block`` (K, B) or (K, M, B); ``w_block`` (K, B) or (K, M, B)
    (zero on padding rows); ``valid`` (K,) False for the padding batches of the last block.
    Returns ``(params, opt_state, losses (K, M), batch_weight (K,) or (K, M))``.
    """
    y_axis = 0 if has_member_axis(y_block, output, leading=1) else None
    w_axis = 0 if w_block.ndim == 3 else None
    step = make_step(alpha, activation, output, optimizer, y_axis, w_axis)
    (params, opt_state, _), losses = jax.lax.scan(
        step, (params, opt_state, active), (X_block, y_block, w_block, valid)
    )
    return params, opt_state, losses, jnp.sum(w_block, axis=-1)


@partial(jax.jit, static_argnames=("activation", "output"))
def _validation_block(params, X_block, y_block, mask, *, activation: str, output: str):
    """Sums over one block of validation rows: ``(sum of NLL (M,), number correct (M,))``;
    rows with ``mask`` False (padding) count for nothing."""
    y_axis = 0 if has_member_axis(y_block, output) else None

    def one(p, yb):
        if output == "linear":
            loss = row_losses(logits(p, X_block, activation), yb, output)
            return jnp.sum(jnp.where(mask, loss, 0)), jnp.full_like(loss[0], jnp.nan)
        lp = log_probabilities(logits(p, X_block, activation), output)
        nll = -jnp.take_along_axis(lp, yb[:, None], axis=1)[:, 0]
        right = jnp.argmax(lp, axis=1) == yb
        return jnp.sum(jnp.where(mask, nll, 0)), jnp.sum(mask & right)

    return jax.vmap(one, in_axes=(0, y_axis))(params, y_block)


@partial(jax.jit, static_argnames=("n_batches", "early_stopping"))
def _end_streamed_epoch(state: TrainState, key, active, params, opt_state, losses, batch_weight,
                        val_sums, n_val, hyper: Hyper, *, n_batches: int, early_stopping: bool):
    """Epoch loss from the blocks' batch losses (padding batches cut off), validation means,
    and the bookkeeping of :func:`finish_epoch`."""
    losses = jnp.concatenate(losses)[:n_batches]
    batch_weight = jnp.concatenate(batch_weight)[:n_batches]
    train_loss = epoch_loss(losses, batch_weight)
    if val_sums is None:
        val_loss = val_acc = jnp.full_like(train_loss, jnp.nan)
    else:
        val_loss = val_sums[0] / n_val
        val_acc = val_sums[1] / n_val
    return finish_epoch(state, key, active, params, opt_state, train_loss, val_loss, val_acc,
                         hyper, early_stopping)


_epoch_start_jit = jax.jit(epoch_start)


@jax.jit
def _skip_epoch(state: TrainState) -> TrainState:
    """An epoch in which no member trains: only the key and the epoch counter move on (what
    :func:`run_epochs` does for such an epoch)."""
    key, _ = jax.random.split(state.key)
    return state._replace(key=key, epoch=state.epoch + 1)


@partial(jax.jit, static_argnames=("n",))
def _permutation(key, n: int):
    return jax.random.permutation(key, n)


def _host_permutation(key, n: int) -> np.ndarray:
    """The epoch's shuffle, ``jax.random.permutation(key, n)``, computed on the host CPU
    (threefry bits and a stable sort: the same integers on every backend), so the N indices
    never occupy the accelerator."""
    cpu = jax.devices("cpu")[0]
    return np.asarray(_permutation(jax.device_put(key, cpu), n))


class _HostData(NamedTuple):
    """Training arrays kept in host memory for :func:`_streamed_epochs`."""

    X: np.ndarray  # (N, D)
    y: np.ndarray  # (N,) or (M, N)
    sample_weight: np.ndarray | None  # (N,) or (M, N)
    X_val: np.ndarray  # (N_val, D)
    y_val: np.ndarray  # (N_val,) or (M, N_val)
    per_member: bool = False  # y carries a member axis (epochs.has_member_axis)


def _gather_block(data: _HostData, idx: np.ndarray, mask: np.ndarray, block_batches: int):
    """Rows of one block of minibatches gathered on the host, padded to ``block_batches``.

    ``idx`` (k, B) row indices and ``mask`` (k, B) 1/0 row weights of the k <= K real
    batches; the padding batches repeat row 0 with weight 0 and ``valid`` False.
    """
    k, b = idx.shape
    if k < block_batches:
        idx = np.concatenate([idx, np.zeros((block_batches - k, b), idx.dtype)])
        mask = np.concatenate([mask, np.zeros((block_batches - k, b), mask.dtype)])
    valid = np.arange(block_batches) < k
    y = np.moveaxis(data.y[:, idx], 0, 1) if data.per_member else data.y[idx]
    sw = data.sample_weight
    if sw is None:
        w = mask
    elif sw.ndim == 2:
        w = np.moveaxis(sw[:, idx], 0, 1) * mask[:, None, :]
    else:
        w = sw[idx] * mask
    return data.X[idx], y, w, valid


def _streamed_validation(params, data: _HostData, rows: int, activation: str, output: str):
    """Validation NLL and accuracy sums over fixed-size blocks of ``rows`` host rows."""
    n_val = data.X_val.shape[0]
    totals = None
    for start in range(0, n_val, rows):
        stop = min(start + rows, n_val)
        pad = rows - (stop - start)
        Xb = np.concatenate([data.X_val[start:stop], np.zeros((pad, data.X_val.shape[1]), data.X_val.dtype)])
        axis = 1 if has_member_axis(data.y_val, output) else 0  # the row axis of the targets
        yv = np.take(data.y_val, np.arange(start, stop), axis=axis)
        shape = list(yv.shape)
        shape[axis] = pad
        yb = np.concatenate([yv, np.zeros(shape, yv.dtype)], axis=axis)
        mask = np.arange(rows) < stop - start
        sums = _validation_block(params, Xb, yb, mask, activation=activation, output=output)
        totals = sums if totals is None else (totals[0] + sums[0], totals[1] + sums[1])
    return totals


def _streamed_epoch(state: TrainState, data: _HostData, hyper: Hyper, mask: np.ndarray, *,
                    activation: str, output: str, optimizer, block_batches: int,
                    early_stopping: bool):
    """One epoch of :func:`run_epochs` with the data in host memory: the same permutation
    from the same key, cut into the same minibatches, sent ``block_batches`` at a time to
    :func:`_run_block` (one compiled block shape). ``mask`` (n_batches, B): 1 on real rows."""
    n = data.X.shape[0]
    n_batches, batch_size = mask.shape
    padded = n_batches * batch_size
    key, sub, active = _epoch_start_jit(state, hyper)
    perm = _host_permutation(sub, n) if n_batches > 1 else np.arange(n)
    idx = np.concatenate([perm, perm[: padded - n]]).reshape(n_batches, batch_size)
    params, opt_state = state.params, state.opt_state
    losses, weights = [], []
    for first in range(0, n_batches, block_batches):
        rows = slice(first, first + block_batches)
        block = _gather_block(data, idx[rows], mask[rows], block_batches)
        params, opt_state, loss, weight = _run_block(
            params, opt_state, active, *block, hyper.alpha,
            activation=activation, output=output, optimizer=optimizer,
        )
        losses.append(loss)
        weights.append(weight)
    val_sums = None
    if data.X_val.shape[0] > 0:
        rows = min(block_batches * batch_size, data.X_val.shape[0])
        val_sums = _streamed_validation(params, data, rows, activation, output)
    return _end_streamed_epoch(
        state, key, active, params, opt_state, tuple(losses), tuple(weights), val_sums,
        jnp.asarray(data.X_val.shape[0], data.X.dtype), hyper,
        n_batches=n_batches, early_stopping=early_stopping,
    )


def _streamed_epochs(state: TrainState, data: _HostData, hyper: Hyper, n_epochs: int, done: int,
                     max_epochs: int, wanted: set, *, batch_size: int, **settings):
    """:func:`run_epochs` over host data (see :func:`_streamed_epoch`); returns
    ``(state, history, snapshots)``. Epochs in which no member trains (past ``max_epochs``, or
    every member stopped) only advance the key and the counter, as they do in-device."""
    n = data.X.shape[0]
    n_batches = -(-n // batch_size)
    mask = (np.arange(n_batches * batch_size) < n).astype(data.X.dtype).reshape(n_batches, batch_size)
    nan = np.full(state.stopped.shape, np.nan, data.X.dtype)
    records = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    snapshots = {}
    for e in range(n_epochs):
        if done + e >= max_epochs or bool(np.all(to_host(state.stopped))):
            state = _skip_epoch(state)
            for k in records:
                records[k].append(nan)
        else:
            state, record = _streamed_epoch(state, data, hyper, mask, **settings)
            for k in records:
                records[k].append(to_host(record[k]))
        if done + e + 1 in wanted:
            snapshots[done + e + 1] = state.params
    return state, {k: np.stack(v) for k, v in records.items()}, snapshots

