"""``shallownet analyze``: from a CSV (or the bundled penguins data) to a report folder."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import pandas as pd

from . import UsageError, add_device_arguments, devices_option


def add_table_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments shared by the commands that read a table."""
    p.add_argument("--target", help="target column (default: 'species' for penguins, else the last column)")
    p.add_argument("--categorical", nargs="+", default=None, metavar="COL",
                   help="columns to treat as enumerated (e.g. numeric codes)")
    p.add_argument("--real", nargs="+", default=None, metavar="COL",
                   help="columns to treat as real (missing-value tokens allowed; other non-numeric "
                        "values are an error)")
    p.add_argument("--drop", nargs="+", default=[], metavar="COL", help="columns to leave out (ids, ...)")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"],
                   help="auto (default): a numeric target with more than 10 distinct values is a number "
                        "(regression, compared with OLS), anything else a set of classes")
    p.add_argument("--keep", nargs="+", default=[], metavar="COL",
                   help="identifier-like columns to keep as variables (by default they are dropped, "
                        "with a note)")
    p.add_argument("--missing", default="indicator", choices=["indicator", "drop", "error"],
                   help="missing values: 'indicator' keeps every row (median fill plus a missingness "
                        "indicator; a 'missing' category), 'drop' drops training rows, 'error' refuses "
                        "(default indicator)")
    p.add_argument("--fill", default="median", choices=["median", "mean"],
                   help="fill value of a real variable under --missing indicator (default median)")
    p.add_argument("--unknown", default="ignore", choices=["ignore", "error"],
                   help="test categories not seen in training: 'ignore' scores the row with an all-zero "
                        "one-hot row (counted), 'error' refuses (default ignore)")
    p.add_argument("--na-values", nargs="*", default=None, metavar="TOKEN",
                   help="text cells read as missing (default: '' NA N/A n/a NaN ? . - null None); "
                        "give none to read only empty cells as missing")
    p.add_argument("--hidden", default="8", help="hidden layer sizes, e.g. 8 or 8,4 (default 8)")
    p.add_argument("--activation", default="logistic", choices=["logistic", "tanh", "relu"])
    p.add_argument("--members", type=int, default=8, help="ensemble members (default 8)")
    p.add_argument("--optimizer", default="auto", choices=["auto", "lbfgs", "adam"],
                   help="auto (default): full-batch L-BFGS to the optimum on small tables, "
                        "minibatch Adam on large ones")
    p.add_argument("--max-iter", "--epochs", dest="max_iter", type=int, default=500,
                   help="maximum L-BFGS iterations or Adam epochs (default 500)")
    p.add_argument("--test-size", type=float, default=0.25, help="held-out fraction (default 0.25)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for intervals (default 1000)")
    p.add_argument("--cv", type=int, default=5,
                   help="cross-validation folds with which the logistic baseline picks its penalty; "
                        "every class needs this many complete training rows (default 5)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    add_device_arguments(p)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "analyze", help="analyse a CSV (default: the bundled penguins data) into a report folder",
        description="Encode the data, train an ensemble, read its weights, measure influence and "
                    "sensitivity, compare with logistic regression (OLS for a numeric target, see "
                    "--task), and write a report folder "
                    "(index.html, figures, tables as CSV, results.json, the model file).",
    )
    p.add_argument("data", nargs="?", help="CSV file (delimiter inferred; default: bundled Palmer penguins)")
    p.add_argument("--out", default="shallownet-report", help="report folder (default ./shallownet-report)")
    p.add_argument("--force", action="store_true", help="replace an existing report folder")
    p.add_argument("--single-file", action="store_true",
                   help="also embed the figures in index.html, so that the page alone can be mailed")
    p.add_argument("--conditional", default="knn", choices=["knn", "copula", "model", "marginal"],
                   help="conditional distribution for expected influence (default knn)")
    p.add_argument("--information-plane", action="store_true", help="add the information-plane section")
    p.add_argument("--skip", nargs="+", default=[], metavar="METHOD",
                   choices=["shapley", "hidden-map", "counterfactuals", "ale"],
                   help="leave out attribution sections for speed: shapley, hidden-map, counterfactuals, ale")
    add_table_arguments(p)
    p.set_defaults(run=run)


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"8,4"`` -> ``(8, 4)``; ``""`` or ``"0"`` -> ``()`` (logistic regression)."""
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


def check_model_options(args) -> tuple[int, ...]:
    """Validate the model options shared by the commands; return the hidden layer sizes."""
    if args.members < 1 or args.max_iter < 1 or args.bootstrap < 1:
        raise UsageError("--members, --max-iter and --bootstrap must be positive")
    if not 0 < args.test_size < 1:
        raise UsageError("--test-size must be between 0 and 1")
    if args.cv < 2:
        raise UsageError(f"--cv must be an integer >= 2, got {args.cv}")
    return parse_hidden(args.hidden)


def read_csv(path: str) -> pd.DataFrame:
    """Read a CSV with its delimiter inferred (quoted fields may hold the delimiter)."""
    if Path(path).is_dir():
        raise UsageError(f"DATA must be a CSV file; {path} is a folder")
    try:
        header = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig", header=None, nrows=1)
        names = [str(v) for v in header.iloc[0] if pd.notna(v)] if len(header) else []
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            where = "; ".join(f"{n!r} in columns {[i + 1 for i, m in enumerate(names) if m == n]}" for n in twice)
            raise UsageError(
                f"{path} has duplicated column names ({where}); pandas would silently rename the "
                f"later ones ({twice[0]!r} -> '{twice[0]}.1'). Rename them so that each is unique"
            )
        # Text tokens ('NA', '?', ...) are read by the encoder (counted, reported, configurable
        # with --na-values); pandas turns only empty cells into NaN here.
        return pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig", keep_default_na=False,
                           na_values=[""])
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text; save it as UTF-8") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise UsageError(f"cannot read {path} as CSV: {exc}") from None


def load_table(args) -> tuple[pd.DataFrame, pd.Series, str, list[str]]:
    """The inputs, the target, a description of the source, and notes on what was done."""
    from ..datasets import load_penguins

    notes: list[str] = []
    if args.data is None:
        X, y = load_penguins()
        if args.target not in (None, "species"):
            raise UsageError("the bundled penguins data has the target 'species'")
        source = "bundled Palmer penguins data"
    else:
        frame = read_csv(args.data)
        if frame.shape[1] < 2:
            raise UsageError(f"{args.data} has {frame.shape[1]} column(s); it needs inputs and a target")
        target = args.target or frame.columns[-1]
        if target not in frame.columns:
            raise UsageError(f"--target {target!r} is not a column of {args.data}; columns: {list(frame.columns)}")
        y = frame[target]
        X = frame.drop(columns=[target])
        source = str(args.data)
    for option in ("drop", "categorical", "real", "keep"):
        unknown = [c for c in (getattr(args, option) or []) if c not in X.columns]
        if unknown:
            raise UsageError(f"--{option} names unknown columns {unknown}; columns: {list(X.columns)}")
    X = X.drop(columns=args.drop)
    # --real columns may hold missing-value tokens; anything else non-numeric fails before the run
    from ..data.screening import check_na_values, offending_message, replace_tokens

    tokens = check_na_values(args.na_values)
    for col in args.real or []:
        cells, _ = replace_tokens(X[[col]], tokens)
        converted = pd.to_numeric(cells[col], errors="coerce")
        bad = cells[col][converted.isna() & cells[col].notna()]
        if len(bad):
            counts = {str(k): int(n) for k, n in bad.astype(str).value_counts().items()}
            raise UsageError(offending_message(col, counts, True).replace("na_values=[...] (command line: "
                                                                           "--na-values)", "--na-values"))
    return X, y, source, notes


def choose_task(y: pd.Series, args) -> tuple[str, str]:
    """The task ``--task`` asks for and why (``auto``: :func:`shallownet.tasks.detect_task`), or
    a :class:`UsageError` when a regression is asked of a non-numeric or constant target."""
    from ..tasks import detect_task

    try:
        return detect_task(y, args.task, name=str(y.name))
    except ValueError as exc:
        raise UsageError(f"--task {args.task}: {exc}") from None


def encoding_options(args) -> dict:
    """The encoder options of the table arguments, as :func:`shallownet.analysis.analyze` takes them."""
    return {"real": args.real, "missing": args.missing, "fill": args.fill, "unknown": args.unknown,
            "na_values": args.na_values, "keep": args.keep}


class StepProgress:
    """Progress over the analysis steps (a bar on stderr; silent with ``--quiet``)."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bar = None

    def __call__(self, name: str, index: int, total: int) -> None:
        from .._progress import ProgressBar

        if self.quiet:
            return
        if self.bar is None:
            self.bar = ProgressBar(total, "analysis", min_interval=0.0)
        self.bar.update(index, f"now: {name}")

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.update(self.bar.total, "done")


