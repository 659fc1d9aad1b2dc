"""Reproduce the information plane of Shwartz-Ziv & Tishby (2017) on the 12-bit task.

tanh network 12-10-7-5-4-3-2, softmax output, Adam 4e-4, batch 512, the original unshuffled
80 % split; I(X;T) and I(T;Y) by the original binning (30 edges on [-1, 1]) of every layer at
the original snapshot epochs, on all 4096 patterns, averaged over seeds.

    python papers/shwartz-ziv2017/reproduce.py                 # the run in README.md
    python papers/shwartz-ziv2017/reproduce.py --quick --out /tmp/sz   # a smoke run (tests)

Writes ``figure.png`` and ``results.json`` to ``--out`` (default: this folder) and prints the
numbers quoted in README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 60 epochs, 10 snapshots")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10000)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    seeds, epochs, points = (2, 60, 12) if args.quick else (args.seeds, args.epochs, 400)

    from matplotlib.figure import Figure

    import shallownet as sn
    from shallownet.results import to_jsonable
    from shallownet.information import information_plane, snapshot_schedule, train_with_snapshots
    from shallownet.plots.information import plot_information_curves, plot_information_plane
    from shallownet.plots.files import save_small_png

    task = sn.datasets.twelve_bit_task("original")
    start = time.perf_counter()
    run = train_with_snapshots(task.X, task.y, train_index=task.train_index, activation="tanh",
                               n_seeds=seeds, epochs=epochs, snapshot_epochs=snapshot_schedule(epochs, points),
                               random_state=0)
    trained = time.perf_counter()
    plane = information_plane(run)
    measured = time.perf_counter()

    final = run.to_frame().iloc[-1]
    print(f"tanh 12-10-7-5-4-3-2, {seeds} seeds, {epochs} epochs, {len(run.epochs)} snapshots; "
          f"training {trained - start:.0f} s, binning MI {measured - trained:.1f} s")
    print(f"final training loss {final['train_loss_mean']:.4f}, held-out accuracy "
          f"{final['val_accuracy_mean']:.3f} +- {final['val_accuracy_sd']:.3f}\n")
    table = plane.compression()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    # The claims: the last hidden layers first fit (I(X;T) and I(T;Y) rise), then compress
    # (I(X;T) falls after its peak) while I(T;Y) stays near H(Y).
    hidden = table[table.layer != "output"]
    compressing = hidden[hidden.compression > 3 * hidden.compression_se + 0.1].layer.tolist()
    print(f"\nH(Y) = {plane.H_Y:.4f} bits; hidden layers whose I(X;T) fell after its peak by more than "
          f"0.1 bits + 3 standard errors (mean over seeds): {compressing or 'none'}")

    fig = Figure(figsize=(13, 4.2), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1, 1.45])
    plot_information_plane(plane, ax=left.add_subplot())
    plot_information_curves(plane, axes=right.subplots(1, 2))
    args.out.mkdir(parents=True, exist_ok=True)
    save_small_png(fig, args.out / "figure.png", dpi=80)
    payload = {"seeds": seeds, "epochs": epochs, "snapshots": len(run.epochs),
               "held_out_accuracy": float(final["val_accuracy_mean"]),
               "H_Y": plane.H_Y, "compressing_hidden_layers": compressing,
               "per_layer": to_jsonable(table)}
    (args.out / "results.json").write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
