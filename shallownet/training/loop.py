"""The jitted training loop: every member of an ensemble trained together.

Layout
------
Parameters carry a leading member axis M. All members see the SAME minibatches in the same
order (one shuffle per epoch, shared), so the input batch is one unbatched array and
``jax.vmap`` over members turns the first layer into one wide matrix product
``(B, D) @ (D, M*H)``: extra members cost little. Members differ by their initial weights and,
for randomisation tests, by their targets (``y`` of shape ``(M, N)``).

Steps and epochs are ``lax.scan`` loops inside one ``jit``; the Python driver only loops over
*chunks* of epochs, which is where progress is shown and where training stops once every member
has stopped. Epochs past ``max_epochs`` or after a member stopped leave that member unchanged,
so results do not depend on the chunk length.

Loss (per member)::

    L(theta) = mean_n w_n * (-log p_{y_n}(x_n; theta)) + alpha / 2 * sum_l ||W_l||_F^2

(biases are not penalised). Mapping to scikit-learn: ``LogisticRegression(C=C)`` minimises
``sum NLL + ||w||^2 / (2 C)``, the same minimiser as ``alpha = 1 / (C n)``;
``MLPClassifier(alpha=a)`` adds ``a / (2 n_batch) ||W||^2`` to the mean batch loss, i.e.
``alpha = a / n_batch``.
"""

from __future__ import annotations

import os
from functools import lru_cache, partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..checkpoint import fingerprint, read_checkpoint, write_checkpoint
from ..devices import check_devices, device_mesh, replicate, shard_members, to_host
from ..models.layers import log_probabilities, logits

NAMED_OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad")


@lru_cache(maxsize=None)
def named_optimizer(name: str) -> optax.GradientTransformation:
    """An optax optimizer whose learning rate lives in its state (changing it never recompiles).

    The same object is returned for the same name, so compiled training steps are reused.
    """
    if name not in NAMED_OPTIMIZERS:
        raise ValueError(
            f"`optimizer` must be one of {NAMED_OPTIMIZERS} or an optax.GradientTransformation. "
            f"Got {name!r} instead."
        )
    return optax.inject_hyperparams(getattr(optax, name))(learning_rate=1e-3)


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


def member_loss(params, x, y, w, alpha, activation: str, output: str):
    """Penalised weighted mean cross-entropy of ONE member (module docstring)."""
    lp = log_probabilities(logits(params, x, activation), output)
    nll = -jnp.take_along_axis(lp, y[:, None], axis=1)[:, 0]
    total = jnp.sum(w)
    data = jnp.sum(w * nll) / jnp.where(total > 0, total, 1)
    l2 = sum(jnp.sum(layer.W**2) for layer in params)
    return data + 0.5 * alpha * l2


def _nll_and_accuracy(params, x, y, activation: str, output: str):
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


def _make_step(alpha, activation: str, output: str, optimizer, y_axis, w_axis):
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


def _epoch_loss(losses, batch_weight):
    """Batch losses weighted by their rows' total weight: the exact (weighted) mean over the
    epoch's rows, so a short last batch does not add noise to the monitored loss.
    ``losses`` (batches, M); ``batch_weight`` (batches,) or (batches, M)."""
    if batch_weight.ndim == 1:
        batch_weight = batch_weight[:, None]
    return jnp.sum(losses * batch_weight, axis=0) / jnp.sum(batch_weight, axis=0)


