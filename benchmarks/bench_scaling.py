"""Time and peak memory against N (issue 8): does each method scale as its algorithm should?

Data: N cases of D = 20 uniform [0, 1] inputs (float32), labelled by a fixed random "teacher"
network 20-16-3 (tanh, softmax) that is also the model explained, so every method sees real
decision boundaries. Methods, each at every N:

* ``train epoch (in-device)`` / ``train epoch (streamed)``: one epoch of
  :func:`shallownet.training.loop.train` (one member, 20-16-3, batch 200), ``stream=False`` and
  ``stream=True``; the call is made once to compile and then timed;
* ``EI (kNN)``: :func:`shallownet.interpret.influence.expected_influence` for all 20 variables,
  kNN conditional, ``reference_size="auto"`` (a random reference of at most 10,000 rows);
* ``EI (kNN, 2,000 ref.)``: the same with ``reference_size=2000`` (k = 44);
* ``derivatives``: :func:`shallownet.interpret.sensitivity.sensitivity`;
* ``binning MI`` / ``KDE MI``: :func:`shallownet.information.mutual_information` of the hidden
  layer (16 units). KDE is O(N^2): an N is skipped when the time projected from the previous N
  (ratio squared) exceeds ``KDE_SECONDS``.

Every timed call follows a warm-up call that compiles it: the same call for the training epoch,
derivatives and MI; for EI (minutes at 1e6) the same call on the first ``EI_WARM_ROWS`` rows,
which has the same chunk and reference shapes once N exceeds it (below, the compilation at the
measured shape is in the time, a fixed cost; slopes are fitted over N >= 1e4).

Each (method, N) runs in a fresh Python process, so its peak resident memory (``ru_maxrss`` of
that process, which it reports at its end) is its own; the parent's ``RUSAGE_CHILDREN`` would
give the largest child so far instead. The same measurement of a process
that only imports JAX and shallownet is the baseline, subtracted in ``extra MB`` (which then
holds the data, float32 N x 20 = ``data MB``, and the method's working memory).

The slopes are least-squares fits of log(time) and log(extra memory) on log(N) over N >= 1e4
(quick mode: over both sizes, so fixed costs dominate and the slope says little), printed beside
the slope each algorithm should have.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

import numpy as np

from benchmarks._common import RESULTS, print_table, write_result

D, HIDDEN, K = 20, 16, 3
SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
KDE_SECONDS = 60.0
EI_WARM_ROWS = 20_000
WORKER_TIMEOUT = 1800
EXPECTED = {
    "train epoch (in-device)": 1.0,
    "train epoch (streamed)": 1.0,
    "EI (kNN)": 1.0,
    "EI (kNN, 2,000 ref.)": 1.0,
    "derivatives": 1.0,
    "binning MI": 1.0,
    "KDE MI": 2.0,
}
METHODS = tuple(EXPECTED)
NOTES = {
    "binning MI": "N log N sort: ~1",
    "EI (kNN)": "reference = all rows up to 10,000 (slope 2 there), then 10,000",
    "EI (kNN, 2,000 ref.)": "reference_size=2000 (see bench_reference_size for its accuracy)",
}


# -- the worker: one measurement in this process --------------------------------------------
def teacher():
    """The fixed 20-16-3 network (weights from a seeded generator)."""
    from shallownet.models.network import Network

    rng = np.random.default_rng(0)
    W1 = rng.normal(size=(D, HIDDEN)) * 1.5
    b1 = -0.5 * W1.sum(axis=0)
    W2 = rng.normal(size=(HIDDEN, K)) * 2.0
    return Network.from_weights([W1, W2], [b1, np.zeros(K)], activation="tanh", output="softmax")


def dataset(n: int):
    rng = np.random.default_rng(1)
    X = rng.random((n, D), dtype=np.float32)
    net = teacher()
    y = np.concatenate([net.predict_proba(X[i:i + 65536], encoded=True).argmax(axis=1)
                        for i in range(0, n, 65536)]).astype(np.int32)
    return net, X, y


def _train(X, y, stream: bool):
    import jax

    from shallownet.models.layers import init_params
    from shallownet.training.loop import named_optimizer, train

    params = jax.vmap(lambda k: init_params(k, (D, HIDDEN, K), "tanh"))(
        jax.random.split(jax.random.PRNGKey(0), 1))
    out = train(params, X, y, activation="tanh", output="softmax", optimizer=named_optimizer("adam"),
                learning_rate=0.01, alpha=1e-4, batch_size=200, max_epochs=1,
                key=jax.random.PRNGKey(1), patience=None, stream=stream, devices="none")
    jax.block_until_ready(out[0])
    return out


def measure(method: str, n: int) -> float:
    """Seconds of the timed call of ``method`` on ``n`` rows (after its warm-up)."""
    from shallownet.information import KDE, Binning, mutual_information
    from shallownet.interpret.influence import expected_influence
    from shallownet.interpret.sensitivity import sensitivity

    net, X, y = dataset(n)
    if method.startswith("train epoch"):
        stream = "streamed" in method
        _train(X, y, stream)  # compiles at this N
        start = time.perf_counter()
        _train(X, y, stream)
        return time.perf_counter() - start
    if method.startswith("EI (kNN"):
        size = 2000 if "2,000" in method else "auto"

        def call(rows):
            return expected_influence(net, X[:rows], y[:rows], encoded=True, reference_size=size)
    elif method == "derivatives":
        def call(rows):
            return sensitivity(net, X[:rows], encoded=True)
    else:
        T = _hidden_layer(net, X)
        est = Binning() if method == "binning MI" else KDE()

        def call(rows):
            return mutual_information(T[:rows], y[:rows], estimator=est)
    call(min(n, EI_WARM_ROWS) if method.startswith("EI (kNN") else n)
    start = time.perf_counter()
    call(n)
    return time.perf_counter() - start


def _hidden_layer(net, X):
    """The hidden layer's values (N, 16) of the single member, computed in row blocks."""
    import jax.numpy as jnp

    W, b = net.params[0].W[0], net.params[0].b[0]
    return np.concatenate([np.asarray(jnp.tanh(X[i:i + 65536] @ W.astype(jnp.float32) + b.astype(jnp.float32)))
                           for i in range(0, X.shape[0], 65536)])