def run(args: argparse.Namespace) -> int:
    from ..analysis import analyze
    from ..report.attributions import METHODS
    from ..report.build import check_destination, findings, write_analysis

    hidden = check_model_options(args)
    out = Path(args.out)
    try:
        check_destination(out, args.force)  # before the run, not after it
    except FileExistsError as exc:
        raise UsageError(str(exc).replace(" (force=True)", "").replace(" / force=True", "")) from None
    X, y, source, notes = load_table(args)
    task, _ = choose_task(y, args)  # analyze() notes the reason itself
    if task == "regression" and args.information_plane:
        raise UsageError("--information-plane needs class labels; the target is analysed as a number "
                         "(pass --task classification to treat its values as classes)")
    steps = StepProgress(args.quiet)
    analysis = analyze(
        X, y, source=source, hidden_layer_sizes=hidden, activation=args.activation, n_members=args.members,
        max_iter=args.max_iter, optimizer=args.optimizer, test_size=args.test_size, categorical=args.categorical,
        **encoding_options(args),
        conditional=args.conditional, n_bootstrap=args.bootstrap, information_plane=args.information_plane,
        random_state=args.seed, cv=args.cv, progress=steps, verbose=not args.quiet,
        devices=devices_option(args), task=args.task, attributions=[m for m in METHODS if m not in args.skip],
    )
    analysis.notes[:0] = notes
    write_analysis(analysis, out, force=args.force, single_file=args.single_file)
    steps.finish()
    for note in analysis.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"Report written to {out}/index.html")
    if task == "regression":
        m = analysis.test_metrics
        print(f"Held-out RMSE {m['rmse']:.4g}, MAE {m['mae']:.4g}, R^2 {m['r2']:.3f} on "
              f"{analysis.n_test_complete} rows.")
    else:
        print(f"Held-out accuracy {analysis.test_accuracy:.3f} on {analysis.n_test_complete} rows.")
    missing = getattr(analysis, "missing", None) or {}
    rows = missing.get("rows", {})
    if missing.get("columns") or rows.get("test_unseen_scored"):
        counts = {c["variable"]: c["train_missing"] + c["test_missing"] for c in missing["columns"]}
        print(f"Missing data ({missing['policy']}): {counts} (variable: missing cells); rows used "
              f"{rows['train_used']}/{rows['train']} train, {rows['test_used']}/{rows['test']} test"
              + (f", {rows['test_unseen_scored']} test rows with unseen categories scored" if rows.get("test_unseen_scored") else "")
              + ".")
    for line in findings(analysis):
        print(f"- {line}")
    return 0
