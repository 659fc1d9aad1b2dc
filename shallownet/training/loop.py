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

(biases are not penalised). For a linear (regression) output the data term is half the
weighted mean squared error over rows and the T output units,

    L(theta) = mean_n w_n * sum_t (z_nt - y_nt)^2 / (2 T) + alpha / 2 * sum_l ||W_l||_F^2,

which is scikit-learn ``MLPRegressor``'s ``squared_error`` loss (half the mean over samples
and outputs) with the same penalty mapping as below. R's nnet with ``linout = TRUE`` minimises
the sum of squares ``sum_n sum_t (z_nt - y_nt)^2 + decay * ||theta||^2`` over ALL weights,
biases included: the same minimiser as ``alpha = decay / (N T)`` when the biases are left out
of its penalty (they are not here). Mapping to scikit-learn: ``LogisticRegression(C=C)`` minimises
``sum NLL + ||w||^2 / (2 C)``, the same minimiser as ``alpha = 1 / (C n)``;
``MLPClassifier(alpha=a)`` adds ``a / (2 n_batch) ||W||^2`` to the mean batch loss, i.e.
``alpha = a / n_batch``.
"""


from __future__ import annotations

import os
from functools import lru_cache
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..checkpoint import fingerprint, read_checkpoint, write_checkpoint
from ..devices import check_devices, device_mesh, replicate, shard_members, to_host
from .epochs import Hyper, TrainState, has_member_axis, init_state, run_epochs
from .streaming import BLOCK_BYTES, STREAM_BYTES, _HostData, _streamed_epochs, _training_bytes

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
    y : int array (N,) or (M, N); for ``output="linear"`` float (N,), (N, T) or (M, N, T)
        Class indices, shared by all members or one vector per member; for a linear output
        the target values (a 1-D ``y`` is one output), shared or (3-D) one set per member.
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
    linear = output == "linear"
    y_dtype = dtype if linear else np.int32
    y = xp.asarray(y, y_dtype)
    if linear and y.ndim == 1:
        y = y[:, None]
    if X_val is None:
        X_val = xp.zeros((0, X.shape[1]), dtype)
        y_val = xp.zeros((0, y.shape[-1]) if linear else (0,), y_dtype)
    X_val = xp.asarray(X_val, dtype)
    y_val = xp.asarray(y_val, y_dtype)
    if linear and y_val.ndim == 1:
        y_val = y_val[:, None]
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
        data = _HostData(X, y, sample_weight, X_val, y_val, has_member_axis(y, output))
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
        _check_finite_loss(records[-1]["train_loss"], to_host(state.epochs_run), done)
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


def _check_finite_loss(train_loss: np.ndarray, epochs_run: np.ndarray, done: int) -> None:
    """Raise when a member's training loss became NaN or infinite in this chunk.

    ``train_loss`` (steps, M) holds the chunk's epochs ``done + 1 ..``; NaN also marks
    members that no longer train, so a value counts only for a member still running at that
    epoch (a member runs its first ``epochs_run[m]`` epochs and then stops for good). Raised
    before the chunk is checkpointed, so a checkpoint never holds a broken state.
    """
    epoch = done + np.arange(train_loss.shape[0])[:, None]
    bad = (epoch < epochs_run[None, :]) & ~np.isfinite(train_loss)
    if bad.any():
        members = np.flatnonzero(bad.any(axis=0))
        first = [int(np.argmax(bad[:, m])) + done + 1 for m in members]
        raise ValueError(
            f"Training diverged: the training loss became NaN or infinite for member(s) "
            f"{members.tolist()} at epoch(s) {first}. Lower learning_rate, raise alpha, or check "
            "the inputs for extreme values."
        )


def _place(state: TrainState, mesh) -> TrainState:
    """Member-axis leaves sharded over ``mesh``; the key and epoch counter replicated."""
    if mesh is None:
        return state
    members = shard_members(state._replace(key=None, epoch=None), mesh)
    return members._replace(key=replicate(state.key, mesh), epoch=replicate(state.epoch, mesh))


def _is_typed_key(key) -> bool:
    return jnp.issubdtype(key.dtype, jax.dtypes.prng_key)


def _key_data(key) -> np.ndarray:
    return to_host(jax.random.key_data(key) if _is_typed_key(key) else key)


def _save(path, state: TrainState, records: list[dict], snapshots: dict, done: int, stamp: str) -> None:
    """One checkpoint file: state leaves, history so far, snapshots so far (module ``checkpoint``).

    Under multi-process JAX every process gathers the state (:func:`to_host`, a collective),
    process 0 alone writes the file (``path`` must be on storage all processes see), and all
    wait for the write before training goes on, so a later call finds the file complete.
    """
    arrays = {}
    for i, leaf in enumerate(jax.tree_util.tree_leaves(state._replace(key=None))):
        arrays[f"state_{i}"] = to_host(leaf)
    arrays["key"] = _key_data(state.key)
    for k in records[0]:
        arrays[f"history_{k}"] = np.concatenate([r[k] for r in records])
    for e, snap in snapshots.items():
        for i, leaf in enumerate(jax.tree_util.tree_leaves(snap)):
            arrays[f"snapshot_{e}_{i}"] = to_host(leaf)
    meta = dict(
        format="shallownet.train", version=1, fingerprint=stamp, epochs_done=done,
        history=sorted(records[0]), snapshot_epochs=sorted(snapshots),
    )
    if jax.process_index() == 0:
        write_checkpoint(path, arrays, meta)
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(f"shallownet checkpoint {done}")


def _resume(path, template: TrainState, params, stamp: str, max_epochs: int):
    """Read a checkpoint written by :func:`_save` into the structure of ``template``."""
    arrays, meta = read_checkpoint(path)
    if meta.get("format") != "shallownet.train":
        raise ValueError(f"`checkpoint` {os.fspath(path)!r} is not a training checkpoint of shallownet.")
    if meta.get("fingerprint") != stamp:
        raise ValueError(
            f"`checkpoint` {os.fspath(path)!r} was written by a run with other settings, data, "
            "initial parameters or key; it cannot be resumed by this call. Remove the file or "
            "pass another path to start afresh."
        )
    done = int(meta["epochs_done"])
    leaves, treedef = jax.tree_util.tree_flatten(template._replace(key=None))
    loaded = []
    for i, leaf in enumerate(leaves):
        a = arrays.get(f"state_{i}")
        if a is None:
            raise ValueError(f"`checkpoint` {os.fspath(path)!r} lacks state entry {i}; it is damaged. "
                             "Remove it to start afresh.")
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
