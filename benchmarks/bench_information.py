"""Information-plane speed against faithful NumPy versions of the original algorithms (issue 5).

Rows:
* binning, one layer at one epoch: the original algorithm in NumPy (digitise against 30
  float32 edges on [-1, 1], distinct rows through a void view, H(T | X) by a loop over the 4096
  input patterns, H(T | Y) by a loop over the labels) against ours, both on the same
  activations of a 12-10-7-5-4-3-2 tanh network; ours as one call, and per layer-epoch
  inside a whole information plane (every layer, many snapshots, seeds batched);
* KDE bounds, one layer at one epoch: the N x N NumPy computation (scipy's logsumexp) against
  ours (row blocks, jit);
* a full single-seed run of the 12-bit task as a command-line user sees it (a fresh process,
  no compilation cache: 10,000 epochs, 279 snapshots, every layer, binning), with the MI time
  the original algorithm would need for the same 279 x 6 layer-epochs;
* the 50-seed run the paper averages: measured for real with ``--seeds50``; otherwise its
  mutual-information part is measured on the real workload (50 seeds x 279 snapshots) and its
  training time is extrapolated from 50 seeds trained for a few hundred epochs.

Quality: the largest difference in bits between ours and the NumPy original on the same
activations (agreement to float rounding is the requirement).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
import warnings

import numpy as np

from benchmarks._common import print_table, timed, write_result


# -- faithful NumPy versions of the original algorithms ------------------------------------------
def _distinct_row_probabilities(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.ascontiguousarray(a).view(np.dtype((np.void, a.dtype.itemsize * a.shape[1])))
    _, inverse, counts = np.unique(rows, return_inverse=True, return_counts=True)
    return counts / counts.sum(), inverse.reshape(-1)


def _entropy(p: np.ndarray) -> float:
    return float(-np.sum(p * np.log2(p)))


def original_binning(activity: np.ndarray, inputs: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """I(X;T), I(T;Y) in bits by the original per-pattern algorithm."""
    edges = np.linspace(-1, 1, 30).astype(np.float32)
    digitised = edges[np.digitize(activity.reshape(-1), edges) - 1].reshape(len(activity), -1)
    p_t, _ = _distinct_row_probabilities(digitised)
    h_t = _entropy(p_t)
    p_x, x_of = _distinct_row_probabilities(inputs)
    h_t_given_x = 0.0
    for i in range(len(p_x)):
        p, _ = _distinct_row_probabilities(digitised[x_of == i])
        h_t_given_x += p_x[i] * _entropy(p)
    h_t_given_y = 0.0
    for c in np.unique(labels):
        p, _ = _distinct_row_probabilities(digitised[labels == c])
        h_t_given_y += np.mean(labels == c) * _entropy(p)
    return h_t - h_t_given_x, h_t - h_t_given_y


def numpy_kde(activity: np.ndarray, labels: np.ndarray, s2: float) -> tuple[float, float]:
    """KDE upper bounds on I(X;T), I(T;Y) in bits with the whole N x N matrix in NumPy."""
    from scipy.special import logsumexp

    h = activity.astype(np.float64)
    sq = (h**2).sum(1)
    d = np.maximum(sq[:, None] + sq[None, :] - 2 * h @ h.T, 0) / (2 * s2)
    n = len(h)
    i_xt = np.log(n) - logsumexp(-d, axis=1).mean()
    h_cond = 0.0
    for c in np.unique(labels):
        m = labels == c
        h_cond += m.mean() * (np.log(m.sum()) - logsumexp(-d[np.ix_(m, m)], axis=1).mean())
    return i_xt / np.log(2), (i_xt - h_cond) / np.log(2)


# -- the benchmark ---------------------------------------------------------------------------------
def _run_bottleneck(seeds: int, epochs: int) -> dict:
    """``shallownet bottleneck`` in a fresh process without a compilation cache; its own timings."""
    import os

    env = {**os.environ, "SHALLOWNET_CACHE_DIR": "off"}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "shallownet.cli", "bottleneck", "--seeds", str(seeds),
                          "--epochs", str(epochs), "--quiet"], capture_output=True, text=True, env=env, check=True)
    wall = time.perf_counter() - start
    train_s, mi_s = map(float, re.search(r"training ([\d.]+) s, mutual information ([\d.]+) s", out.stdout).groups())
    pattern = r"held-out accuracy after \d+ epochs \(mean over seeds\): ([\d.]+)"
    accuracy = float(re.search(pattern, out.stdout).group(1))
    return {"wall_s": wall, "train_s": train_s, "mi_s": mi_s, "accuracy": accuracy, "stdout": out.stdout}


def main(quick: bool = False, seeds50: bool = False) -> dict:
    warnings.simplefilter("ignore")
    import jax
    import jax.numpy as jnp

    from shallownet.datasets import twelve_bit_task
    from shallownet.information import (KDE, information_plane, mutual_information, snapshot_schedule,
                                        train_with_snapshots)
    from shallownet.models.layers import layer_outputs

    task = twelve_bit_task()
    x = task.X.to_numpy()
    y = task.y.to_numpy()
    rows, quality = [], {}

    # Activations of a trained tanh network (8 seeds, snapshots along training).
    n_seeds, epochs = (2, 100) if quick else (8, 400)
    run = train_with_snapshots(task.X, task.y, train_index=task.train_index, n_seeds=n_seeds, epochs=epochs,
                               snapshot_epochs=snapshot_schedule(epochs, 60), random_state=0)
    n_snap = len(run.epochs)
    params = jax.tree_util.tree_map(lambda a: a[-1, 0], run.params)
    layers = [np.asarray(t) for t in layer_outputs(params, jnp.asarray(run.X, jnp.float32), "tanh", "softmax")]

    # Binning, one layer-epoch: original vs ours on the 10-unit first layer (and all layers for quality).
    t_orig, ref = timed(original_binning, layers[0], x, y)
    mutual_information(layers[0], y)  # compile
    t_ours, ours = timed(mutual_information, layers[0], y)
    diffs = []
    for layer in layers[: 2 if quick else len(layers)]:
        r_xt, r_ty = original_binning(layer, x, y)
        m = mutual_information(layer, y)
        diffs += [abs(m.I_XT - r_xt), abs(m.I_TY - r_ty)]
    quality["binning_max_abs_diff_bits"] = max(diffs)
    information_plane(run)  # compile
    t_plane, plane = timed(information_plane, run)
    per_item = t_plane / (n_snap * n_seeds * len(layers))
    rows += [
        {"task": "binning, 1 layer-epoch (4096 x 10)", "peer": "original NumPy", "peer s": t_orig,
         "ours s": t_ours, "ratio": t_orig / t_ours, "max |diff| bits": quality["binning_max_abs_diff_bits"]},
        {"task": f"binning, per layer-epoch in a plane ({n_seeds} seeds x {n_snap} snapshots x 6 layers)",
         "peer": "original NumPy", "peer s": t_orig, "ours s": per_item, "ratio": t_orig / per_item,
         "max |diff| bits": None},
    ]

    # KDE, one layer-epoch.
    t_np, ref_kde = timed(numpy_kde, layers[0].astype(np.float64), y, 0.1)
    kde = KDE(noise_variance=0.1)
    mutual_information(layers[0], y, estimator=kde)
    t_kde, ours_kde = timed(mutual_information, layers[0], y, estimator=kde)
    quality["kde_max_abs_diff_bits"] = max(abs(ours_kde.I_XT - ref_kde[0]), abs(ours_kde.I_TY - ref_kde[1]))
    rows.append({"task": "KDE s2=0.1, 1 layer-epoch (4096 x 10)", "peer": "NumPy N x N", "peer s": t_np,
                 "ours s": t_kde, "ratio": t_np / t_kde, "max |diff| bits": quality["kde_max_abs_diff_bits"]})

    # Full single-seed run end to end in a fresh process (compilation included).
    full_epochs = 300 if quick else 10_000
    single = _run_bottleneck(1, full_epochs)
    n_full = len(snapshot_schedule(full_epochs))
    original_mi = t_orig * n_full * 6
    rows.append({"task": f"full run, 1 seed, {full_epochs} epochs, {n_full} snapshots: MI",
                 "peer": "original NumPy (projected)", "peer s": original_mi, "ours s": single["mi_s"],
                 "ratio": original_mi / single["mi_s"], "max |diff| bits": None})
    rows.append({"task": "full run, 1 seed: training + MI + start-up (fresh process)", "peer": None,
                 "peer s": None, "ours s": single["wall_s"], "ratio": None, "max |diff| bits": None})

    # The 50-seed run.
    if seeds50:
        fifty = _run_bottleneck(50, 10_000)
        fifty_row = {"task": "50 seeds, 10,000 epochs (measured, fresh process)", "ours s": fifty["wall_s"]}
        fifty_detail = {k: v for k, v in fifty.items() if k != "stdout"}
    else:
        # Training: whole chunks of 50 epochs (the loop's unit), compiled by a first call.
        # MI: as many snapshots as the real schedule has (279), all of them from this run.
        s50, e50, n50 = (4, 50, 30) if quick else (50, 300, 279)
        kw = dict(train_index=task.train_index, n_seeds=s50, random_state=0)
        train_with_snapshots(task.X, task.y, epochs=50, snapshot_epochs=[0, 1], **kw)
        start = time.perf_counter()
        run50 = train_with_snapshots(task.X, task.y, epochs=e50, snapshot_epochs=np.arange(n50), **kw)
        t_train50 = time.perf_counter() - start
        start = time.perf_counter()
        information_plane(run50)
        t_mi50 = time.perf_counter() - start
        per_epoch = t_train50 / e50
        projected = per_epoch * 10_000 + t_mi50
        fifty_row = {"task": f"{s50} seeds: MI on {n50} snapshots measured, 10,000-epoch training extrapolated "
                             f"from {e50} epochs", "ours s": projected}
        fifty_detail = {"seeds": s50, "snapshots": n50, "train_epochs_measured": e50, "train_s": t_train50,
                        "train_s_per_epoch": per_epoch, "mi_s": t_mi50, "projected_total_s": projected}
    rows.append({**fifty_row, "peer": None, "peer s": None, "ratio": None, "max |diff| bits": None})

    print(f"12-bit task, tanh 12-10-7-5-4-3-2; activations of a network trained {epochs} epochs")
    print_table(rows, ["task", "peer", "peer s", "ours s", "ratio", "max |diff| bits"])
    print(f"single-seed run: training {single['train_s']:.1f} s, MI {single['mi_s']:.1f} s, wall "
          f"{single['wall_s']:.1f} s, held-out accuracy {single['accuracy']:.3f}")
    print("50 seeds: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                   for k, v in fifty_detail.items()))
    result = {"quick": quick, "rows": rows, "quality": quality,
              "single_seed": {k: v for k, v in single.items() if k != "stdout"}, "fifty_seeds": fifty_detail}
    write_result("information_quick" if quick else "information", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds50", action="store_true", help="run the 50-seed, 10,000-epoch run for real")
    a = parser.parse_args()
    main(quick=a.quick, seeds50=a.seeds50)
