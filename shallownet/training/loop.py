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

from functools import lru_cache, partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

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
    data = jnp.sum(w * nll) / jnp.maximum(jnp.sum(w), 1)
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


@partial(
    jax.jit,
    static_argnames=("activation", "output", "optimizer", "batch_size", "n_epochs",
                     "early_stopping", "record_params"),
)
def run_epochs(
    state: TrainState,
    X, y, X_val, y_val, hyper: Hyper,
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

    ``y`` has shape ``(N,)`` (shared) or ``(M, N)`` (one target vector per member).
    ``history`` holds per-epoch ``train_loss``, ``val_loss``, ``val_accuracy`` (M each) and,
    with ``record_params``, the parameters after each epoch.
    """
    n = X.shape[0]
    n_batches = -(-n // batch_size)
    padded = n_batches * batch_size
    y_axis = 0 if y.ndim == 2 else None
    grad_fn = jax.vmap(
        jax.value_and_grad(member_loss), in_axes=(0, None, y_axis, None, None, None, None)
    )

    def step(carry, batch):
        params, opt_state, active = carry
        xb, yb, w = batch
        loss, grads = grad_fn(params, xb, yb, w, hyper.alpha, activation, output)
        updates, new_opt = jax.vmap(optimizer.update)(grads, opt_state, params)
        new_params = optax.apply_updates(params, updates)
        params = _select(active, new_params, params)
        opt_state = _select(active, new_opt, opt_state)
        return (params, opt_state, active), loss

    def epoch_fn(state: TrainState, _):
        active = (~state.stopped) & (state.epoch < hyper.max_epochs)
        key, sub = jax.random.split(state.key)
        perm = jax.random.permutation(sub, n) if n_batches > 1 else jnp.arange(n)
        idx = jnp.concatenate([perm, perm[: padded - n]]).reshape(n_batches, batch_size)
        w = (jnp.arange(padded) < n).astype(X.dtype).reshape(n_batches, batch_size)
        # One gather per epoch; the scan then walks contiguous batches.
        yb = jnp.moveaxis(y[:, idx], 0, 1) if y_axis == 0 else y[idx]
        (params, opt_state, _), losses = jax.lax.scan(
            step, (state.params, state.opt_state, active), (X[idx], yb, w)
        )
        # Batch losses weighted by their real rows: the exact mean over the epoch's rows, so a
        # short last batch does not add noise to the monitored loss.
        train_loss = jnp.sum(losses * jnp.sum(w, axis=1)[:, None], axis=0) / n
        if X_val.shape[0] > 0:
            y_val_axis = 0 if y_val.ndim == 2 else None
            val_loss, val_acc = jax.vmap(
                _nll_and_accuracy, in_axes=(0, None, y_val_axis, None, None)
            )(params, X_val, y_val, activation, output)
        else:
            val_loss = val_acc = jnp.full_like(train_loss, jnp.nan)
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
    snapshot_epochs : sorted int array, optional
        Epochs (0 = initialisation, e = after e epochs) whose parameters are returned.
    progress : callable ``(epochs_done, max_epochs, mean_train_loss)``, optional
        Called after every chunk.

    Returns
    -------
    params : the final (or, with early stopping, best-on-validation) parameters.
    history : dict of arrays (epochs_run, M): ``train_loss``, ``val_loss``, ``val_accuracy``,
        plus ``epochs_run`` (M,) and ``stopped`` (M,).
    snapshots : dict epoch -> params (member-stacked), empty without ``snapshot_epochs``.
    """
    X = jnp.asarray(X, dtype)
    y = jnp.asarray(y, jnp.int32)
    if X_val is None:
        X_val = jnp.zeros((0, X.shape[1]), dtype)
        y_val = jnp.zeros((0,), jnp.int32)
    X_val = jnp.asarray(X_val, dtype)
    y_val = jnp.asarray(y_val, jnp.int32)
    hyper = Hyper(
        alpha=jnp.asarray(alpha, dtype),
        tol=jnp.asarray(tol, dtype),
        patience=jnp.asarray(patience if patience is not None else np.iinfo(np.int32).max, jnp.int32),
        max_epochs=jnp.asarray(max_epochs, jnp.int32),
    )
    state = init_state(params, optimizer, learning_rate, key, dtype)
    chunk = int(min(chunk_epochs, max_epochs))
    wanted = set() if snapshot_epochs is None else {int(e) for e in snapshot_epochs}
    snapshots = {0: params} if 0 in wanted else {}
    records: list[dict] = []
    done = 0
    while done < max_epochs:
        state, record = run_epochs(
            state, X, y, X_val, y_val, hyper,
            activation=activation, output=output, optimizer=optimizer,
            batch_size=int(min(batch_size, X.shape[0])), n_epochs=chunk,
            early_stopping=early_stopping, record_params=bool(wanted),
        )
        steps = min(chunk, max_epochs - done)
        if wanted:
            for e in range(done + 1, done + steps + 1):
                if e in wanted:
                    snapshots[e] = jax.tree_util.tree_map(lambda a: a[e - done - 1], record["params"])
        records.append({k: np.asarray(v)[:steps] for k, v in record.items() if k != "params"})
        done += steps
        if progress is not None:
            progress(done, max_epochs, float(np.nanmean(records[-1]["train_loss"][-1])))
        if bool(np.all(np.asarray(state.stopped))):
            break
    history = {k: np.concatenate([r[k] for r in records]) for k in records[0]}
    last = int(np.max(np.asarray(state.epochs_run)))
    history = {k: v[:last] for k, v in history.items()}
    history["epochs_run"] = np.asarray(state.epochs_run)
    history["stopped"] = np.asarray(state.stopped)
    final = state.best_params if early_stopping else state.params
    return final, history, snapshots
