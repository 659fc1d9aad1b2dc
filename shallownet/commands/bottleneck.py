"""``shallownet bottleneck``: the information plane of the 12-bit task (Shwartz-Ziv & Tishby 2017)."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from . import add_device_arguments


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bottleneck", help="information plane of the 12-bit task",
        description="Train 12-10-7-5-4-3-2 networks on the 12-bit task, keep snapshots on the "
                    "original schedule, and estimate I(X;T) and I(T;Y) of every layer.",
    )
    p.add_argument("--activation", default="tanh", choices=["tanh", "relu"], help="hidden units (default tanh)")
    p.add_argument("--estimator", default="binning", choices=["binning", "kde"], help="MI estimator (default binning)")
    p.add_argument("--bins", default="auto", choices=["auto", "original", "fixed", "adaptive"],
                   help="binning rule: 'original' 30 edges on [-1,1], 'fixed' width over an unbounded "
                        "range, 'adaptive' equal mass (default: original for tanh, fixed for relu)")
    p.add_argument("--bin-width", type=float, default=0.07, help="width of the 'fixed' rule (default 0.07)")
    p.add_argument("--noise-variance", type=float, default=0.1, help="KDE noise variance s2 (default 0.1)")
    p.add_argument("--seeds", type=int, default=1, help="networks averaged (default 1; the paper uses 50)")
    p.add_argument("--epochs", type=int, default=10000, help="training epochs (default 10000)")
    p.add_argument("--snapshots", type=int, default=400,
                   help="log-spaced points of the snapshot schedule before duplicates go (default 400)")
    p.add_argument("--split", default="original", choices=["original", "shuffled"],
                   help="training rows: the first 80%% (original) or a random 80%%")
    p.add_argument("--batch-size", type=int, default=512, help="minibatch size (default 512)")
    p.add_argument("--learning-rate", type=float, default=4e-4, help="Adam learning rate (default 4e-4)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", help="output folder for figures, tables and results.json (not overwritten without --force)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--checkpoint", metavar="DIR",
                   help="folder for checkpoints (training state every 50 epochs, estimates after "
                        "every block); run the same command again after a crash or a kill to "
                        "continue where it stopped, with the same results")
    add_device_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .._progress import ProgressBar
    from . import UsageError, devices_option
    from ..datasets import twelve_bit_task
    from ..information import KDE, Binning, information_plane, snapshot_schedule, train_with_snapshots

    for name in ("seeds", "epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(args, name)}")
    if args.snapshots < 2:
        raise UsageError(f"--snapshots must be at least 2, got {args.snapshots}")
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.force:
        raise UsageError(f"{out} exists; pass --force to replace it")
    if args.estimator == "kde":
        estimator = KDE(noise_variance=args.noise_variance)
    else:
        rule = args.bins if args.bins != "auto" else ("original" if args.activation == "tanh" else "fixed")
        estimator = Binning(rule=rule, width=args.bin_width)

    training_file = plane_file = None
    if args.checkpoint:
        folder = Path(args.checkpoint)
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"--checkpoint {folder} is a file; it must be a folder (created if missing)")
        folder.mkdir(parents=True, exist_ok=True)
        training_file, plane_file = folder / "training.npz", folder / "information_plane.npz"
        if training_file.exists() and not args.quiet:
            print(f"note: resuming from the checkpoints in {folder}", file=sys.stderr)

    task = twelve_bit_task(args.split, random_state=args.seed)
    schedule = snapshot_schedule(args.epochs, args.snapshots)
    start = time.perf_counter()
    bar = ProgressBar(args.epochs, f"training {args.seeds} network(s)", enabled=not args.quiet)
    run_ = train_with_snapshots(
        task.X, task.y, train_index=task.train_index, activation=args.activation, n_seeds=args.seeds,
        epochs=args.epochs, snapshot_epochs=schedule, learning_rate=args.learning_rate,
        batch_size=args.batch_size, random_state=args.seed, progress=bar.callback(),
        devices=devices_option(args), checkpoint=training_file,
    )
    trained = time.perf_counter()
    bar = ProgressBar(len(schedule), f"mutual information ({estimator.name})", enabled=not args.quiet)
    plane = information_plane(run_, estimator=estimator, progress=lambda done, total: bar.update(done),
                              checkpoint=plane_file)
    measured = time.perf_counter()

    text = io.StringIO()
    with redirect_stdout(text):
        accuracy = run_.to_frame()["val_accuracy_mean"].iloc[-1]
        print(f"12-bit task, {args.split} split: {len(task.train_index)} training patterns, "
              f"MI on all 4096; {len(schedule)} snapshots")
        print(run_.summary())
        print(f"held-out accuracy after {args.epochs} epochs (mean over seeds): {accuracy:.3f}\n")
        print(plane.summary())
        print(f"\ntraining {trained - start:.1f} s, mutual information {measured - trained:.1f} s")
    sys.stdout.write(text.getvalue())
    if out is not None:
        settings = {**vars(args), "estimator_name": estimator.name}
        settings.pop("run", None)
        write_folder(out, run_, plane, text.getvalue(), settings)
        print(f"\nWrote {out}/ (information_plane.png, information_curves.png, plane.csv, results.json)")
    return 0


def write_folder(out: Path, run_, plane, summary: str, settings: dict) -> None:
    """Write into a temporary sibling folder, then move it into place (no half-written output)."""
    from matplotlib.figure import Figure

    from ..plots.information import plot_information_curves, plot_information_plane
    from ..results import to_jsonable

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        fig = Figure(figsize=(6.4, 4.8))
        plot_information_plane(plane, ax=fig.add_subplot())
        fig.savefig(tmp / "information_plane.png", dpi=120, bbox_inches="tight")
        fig = Figure(figsize=(10, 3.8))
        plot_information_curves(plane, axes=fig.subplots(1, 2))
        fig.savefig(tmp / "information_curves.png", dpi=120, bbox_inches="tight")
        plane.to_frame().to_csv(tmp / "plane.csv", index=False)
        run_.to_frame().to_csv(tmp / "training.csv", index=False)
        payload = {"settings": to_jsonable(settings), "plane": plane.to_dict()}
        (tmp / "results.json").write_text(json.dumps(payload, indent=1), encoding="utf-8")
        (tmp / "summary.txt").write_text(summary, encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
