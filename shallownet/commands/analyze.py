"""``shallownet analyze``: encode a table, train an ensemble, report what it learned."""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd


def add_parser(sub) -> None:
    p = sub.add_parser("analyze", help="analyse a CSV (default: the bundled penguins data)",
                       description="Encode the data, train an ensemble and report on it.")
    p.add_argument("data", nargs="?", help="CSV file (default: bundled Palmer penguins)")
    p.add_argument("--target", help="target column (default: 'species' for penguins, else the last column)")
    p.add_argument("--out", help="output folder for the model file and summary (not overwritten without --force)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--categorical", nargs="*", default=None, metavar="COL", help="columns to treat as enumerated")
    p.add_argument("--drop", nargs="*", default=[], metavar="COL", help="columns to leave out (ids, ...)")
    p.add_argument("--hidden", default="8", help="hidden layer sizes, e.g. 8 or 8,4 (default 8)")
    p.add_argument("--activation", default="logistic", choices=["logistic", "tanh", "relu"])
    p.add_argument("--members", type=int, default=8, help="ensemble members (default 8)")
    p.add_argument("--epochs", type=int, default=500, help="maximum epochs (default 500)")
    p.add_argument("--test-size", type=float, default=0.25, help="held-out fraction (default 0.25)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(run=run)


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"8,4"`` -> ``(8, 4)``; ``""`` or ``"0"`` -> ``()`` (logistic regression)."""
    from ..cli import UsageError

    text = text.strip()
    if text in ("", "0"):
        return ()
    try:
        sizes = tuple(int(t) for t in text.split(","))
    except ValueError:
        raise UsageError(f"--hidden must be comma-separated positive integers, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise UsageError(f"--hidden must be comma-separated positive integers, got {text!r}")
    return sizes


def load_table(path: str | None, target: str | None, drop: list[str]) -> tuple[pd.DataFrame, pd.Series, str]:
    """Read the CSV (delimiter inferred) or the bundled data; return ``X, y, source``."""
    from ..cli import UsageError
    from ..datasets import load_penguins

    if path is None:
        X, y = load_penguins()
        if target not in (None, "species"):
            raise UsageError("the bundled penguins data has the target 'species'")
        source = "bundled Palmer penguins data"
    else:
        try:
            frame = pd.read_csv(path, sep=None, engine="python")
        except FileNotFoundError:
            raise FileNotFoundError(f"no such file: {path}") from None
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise UsageError(f"cannot read {path} as CSV: {exc}") from None
        target = target or frame.columns[-1]
        if target not in frame.columns:
            raise UsageError(f"--target {target!r} is not a column of {path}; columns: {list(frame.columns)}")
        y = frame[target]
        X = frame.drop(columns=[target])
        source = path
    unknown = [c for c in drop if c not in X.columns]
    if unknown:
        raise UsageError(f"--drop names unknown columns {unknown}")
    X = X.drop(columns=drop)
    return X, y, source


def run(args: argparse.Namespace) -> int:
    from sklearn.model_selection import train_test_split

    from ..cli import UsageError
    from ..training import ShallowNetClassifier

    hidden = parse_hidden(args.hidden)
    if args.members < 1 or args.epochs < 1:
        raise UsageError("--members and --epochs must be positive")
    if not 0 < args.test_size < 1:
        raise UsageError("--test-size must be between 0 and 1")
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.force:
        raise UsageError(f"{out} exists; pass --force to replace it")
    X, y, source = load_table(args.data, args.target, args.drop)
    keep = y.notna().to_numpy()
    if not keep.all():
        print(f"Dropped {int((~keep).sum())} rows with no target value.", file=sys.stderr)
        X, y = X[keep], y[keep]
    counts = y.value_counts()
    stratify = y if counts.min() >= 2 else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=args.test_size, random_state=args.seed, stratify=stratify
    )
    clf = ShallowNetClassifier(
        hidden_layer_sizes=hidden, activation=args.activation, n_members=args.members,
        max_iter=args.epochs, categorical=args.categorical, missing="drop", constant="drop",
        random_state=args.seed, verbose=not args.quiet,
    )
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start

    text = io.StringIO()
    with redirect_stdout(text):
        print_summary(clf, X, y, X_test, y_test, source, hidden, args, seconds)
    sys.stdout.write(text.getvalue())
    if out is not None:
        write_folder(out, clf, text.getvalue())
        print(f"\nWrote {out}/model.npz and {out}/summary.txt")
    return 0


def write_folder(out: Path, clf, summary: str) -> None:
    """Write into a temporary sibling folder, then move it into place (no half-written output)."""
    from ..io import save

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        save(clf, tmp / "model.npz")
        (tmp / "summary.txt").write_text(summary, encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def print_summary(clf, X, y, X_test, y_test, source, hidden, args, seconds) -> None:
    """The plain-text report: data, variables, training, held-out accuracy."""
    test_rows = X_test.notna().all(axis=1).to_numpy()
    accuracy = float(np.mean(clf.predict(X_test[test_rows]) == y_test[test_rows].to_numpy()))
    print(f"Data: {source}: {len(X)} rows, target {y.name!r} with classes {list(clf.classes_)}")
    print("\nVariables")
    print(clf.encoder_.describe().to_string(index=False))
    print("\nTraining")
    print(f"  network {clf.encoder_.n_features_out_}-{'-'.join(map(str, hidden)) + '-' if hidden else ''}"
          f"{clf.network_.n_outputs} ({args.activation}, {clf.network_.output} output), "
          f"{args.members} members, {clf.n_iter_} epochs, {seconds:.1f} s")
    print(f"  final training loss (mean over members): {clf.loss_curve_[-1]:.4f}")
    print("\nHeld-out accuracy")
    print(f"  {accuracy:.3f} on {int(test_rows.sum())} rows"
          + (f" ({int((~test_rows).sum())} test rows with missing values left out)" if (~test_rows).any() else ""))
