"""Model files without pickle: arrays in ``.npz``, structure and metadata in JSON.

A model file is one ``.npz`` archive (loaded with ``allow_pickle=False``) holding

* ``W0, b0, W1, b1, ...``: the layer arrays, member axis first;
* ``meta.json``: a UTF-8 JSON document stored as a uint8 array, with ``format`` =
  ``"shallownet-model"``, ``version``, the activation, output, classes, variables, the
  encoder's policy state (missing-value policy, fill values, missing categories, unseen
  categories, tokens: :meth:`Encoder.state_dict`), the estimator's hyper-parameters (when
  saved from one), and ``sha256``: one SHA-256 digest over the canonical JSON of every other
  metadata field and over every array (:func:`shallownet._modelfile.digest`).

Loading checks the digest before anything is built, then the type of every field and its
consistency with the others and with the arrays; a damaged, edited or foreign file raises
:class:`ModelFileError` (a ``ValueError``) naming what is wrong. No code is ever executed while
loading.

The digest protects against accidental damage and naive edits (a class label, an activation,
a range or a layer size changed by hand, an array swapped). It is not a signature: anyone can
edit a file and recompute the digest, so it cannot tell a deliberately re-signed file from a
genuine one. Load model files from sources you trust.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np

from ._modelfile import DIGEST_KEY, ModelFileError, canonical_json, check_meta, digest
from .data.encoder import Encoder
from .data.variables import Variable
from .models.layers import Dense
from .models.network import Network

FORMAT = "shallownet-model"
VERSION = 2
"""Version 2: the digest covers the metadata too (version 1 checked the arrays only)."""


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
    }
    try:
        # The digest is taken over the document as it will be read back.
        meta = json.loads(canonical_json(meta))
    except TypeError as exc:
        raise TypeError(f"The model's metadata cannot be written as JSON: {exc}") from None
    meta[DIGEST_KEY] = digest(meta, arrays)
    blob = canonical_json(meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, meta=np.frombuffer(blob, dtype=np.uint8), **arrays)
    os.replace(tmp, path)
    return path


def _read(path: Path) -> tuple[dict, dict]:
    """The metadata and the arrays of a model file, the digest verified."""
    try:
        with zipfile.ZipFile(path) as zf:
            if zf.testzip() is not None:
                raise ModelFileError(f"{path} is damaged (a CRC check failed).")
            odd = [n for n in zf.namelist() if not n.endswith(".npy")]
            if odd:
                raise ModelFileError(f"{path} is not a shallownet model file (it holds {odd}).")
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ModelFileError(f"{path} is not a readable shallownet model file ({exc}).") from None
    if "meta" not in arrays:
        raise ModelFileError(f"{path} is not a shallownet model file (no metadata).")
    blob = arrays.pop("meta")
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise ModelFileError(f"{path} has unreadable metadata (not a byte string).")
    try:
        meta = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} has unreadable metadata ({exc}).") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a shallownet model file.")
    if meta.get("version") != VERSION:
        hint = (" (version 1 files checked only their arrays; load it with the shallownet that "
                "wrote it, or refit and save again)" if meta.get("version") == 1 else "")
        raise ModelFileError(
            f"{path} has format version {meta.get('version')!r}; this shallownet reads version "
            f"{VERSION}{hint}."
        )
    if meta.get(DIGEST_KEY) != digest(meta, arrays):
        raise ModelFileError(
            f"{path} does not match its SHA-256 digest: the metadata or an array was changed "
            "or damaged after it was saved."
        )
    return meta, arrays


def load(path: str | os.PathLike):
    """Load a model saved by :func:`save`.

    Returns a fitted :class:`ShallowNetClassifier` or :class:`ShallowNetRegressor` when one
    was saved, else a :class:`Network`.

    The file's SHA-256 digest (over the canonical metadata and every array) is verified
    before anything is built, then every field is checked; any failure raises
    :class:`ModelFileError`. The digest catches accidental damage and naive edits; it is not
    a signature (a deliberate editor can recompute it), so load files from trusted sources.
    """
    from .training.convergence import Convergence
    from .training.estimator import ShallowNetClassifier, ShallowNetRegressor

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No model file at {path}.")
    if not path.is_file():
        raise ModelFileError(f"{path} is not a file.")
    meta, arrays = _read(path)
    try:
        estimator = check_meta(meta, arrays)
    except ModelFileError as exc:
        raise ModelFileError(f"{path} has inconsistent contents: {exc}.") from None
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
        if estimator is None:
            return net
        params = dict(meta["estimator_params"])
        if params.get("optimizer") is None:
            params["optimizer"] = "adam"
        if isinstance(params.get("hidden_layer_sizes"), list):
            params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
        extra = meta["extra"]
        model = (ShallowNetRegressor if estimator == "regressor" else ShallowNetClassifier)(**params)
        model.network_ = net
        model.encoder_ = encoder
        if estimator == "regressor":
            model.target_mean_ = np.asarray(extra["target_mean"])
            model.target_scale_ = np.asarray(extra["target_scale"])
            model.n_targets_ = len(model.target_mean_)
            model._single_target = bool(extra["single_target"])
        else:
            model.classes_ = classes
        model.n_features_in_ = len(encoder.feature_names_in_)
        if extra["fitted_on_frame"]:
            model.feature_names_in_ = encoder.feature_names_in_
        convergence = Convergence.from_json(extra["convergence"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise ModelFileError(f"{path} has inconsistent contents ({type(exc).__name__}: {exc}).") from None
    model.convergence_, model.optimizer_ = convergence, convergence.optimizer
    model.n_iter_, model.converged_ = convergence.n_iter, convergence.converged
    model.objective_, model.grad_norm_ = convergence.objective, convergence.grad_norm
    model.loss_curve_ = extra["loss_curve"]
    return model
