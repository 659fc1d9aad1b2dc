"""The digest and the field checks of model files (used by :mod:`shallownet.io`).

Digest
------
``sha256`` in a model file's metadata is the SHA-256 of

    canonical(meta without "sha256")  +  for each array, in name order:
    name, dtype, shape, bytes

where ``canonical`` is ``json.dumps(..., sort_keys=True, separators=(",", ":"))``. It covers the
WHOLE metadata document, so a field added to the metadata later is covered without changing
this code. It is checked before anything is built from the file.

What it protects against: accidental damage (a truncated or bit-flipped file, a merge tool
that rewrote ``meta.json``) and naive edits (class labels swapped, an activation, a range or a
layer size changed by hand, an array replaced). What it cannot protect against: someone who
edits the file and recomputes the digest (the recipe is public and needs no secret). It is a
checksum, not a signature; a file from an untrusted source is only as trustworthy as its
source. Loading never executes code whatever the file holds (no pickle).

Field checks
------------
After the digest, every field's type and its consistency with the others and with the arrays
are checked (:func:`check_meta`), so that a file written by another program, or by a future
version, is refused with a :class:`ModelFileError` naming the field rather than failing
somewhere deeper with a ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

import hashlib
import json
import numbers
from typing import Any

import numpy as np

from .models.layers import ACTIVATIONS, CLASS_OUTPUTS, OUTPUTS

DIGEST_KEY = "sha256"

META_FIELDS = {
    "format", "version", "kind", "activation", "output", "n_layers", "classes", "variables",
    "has_encoder", "feature_names_in", "encoder", "estimator_params", "extra", DIGEST_KEY,
}
"""Top-level metadata fields a model file of this version may hold; another one is refused.
A new field must be added here (the digest covers it without further change)."""

EXTRA_FIELDS = {
    "classifier": {"convergence", "loss_curve", "fitted_on_frame"},
    "regressor": {"convergence", "loss_curve", "fitted_on_frame", "estimator", "single_target",
                  "target_mean", "target_scale"},
}


class ModelFileError(ValueError):
    """A file is not a shallownet model file, or it is damaged or tampered with."""


def canonical_json(meta: dict) -> bytes:
    """The canonical text of a metadata document (sorted keys, no spaces, UTF-8)."""
    return json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=True).encode("utf-8")


def digest(meta: dict, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the canonical metadata (without its own ``sha256`` field) and every array."""
    body = {k: v for k, v in meta.items() if k != DIGEST_KEY}
    h = hashlib.sha256(canonical_json(body))
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _fail(what: str) -> None:
    raise ModelFileError(what)


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _require(cond: bool, what: str) -> None:
    if not cond:
        _fail(what)


def check_arrays(meta: dict, arrays: dict[str, np.ndarray]) -> tuple[int, int, int]:
    """Layer arrays ``W0, b0, ...``: float, member axis first, shapes chained. Returns
    ``(n_members, n_inputs, n_outputs)``."""
    n_layers = meta.get("n_layers")
    _require(_is_int(n_layers) and n_layers >= 1, f"`n_layers` must be a positive integer; got {n_layers!r}")
    expected = {f"{p}{i}" for i in range(n_layers) for p in "Wb"}
    _require(set(arrays) == expected,
             f"the file holds arrays {sorted(arrays)}; its metadata describes {sorted(expected)}")
    previous = None
    members = None
    for i in range(n_layers):
        W, b = arrays[f"W{i}"], arrays[f"b{i}"]
        for name, a, ndim in ((f"W{i}", W, 3), (f"b{i}", b, 2)):
            _require(a.dtype in (np.float32, np.float64),
                     f"array {name} must be float32 or float64; it is {a.dtype}")
            _require(a.ndim == ndim and all(s > 0 for s in a.shape),
                     f"array {name} must be {ndim}-D with a member axis first; its shape is {a.shape}")
            _require(bool(np.all(np.isfinite(a))), f"array {name} holds NaN or infinite values")
        _require(W.dtype == arrays["W0"].dtype and b.dtype == W.dtype, "the layer arrays mix float dtypes")
        members = W.shape[0] if members is None else members
        _require(W.shape[0] == members and b.shape == (members, W.shape[2]),
                 f"layer {i}: W has shape {W.shape} and b {b.shape}; they must agree with "
                 f"{members} member(s)")
        _require(previous is None or W.shape[1] == previous,
                 f"layer {i} takes {W.shape[1]} inputs but layer {i - 1} gives {previous}")
        previous = W.shape[2]
    return members, arrays["W0"].shape[1], previous


