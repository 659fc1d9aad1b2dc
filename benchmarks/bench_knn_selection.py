"""What the kNN neighbour selection alone costs, against the EI speed targets of issue 4.

Expected influence with the kNN conditional needs, for every explained case and every variable,
the k nearest reference rows in the space of the other variables: one selection of k = 100
among N_ref = 10,000 distances per (case, variable), 20 per case at D = 20. This script times
that selection with the primitives available to a jit-compiled program and to a NumPy loop,
on the influence benchmark's data (``bench_influence.data``), and sets the result against the
two targets measured in the same process:

* **KernelExplainer**: SHAP's time per explained row (100 background rows, default nsamples)
  on a few rows; the 1000x target is that time / 1000.
* **NumPy loop**: ``bench_influence.loop_expected_influence`` per row on a few rows; the 100x
  target is that time / 100.

Rows of the table (times per (case, variable) selection unless said otherwise):

* ``XLA top_k, k=100``: ``jax.lax.top_k`` indices of the k smallest of one case's distances
  without one variable, as the kNN kernel calls it;
* ``XLA top_k, k=1``: the same primitive asked for one value: the least any top-k costs;
* ``XLA fused min``: one pass that only reads the distances (a min-reduction): the least any
  selection that reads every distance once can cost;
* ``NumPy partition``: ``np.partition`` of the same row, as the loop does;
* ``our kNN conditional``: the library's kernel (distances, selection, histograms, tie split)
  per case and variable;
* ``our EI (chunk ...)``: ``expected_influence`` per explained row for each chunk size asked
  for (``--ei-chunks``), for choosing a chunk size on an accelerator.

The floor rows multiply a per-selection time by the 20 selections one explained row needs,
divide it by the cores for the primitives that run on one core (the library's EI runs chunks in
one thread per core), and compare it with the per-row budget each target leaves.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from benchmarks._common import print_table, timed, write_result


def _per_call(fn, arg, reps: int) -> float:
    """Seconds per call of a jitted ``fn`` (compiled and warmed first)."""
    import jax

    jax.block_until_ready(fn(arg))
    start = time.perf_counter()
    for _ in range(reps):
        jax.block_until_ready(fn(arg))
    return (time.perf_counter() - start) / reps


def distances_without_one_variable(x: np.ndarray, cases: int, variable: int = 0) -> np.ndarray:
    """Squared distances (scaled by each column's sd) from the first ``cases`` rows to every
    row of ``x`` without ``variable``'s term, float32, shape ``(cases, N)``."""
    t = (x / x.std(axis=0)).astype(np.float32)
    diff2 = (t[:cases, None, :] - t[None, :, :]) ** 2
    d = diff2.sum(axis=2) - diff2[:, :, variable]
    d[np.arange(cases), np.arange(cases)] = np.inf
    return d


def main(quick: bool = False, ei_chunks=("auto",)) -> dict:
    import jax
    import jax.numpy as jnp
    import shap

    from benchmarks.bench_influence import data, loop_expected_influence
    from shallownet import ShallowNetClassifier
    from shallownet.interpret.conditionals import KnnConditional
    from shallownet.interpret.influence import expected_influence

    n = 2000 if quick else 10_000
    cases, reps = (64, 3) if quick else (256, 5)
    n_loop, n_shap = (10, 1) if quick else (50, 2)
    X, y = data(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = ShallowNetClassifier(hidden_layer_sizes=(16,), optimizer="adam", max_iter=30 if quick else 60, random_state=0).fit(X, y)
    net = clf.network_
    x = net.encode(X)
    V = x.shape[1]
    k = min(max(20, int(np.sqrt(n))), n - 1)
    print(f"N_ref = {n}, D = V = {V}, k = {k}; selections timed on {cases} cases; "
          f"devices {jax.devices()}", flush=True)

    d = jnp.asarray(distances_without_one_variable(x, cases))
    top_k = jax.jit(lambda a: jax.lax.top_k(-a, k)[1])
    top_1 = jax.jit(lambda a: jax.lax.top_k(-a, 1)[1])
    fused_min = jax.jit(lambda a: a.min(axis=1))
    per_sel = {
        f"XLA top_k, k={k} (indices)": _per_call(top_k, d, reps) / cases,
        "XLA top_k, k=1": _per_call(top_1, d, reps) / cases,
        "XLA fused min (reads each distance once)": _per_call(fused_min, d, reps) / cases,
    }
    d_np = np.array(d)  # a fresh host copy, touched once before timing like the jitted calls
    np.partition(d_np, k - 1, axis=1)
    t_part, _ = timed(lambda: [np.partition(d_np, k - 1, axis=1) for _ in range(reps)])
    per_sel["NumPy partition (the loop's selection)"] = t_part / reps / cases

    # The library's kNN kernel alone (distances, selection, histograms, ties) per (case, variable).
    variables = tuple(net.variables)
    cond = KnnConditional.fit(variables, variables, x, 51, None, True)
    rows_idx = np.arange(cases)
    cond.masses(x[:cases], rows_idx)  # compile
    t_knn, _ = timed(lambda: [cond.masses(x[:cases], rows_idx) for _ in range(reps)])
    per_sel["our kNN conditional (per case and variable)"] = t_knn / reps / cases / V

    # The peers, in this process, per explained row.
    subset = np.linspace(0, n - 1, n_loop).astype(int)
    t_loop, _ = timed(loop_expected_influence, net, x, subset, k, 51)
    loop_row = t_loop / n_loop
    explainer = shap.KernelExplainer(lambda A: net.predict_proba(A, encoded=True)[:, 1], x[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_shap, _ = timed(explainer.shap_values, x[:n_shap], silent=True)
    shap_row = t_shap / n_shap
    budget_shap, budget_loop = shap_row / 1000, loop_row / 100

    # A top-k, a partition and one call of our kernel run on one core; the fused min already
    # uses every core. The per-row floor assumes the single-core ones spread over all cores.
    cores = os.cpu_count() or 1
    one_core = {name: not name.startswith("XLA fused") for name in per_sel}
    floor_col = f"x{V} = ms/row ({cores} cores)"
    rows = []
    for name, sec in per_sel.items():
        floor = V * sec / (cores if one_core[name] else 1)
        rows.append({
            "selection": name, "us/selection": 1e6 * sec, floor_col: 1e3 * floor,
            "vs 1000x SHAP budget": floor / budget_shap, "vs 100x loop budget": floor / budget_loop,
        })
    ei_rows = []
    for chunk in ei_chunks:
        cs = chunk if chunk == "auto" else int(chunk)
        expected_influence(clf, X, chunk_size=cs)  # compiles this chunk shape
        t_ei, _ = timed(expected_influence, clf, X, chunk_size=cs)
        ei_rows.append({"selection": f"our EI, all {V} variables (chunk {chunk})", "us/selection": None,
                        floor_col: 1e3 * t_ei / n, "vs 1000x SHAP budget": t_ei / n / budget_shap,
                        "vs 100x loop budget": t_ei / n / budget_loop})
    print_table(rows + ei_rows, ["selection", "us/selection", floor_col, "vs 1000x SHAP budget",
                                 "vs 100x loop budget"])
    print(f"Per-row budgets: SHAP KernelExplainer {1e3 * shap_row:.1f} ms/row ({n_shap} rows) / 1000 = "
          f"{1e3 * budget_shap:.4f} ms; NumPy loop {1e3 * loop_row:.3f} ms/row ({n_loop} rows) / 100 = "
          f"{1e3 * budget_loop:.4f} ms. The per-row column is {V} selections, divided by the "
          f"{cores} cores for those that run on one core (all but the fused min); a ratio above 1 "
          "means that selection alone already costs more than the target allows for the whole "
          "row.", flush=True)
    payload = {"n_ref": n, "v": V, "k": k, "cases": cases, "quick": quick, "cores": cores,
               "shap_ms_per_row": 1e3 * shap_row, "loop_ms_per_row": 1e3 * loop_row,
               "rows": rows + ei_rows}
    path = write_result("knn_selection", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--ei-chunks", nargs="+", default=["auto"],
                        help="chunk sizes for which to time the whole EI (default: auto)")
    args = parser.parse_args()
    main(quick=args.quick, ei_chunks=tuple(args.ei_chunks))
