"""Atomic checkpoint files: named NumPy arrays plus JSON metadata in one ``.npz``, no pickle.

A checkpoint is written to a temporary file in the same folder and moved over the target with
:func:`os.replace`, which is atomic on POSIX and Windows: a run killed while writing leaves
either the previous checkpoint or the new one, never a torn file. The metadata dictionary is
stored as a JSON string under the reserved name ``__meta__``; reading uses
``np.load(allow_pickle=False)``, so a checkpoint can never execute code.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from typing import Any, Iterable

import numpy as np

META_KEY = "__meta__"


def write_checkpoint(path: str | os.PathLike, arrays: dict[str, Any], meta: dict) -> None:
    """Write ``arrays`` (name -> array) and ``meta`` (JSON-ready dict) to ``path`` atomically."""
    path = os.fspath(path)
    if META_KEY in arrays:
        raise ValueError(f"The array name {META_KEY!r} is reserved for the metadata.")
    folder = os.path.dirname(os.path.abspath(path))
    payload = {name: np.asarray(a) for name, a in arrays.items()}
    payload[META_KEY] = np.asarray(json.dumps(meta, sort_keys=True))
    fd, tmp = tempfile.mkstemp(prefix=".ckpt-", suffix=".npz.tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by :func:`write_checkpoint`; returns ``(arrays, meta)``."""
    path = os.fspath(path)
    remedy = "Remove it (or pass another path) to start afresh."
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise ValueError(
            f"`checkpoint` {path!r} is not a readable shallownet checkpoint (truncated or "
            f"damaged: {type(err).__name__}: {err}). {remedy}"
        ) from err
    if META_KEY not in arrays:
        raise ValueError(f"`checkpoint` {path!r} has no {META_KEY!r} entry; it is not a shallownet checkpoint.")
    try:
        meta = json.loads(str(arrays.pop(META_KEY)))
    except json.JSONDecodeError as err:
        raise ValueError(f"`checkpoint` {path!r} has unreadable metadata ({err}). {remedy}") from err
    if not isinstance(meta, dict):
        raise ValueError(f"`checkpoint` {path!r} has unreadable metadata. {remedy}")
    return arrays, meta


def read_own_checkpoint(path: str | os.PathLike, kind: str, stamp: str, differs: str,
                        remove: str = "the file") -> dict[str, np.ndarray] | None:
    """The arrays of the checkpoint of ``kind`` (a function's name) at ``path``, or None.

    None when there is no file. A file written by another function, or by ``kind`` for another
    computation (its fingerprint is not ``stamp``), is refused with a ``ValueError``: what
    ``differs`` says was different, and that ``remove`` must go to start afresh.
    """
    if not os.path.exists(path):
        return None
    arrays, meta = read_checkpoint(path)
    if meta.get("format") != f"shallownet.{kind}":
        raise ValueError(f"`checkpoint` {str(path)!r} is not a checkpoint of {kind}.")
    if meta.get("fingerprint") != stamp:
        raise ValueError(
            f"`checkpoint` {str(path)!r} was written by {kind} {differs}; it cannot be resumed by "
            f"this call. Remove {remove} or pass another path to start afresh."
        )
    return arrays


def fingerprint(settings: dict, arrays: Iterable[Any]) -> str:
    """SHA-256 of the JSON of ``settings`` and of the dtype, shape and bytes of each array."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a))
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def check_checkpoint(checkpoint: Any, random_state: Any) -> str | None:
    """Validate a ``checkpoint`` argument: None, or a path whose run can be repeated exactly.

    A run resumes only when every random draw is the same as before, so a checkpoint needs a
    fixed integer ``random_state`` (None draws a fresh seed on every call).
    """
    if checkpoint is None:
        return None
    if not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"`checkpoint` must be None or a file path. Got {checkpoint!r} instead.")
    if random_state is None:
        raise ValueError(
            "`checkpoint` needs an integer `random_state`: with random_state=None every call draws "
            "a new seed, so an interrupted run could never be resumed."
        )
    return os.fspath(checkpoint)