def check_variables(entries: Any, n_inputs: int) -> None:
    """Variables cover the encoded columns ``0 .. n_inputs - 1`` in order, each well formed."""
    _require(isinstance(entries, list) and entries, "`variables` must be a non-empty list")
    seen, col = set(), 0
    for d in entries:
        _require(isinstance(d, dict) and set(d) == {"name", "kind", "columns", "minimum", "maximum", "categories", "fill"},
                 "a variable entry must have the fields name, kind, columns, minimum, maximum, categories, "
                 f"fill; got {d!r}")
        name, kind, cols = d["name"], d["kind"], d["columns"]
        _require(isinstance(name, str) and name not in seen, f"variable name {name!r} is not a new string")
        seen.add(name)
        _require(kind in ("real", "enumerated", "binary"), f"variable {name!r} has kind {kind!r}")
        _require(isinstance(cols, list) and all(_is_int(c) for c in cols) and cols == list(range(col, col + len(cols))),
                 f"variable {name!r} has columns {cols!r}; the variables must cover the encoded "
                 f"columns in order, this one from {col}")
        col += len(cols)
        cats = d["categories"]
        _require(isinstance(cats, list) and all(isinstance(c, (str, int, float, bool)) for c in cats),
                 f"variable {name!r}: categories must be a list of strings, numbers or booleans")
        if kind == "real":
            lo, hi = d["minimum"], d["maximum"]
            _require(_is_real(lo) and _is_real(hi) and np.isfinite(lo) and np.isfinite(hi) and hi > lo
                     and np.isfinite(float(hi) - float(lo)),
                     f"real variable {name!r} needs a finite range minimum < maximum; got {lo!r}, {hi!r}")
            fill = d["fill"]
            _require(cats == [] and ((len(cols) == 1 and fill is None)
                                     or (len(cols) == 2 and _is_real(fill) and np.isfinite(fill))),
                     f"real variable {name!r} must have no categories and one column, or two (value and "
                     "missingness indicator) with a finite fill value")
        else:
            _require(d["minimum"] is None and d["maximum"] is None and d["fill"] is None,
                     f"{kind} variable {name!r} must have no minimum, maximum or fill value")
            if kind == "binary":
                _require(len(cols) == 1 and cats == [False, True],
                         f"binary variable {name!r} must have one column and categories [false, true]")
            else:
                _require(len(cats) == len(cols) >= 2 and len({(type(c), c) for c in cats}) == len(cats),
                         f"enumerated variable {name!r} needs one column per distinct category "
                         f"(at least 2); got {len(cols)} columns and categories {cats!r}")
    _require(col == n_inputs, f"the variables cover {col} encoded columns; the first layer takes {n_inputs}")


def check_classes(entry: Any, output: str, n_outputs: int, estimator: str | None) -> None:
    """Class labels (target names for a linear output): unique, the right number, and for a
    fitted classifier in sorted order (as ``np.unique`` gives them)."""
    _require(isinstance(entry, dict) and set(entry) == {"values", "dtype"},
             "`classes` must be a mapping with `values` and `dtype`")
    values, dtype = entry["values"], entry["dtype"]
    _require(isinstance(values, list) and all(isinstance(v, (str, int, float, bool)) for v in values),
             "`classes.values` must be a list of strings, numbers or booleans")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        _fail(f"`classes.dtype` {dtype!r} is not a NumPy dtype")
    _require(dt.kind in "biufUO", f"`classes.dtype` must be a bool, number, string or object dtype; got {dtype!r}")
    try:
        arr = np.asarray(values, dtype=dt)
    except (TypeError, ValueError, OverflowError):
        _fail(f"`classes.values` cannot be read as {dtype!r}")
    _require(arr.tolist() == values, f"`classes.values` change when read as {dtype!r}")
    wanted = n_outputs if output == "linear" else max(n_outputs, 2)
    _require(len(values) == wanted, f"the output layer needs {wanted} class labels / target names; the file has {len(values)}")
    _require(len(np.unique(arr)) == len(arr), "`classes.values` repeats a label")
    if estimator == "classifier":
        _require(np.array_equal(np.sort(arr), arr), "a classifier's `classes.values` must be sorted")


ENCODER_FIELDS = {"missing", "fill", "unknown", "na_values", "fill_values", "missing_categories",
                  "missing_counts"}
