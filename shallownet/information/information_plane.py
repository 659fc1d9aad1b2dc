"""I(X; T) and I(T; Y) of one layer, or of every layer of a network across training.

:func:`mutual_information` estimates one layer from its activity. :func:`information_plane`
does it for every layer (output included), every snapshot epoch and every seed of a
:class:`TrainingRun`, or for a fitted model of the user (its final state, members as seeds):
one jit-compiled function computes a block of snapshots, with the forward pass and the
estimator ``vmap``-ed over seeds and snapshot epochs, every layer in the same function.
Blocks are sized so that memory stays under ``memory_limit_mb``; the last block is padded to
the same shape, and the estimator's noise variance or bin width is a traced argument, so
repeated calls (also with another s2 or width) never recompile.
"""

from __future__ import annotations

import dataclasses
from functools import partial
import os
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_2d_numeric, check_int, check_random_state
from ..checkpoint import check_checkpoint, fingerprint, read_own_checkpoint, write_checkpoint
from ..models.adapters import as_network
from ..models.layers import layer_outputs
from ..devices import SEED_AXIS, check_devices, device_mesh, row_mesh, shard_axis, to_host
from .estimators import KSG, Binning, estimate_layer, estimate_layer_rows, make_estimator
from .results import InformationPlane, MutualInformation, TrainingRun


def _entropy_bits(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _row_entropy_bits(X: np.ndarray) -> float:
    """Plug-in entropy (bits) of the rows of ``X`` taken as equally likely samples."""
    return _entropy_bits(np.unique(X, axis=0, return_counts=True)[1])


def _label_index(y: Any, classes: np.ndarray | None, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Class indices of ``y`` (against ``classes`` when given) and the classes."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"`y` must be 1-D (n_samples,). Got shape {arr.shape} instead.")
    if len(arr) != n_rows:
        raise ValueError(f"`y` has {len(arr)} labels but there are {n_rows} rows; they must match.")
    if classes is None:
        classes, index = np.unique(arr, return_inverse=True)
        return index.astype(np.int32), classes
    lookup = {c.item() if isinstance(c, np.generic) else c: i for i, c in enumerate(classes)}
    index = np.array([lookup.get(v.item() if isinstance(v, np.generic) else v, -1) for v in arr])
    if (index < 0).any():
        unknown = sorted({str(v) for v in arr[index < 0]})
        raise ValueError(f"`y` has labels the model does not know: {unknown}. Classes: {list(classes)}.")
    return index.astype(np.int32), np.asarray(classes)


def _check_for_estimator(est, X: np.ndarray | None, y_index: np.ndarray) -> None:
    """Refuse, before tracing, inputs the estimator cannot handle."""
    if isinstance(est, KSG):
        if X is None:
            raise ValueError("The KSG estimator needs the inputs: pass `X` (the encoded input rows).")
        if np.isin(X, (0.0, 1.0)).all():
            raise ValueError(
                "The KSG estimator needs continuous inputs, but every input column holds only "
                "0/1 values; use estimator='binning' or 'kde' for discrete inputs."
            )
        smallest = np.bincount(y_index).min()
        if smallest <= est.k:
            raise ValueError(
                f"The KSG estimator with k={est.k} needs more than k rows in every class. "
                f"The smallest class has {smallest}."
            )


def _dtype_of(arr: np.ndarray):
    return jnp.float64 if arr.dtype == np.float64 and jax.config.jax_enable_x64 else jnp.float32


def mutual_information(
    T: Any, y: Any, *, estimator="binning", X: Any = None, random_state=0, devices: Any = "auto"
) -> MutualInformation:
    """I(X; T) and I(T; Y) of one layer from its activity, in bits.

    Parameters
    ----------
    T : array (N, d)
        The layer's values on the N input patterns (taken as equally likely).
    y : array-like (N,)
        Class labels.
    estimator : {"binning", "kde", "ksg"} or an estimator object
        See :mod:`shallownet.information.estimators` (e.g. ``Binning(rule="fixed", width=0.07)``,
        ``KDE(noise_variance=1e-3)``).
    X : array (N, D), optional
        The encoded inputs; needed by KSG only.
    random_state : int
        Seed of the noise KSG adds.
    devices : {"auto", "none", 1}, default "auto"
        With several visible devices, "auto" splits the N query rows of KDE and KSG (their
        O(N^2) part) over them (:func:`~shallownet.information.estimators.estimate_layer_rows`).
        Binning sorts all rows at once and runs on one device. "none" or 1: one device.

    Returns
    -------
    MutualInformation
        For a deterministic layer of distinct patterns, binning gives ``I_XT = H(T) <= log2 N``.
    """
    est = make_estimator(estimator)
    T = check_2d_numeric("T", T)
    y_index, _ = _label_index(y, None, T.shape[0])
    X_arr = None if X is None else check_2d_numeric("X", X)
    if X_arr is not None and X_arr.shape[0] != T.shape[0]:
        raise ValueError(f"`X` has {X_arr.shape[0]} rows but `T` has {T.shape[0]}; they must match.")
    _check_for_estimator(est, X_arr, y_index)
    seed = check_random_state(random_state)
    check_devices(devices)
    mesh = None if isinstance(est, Binning) else row_mesh(devices)
    dtype = _dtype_of(np.asarray(T))
    x_in = jnp.zeros((T.shape[0], 1), dtype) if X_arr is None else jnp.asarray(X_arr, dtype)
    args = (jnp.asarray(T, dtype), jnp.asarray(y_index, jnp.int32), x_in, jax.random.PRNGKey(seed), est)
    if mesh is None:
        out = estimate_layer(*args, n_classes=int(y_index.max()) + 1)
    else:
        out = estimate_layer_rows(*args, n_classes=int(y_index.max()) + 1, mesh=mesh)
    out = to_host(out)
    nan = float("nan")
    return MutualInformation(
        estimator=est.name, I_XT=float(out["I_XT"]), I_TY=float(out["I_TY"]),
        I_XT_lower=float(out.get("I_XT_lower", nan)), I_TY_lower=float(out.get("I_TY_lower", nan)),
        H_X=nan if X_arr is None else _row_entropy_bits(X_arr),
        H_Y=_entropy_bits(np.bincount(y_index)), n_samples=int(T.shape[0]),
    )


@partial(jax.jit, static_argnames=("activation", "output", "n_classes"))
def plane_block(params, X, y, epoch_ids, key, estimator, *, activation, output, n_classes):
    """Estimates for a block of snapshots: dict of arrays (L, E, S).

    ``params`` carry leading axes (E, S). The forward pass and the estimator are ``vmap``-ed
    over snapshots and seeds; the layers, whose widths differ, are unrolled in the same
    compiled function (padding them to one width would make every layer cost as much as the
    widest and would defeat the bit-packing of :func:`discrete_entropies`). ``epoch_ids``
    (E,) seed the per-item noise keys, so results do not depend on how snapshots are
    grouped into blocks.
    """
    outs = jax.vmap(jax.vmap(lambda p: layer_outputs(p, X, activation, output)))(params)
    n_seeds = outs[0].shape[1]

    def per_item(layer):
        def one(t, epoch, seed):
            k = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, epoch), seed), layer)
            return estimator.estimate(t, y, X, k, n_classes)

        over_seeds = jax.vmap(one, in_axes=(0, None, 0))
        return jax.vmap(over_seeds, in_axes=(0, 0, None))

    results = [per_item(layer)(t, epoch_ids, jnp.arange(n_seeds)) for layer, t in enumerate(outs)]
    return {name: jnp.stack([r[name] for r in results]) for name in results[0]}


