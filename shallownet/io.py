"""Model files without pickle: arrays in ``.npz``, structure and metadata in JSON.

A model file is one ``.npz`` archive (loaded with ``allow_pickle=False``) holding

* ``W0, b0, W1, b1, ...``: the layer arrays, member axis first;
* ``meta.json``: a UTF-8 JSON document stored as a uint8 array, with ``format`` =
  ``"shallownet-model"``, ``version``, the activation, output, classes, variables, the
  encoder's policy state (missing-value policy, fill values, missing categories, unseen
  categories, tokens: :meth:`Encoder.state_dict`; absent in older files, which load with the
  policies of their time), the estimator's hyper-parameters (when saved from one), and a
  SHA-256 of every array so that a tampered file is refused.

Loading a damaged, tampered or foreign file raises :class:`ModelFileError`; no code is ever
executed while loading.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np

from .data.encoder import Encoder
from .data.variables import Variable
from .models.layers import Dense
from .models.network import Network

FORMAT = "shallownet-model"
VERSION = 1


class ModelFileError(ValueError):
    """A file is not a shallownet model file, or it is damaged or tampered with."""


def _digest(arr: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(str(arr.dtype).encode())
    h.update(str(arr.shape).encode())
    h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def _json_classes(classes: np.ndarray) -> dict:
    values = [c.item() if isinstance(c, np.generic) else c for c in classes]
    for v in values:
        if not isinstance(v, (str, int, float, bool)):
            raise TypeError(
                f"Class labels must be strings, numbers or booleans to be saved; got {v!r}."
            )
    return {"values": values, "dtype": str(np.asarray(classes).dtype)}


def save(model: Any, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Save a fitted :class:`ShallowNetClassifier`, :class:`ShallowNetRegressor` or a
    :class:`Network` to ``path``.

    Parameters
    ----------
    model : ShallowNetClassifier, ShallowNetRegressor or Network
    path : str or path-like
        Target file; ``.npz`` is appended when missing.
    overwrite : bool, default False
        An existing file is never replaced unless this is True.

    Returns
    -------
    Path
        The file written.
    """
    from .training.estimator import ShallowNetClassifier, ShallowNetRegressor

    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    estimator_params = None
    extra = {}
    if isinstance(model, (ShallowNetClassifier, ShallowNetRegressor)):
        model._check_is_fitted()
        net = model.network_
        params = model.get_params()
        if not isinstance(params.get("optimizer"), str):
            params["optimizer"] = None  # a custom optax object cannot be written as JSON
        estimator_params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}
        extra = {
            "convergence": model.convergence_.to_json(),
            "loss_curve": [float(x) for x in model.loss_curve_],
            "fitted_on_frame": hasattr(model, "feature_names_in_"),
        }
        if isinstance(model, ShallowNetRegressor):
            extra.update(estimator="regressor", single_target=bool(model._single_target),
                         target_mean=[float(v) for v in model.target_mean_],
                         target_scale=[float(v) for v in model.target_scale_])
    elif isinstance(model, Network):
        net = model
    else:
        raise TypeError(
            "`model` must be a fitted ShallowNetClassifier, ShallowNetRegressor or a Network. "
            f"Got {type(model).__name__}."
        )
    arrays = {}
    for i, layer in enumerate(net.params):
        arrays[f"W{i}"] = np.asarray(layer.W)
        arrays[f"b{i}"] = np.asarray(layer.b)
    encoder = net.encoder
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "kind": "estimator" if estimator_params is not None else "network",
        "activation": net.activation,
        "output": net.output,
        "n_layers": len(net.params),
        "classes": _json_classes(net.classes),
        "variables": [v.to_dict() for v in net.variables],
        "has_encoder": encoder is not None,
        "feature_names_in": None if encoder is None else [str(c) for c in encoder.feature_names_in_],
        "encoder": None if encoder is None else encoder.state_dict(),
        "estimator_params": estimator_params,
        "extra": extra,
        "sha256": {k: _digest(v) for k, v in arrays.items()},
    }
    try:
        blob = json.dumps(meta).encode("utf-8")
    except TypeError as exc:
        raise TypeError(f"The model's metadata cannot be written as JSON: {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, meta=np.frombuffer(blob, dtype=np.uint8), **arrays)
    os.replace(tmp, path)
    return path


def _read(path: Path) -> tuple[dict, dict]:
    try:
        with zipfile.ZipFile(path) as zf:
            if zf.testzip() is not None:
                raise ModelFileError(f"{path} is damaged (a CRC check failed).")
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ModelFileError(f"{path} is not a readable shallownet model file ({exc}).") from None
    if "meta" not in arrays:
        raise ModelFileError(f"{path} is not a shallownet model file (no metadata).")
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} has unreadable metadata ({exc}).") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a shallownet model file.")
    if meta.get("version") != VERSION:
        raise ModelFileError(
            f"{path} has format version {meta.get('version')!r}; this shallownet reads version {VERSION}."
        )
    expected = meta.get("sha256", {})
    if set(expected) != set(arrays):
        raise ModelFileError(f"{path} does not hold the arrays its metadata lists.")
    for k, arr in arrays.items():
        if _digest(arr) != expected[k]:
            raise ModelFileError(f"{path}: array {k!r} does not match its checksum (tampered?).")
    return meta, arrays


