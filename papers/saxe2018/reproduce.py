"""Reproduce the estimator checks of Saxe et al. (2018) on the 12-bit task and the minimal model.

* relu network 12-10-7-5-4-3-2 (same training as Shwartz-Ziv & Tishby) with bins of width
  0.07 over an unbounded range (they span whatever range relu units take): no compression
  in the hidden layers;
* the same relu snapshots with the original 30 edges on [-1, 1]: every value >= 1 shares one
  bin, so growing weights look like compression (an artefact of the estimator);
* KDE upper bounds with noise variance s2 = 0.1 and 1e-3, for the tanh and the relu network;
* the minimal model h = tanh(w x), x ~ N(0, 1), binned with 30 edges on [-1, 1]: I(X;T) peaks
  near w = 1 (about 4.83 bits) and falls towards 1 bit; relu with width-0.07 bins keeps rising.

    python papers/saxe2018/reproduce.py                       # the run in README.md
    python papers/saxe2018/reproduce.py --quick --out /tmp/sx  # a smoke run (tests)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def minimal_model(n_samples: int, ws: np.ndarray, seed: int = 0) -> dict:
    """Binned I(X;T) = H(T) of one unit against its weight, from samples x ~ N(0, 1)."""
    from shallownet.information import Binning, mutual_information

    x = np.random.default_rng(seed).standard_normal(n_samples)
    label = x > 0  # I(T;Y) is not used here; mutual_information needs labels
    tanh = [mutual_information(np.tanh(w * x)[:, None], label).I_XT for w in ws]
    relu = [mutual_information(np.maximum(w * x, 0)[:, None], label, estimator=Binning("fixed", width=0.07)).I_XT
            for w in ws]
    return {"w": ws.tolist(), "tanh_30_edges": tanh, "relu_width_0.07": relu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 60 epochs, a few snapshots")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10000)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    seeds, epochs, points, n_min = (2, 60, 8, 20_000) if args.quick else (args.seeds, args.epochs, 400, 100_000)

    from matplotlib.figure import Figure

    import shallownet as sn
    from shallownet.information import KDE, Binning, information_plane, snapshot_schedule, train_with_snapshots
    from shallownet.plots.information import plot_information_plane
    from shallownet.plots.files import save_small_png
    from shallownet.results import to_jsonable

    task = sn.datasets.twelve_bit_task("original")
    schedule = snapshot_schedule(epochs, points)
    runs, planes, timings = {}, {}, {}
    for activation in ("relu", "tanh"):
        start = time.perf_counter()
        runs[activation] = train_with_snapshots(task.X, task.y, train_index=task.train_index, activation=activation,
                                                n_seeds=seeds, epochs=epochs, snapshot_epochs=schedule, random_state=0)
        timings[f"train {activation}"] = time.perf_counter() - start
    settings = {
        ("relu", "bins width 0.07"): Binning("fixed", width=0.07),
        ("relu", "bins 30 edges on [-1, 1]"): Binning(),
        ("tanh", "KDE s2 = 0.1"): KDE(noise_variance=0.1),
        ("relu", "KDE s2 = 0.1"): KDE(noise_variance=0.1),
        ("tanh", "KDE s2 = 1e-3"): KDE(noise_variance=1e-3),
        ("relu", "KDE s2 = 1e-3"): KDE(noise_variance=1e-3),
    }
    # The quick mode measures on every 4th pattern only (1024 rows): a smoke run of the code paths.
    rows = dict(X=task.X.iloc[::4], y=task.y.iloc[::4]) if args.quick else {}
    for (activation, name), estimator in settings.items():
        start = time.perf_counter()
        planes[activation, name] = information_plane(runs[activation], estimator=estimator, **rows)
        timings[f"{activation}, {name}"] = time.perf_counter() - start

    print(f"12-10-7-5-4-3-2, {seeds} seeds, {epochs} epochs, {len(schedule)} snapshots")
    for activation, run in runs.items():
        final = run.to_frame().iloc[-1]
        print(f"  {activation}: held-out accuracy {final['val_accuracy_mean']:.3f} +- {final['val_accuracy_sd']:.3f}")
    print("  times (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    summary = {}
    for (activation, name), plane in planes.items():
        table = plane.compression()
        summary[f"{activation}, {name}"] = to_jsonable(table)
        print(f"\n{activation}, {name}: I(X;T) of the mean curve (start / peak / final) and compression = "
              "mean over seeds of peak - final, with its standard error (bits)")
        print(table[["layer", "I_XT_start", "I_XT_peak", "peak_epoch", "I_XT_final", "compression",
                     "compression_se", "I_TY_final"]].to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    ws = np.concatenate([np.linspace(0.1, 2.0, 20), np.geomspace(2.5, 100.0, 12)])
    mini = minimal_model(n_min, ws)
    tanh = np.asarray(mini["tanh_30_edges"])
    relu = np.asarray(mini["relu_width_0.07"])
    print(f"\nminimal model ({n_min} samples): tanh, 30 edges: peak {tanh.max():.3f} bits at "
          f"w = {ws[tanh.argmax()]:.2f}; {tanh[np.argmin(np.abs(ws - 1))]:.3f} bits at w = 1; "
          f"{tanh[-1]:.3f} bits at w = {ws[-1]:g}")
    print(f"relu, width 0.07: {relu[0]:.3f} bits at w = {ws[0]:g} rising to {relu[-1]:.3f} at w = {ws[-1]:g} "
          f"(monotone: {bool(np.all(np.diff(relu) > 0))})")

    fig = Figure(figsize=(16, 8.5), layout="constrained")
    axes = fig.subplots(2, 3)
    shown = [("relu", "bins width 0.07"), ("relu", "bins 30 edges on [-1, 1]"), None,
             ("tanh", "KDE s2 = 0.1"), ("relu", "KDE s2 = 0.1"), ("relu", "KDE s2 = 1e-3")]
    for ax, key in zip(axes.ravel(), shown):
        if key is None:
            ax.plot(ws, mini["tanh_30_edges"], "o-", ms=3, label="tanh, 30 edges on [-1, 1]")
            ax.plot(ws, mini["relu_width_0.07"], "s-", ms=3, label="relu, width 0.07")
            ax.set_xscale("log")
            ax.set_xlabel("weight w")
            ax.set_ylabel("I(X; T) = H(T) (bits)")
            ax.set_title("minimal model h = s(w x), x ~ N(0, 1)", fontsize=9)
            ax.legend(fontsize=8, frameon=False)
            continue
        plot_information_plane(planes[key], ax=ax, annotate=True)
        ax.set_title(f"{key[0]}, {key[1]}", fontsize=9)
    args.out.mkdir(parents=True, exist_ok=True)
    save_small_png(fig, args.out / "figure.png", dpi=70)
    payload = {"seeds": seeds, "epochs": epochs, "snapshots": len(schedule), "timings_s": timings,
               "per_layer": summary, "minimal_model": mini}
    (args.out / "results.json").write_text(json.dumps(to_jsonable(payload), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
