"""Training runs that keep their parameters at chosen epochs, many seeds batched together."""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_float, check_hidden_layer_sizes, check_int, check_one_of, check_random_state
from ..checkpoint import check_checkpoint
from ..data.encoder import Encoder
from ..devices import check_devices
from ..models.layers import ACTIVATIONS, init_truncated_normal
from ..training.estimator import check_target
from ..training.loop import NAMED_OPTIMIZERS, named_optimizer, train
from .results import TrainingRun


def snapshot_schedule(n_epochs: int, n_points: int = 400) -> np.ndarray:
    """The original experiments' snapshot epochs: every epoch at first, then log-spaced.

    ``unique(floor(2 ** linspace(0, log2 n_epochs, n_points))) - 1``: the integer parts of
    ``n_points`` log-spaced values from 1 to ``n_epochs``, less one, duplicates removed. Early
    on the values are closer than 1 apart, so every epoch is kept (0 to 29 for 10,000 epochs),
    later they thin out. 10,000 epochs give 279 snapshots (0 ... 9998); 8,000 give 274.

    Returns
    -------
    ndarray of int
        Sorted epochs in ``[0, n_epochs - 1]``; epoch ``e`` is the state after ``e`` epochs
        (the start of epoch ``e + 1``), 0 the initialisation.
    """
    n_epochs = check_int("n_epochs", n_epochs, 1)
    n_points = check_int("n_points", n_points, 2)
    values = np.floor(2.0 ** np.linspace(0.0, np.log2(n_epochs), n_points)).astype(np.int64)
    return np.unique(values) - 1


def _check_index(name: str, index: Any, n: int) -> np.ndarray:
    arr = np.asarray(index)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"`{name}` must be a non-empty 1-D array of row positions. Got {index!r}.")
    if arr.min() < 0 or arr.max() >= n or len(np.unique(arr)) != len(arr):
        raise ValueError(f"`{name}` must hold distinct row positions in [0, {n - 1}].")
    return np.sort(arr)