def worker(method: str, n: int) -> None:
    import shallownet.information  # noqa: F401  (the baseline imports the same modules)
    import shallownet.interpret.influence  # noqa: F401
    import shallownet.interpret.sensitivity  # noqa: F401
    import shallownet.training.loop  # noqa: F401

    seconds = None if method == "idle" else measure(method, n)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024}))


def run_worker(method: str, n: int) -> dict:
    """Run one measurement in a fresh process and read back its time and its peak RSS."""
    cmd = [sys.executable, "-m", "benchmarks.bench_scaling", "--worker", method, str(n)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root, timeout=WORKER_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {WORKER_TIMEOUT} s"}
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the driver --------------------------------------------------------------------------------
def slope(ns, values, floor: float) -> float | None:
    """Least-squares slope of log(value) on log(N) over N >= floor (None with < 2 points)."""
    pts = [(math.log(n), math.log(v)) for n, v in zip(ns, values) if n >= floor and v and v > 0]
    if len(pts) < 2:
        return None
    x, v = np.array(pts).T
    return float(np.polyfit(x, v, 1)[0])


def plot(rows: list[dict], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shallownet.plots.files import save_small_png

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"wspace": 0.3})
    for method in METHODS:
        pts = [r for r in rows if r["method"] == method and r.get("seconds")]
        if not pts:
            continue
        ns = [r["N"] for r in pts]
        axes[0].plot(ns, [r["seconds"] for r in pts], "o-", label=method)
        axes[1].plot(ns, [max(r["extra_mb"], 1e-1) for r in pts], "o-", label=method)
    for ax, label in zip(axes, ("time (s)", "peak memory above idle import (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N (cases), D = 20")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("shallownet: time and peak memory against N")
    save_small_png(fig, path)
    plt.close(fig)


def main(quick: bool = False, sizes=None, methods=None) -> dict:
    """Run every (method, N) of ``methods`` x ``sizes`` (defaults: all; N from 1e3 to 1e6)."""
    sizes = tuple(sizes) if sizes else (QUICK_SIZES if quick else SIZES)
    methods = tuple(methods) if methods else METHODS
    floor = min(sizes) if quick else 10_000
    base = run_worker("idle", 0)
    baseline = base["peak_mb"]
    print(f"baseline (a process that imports jax and shallownet): {baseline:.0f} MB peak RSS")
    rows = []
    for method in methods:
        last = None
        for n in sizes:
            row = {"method": method, "N": n, "data MB": n * D * 4 / 2**20}
            if method == "KDE MI" and last is not None and last[1] * (n / last[0]) ** 2 > KDE_SECONDS:
                projected = last[1] * (n / last[0]) ** 2
                row["note"] = f"skipped: projected {projected:.0f} s > {KDE_SECONDS:.0f} s"
                rows.append(row)
                continue
            out = run_worker(method, n)
            if "error" in out:
                row["note"] = out["error"]
            else:
                row.update(seconds=out["seconds"], peak_mb=out["peak_mb"],
                           extra_mb=out["peak_mb"] - baseline)
                last = (n, out["seconds"])
            rows.append(row)
            print(f"  {method:24s} N={n:>9,d}  {row.get('seconds', float('nan')):9.3f} s  "
                  f"{row.get('extra_mb', float('nan')):8.1f} MB above idle", flush=True)
    print()
    print_table(rows, ["method", "N", "seconds", "peak_mb", "extra_mb", "data MB", "note"])
    fits = []
    for method in methods:
        pts = [r for r in rows if r["method"] == method and r.get("seconds")]
        ns = [r["N"] for r in pts]
        fits.append({
            "method": method,
            "time slope": slope(ns, [r["seconds"] for r in pts], floor),
            "memory slope": slope(ns, [r["extra_mb"] for r in pts], floor),
            "expected": EXPECTED[method],
            "points": len([n for n in ns if n >= floor]),
            "note": NOTES.get(method),
        })
    where = "N >= 1e4" if not quick else "both sizes (quick: fixed costs dominate)"
    print(f"\nlog-log slopes, fitted over {where}")
    print_table(fits, ["method", "time slope", "memory slope", "expected", "points", "note"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(rows, RESULTS / "scaling.png")
    payload = {
        "quick": quick, "D": D, "sizes": list(sizes), "baseline_mb": baseline,
        "kde_seconds_cap": KDE_SECONDS, "slope_floor": floor, "rows": rows, "slopes": fits,
    }
    path = write_result("scaling", payload)
    print(f"\nwrote {path} and {RESULTS / 'scaling.png'}")
    return payload


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N in {1e3, 1e4} only")
    parser.add_argument("--sizes", type=int, nargs="+", help="the N to measure (default 1e3 .. 1e6)")
    parser.add_argument("--methods", nargs="+", choices=METHODS, metavar="METHOD",
                        help=f"methods to measure (default all: {', '.join(METHODS)})")
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
    else:
        main(quick=args.quick, sizes=args.sizes, methods=args.methods)
