"""Exact grouped Shapley values: ours against SHAP's Exact, Permutation and Kernel explainers.

Data (3,000 training rows; quick: 500): correlated normal real variables, one enumerated variable (4 categories, one-hot, ONE
player) and one binary variable, V players in all (V = 10 and V = 16; quick: V = 6); a binary
target. One shallownet network (16 logistic hidden units, float32, default optimiser) is
trained on it, and every method explains that model's class probabilities:

* **ours**: ``shallownet.interpret.shapley`` (interventional, exact over 2^V coalitions), warm
  jit cache (the first call's compilation is shown separately); also the antithetic
  permutation estimator (64 pairs of orders per case).
* **SHAP**: ``ExactExplainer`` (exact over the same 2^V coalitions), ``PermutationExplainer``
  and ``KernelExplainer`` (default sample sizes), each warmed by one call on one row, then
  called on a variable-level matrix (the
  enumerated variable as its category index, decoded to one-hot inside the model function)
  so that its players are the same V variables. The model function is a NumPy forward pass
  of the same weights (no compilation per batch size).

Identical settings for the headline ratio: the same model, explained rows, 100 background
rows with equal weights (SHAP's ``Independent`` masker with ``max_samples=100``; ours
``background_method="random"`` over exactly those rows) and the same output. Times are per
explained row; SHAP runs on a subset of the rows (its time is per row of that subset). The
quality figure is the largest |difference| from our exact values on the rows both explained.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from benchmarks._common import print_table, timed, write_result


def data(n: int, n_vars: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """``n_vars - 2`` correlated normal variables, a 4-category and a binary variable."""
    rng = np.random.default_rng(seed)
    d = n_vars - 2
    R = 0.5 ** np.abs(np.subtract.outer(np.arange(d), np.arange(d)))
    Z = rng.standard_normal((n, d)) @ np.linalg.cholesky(R).T
    g = rng.integers(0, 4, n)
    flag = rng.uniform(size=n) < 0.4
    eta = Z[:, 0] - 0.8 * Z[:, 1] + 0.6 * Z[:, 2] * Z[:, 3] + 0.7 * (g == 2) - 0.5 * flag
    y = (eta + 0.5 * rng.standard_normal(n) > 0).astype(int)
    X = pd.DataFrame(Z, columns=[f"x{j}" for j in range(d)])
    X["group"] = np.array(["a", "b", "c", "d"])[g]
    X["flag"] = flag
    return X, y


class VariableModel:
    """The network as a function of a variable-level matrix (one column per player)."""

    def __init__(self, net):
        self.net = net
        self.W = [w[0].astype(np.float64) for w in net.weights()]
        self.b = [b[0].astype(np.float64) for b in net.biases()]

    def to_variables(self, Z: np.ndarray) -> np.ndarray:
        out = np.zeros((len(Z), len(self.net.variables)))
        for i, v in enumerate(self.net.variables):
            block = Z[:, list(v.columns)]
            out[:, i] = block.argmax(axis=1) if v.kind == "enumerated" else block[:, 0]
        return out

    def __call__(self, Vm: np.ndarray) -> np.ndarray:
        Z = np.zeros((len(Vm), self.net.n_inputs))
        for i, v in enumerate(self.net.variables):
            if v.kind == "enumerated":
                Z[np.arange(len(Vm)), np.asarray(v.columns)[Vm[:, i].astype(int)]] = 1.0
            else:
                Z[:, v.columns[0]] = Vm[:, i]
        h = 1 / (1 + np.exp(-(Z @ self.W[0] + self.b[0])))
        p = 1 / (1 + np.exp(-(h @ self.W[1] + self.b[1])[:, 0]))
        return np.stack([1 - p, p], axis=1)


def _kernel(shap, model, bg_v, r):
    """KernelExplainer's values as (rows, V, classes) (older shap versions return a list)."""
    values = shap.KernelExplainer(model, bg_v).shap_values(r, silent=True)
    return np.stack(values, axis=-1) if isinstance(values, list) else np.asarray(values)