def train_with_snapshots(
    X: Any,
    y: Any,
    *,
    hidden_layer_sizes: Sequence[int] = (10, 7, 5, 4, 3),
    activation: str = "tanh",
    output: str = "softmax",
    n_seeds: int = 1,
    epochs: int = 10000,
    snapshot_epochs: Sequence[int] | None = None,
    train_index: Sequence[int] | None = None,
    optimizer: str = "adam",
    learning_rate: float = 4e-4,
    batch_size: int = 512,
    alpha: float = 0.0,
    random_state: int | None = 0,
    dtype: str = "float32",
    progress: Callable[[int, int, float], None] | None = None,
    devices: str | int = "auto",
    checkpoint: str | os.PathLike | None = None,
) -> TrainingRun:
    """Train ``n_seeds`` networks together and keep their parameters at the snapshot epochs.

    The defaults are the original information-plane experiments (methods.md section 5):
    12-10-7-5-4-3-2 with tanh units and a 2-unit softmax output, weights from a truncated
    normal with sd ``1/sqrt(fan_in)`` and zero biases, cross-entropy, Adam with learning rate
    4e-4, batches of 512, snapshots on :func:`snapshot_schedule`. Seeds are members of one
    member-stacked parameter pytree trained by the jitted loop of
    :mod:`shallownet.training.loop`, so S seeds cost far less than S runs. The seeds differ in
    their initial weights; they share the minibatch order (one shuffle per epoch).

    Parameters
    ----------
    X : DataFrame or array (N, n_features)
        Every pattern (training and held-out). Encoded to [0, 1] with an
        :class:`~shallownet.data.Encoder` fitted on the training rows.
    y : array-like (N,)
        Class labels.
    hidden_layer_sizes : tuple of int
    activation : {"tanh", "relu", "logistic", "identity"}
    output : {"softmax", "sigmoid"}
        "softmax" (default, as in the papers) or one sigmoid unit for two classes.
    n_seeds : int
        Networks trained together.
    epochs : int
    snapshot_epochs : sequence of int, optional
        Epochs in ``[0, epochs]`` whose parameters are kept (0 = initialisation).
        Default: ``snapshot_schedule(epochs)``.
    train_index : sequence of int, optional
        Training rows (default: all). The other rows are the held-out set whose loss and
        accuracy are recorded every epoch.
    optimizer, learning_rate, batch_size, alpha :
        Training settings (``alpha``: L2 penalty, none by default).
    random_state : int or None
        Seed of the initial weights and the minibatch order.
    dtype : {"float32", "float64"}
    progress : callable ``(epochs_done, epochs, mean_loss)``, optional
    devices : {"auto", "none", 1}, default "auto"
        "auto" splits the seeds over all visible devices during training when there are
        several and their number is a multiple of the device count
        (:func:`shallownet.training.loop.train`); "none" or 1 uses one device.
    checkpoint : path or None, default None
        A ``.npz`` file where the training state, the history and the snapshots taken so far
        are written atomically every 50 epochs; a later call with the same arguments resumes
        from it and returns exactly the run an uninterrupted call returns (see
        :func:`shallownet.training.loop.train`). Needs an integer ``random_state``; a file
        from other settings or data is refused with a ``ValueError``.

    Returns
    -------
    TrainingRun
    """
    hidden = check_hidden_layer_sizes(hidden_layer_sizes)
    check_one_of("activation", activation, ACTIVATIONS)
    check_one_of("output", output, ("softmax", "sigmoid"))
    n_seeds = check_int("n_seeds", n_seeds, 1)
    check_devices(devices)
    epochs = check_int("epochs", epochs, 1)
    check_one_of("optimizer", optimizer, NAMED_OPTIMIZERS)
    learning_rate = check_float("learning_rate", learning_rate, 0.0, open_min=True)
    batch_size = check_int("batch_size", batch_size, 1)
    alpha = check_float("alpha", alpha, 0.0)
    checkpoint = check_checkpoint(checkpoint, random_state)
    check_devices(devices)
    seed = check_random_state(random_state)
    check_one_of("dtype", dtype, ("float32", "float64"))
    if dtype == "float64" and not jax.config.jax_enable_x64:
        raise ValueError("`dtype='float64'` needs jax.config.update('jax_enable_x64', True).")
    jdtype = jnp.float64 if dtype == "float64" else jnp.float32

    n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
    classes, y_index = check_target(y, n_rows)
    if output == "sigmoid" and len(classes) != 2:
        raise ValueError(f"`output='sigmoid'` is for two classes; `y` has {len(classes)}.")
    rows = np.arange(n_rows) if train_index is None else _check_index("train_index", train_index, n_rows)
    held_out = np.setdiff1d(np.arange(n_rows), rows)

    if snapshot_epochs is None:
        schedule = snapshot_schedule(epochs)
    else:
        schedule = np.unique(np.asarray(snapshot_epochs))
        if schedule.size == 0 or schedule.dtype.kind not in "iu" or schedule.min() < 0 or schedule.max() > epochs:
            raise ValueError(
                f"`snapshot_epochs` must be integers in [0, epochs={epochs}]. Got {snapshot_epochs!r}."
            )

    encoder = Encoder()
    take = X.iloc if hasattr(X, "iloc") else np.asarray(X)
    encoder.fit(take[rows])
    Z = encoder.transform(X, report=False)
    n_out = 1 if output == "sigmoid" else len(classes)
    sizes = (Z.shape[1], *hidden, n_out)

    key_init, key_shuffle = jax.random.split(jax.random.PRNGKey(seed))
    params = jax.vmap(lambda k: init_truncated_normal(k, sizes, jdtype))(jax.random.split(key_init, n_seeds))
    final, history, snaps = train(
        params, Z[rows], y_index[rows],
        activation=activation, output=output, optimizer=named_optimizer(optimizer),
        learning_rate=learning_rate, alpha=alpha, batch_size=batch_size, max_epochs=epochs,
        key=key_shuffle,
        X_val=Z[held_out] if held_out.size else None,
        y_val=y_index[held_out] if held_out.size else None,
        early_stopping=False, patience=None, snapshot_epochs=schedule,
        progress=progress, dtype=jdtype, devices=devices, checkpoint=checkpoint,
    )
    stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *[snaps[int(e)] for e in schedule])
    settings = {
        "optimizer": optimizer, "learning_rate": learning_rate, "batch_size": batch_size,
        "alpha": alpha, "epochs": epochs, "n_seeds": n_seeds, "random_state": seed,
        "n_train": int(rows.size), "n_held_out": int(held_out.size), "dtype": dtype,
    }
    return TrainingRun(
        epochs=schedule.astype(np.int64), params=stacked, activation=activation, output=output,
        classes=classes, hidden_sizes=hidden, X=Z, y=y_index, train_index=rows, encoder=encoder,
        history=history, settings=settings,
    )

