"""Run every ``benchmarks/bench_*.py`` script: ``python -m benchmarks [--quick] [NAME ...]``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import benchmarks


def main(argv: list[str] | None = None) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("names", nargs="*", choices=names + [[]], help="benchmarks to run (default all)")
    args = parser.parse_args(argv)
    for name in args.names or names:
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"benchmarks.{name}").main(quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
