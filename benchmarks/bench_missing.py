"""Missing values: listwise deletion against median fill plus indicator (issue 15).

Data: a synthetic classification table, 6 real and 2 enumerated columns, the class drawn from
a logistic model of four of them; then 10 % of ALL input cells are blanked completely at
random (so only about 0.9^8 = 43 % of the rows are complete), in the training and the test
rows alike. 75/25 stratified split.

Compared, each on the same split:

* ``shallownet drop``: ``ShallowNetClassifier(missing="drop")``: trains on the complete
  training rows and can only score the complete test rows;
* ``shallownet indicator``: ``missing="indicator"``: every row, median fill plus an indicator
  per real column with missing values, a ``missing`` category per enumerated column;
* the peers: a scikit-learn pipeline, ``SimpleImputer(strategy="median", add_indicator=True)``
  and ``MinMaxScaler`` on the real columns, ``SimpleImputer(strategy="constant",
  fill_value="missing")`` and ``OneHotEncoder(handle_unknown="ignore")`` on the enumerated
  ones, followed by ``MLPClassifier`` or ``LogisticRegression``.

Network settings, ours and the peer MLP alike: one hidden layer of 8 logistic units, full-batch
L-BFGS, at most 300 iterations, L2 penalty 1e-4 (each library's own convention for it), one
network. Printed per model: rows kept at train and test, accuracy on the rows it scores,
accuracy on the complete test rows (the rows every model can score), fit time; ours cold
(compilation included) and warm (the compiled program reused), and the peer MLP's time over
ours warm (identical architecture and optimiser).
"""

from __future__ import annotations

import argparse
import warnings

from benchmarks._common import print_table, timed, write_result


def data(n: int, share: float = 0.10, seed: int = 0):
    """``(X, y)``: the table of the module docstring with ``share`` of its cells missing."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    real = rng.normal(size=(n, 6))
    g = rng.choice(["a", "b", "c"], n)
    h = rng.choice(["u", "v"], n)
    z = 1.2 * real[:, 0] - real[:, 1] + 0.8 * real[:, 2] * real[:, 3] + 1.0 * (g == "a") - 0.5
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-z)), "yes", "no")
    X = pd.DataFrame(real, columns=[f"r{i}" for i in range(6)])
    X["g"], X["h"] = g.astype(object), h.astype(object)
    mask = rng.random(X.shape) < share
    for j, col in enumerate(X.columns):
        X.loc[mask[:, j], col] = np.nan if X[col].dtype.kind == "f" else None
    return X, y


def peer_pipeline(final):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

    prep = ColumnTransformer([
        ("real", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), MinMaxScaler()),
         [f"r{i}" for i in range(6)]),
        ("enum", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                               OneHotEncoder(handle_unknown="ignore")), ["g", "h"]),
    ])
    return make_pipeline(prep, final)


def run(n: int, max_iter: int) -> dict:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    from shallownet import ShallowNetClassifier

    X, y = data(n)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    complete_te = Xte.notna().all(axis=1).to_numpy()
    rows = []

    def record(name, model, fit_s, scored, ratio=None):
        pred = model.predict(Xte[scored])
        pred_complete = model.predict(Xte[complete_te])
        rows.append({
            "model": name, "train_rows": None, "test_rows": int(scored.sum()),
            "accuracy": float(np.mean(pred == yte[scored])),
            "acc_complete_rows": float(np.mean(pred_complete == yte[complete_te])),
            "fit_s": fit_s, "peer_s_over_ours": ratio,
        })

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        def ours(missing):
            return ShallowNetClassifier(hidden_layer_sizes=(8,), activation="logistic", optimizer="lbfgs",
                                        max_iter=max_iter, alpha=1e-4, missing=missing, random_state=0)

        for missing in ("drop", "indicator"):
            t_cold, _ = timed(ours(missing).fit, Xtr, ytr)
            t_warm, clf = timed(ours(missing).fit, Xtr, ytr)
            scored = complete_te if missing == "drop" else np.ones(len(Xte), bool)
            for label, t in (("cold", t_cold), ("warm", t_warm)):
                record(f"shallownet {missing} ({label})", clf, t, scored)
                rows[-1]["train_rows"] = int(clf.encoder_.kept_rows_.sum())
        t_ours_warm = rows[-1]["fit_s"]
        everything = np.ones(len(Xte), bool)
        mlp = peer_pipeline(MLPClassifier(hidden_layer_sizes=(8,), activation="logistic", solver="lbfgs",
                                          alpha=1e-4, max_iter=max_iter, random_state=0))
        t_mlp, mlp = timed(mlp.fit, Xtr, ytr)
        record("sklearn imputer+indicator, MLP", mlp, t_mlp, everything, t_mlp / t_ours_warm)
        rows[-1]["train_rows"] = len(Xtr)
        lr = peer_pipeline(LogisticRegression(max_iter=1000))
        t_lr, lr = timed(lr.fit, Xtr, ytr)
        record("sklearn imputer+indicator, logistic", lr, t_lr, everything)
        rows[-1]["train_rows"] = len(Xtr)
    return {"n": n, "share_missing_cells": 0.10, "n_train": len(Xtr), "n_test": len(Xte),
            "complete_test_rows": int(complete_te.sum()), "rows": rows}


def main(quick: bool = False) -> dict:
    n, max_iter = (300, 20) if quick else (4000, 300)
    result = run(n, max_iter)
    print(f"Missing values: {n} rows x 8 columns, 10 % of cells missing at random "
          f"({result['complete_test_rows']} of {result['n_test']} test rows complete); one hidden layer of 8 "
          f"logistic units, L-BFGS, at most {max_iter} iterations")
    print_table(result["rows"], ["model", "train_rows", "test_rows", "accuracy", "acc_complete_rows", "fit_s",
                                 "peer_s_over_ours"])
    if not quick:
        print("wrote", write_result("missing", result))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    main(quick=parser.parse_args().quick)
