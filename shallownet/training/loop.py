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
from ..devices import check_devices, device_mesh, replicate, shard_members
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
        complete (``max_epochs`` a multiple of ``chunk_epochs``).

    Returns
    -------
    params : the final (or, with early stopping, best-on-validation) parameters.
    history : dict of arrays (epochs_run, M): ``train_loss``, ``val_loss``, ``val_accuracy``,
        plus ``epochs_run`` (M,) and ``stopped`` (M,).
    snapshots : dict epoch -> params (member-stacked), empty without ``snapshot_epochs``.
    """
    check_devices(devices)
    X = jnp.asarray(X, dtype)
    y = jnp.asarray(y, jnp.int32)
    if X_val is None:
        X_val = jnp.zeros((0, X.shape[1]), dtype)
        y_val = jnp.zeros((0,), jnp.int32)
    X_val = jnp.asarray(X_val, dtype)
    y_val = jnp.asarray(y_val, jnp.int32)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype)
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
    while done < max_epochs and not bool(np.all(np.asarray(state.stopped))):
        state, record = run_epochs(
            state, X, y, X_val, y_val, hyper, sample_weight,
            activation=activation, output=output, optimizer=optimizer,
            batch_size=batch, n_epochs=chunk,
            early_stopping=early_stopping, record_params=bool(wanted),
        )
        steps = min(chunk, max_epochs - done)
        if wanted:
            for e in range(done + 1, done + steps + 1):
                if e in wanted:
                    snapshots[e] = jax.tree_util.tree_map(lambda a: a[e - done - 1], record["params"])
        records.append({k: np.asarray(v)[:steps] for k, v in record.items() if k != "params"})
        done += steps
        if checkpoint is not None:
            _save(checkpoint, state, records, snapshots, done, stamp)
        if progress is not None:
            last = records[-1]["train_loss"][-1]
            live = last[~np.isnan(last)]  # all NaN once every member stopped inside the chunk
            progress(done, max_epochs, float(live.mean()) if live.size else float("nan"))
    history = {k: np.concatenate([r[k] for r in records]) for k in records[0]}
    last = int(np.max(np.asarray(state.epochs_run)))
    history = {k: v[:last] for k, v in history.items()}
    history["epochs_run"] = np.asarray(state.epochs_run)
    history["stopped"] = np.asarray(state.stopped)
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
