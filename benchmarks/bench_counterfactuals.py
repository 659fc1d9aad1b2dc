"""Multi-variable counterfactuals against DiCE (dice-ml) on the same model and cases (issue 17).

Data and model as in ``bench_ale.py``: four correlated real variables and an enumerated one of
four categories, a binary target, a shallownet network with 16 logistic hidden units trained on
N = 2,000 rows. Both libraries are asked for ONE counterfactual of each of the same cases,
every variable free to change within the training data's range, the decision to be flipped:

* **ours**: ``counterfactuals(clf, cases)`` with its defaults (L1 distance in training-range
  units, an enumerated switch counting 1). Warm: the first call, which compiles, is shown apart.
  Also its time per case over 1,000 cases (the per-case cost falls with batching).
* **DiCE** ``method="random"`` and ``method="genetic"`` (``total_CFs=1``,
  ``desired_class="opposite"``, the sklearn backend calling the same fitted estimator on raw
  rows).

What differs: DiCE optimises its own objective (random sampling of a few features; the genetic
method a proximity + sparsity loss with MAD-scaled distances), rounds continuous values to the
data's precision, and stops on its own criteria. Every counterfactual is scored the same way
here: validity = our forward pass disagrees with the case's decision; distance = our L1 in
range units (sum over real variables of |change| / (max - min), plus 1 per switched category);
sparsity = the number of variables changed.
"""

from __future__ import annotations

import argparse
import logging
import warnings

import numpy as np
import pandas as pd

from benchmarks._common import print_table, timed, write_result
from benchmarks.bench_ale import data

FEATURES = ["x0", "x1", "x2", "x3", "c"]


def score(clf, cases: pd.DataFrame, cfs: list) -> dict:
    """Validity, distance and sparsity of counterfactual rows (None: none returned)."""
    net = clf.network_
    ranges = {v.name: v.maximum - v.minimum for v in net.variables if v.kind == "real"}
    base = clf.predict(cases[FEATURES])
    valid, dist, changed = [], [], []
    for n, cf in enumerate(cfs):
        if cf is None:
            valid.append(False)
            continue
        ok = clf.predict(cf[FEATURES].to_frame().T.astype(cases[FEATURES].dtypes.to_dict()))[0] != base[n]
        valid.append(bool(ok))
        if not ok:
            continue
        d, k = 0.0, 0
        for name in FEATURES:
            old, new = cases.iloc[n][name], cf[name]
            if name in ranges:
                step = abs(float(new) - float(old)) / ranges[name]
                d, k = d + step, k + (step > 1e-6)  # above float32 rounding of raw values
            else:
                d, k = d + float(str(new) != str(old)), k + (str(new) != str(old))
        dist.append(d)
        changed.append(k)
    return {"validity": float(np.mean(valid)),
            "mean_distance": float(np.mean(dist)) if dist else None,
            "median_distance": float(np.median(dist)) if dist else None,
            "mean_changed": float(np.mean(changed)) if changed else None}


def dice_counterfactuals(clf, df, y, cases, method):
    import dice_ml

    d = dice_ml.Data(dataframe=df.assign(y=y), continuous_features=FEATURES[:4], outcome_name="y")
    exp = dice_ml.Dice(d, dice_ml.Model(model=clf, backend="sklearn"), method=method)
    out = []
    saved = np.random.get_state()  # DiCE draws from NumPy's global generator: seed it, then restore
    np.random.seed(0)
    try:
        for n in range(len(cases)):  # one case a call: a failure costs only that case
            try:
                res = exp.generate_counterfactuals(cases.iloc[[n]], total_CFs=1, desired_class="opposite",
                                                   verbose=False)
                frame = res.cf_examples_list[0].final_cfs_df
                out.append(None if frame is None or len(frame) == 0 else frame.iloc[0])
            except Exception:  # DiCE raises when it finds no counterfactual
                out.append(None)
    finally:
        np.random.set_state(saved)
    return out


def main(quick: bool = False) -> dict:
    from shallownet import ShallowNetClassifier
    from shallownet.interpret import counterfactuals

    logging.getLogger("dice_ml").setLevel(logging.ERROR)
    n_cases = 4 if quick else 40
    n_train = 500 if quick else 2000
    df, y = data(n_train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = ShallowNetClassifier(hidden_layer_sizes=(16,), random_state=0, max_iter=200).fit(df, y)
    cases = df.iloc[:n_cases]
    print(f"N = {n_train} training rows, {n_cases} cases, 4 real + 1 enumerated (4 categories), "
          f"hidden = 16 logistic, train accuracy {clf.score(df, y):.3f}", flush=True)
    first, _ = timed(counterfactuals, clf, cases)
    t_ours, ours = timed(counterfactuals, clf, cases)
    ours_cfs = [ours.raw_counterfactuals.iloc[n] if ours.found[n] else None for n in range(n_cases)]
    rows = [{"method": "ours", "cases": n_cases, "s_per_case": t_ours / n_cases, "dice/ours": None,
             **score(clf, cases, ours_cfs)}]
    many = df.iloc[:100 if quick else 1000]
    counterfactuals(clf, many)  # compiles for this chunk shape
    t_many, res_many = timed(counterfactuals, clf, many)
    rows.append({"method": f"ours, {len(many)} cases", "cases": len(many), "s_per_case": t_many / len(many),
                 "dice/ours": None, "validity": float(res_many.found.mean()),
                 "mean_distance": float(np.nanmean(res_many.distance)),
                 "median_distance": float(np.nanmedian(res_many.distance)),
                 "mean_changed": float(res_many.changed[res_many.found].sum(1).mean())})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in (["random"] if quick else ["random", "genetic"]):
            t_dice, cfs = timed(dice_counterfactuals, clf, df, y, cases, method)
            rows.append({"method": f"DiCE {method}", "cases": n_cases, "s_per_case": t_dice / n_cases,
                         "dice/ours": (t_dice / n_cases) / (t_ours / n_cases), **score(clf, cases, cfs)})
    print(f"first call of ours (compiles): {first:.2f} s; distance: L1 in training-range units, "
          "1 per switched category, over the valid counterfactuals")
    print_table(rows, ["method", "cases", "s_per_case", "dice/ours", "validity", "mean_distance",
                       "median_distance", "mean_changed"])
    result = {"n_cases": n_cases, "first_call_s": first, "rows": rows}
    if not quick:
        print("wrote", write_result("counterfactuals", result))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    main(quick=parser.parse_args().quick)
