"""Sub-commands of the ``shallownet`` command line, and the options they share."""

from __future__ import annotations

import argparse
import os


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit code 2."""


PLATFORMS = {"cpu": "cpu", "gpu": "cuda"}


def add_device_arguments(p: argparse.ArgumentParser) -> None:
    """``--platform`` and ``--devices``, for the commands that train or estimate."""
    p.add_argument("--platform", default="auto", choices=["auto", "cpu", "gpu"],
                   help="where JAX computes: 'auto' (JAX's choice, a GPU when one is usable), "
                        "'cpu', or 'gpu' (an error when JAX sees none) (default auto)")
    p.add_argument("--devices", default="auto", choices=["auto", "none", "1"],
                   help="'auto' spreads ensemble members / seeds over every visible device when "
                        "there are several; 'none' or 1 uses one device (default auto)")


def devices_option(args: argparse.Namespace) -> str | int:
    """The library's ``devices=`` value of ``--devices`` (``"1"`` -> ``1``)."""
    return 1 if args.devices == "1" else args.devices


def select_platform(platform: str) -> None:
    """Make JAX compute on ``platform`` ("auto", "cpu" or "gpu"), or raise :class:`UsageError`.

    JAX reads ``JAX_PLATFORMS`` when it first starts a backend, not when it is imported, so
    setting it (and JAX's ``jax_platforms`` option, which is read from the environment at
    import) here is in time as long as nothing has computed yet. A process whose JAX has
    already started on another platform gets an error, not a silent switch.
    """
    if platform == "auto":
        return
    import jax
    from jax._src import xla_bridge

    if not xla_bridge.backends_are_initialized():
        os.environ["JAX_PLATFORMS"] = PLATFORMS[platform]
        jax.config.update("jax_platforms", PLATFORMS[platform])
    try:
        backend = jax.default_backend()
    except (RuntimeError, AssertionError) as exc:  # JAX asserts when no listed platform started
        reason = str(exc).split(" (set JAX_PLATFORMS")[0] or "no backend could be started"
        raise UsageError(f"--platform {platform}: JAX cannot use a GPU here ({reason}); install JAX "
                         "with GPU support or pass --platform cpu") from None
    if backend != platform:
        raise UsageError(f"--platform {platform}: JAX has already started on {backend!r} in this process")