def _finish_epoch(state: TrainState, key, active, params, opt_state, train_loss, val_loss, val_acc,
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


def _epoch_start(state: TrainState, hyper: Hyper):
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

    ``y`` has shape ``(N,)`` (shared) or ``(M, N)`` (one target vector per member);
    ``sample_weight`` is None, ``(N,)`` or ``(M, N)`` (e.g. bootstrap counts per member).
    ``history`` holds per-epoch ``train_loss``, ``val_loss``, ``val_accuracy`` (M each) and,
    with ``record_params``, the parameters after each epoch.
    """
    n = X.shape[0]
    n_batches = -(-n // batch_size)
    padded = n_batches * batch_size
    y_axis = 0 if y.ndim == 2 else None
    w_axis = 0 if sample_weight is not None and sample_weight.ndim == 2 else None
    step = _make_step(hyper.alpha, activation, output, optimizer, y_axis, w_axis)

    def epoch_fn(state: TrainState, _):
        key, sub, active = _epoch_start(state, hyper)
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
        train_loss = _epoch_loss(losses, jnp.sum(w, axis=-1))
        if X_val.shape[0] > 0:
            y_val_axis = 0 if y_val.ndim == 2 else None
            val_loss, val_acc = jax.vmap(
                _nll_and_accuracy, in_axes=(0, None, y_val_axis, None, None)
            )(params, X_val, y_val, activation, output)
        else:
            val_loss = val_acc = jnp.full_like(train_loss, jnp.nan)
        new_state, record = _finish_epoch(
            state, key, active, params, opt_state, train_loss, val_loss, val_acc, hyper, early_stopping
        )
        if record_params:
            record["params"] = params
        return new_state, record

    return jax.lax.scan(epoch_fn, state, None, length=n_epochs)


# -- streamed minibatches ----------------------------------------------------------------------

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
    y_axis = 0 if y_block.ndim == 3 else None
    w_axis = 0 if w_block.ndim == 3 else None
    step = _make_step(alpha, activation, output, optimizer, y_axis, w_axis)
    (params, opt_state, _), losses = jax.lax.scan(
        step, (params, opt_state, active), (X_block, y_block, w_block, valid)
    )
    return params, opt_state, losses, jnp.sum(w_block, axis=-1)


@partial(jax.jit, static_argnames=("activation", "output"))
def _validation_block(params, X_block, y_block, mask, *, activation: str, output: str):
    """Sums over one block of validation rows: ``(sum of NLL (M,), number correct (M,))``;
    rows with ``mask`` False (padding) count for nothing."""
    y_axis = 0 if y_block.ndim == 2 else None

    def one(p, yb):
        lp = log_probabilities(logits(p, X_block, activation), output)
        nll = -jnp.take_along_axis(lp, yb[:, None], axis=1)[:, 0]
        right = jnp.argmax(lp, axis=1) == yb
        return jnp.sum(jnp.where(mask, nll, 0)), jnp.sum(mask & right)

    return jax.vmap(one, in_axes=(0, y_axis))(params, y_block)


@partial(jax.jit, static_argnames=("n_batches", "early_stopping"))
def _end_streamed_epoch(state: TrainState, key, active, params, opt_state, losses, batch_weight,
                        val_sums, n_val, hyper: Hyper, *, n_batches: int, early_stopping: bool):
    """Epoch loss from the blocks' batch losses (padding batches cut off), validation means,
    and the bookkeeping of :func:`_finish_epoch`."""
    losses = jnp.concatenate(losses)[:n_batches]
    batch_weight = jnp.concatenate(batch_weight)[:n_batches]
    train_loss = _epoch_loss(losses, batch_weight)
    if val_sums is None:
        val_loss = val_acc = jnp.full_like(train_loss, jnp.nan)
    else:
        val_loss = val_sums[0] / n_val
        val_acc = val_sums[1] / n_val
    return _finish_epoch(state, key, active, params, opt_state, train_loss, val_loss, val_acc,
                         hyper, early_stopping)


_epoch_start_jit = jax.jit(_epoch_start)


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
    y = np.moveaxis(data.y[:, idx], 0, 1) if data.y.ndim == 2 else data.y[idx]
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
        yv = data.y_val[..., start:stop]
        yb = np.concatenate([yv, np.zeros(yv.shape[:-1] + (pad,), yv.dtype)], axis=-1)
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


def train(
    params,
    X: np.ndarray,
    y: np.ndarray,
    *,
    activation: str,
    output: str,
    optimizer: optax.GradientTransformation,
    learning_rate: float,
    alpha: float,
    batch_size: int,
    max_epochs: int,
    key: jax.Array,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    early_stopping: bool = False,
    tol: float = 1e-4,
    patience: int | None = 10,
    snapshot_epochs: np.ndarray | None = None,
    chunk_epochs: int = 50,
    progress: Callable[[int, int, float], None] | None = None,
    dtype=jnp.float32,
    devices: str | int = "auto",
    checkpoint: str | os.PathLike | None = None,
    sample_weight: np.ndarray | None = None,
    stream: bool | str = "auto",
    stream_bytes: int = STREAM_BYTES,
    block_batches: int | None = None,
):
    """Train member-stacked ``params`` on ``(X, y)``; returns ``(params, history, snapshots)``.

    Parameters
    ----------
    params : tuple of Dense
        Initial parameters with a leading member axis.
    X : array (N, D)
        Encoded inputs.
    y : int array (N,) or (M, N)
        Class indices, shared by all members or one vector per member.
    sample_weight : array (N,) or (M, N), optional
        Non-negative row weights, shared or one vector per member (bootstrap counts give
        bagged ensembles). Each batch's loss is ``sum(w * nll) / sum(w)``.
    snapshot_epochs : sorted int array, optional
        Epochs (0 = initialisation, e = after e epochs) whose parameters are returned.
    progress : callable ``(epochs_done, max_epochs, mean_train_loss)``, optional
        Called after every chunk (after the checkpoint, if any, is written).
    devices : {"auto", "none", 1}, default "auto"
        "auto" spreads the member axis of the parameters and of the optimizer state over all
        visible devices when there are several (see :mod:`shallownet.devices`; replicated when
        M is not a multiple of the device count); "none" or 1 keeps one device. The results
        agree up to float rounding (1e-12 asserted in float64, ~1e-15 observed).
    checkpoint : path, optional
        A ``.npz`` file. After every chunk the whole training state (parameters, optimizer
        state, best parameters, counters, PRNG key, epoch), the history so far and the
        snapshots taken so far are written there atomically. If the file exists when ``train``
        starts, training continues from it, and ends with exactly the numbers of an
        uninterrupted run. The file must come from the same settings, data, initial
        parameters and key (checked by a SHA-256 fingerprint; ``ValueError`` otherwise);
        ``max_epochs`` may grow, so a finished run can be extended when its last chunk was
        complete (``max_epochs`` a multiple of ``chunk_epochs``). Streamed and in-device runs
        write the same state, so either can resume the other's checkpoint.
    stream : {"auto", True, False}, default "auto"
        True keeps ``X``, ``y``, ``sample_weight``, ``X_val`` and ``y_val`` in host (NumPy)
        memory: every epoch draws the same permutation from the same key as the in-device loop
        (computed on the host CPU), gathers its minibatches on the host and sends them to the
        device ``block_batches`` at a time, so device memory is bounded by one block
        (``block_batches * batch_size`` rows, plus ``n_batches x M`` batch losses per epoch),
        not by N; validation rows go in blocks of the same size. The results are those of the
        in-device loop (the same minibatches in the same order; the validation means are summed
        block by block, equal up to rounding, ~1e-16; on a GPU, XLA's autotuner may pick other
        matrix-product algorithms for the other program, see docs/scaling.md). False puts all of ``X`` on the device and
        runs ``chunk_epochs`` epochs in one compiled call (fastest when it fits). "auto" streams
        when the training arrays take more than ``stream_bytes``. The cost per epoch is linear
        in N either way (plus the host sort of the permutation, N log N).
    stream_bytes : int, default 2**30 (1 GiB)
        Budget of ``stream="auto"``, in bytes of the arrays in the training dtype.
    block_batches : int, optional
        Minibatches per streamed block; by default as many as fill ~32 MiB of inputs (at most
        one epoch's worth). One compiled block shape serves every block, the last one padded
        with batches that change nothing.

    Returns
    -------
    params : the final (or, with early stopping, best-on-validation) parameters.
    history : dict of arrays (epochs_run, M): ``train_loss``, ``val_loss``, ``val_accuracy``,
        plus ``epochs_run`` (M,) and ``stopped`` (M,).
    snapshots : dict epoch -> params (member-stacked), empty without ``snapshot_epochs``.
    """
    check_devices(devices)
    if not (stream in (True, False) or (isinstance(stream, str) and stream == "auto")):
        raise ValueError(f"`stream` must be 'auto', True or False. Got {stream!r}.")
    if isinstance(stream, str):
        stream = _training_bytes(X, y, sample_weight, X_val, y_val, dtype) > stream_bytes
    if block_batches is not None and (not isinstance(block_batches, (int, np.integer)) or block_batches < 1):
        raise ValueError(f"`block_batches` must be a positive integer or None. Got {block_batches!r}.")
    xp = np if stream else jnp  # streamed arrays stay in host memory
    X = xp.asarray(X, dtype)
    y = xp.asarray(y, np.int32)
    if X_val is None:
        X_val = xp.zeros((0, X.shape[1]), dtype)
        y_val = xp.zeros((0,), np.int32)
    X_val = xp.asarray(X_val, dtype)
    y_val = xp.asarray(y_val, np.int32)
    if sample_weight is not None:
        sample_weight = xp.asarray(sample_weight, dtype)
        if sample_weight.shape[-1] != X.shape[0] or sample_weight.ndim not in (1, 2):
            raise ValueError(
                f"`sample_weight` must have shape (N,) or (M, N) with N = {X.shape[0]}. "
                f"Got {sample_weight.shape}."
            )
    hyper = Hyper(
        alpha=jnp.asarray(alpha, dtype),
        tol=jnp.asarray(tol, dtype),
        patience=jnp.asarray(patience if patience is not None else np.iinfo(np.int32).max, jnp.int32),
        max_epochs=jnp.asarray(max_epochs, jnp.int32),
    )
    state = init_state(params, optimizer, learning_rate, key, dtype)
    chunk = int(min(chunk_epochs, max_epochs))
    batch = int(min(batch_size, X.shape[0]))
    wanted = set() if snapshot_epochs is None else {int(e) for e in snapshot_epochs}
    snapshots = {0: params} if 0 in wanted else {}
    records: list[dict] = []
    done = 0
    if checkpoint is not None:
        settings = dict(
            activation=activation, output=output, learning_rate=float(learning_rate),
            alpha=float(alpha), batch_size=batch, chunk=chunk, early_stopping=bool(early_stopping),
            tol=float(tol), patience=patience, snapshot_epochs=sorted(wanted),
            dtype=np.dtype(dtype).name, opt_state=str(jax.tree_util.tree_structure(state.opt_state)),
        )
        stamp = fingerprint(
            settings,
            [X, y, X_val, y_val, _key_data(key), *([] if sample_weight is None else [sample_weight]),
             *jax.tree_util.tree_leaves(params),
             *jax.tree_util.tree_leaves(state.opt_state)],
        )
        if os.path.exists(checkpoint):
            state, records, snapshots, done = _resume(checkpoint, state, params, stamp, max_epochs)
    state = _place(state, device_mesh(devices))
    if stream:
        data = _HostData(X, y, sample_weight, X_val, y_val)
        n_batches = -(-X.shape[0] // batch)
        if block_batches is None:
            block_batches = BLOCK_BYTES // (batch * X.shape[1] * X.itemsize)
        block = int(min(max(block_batches, 1), n_batches))
    while done < max_epochs and not bool(np.all(to_host(state.stopped))):
        steps = min(chunk, max_epochs - done)
        if stream:
            state, record, taken = _streamed_epochs(
                state, data, hyper, chunk, done, max_epochs, wanted,
                activation=activation, output=output, optimizer=optimizer, batch_size=batch,
                block_batches=block, early_stopping=early_stopping,
            )
            snapshots.update(taken)
        else:
            state, record = run_epochs(
                state, X, y, X_val, y_val, hyper, sample_weight,
                activation=activation, output=output, optimizer=optimizer,
                batch_size=batch, n_epochs=chunk,
                early_stopping=early_stopping, record_params=bool(wanted),
            )
        if wanted and not stream:
            for e in range(done + 1, done + steps + 1):
                if e in wanted:
                    snapshots[e] = jax.tree_util.tree_map(lambda a: a[e - done - 1], record["params"])
        records.append({k: to_host(v)[:steps] for k, v in record.items() if k != "params"})
        done += steps
        if checkpoint is not None:
            _save(checkpoint, state, records, snapshots, done, stamp)
        if progress is not None:
            last = records[-1]["train_loss"][-1]
            live = last[~np.isnan(last)]  # all NaN once every member stopped inside the chunk
            progress(done, max_epochs, float(live.mean()) if live.size else float("nan"))
    history = {k: np.concatenate([r[k] for r in records]) for k in records[0]}
    last = int(np.max(to_host(state.epochs_run)))
    history = {k: v[:last] for k, v in history.items()}
    history["epochs_run"] = to_host(state.epochs_run)
    history["stopped"] = to_host(state.stopped)
    final = state.best_params if early_stopping else state.params
    return final, history, snapshots


def _place(state: TrainState, mesh) -> TrainState:
    """Member-axis leaves sharded over ``mesh``; the key and epoch counter replicated."""
    if mesh is None:
        return state
    members = shard_members(state._replace(key=None, epoch=None), mesh)
    return members._replace(key=replicate(state.key, mesh), epoch=replicate(state.epoch, mesh))


def _is_typed_key(key) -> bool:
    return jnp.issubdtype(key.dtype, jax.dtypes.prng_key)


def _key_data(key) -> np.ndarray:
    return np.asarray(jax.random.key_data(key) if _is_typed_key(key) else key)


def _save(path, state: TrainState, records: list[dict], snapshots: dict, done: int, stamp: str) -> None:
    """One checkpoint file: state leaves, history so far, snapshots so far (module ``checkpoint``)."""
    arrays = {}
    for i, leaf in enumerate(jax.tree_util.tree_leaves(state._replace(key=None))):
        arrays[f"state_{i}"] = np.asarray(leaf)
    arrays["key"] = _key_data(state.key)
    for k in records[0]:
        arrays[f"history_{k}"] = np.concatenate([r[k] for r in records])
    for e, snap in snapshots.items():
        for i, leaf in enumerate(jax.tree_util.tree_leaves(snap)):
            arrays[f"snapshot_{e}_{i}"] = np.asarray(leaf)
    meta = dict(
        format="shallownet.train", version=1, fingerprint=stamp, epochs_done=done,
        history=sorted(records[0]), snapshot_epochs=sorted(snapshots),
    )
    write_checkpoint(path, arrays, meta)


def _resume(path, template: TrainState, params, stamp: str, max_epochs: int):
    """Read a checkpoint written by :func:`_save` into the structure of ``template``."""
    arrays, meta = read_checkpoint(path)
    if meta.get("format") != "shallownet.train":
        raise ValueError(f"`checkpoint` {os.fspath(path)!r} is not a training checkpoint of shallownet.")
    if meta["fingerprint"] != stamp:
        raise ValueError(
            f"`checkpoint` {os.fspath(path)!r} was written by a run with other settings, data, "
            "initial parameters or key; it cannot be resumed by this call. Remove the file or "
            "pass another path to start afresh."
        )
    done = int(meta["epochs_done"])
    leaves, treedef = jax.tree_util.tree_flatten(template._replace(key=None))
    loaded = []
    for i, leaf in enumerate(leaves):
        a = arrays[f"state_{i}"]
        if a.shape != leaf.shape or a.dtype != leaf.dtype:
            raise ValueError(
                f"`checkpoint` {os.fspath(path)!r}: state entry {i} has shape {a.shape} and dtype "
                f"{a.dtype}; this run needs {leaf.shape} and {leaf.dtype}."
            )
        loaded.append(jnp.asarray(a))
    key = jnp.asarray(arrays["key"])
    if _is_typed_key(template.key):
        key = jax.random.wrap_key_data(key, impl=jax.random.key_impl(template.key))
    state = jax.tree_util.tree_unflatten(treedef, loaded)._replace(key=key)
    cut = done < max_epochs and int(state.epoch) != done and not bool(np.all(np.asarray(state.stopped)))
    if done > max_epochs or cut:
        raise ValueError(
            f"`checkpoint` {os.fspath(path)!r} holds a run that ended after {done} epochs (its last "
            f"chunk was cut short); it cannot continue to max_epochs={max_epochs}."
        )
    records = [{k: arrays[f"history_{k}"] for k in meta["history"]}]
    p_leaves, p_def = jax.tree_util.tree_flatten(params)
    snapshots = {
        int(e): jax.tree_util.tree_unflatten(
            p_def, [jnp.asarray(arrays[f"snapshot_{e}_{i}"]) for i in range(len(p_leaves))]
        )
        for e in meta["snapshot_epochs"]
    }
    return state, records, snapshots, done
