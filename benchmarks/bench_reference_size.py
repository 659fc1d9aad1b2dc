"""How the kNN reference size trades accuracy of expected influence for time (issue 8).

``expected_influence`` searches each case's neighbours among ``reference_size`` random rows
(default 10,000) so that its cost per case does not grow with N. This script shows what a
smaller reference costs in accuracy: on N = 20,000 cases of the influence benchmark's data
(20 correlated normal variables, a trained 16-unit network), EI for all variables with the
kNN conditional is computed with every row as reference (k = 141) and with random subsets of
10,000, 5,000, 2,000 and 1,000 rows (k = max(20, sqrt(R))). Printed per size: seconds, k, the
largest difference of a variable's mean EI from the all-rows value, the mean per-case
difference, the rank correlation of the variables' mean EI, and the conditional's held-out
diagnostics (mean log score of the own cell, 90 % coverage) averaged over variables.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from scipy.stats import spearmanr

from benchmarks._common import print_table, timed, write_result
from benchmarks.bench_influence import data


def main(quick: bool = False) -> dict:
    from shallownet import ShallowNetClassifier
    from shallownet.interpret.influence import expected_influence

    n = 4000 if quick else 20_000
    sizes = [n, 2000, 1000] if quick else [n, 10_000, 5000, 2000, 1000]
    X, y = data(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short fit is enough to have a model to explain
        clf = ShallowNetClassifier(hidden_layer_sizes=(16,), optimizer="adam", max_iter=30 if quick else 60, random_state=0).fit(X, y)
    expected_influence(clf, X[:500], reference_size=None)  # compile once
    results = {}
    for size in sizes:
        seconds, r = timed(expected_influence, clf, X, reference_size=size)
        results[size] = (seconds, r)
    ref = results[n][1]
    rows = []
    for size, (seconds, r) in results.items():
        knn = r.diagnostics[r.diagnostics["conditional"] == "knn"]
        rows.append({
            "reference rows": size, "k": r.n_neighbors, "seconds": seconds,
            "max |mean EI diff|": float(np.abs(r.expected.mean(0) - ref.expected.mean(0)).max()),
            "mean |case diff|": float(np.abs(r.expected - ref.expected).mean()),
            "Spearman of means": float(spearmanr(r.expected.mean(0), ref.expected.mean(0)).statistic),
            "log score": float(knn["log_score"].mean()), "coverage90": float(knn["coverage90"].mean()),
        })
    print(f"N = {n}, D = 20; differences against the search over all {n} rows")
    print_table(rows, list(rows[0]))
    path = write_result("reference_size", {"n": n, "quick": quick, "rows": rows})
    print(f"wrote {path}")
    return {"rows": rows}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    main(quick=parser.parse_args().quick)
