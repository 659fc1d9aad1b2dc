"""Spreading the member axis over every visible JAX device.

Every member-stacked pytree (parameters, optimizer state, per-member counters) has the member
axis M first. With D > 1 devices visible, a one-dimensional device mesh with axis name
``"members"`` is built over all of them and such a pytree is placed with
``NamedSharding(mesh, PartitionSpec("members"))``: device d holds members
``d*M/D .. (d+1)*M/D - 1``. The jitted computations are unchanged (``jax.vmap`` over members);
XLA partitions them along the sharded axis. No computation mixes members, so each member
goes through the same operations as on one device; XLA may vectorise a per-device slice
differently, so trained weights agree to float rounding (float64: at most 3.2e-15 observed
after 30 epochs), and the probabilities of a given network are exactly equal.

Choices for ``devices``:

* ``"auto"`` (default): shard when more than one device is visible;
* ``"none"`` or ``1``: keep everything on the default device.

On a CPU-only machine several devices can be simulated by setting
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` before JAX is first imported.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DEVICE_CHOICES = ("auto", "none", 1)
MEMBER_AXIS = "members"


def check_devices(devices: Any) -> str | int:
    """Return ``devices`` if it is ``"auto"``, ``"none"`` or ``1``; else raise ``ValueError``."""
    if isinstance(devices, (bool, np.bool_)) or devices not in DEVICE_CHOICES:
        raise ValueError(
            f"`devices` must be one of 'auto', 'none' or 1. Got {devices!r} instead."
        )
    return devices


@lru_cache(maxsize=None)
def _mesh_over(devices: tuple) -> Mesh:
    return Mesh(np.array(devices, dtype=object), (MEMBER_AXIS,))


def device_mesh(devices: Any = "auto") -> Mesh | None:
    """The one-axis mesh ``("members",)`` over all visible devices, or None.

    Returns None for ``devices="none"``/``1`` and for ``"auto"`` when only one device is
    visible: callers then leave arrays where they are.
    """
    check_devices(devices)
    visible = tuple(jax.devices())
    if devices != "auto" or len(visible) < 2:
        return None
    return _mesh_over(visible)


def shard_members(tree: Any, mesh: Mesh | None) -> Any:
    """Place a pytree whose leaves all have the member axis first on ``mesh``.

    Each leaf of shape ``(M, ...)`` is split along axis 0 over the mesh's D devices when
    ``M % D == 0``; otherwise it is replicated on every device (each device holds all M
    members: correct, but nothing is spread). Scalars are replicated. With ``mesh=None`` the
    tree is returned unchanged.
    """
    if mesh is None:
        return tree
    n_dev = mesh.devices.size
    split = NamedSharding(mesh, PartitionSpec(MEMBER_AXIS))
    replicated = NamedSharding(mesh, PartitionSpec())

    def place(leaf):
        shape = np.shape(leaf)
        ok = len(shape) >= 1 and shape[0] % n_dev == 0
        return jax.device_put(leaf, split if ok else replicated)

    return jax.tree_util.tree_map(place, tree)


def replicate(tree: Any, mesh: Mesh | None) -> Any:
    """Copy every leaf of ``tree`` to all devices of ``mesh`` (unchanged for ``mesh=None``)."""
    if mesh is None:
        return tree
    replicated = NamedSharding(mesh, PartitionSpec())
    return jax.tree_util.tree_map(lambda a: jax.device_put(a, replicated), tree)