"""Fields of the encoder's policy state (:meth:`shallownet.data.Encoder.state_dict`)."""
ENCODER_LATER_FIELDS = {"dropped_constants", "identifier_columns"}
"""Fields added to the state after version 2 files were first written: present in new files,
absent (read as empty) in older ones."""


def check_feature_names(meta: dict) -> None:
    """Feature names and the encoder's policy state agree with the variables."""
    names, state = meta["feature_names_in"], meta["encoder"]
    if not meta["has_encoder"]:
        _require(names is None and state is None, "`feature_names_in` and `encoder` must be null without an encoder")
        return
    _require(isinstance(state, dict) and ENCODER_FIELDS <= set(state) <= ENCODER_FIELDS | ENCODER_LATER_FIELDS,
             f"`encoder` must be a mapping with the fields {sorted(ENCODER_FIELDS)} "
             f"(and optionally {sorted(ENCODER_LATER_FIELDS)})")
    _require(state["missing"] in ("error", "drop", "indicator") and state["fill"] in ("median", "mean")
             and state["unknown"] in ("error", "ignore"), "`encoder` holds an unknown missing/fill/unknown policy")
    _require(isinstance(state["na_values"], list) and all(isinstance(t, str) for t in state["na_values"]),
             "`encoder.na_values` must be a list of strings")
    for key in ("fill_values", "missing_categories", "missing_counts", *sorted(ENCODER_LATER_FIELDS & set(state))):
        _require(isinstance(state[key], dict) and all(isinstance(k, str) for k in state[key]),
                 f"`encoder.{key}` must be a mapping keyed by column name")
    constants = state.get("dropped_constants", {})
    _require(all(isinstance(v, (str, int, float, bool)) or v is None for v in constants.values()),
             "`encoder.dropped_constants` must map column names to single values")
    _require(not set(constants) & {v["name"] for v in meta["variables"]},
             "`encoder.dropped_constants` names a column that is also a variable")
    _require(all(isinstance(v, str) for v in state.get("identifier_columns", {}).values()),
             "`encoder.identifier_columns` must map column names to reasons")
    _require(isinstance(names, list) and all(isinstance(n, str) for n in names) and len(set(names)) == len(names),
             "`feature_names_in` must be a list of distinct strings")
    missing = [v["name"] for v in meta["variables"] if v["name"] not in names]
    _require(not missing, f"variables {missing} are not among `feature_names_in`")


def check_estimator_params(params: Any, cls) -> None:
    """The saved hyper-parameters: exactly the estimator's parameter names, each valid."""
    _require(isinstance(params, dict), "`estimator_params` must be a mapping")
    names = set(cls().get_params())
    _require(set(params) == names,
             f"`estimator_params` must name exactly {sorted(names)}; unknown {sorted(set(params) - names)}, "
             f"missing {sorted(names - set(params))}")
    probe = dict(params)
    if probe.get("optimizer") is None:
        probe["optimizer"] = "adam"
    if isinstance(probe.get("hidden_layer_sizes"), list):
        probe["hidden_layer_sizes"] = tuple(probe["hidden_layer_sizes"])
    for k in ("categorical",):
        if isinstance(probe.get(k), list) and not all(isinstance(c, (str, int)) for c in probe[k]):
            _fail(f"`estimator_params.{k}` must list column names")
    probe["dtype"] = "float32"  # the arrays' dtype is what counts; 64-bit JAX may be off here
    try:
        cls(**probe)._validated()
    except (TypeError, ValueError) as exc:
        _fail(f"`estimator_params` are not valid for {cls.__name__}: {exc}")