def load(path: str | os.PathLike):
    """Load a model saved by :func:`save`.

    Returns a fitted :class:`ShallowNetClassifier` or :class:`ShallowNetRegressor` when one
    was saved, else a :class:`Network`.
    Raises :class:`ModelFileError` for a damaged, tampered or foreign file.
    """
    from .training.estimator import ShallowNetClassifier, ShallowNetRegressor

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No model file at {path}.")
    meta, arrays = _read(path)
    try:
        dtype = arrays["W0"].dtype
        params = tuple(
            Dense(jnp.asarray(arrays[f"W{i}"], dtype), jnp.asarray(arrays[f"b{i}"], dtype))
            for i in range(int(meta["n_layers"]))
        )
        classes = np.asarray(meta["classes"]["values"], dtype=meta["classes"]["dtype"])
        variables = tuple(Variable.from_dict(v) for v in meta["variables"])
        encoder = (
            Encoder.from_variables(variables, meta["feature_names_in"], meta.get("encoder"))
            if meta["has_encoder"] else None
        )
        net = Network(params, meta["activation"], meta["output"], classes, variables, encoder)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} has inconsistent contents ({exc}).") from None
    if meta["kind"] != "estimator":
        return net
    params = dict(meta["estimator_params"])
    if params.get("optimizer") is None:
        params["optimizer"] = "adam"
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    regressor = meta["extra"].get("estimator") == "regressor"
    model = (ShallowNetRegressor if regressor else ShallowNetClassifier)(**params)
    model.network_ = net
    model.encoder_ = encoder
    if regressor:
        model.target_mean_ = np.asarray(meta["extra"]["target_mean"])
        model.target_scale_ = np.asarray(meta["extra"]["target_scale"])
        model.n_targets_ = len(model.target_mean_)
        model._single_target = bool(meta["extra"]["single_target"])
    else:
        model.classes_ = classes
    model.n_features_in_ = len(encoder.feature_names_in_)
    if meta["extra"].get("fitted_on_frame"):
        model.feature_names_in_ = encoder.feature_names_in_
    from .training.convergence import Convergence

    convergence = Convergence.from_json(meta["extra"]["convergence"])
    model.convergence_, model.optimizer_ = convergence, convergence.optimizer
    model.n_iter_, model.converged_ = convergence.n_iter, convergence.converged
    model.objective_, model.grad_norm_ = convergence.objective, convergence.grad_norm
    model.loss_curve_ = meta["extra"].get("loss_curve", [])
    return model