def run(n_vars: int, n_rows: int, n_shap: dict, max_iter: int, n_train: int, peers: bool = True) -> dict:
    from shallownet import ShallowNetClassifier
    from shallownet.interpret import shapley

    X, y = data(n_train, n_vars)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = ShallowNetClassifier(hidden_layer_sizes=(16,), max_iter=max_iter, random_state=0).fit(X, y)
    net = clf.network_
    x = net.encode(X)
    rng = np.random.default_rng(1)
    bg = x[rng.choice(len(x), 100, replace=False)]
    rows = x[:n_rows]
    kw = dict(background=bg, encoded=True, background_method="random", n_background=100)
    t_first, _ = timed(shapley, net, rows, **kw)  # compiles for this chunk length
    t_ours, ours = timed(shapley, net, rows, **kw)
    shapley(net, rows, method="permutation", n_pairs=64, **kw)  # compiles
    t_perm, perm = timed(shapley, net, rows, method="permutation", n_pairs=64, **kw)
    out = {"n_vars": n_vars, "n_rows": n_rows, "converged": bool(np.all(clf.converged_)),
           "efficiency_gap": float(np.abs(ours.efficiency_gap).max()), "rows": []}
    out["rows"].append({"method": "ours exact", "rows": n_rows, "s_per_row": t_ours / n_rows,
                        "ratio_peer_over_ours": 1.0, "max_abs_diff": 0.0})
    out["rows"].append({"method": "ours permutation (64 pairs)", "rows": n_rows, "s_per_row": t_perm / n_rows,
                        "ratio_peer_over_ours": (t_perm / n_rows) / (t_ours / n_rows),
                        "max_abs_diff": float(np.abs(perm.values - ours.values).max())})
    out["first_call_s"] = t_first
    if not peers:
        return out
    try:
        import shap
    except ImportError:
        print("shap is not installed: SHAP explainers skipped (pip install shap)")
        return out
    model = VariableModel(net)
    bg_v, rows_v = model.to_variables(bg), model.to_variables(rows)
    masker = shap.maskers.Independent(bg_v, max_samples=100)
    peers = {
        "shap ExactExplainer": lambda r: shap.explainers.ExactExplainer(model, masker)(r).values,
        "shap PermutationExplainer": lambda r: shap.explainers.PermutationExplainer(model, masker)(r, silent=True).values,
        "shap KernelExplainer": lambda r: _kernel(shap, model, bg_v, r),
    }
    for name, fn in peers.items():
        m = n_shap.get(name, 0)
        if m == 0:
            continue
        fn(rows_v[:1])  # warm: SHAP's first call sets itself up
        t, values = timed(fn, rows_v[:m])
        values = np.asarray(values).reshape(ours.values[:m].shape)
        out["rows"].append({"method": name, "rows": m, "s_per_row": t / m,
                            "ratio_peer_over_ours": (t / m) / (t_ours / n_rows),
                            "max_abs_diff": float(np.abs(values - ours.values[:m]).max())})
    return out


def main(quick: bool = False, peers: bool = True) -> dict:
    """Run the settings (quick: one small one) and print the table; ``peers=False`` leaves
    SHAP out (its first call compiles numba code for tens of seconds)."""
    if quick:
        settings = [(6, 8, {"shap ExactExplainer": 2, "shap PermutationExplainer": 2, "shap KernelExplainer": 1}, 50, 500)]
    else:
        settings = [
            (10, 1000, {"shap ExactExplainer": 20, "shap PermutationExplainer": 20, "shap KernelExplainer": 5}, 3000, 3000),
            (16, 1000, {"shap ExactExplainer": 2, "shap PermutationExplainer": 5, "shap KernelExplainer": 2}, 3000, 3000),
        ]
    results = []
    for n_vars, n_rows, n_shap, max_iter, n_train in settings:
        start = time.perf_counter()
        r = run(n_vars, n_rows, n_shap, max_iter, n_train, peers)
        print(f"\nShapley values, V = {n_vars} players (one 4-category one-hot group), {n_rows} rows, "
              f"100 background rows, (16,) logistic, converged={r['converged']}; first call "
              f"(with compilation) {r['first_call_s']:.2f} s; max |efficiency gap| {r['efficiency_gap']:.2g}; "
              f"{time.perf_counter() - start:.0f} s in all")
        print_table(r["rows"], ["method", "rows", "s_per_row", "ratio_peer_over_ours", "max_abs_diff"])
        results.append(r)
    payload = {"settings": results}
    if not quick:
        print("wrote", write_result("shapley", payload))
    return payload


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    main(quick=parser.parse_args().quick)
