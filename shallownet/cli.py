"""The ``shallownet`` command: argument parsing and dispatch only.

Each sub-command lives in ``shallownet.commands.<name>`` with ``add_parser(subparsers)`` and
``run(args) -> int``. Exit codes: 0 ok, 2 usage or bad input (one clear line on stderr),
1 unexpected error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings
from pathlib import Path

from .commands import UsageError, select_platform

COMMANDS = ("analyze", "compare", "bottleneck")


def enable_compilation_cache() -> Path | None:
    """Turn on JAX's persistent compilation cache where it is safe and asked for.

    ``$SHALLOWNET_CACHE_DIR`` names the folder and turns the cache on for any backend;
    ``off`` turns it off. Unset, the cache is used on a GPU only, in
    ``$XDG_CACHE_HOME/shallownet/jax`` (default ``~/.cache/shallownet/jax``): on CPU,
    loading executables back from the cache crashed the process (a segmentation fault in
    ``compilation_cache.get_executable_and_time``, jax 0.4-0.7 on Linux), so CPU users opt
    in explicitly. Returns the folder in use, or ``None``.
    """
    folder = os.environ.get("SHALLOWNET_CACHE_DIR")
    if folder == "off":
        return None
    if folder is None:
        import jax

        if jax.default_backend() == "cpu":
            return None
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "shallownet", "jax")
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shallownet",
        description="Open up small neural networks on tabular data.",
    )
    parser.add_argument("--log-level", default="WARNING",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"shallownet.commands.{name}").add_parser(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (dropped rows, out-of-range values, ...) as one plain line on stderr."""
    print(f"note: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(levelname)s: %(message)s")
    try:
        select_platform(getattr(args, "platform", "auto"))  # before anything computes
        enable_compilation_cache()
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            return int(args.run(args) or 0)
    except (UsageError, ValueError, TypeError, FileNotFoundError, FileExistsError) as exc:
        print(f"shallownet {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence, reported plainly
        logging.getLogger("shallownet").debug("unexpected error", exc_info=True)
        print(f"shallownet {args.command}: unexpected error: {type(exc).__name__}: {exc} "
              "(rerun with --log-level DEBUG for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