def _plan(est, n: int, widths: tuple, n_inputs: int, n_seeds: int, n_epochs: int, budget: int):
    """Snapshots per block, and the estimator with a row block that fits the memory budget."""

    def cost(e):
        return n_seeds * sum(4 * n * w * 3 + e.working_bytes(n, w, n_inputs) for w in widths)

    if cost(est) > budget and hasattr(est, "block_size"):
        per_row = cost(dataclasses.replace(est, block_size=2)) - cost(dataclasses.replace(est, block_size=1))
        fixed = cost(dataclasses.replace(est, block_size=1)) - per_row
        block = int(max(1, min(est.block_size, (budget - fixed) // max(per_row, 1))))
        est = dataclasses.replace(est, block_size=block)
    per_block = int(max(1, min(n_epochs, budget // max(cost(est), 1))))
    return per_block, est


def information_plane(
    source: Any,
    X: Any = None,
    y: Any = None,
    *,
    estimator="binning",
    random_state=0,
    memory_limit_mb: int = 256,
    progress: Callable[[int, int], None] | None = None,
    checkpoint: str | os.PathLike | None = None,
    devices: Any = "auto",
) -> InformationPlane:
    """I(X; T) and I(T; Y) for every layer (output included), snapshot and seed.

    Parameters
    ----------
    source : TrainingRun, or a fitted model
        A run from :func:`train_with_snapshots` (all its snapshots and seeds), or a fitted
        :class:`~shallownet.ShallowNetClassifier`, :class:`~shallownet.Network` or
        scikit-learn ``MLPClassifier`` (its final state; ensemble members count as seeds).
    X : array or DataFrame (N, n_features), optional
        Raw input rows, encoded with the model's encoder (or taken as encoded when it has
        none). Default for a run: every pattern of the run. The rows are taken as equally
        likely, so ``I(X; T) <= H(X)`` = ``log2 N`` for distinct rows.
    y : array-like (N,), optional
        Labels of the rows (required with ``X``).
    estimator : {"binning", "kde", "ksg"} or an estimator object
        Binning suits discrete inputs such as the 12-bit task; KDE or KSG suit continuous
        inputs (KSG requires them).
    random_state : int
        Seed of the noise of KSG.
    memory_limit_mb : int
        Working memory per compiled block.
    progress : callable ``(snapshots_done, snapshots)``, optional
    devices : {"auto", "none", 1}, default "auto"
        With several visible devices, "auto" splits the seed axis over them when the number
        of seeds is a multiple of the device count (each device runs the forward passes and
        estimates of its seeds; replicated otherwise); "none" or 1: one device.
    checkpoint : path or None, default None
        A ``.npz`` file. After every block of snapshots the estimates computed so far are
        written there atomically; a later call with the same arguments resumes after the last
        finished block and ends with exactly the numbers of an uninterrupted call (each
        snapshot's noise key depends on its epoch, not on its block). A file from another
        estimator, seed, run (parameters, epochs) or other rows is refused with a
        ``ValueError``. ``memory_limit_mb`` may change between the calls unless it changes
        the estimator's row block.

    Returns
    -------
    InformationPlane
    """
    est = make_estimator(estimator)
    budget = check_int("memory_limit_mb", memory_limit_mb, 1) * 2**20
    checkpoint = check_checkpoint(checkpoint, random_state)
    seed = check_random_state(random_state)
    mesh = device_mesh(check_devices(devices), SEED_AXIS)
    if (X is None) != (y is None):
        raise ValueError("Pass `X` and `y` together (or neither, for a run's own patterns).")
    if isinstance(source, TrainingRun):
        params, epochs = source.params, np.asarray(source.epochs)
        activation, output, classes = source.activation, source.output, source.classes
        if X is None:
            Z, y_index = source.X, source.y
        else:
            Z = source.encoder.transform(X, report=False)
            y_index, _ = _label_index(y, classes, Z.shape[0])
    else:
        net = as_network(source)
        if X is None:
            raise ValueError("`X` and `y` are required for a fitted model: pass the rows to measure on.")
        Z = net.encode(X, report=False)
        y_index, classes = _label_index(y, net.classes, Z.shape[0])
        params = jax.tree_util.tree_map(lambda a: a[None], net.params)
        epochs = np.array([int(np.max(getattr(source, "n_iter_", -1)))])
        activation, output = net.activation, net.output
    _check_for_estimator(est, Z, y_index)

    params = to_host(params)
    dtype = params[0].W.dtype
    widths = tuple(int(layer.W.shape[-1]) for layer in params)
    n, n_epochs, n_seeds = Z.shape[0], len(epochs), int(params[0].W.shape[1])
    per_block, est = _plan(est, n, widths, Z.shape[1], n_seeds, n_epochs, budget)
    x_in, y_in = jnp.asarray(Z, dtype), jnp.asarray(y_index, jnp.int32)
    key = jax.random.PRNGKey(seed)
    blocks, done = [], 0
    if checkpoint is not None:
        stamp = fingerprint(
            {"estimator": repr(est), "random_state": seed, "activation": activation, "output": output,
             "n_classes": len(classes), "dtype": np.dtype(dtype).name},
            [np.asarray(epochs, np.int64), Z, y_index, *jax.tree_util.tree_leaves(params)],
        )
        blocks, done = _read_blocks(checkpoint, stamp)
    for start in range(done, n_epochs, per_block):
        idx = np.minimum(np.arange(start, start + per_block), n_epochs - 1)
        chunk = shard_axis(jax.tree_util.tree_map(lambda a: a[idx], params), mesh, 1)
        out = plane_block(chunk, x_in, y_in, jnp.asarray(epochs[idx], jnp.int32), key, est,
                          activation=activation, output=output,
                          n_classes=len(classes))
        blocks.append({k: v[:, : min(per_block, n_epochs - start)] for k, v in to_host(out).items()})
        if checkpoint is not None:
            merged = {k: np.concatenate([b[k] for b in blocks], axis=1) for k in blocks[0]}
            write_checkpoint(checkpoint, merged, {"format": "shallownet.information_plane", "version": 1,
                                                  "fingerprint": stamp})
        if progress is not None:
            progress(min(start + per_block, n_epochs), n_epochs)
    res = {k: np.concatenate([b[k] for b in blocks], axis=1).transpose(2, 1, 0).astype(np.float64)
           for k in blocks[0]}
    names = tuple(f"h{i + 1}" for i in range(len(widths) - 1)) + ("output",)
    return InformationPlane(
        epochs=epochs, layers=names, widths=widths, I_XT=res["I_XT"], I_TY=res["I_TY"],
        I_XT_lower=res.get("I_XT_lower"), I_TY_lower=res.get("I_TY_lower"),
        H_X=_row_entropy_bits(Z), H_Y=_entropy_bits(np.bincount(y_index)),
        estimator=est.name, activation=activation,
    )


def _read_blocks(path: str, stamp: str) -> tuple[list[dict], int]:
    """Estimates stored at ``path`` as one block, and the number of snapshots they cover."""
    arrays = read_own_checkpoint(path, "information_plane", stamp,
                                 "for another run, other rows or another estimator or seed")
    if arrays is None:
        return [], 0
    return [arrays], int(next(iter(arrays.values())).shape[1])