def check_extra(meta: dict, estimator: str | None, n_members: int, n_outputs: int) -> None:
    extra = meta["extra"]
    _require(isinstance(extra, dict), "`extra` must be a mapping")
    if estimator is None:
        _require(extra == {}, "a saved Network has no `extra` fields")
        return
    fields = EXTRA_FIELDS[estimator]
    _require(set(extra) == fields, f"`extra` of a saved {estimator} must have the fields {sorted(fields)}; "
             f"got {sorted(extra)}")
    _require(isinstance(extra["fitted_on_frame"], bool), "`extra.fitted_on_frame` must be true or false")
    _require(isinstance(extra["loss_curve"], list) and all(_is_real(v) for v in extra["loss_curve"]),
             "`extra.loss_curve` must be a list of numbers")
    conv = extra["convergence"]
    per_member = ("n_iter", "reason", "converged", "objective", "grad_norm")
    _require(isinstance(conv, dict) and set(conv) == {"optimizer", "max_iter", "gtol", *per_member},
             "`extra.convergence` must have the fields optimizer, max_iter, gtol, " + ", ".join(per_member))
    _require(isinstance(conv["optimizer"], str) and _is_int(conv["max_iter"]) and _is_real(conv["gtol"]),
             "`extra.convergence`: optimizer must be a string, max_iter an integer, gtol a number")
    for k, ok in (("n_iter", _is_int), ("reason", lambda v: isinstance(v, str)),
                  ("converged", lambda v: isinstance(v, bool)), ("objective", _is_real), ("grad_norm", _is_real)):
        v = conv[k]
        _require(isinstance(v, list) and len(v) == n_members and all(ok(x) for x in v),
                 f"`extra.convergence.{k}` must hold one value per member ({n_members})")
    if estimator == "regressor":
        _require(extra["estimator"] == "regressor" and isinstance(extra["single_target"], bool),
                 "`extra.estimator` / `extra.single_target` are malformed")
        _require(not extra["single_target"] or n_outputs == 1, "a single-target regressor has one output unit")
        for k in ("target_mean", "target_scale"):
            v = extra[k]
            _require(isinstance(v, list) and len(v) == n_outputs and all(_is_real(x) and np.isfinite(x) for x in v),
                     f"`extra.{k}` must hold one finite number per output ({n_outputs})")
        _require(all(s > 0 for s in extra["target_scale"]), "`extra.target_scale` must be positive")


def check_meta(meta: dict, arrays: dict[str, np.ndarray]) -> str | None:
    """Check every field of a (digest-verified) metadata document against the arrays.

    Returns the estimator kind (``"classifier"``, ``"regressor"``) or None for a Network;
    raises :class:`ModelFileError` naming the first field that is wrong.
    """
    unknown = set(meta) - META_FIELDS
    _require(not unknown, f"unknown metadata fields {sorted(unknown)}")
    absent = META_FIELDS - set(meta)
    _require(not absent, f"metadata fields {sorted(absent)} are missing")
    kind = meta["kind"]
    _require(kind in ("estimator", "network"), f"`kind` must be 'estimator' or 'network'; got {kind!r}")
    _require(meta["activation"] in ACTIVATIONS, f"`activation` must be one of {ACTIVATIONS}; got {meta['activation']!r}")
    _require(meta["output"] in OUTPUTS, f"`output` must be one of {OUTPUTS}; got {meta['output']!r}")
    _require(isinstance(meta["has_encoder"], bool), "`has_encoder` must be true or false")
    members, n_in, n_out = check_arrays(meta, arrays)
    _require(meta["output"] != "sigmoid" or n_out == 1, "a sigmoid output has one unit")
    _require(meta["output"] != "softmax" or n_out >= 2, "a softmax output has at least two units")
    estimator = None
    if kind == "estimator":
        extra = meta["extra"]
        estimator = "regressor" if isinstance(extra, dict) and "estimator" in extra else "classifier"
        _require(meta["has_encoder"], "a saved estimator must have its encoder")
        _require((meta["output"] == "linear") == (estimator == "regressor"),
                 f"a {estimator} cannot have the output {meta['output']!r}")
        _require(estimator == "regressor" or meta["output"] in CLASS_OUTPUTS, "bad classifier output")
    else:
        _require(meta["estimator_params"] is None, "a saved Network has no `estimator_params`")
    check_variables(meta["variables"], n_in)
    check_classes(meta["classes"], meta["output"], n_out, estimator)
    check_feature_names(meta)
    if estimator is not None:
        from .training.estimator import ShallowNetClassifier, ShallowNetRegressor

        cls = ShallowNetRegressor if estimator == "regressor" else ShallowNetClassifier
        check_estimator_params(meta["estimator_params"], cls)
        hidden = meta["estimator_params"]["hidden_layer_sizes"]
        sizes = [int(arrays[f"W{i}"].shape[2]) for i in range(meta["n_layers"] - 1)]
        _require(list(hidden) == sizes, f"`hidden_layer_sizes` {hidden} does not match the layers {sizes}")
        _require(meta["estimator_params"]["activation"] == meta["activation"],
                 "`estimator_params.activation` differs from `activation`")
        _require(meta["estimator_params"]["n_members"] == members,
                 f"`estimator_params.n_members` differs from the {members} member(s) in the arrays")
    check_extra(meta, estimator, members, n_out)
    return estimator
