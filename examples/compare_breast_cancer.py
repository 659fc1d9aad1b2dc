"""A network and logistic regression side by side, on breast-cancer data and on penguins.

Breast cancer (scikit-learn's bundled Wisconsin data, 569 tumours, malignant or benign): six
of the "mean" measurements, a one-hidden-layer network and a logistic regression on the SAME
encoded variables. Prints the regression's coefficient table (odds ratios per [0, 1] range
and per raw unit, LR test, pseudo-R2), the held-out comparison (metrics with paired bootstrap
intervals, McNemar, DeLong), a 5-fold cross-validated comparison on the same folds, and the
network's permutation importance (scikit-learn's, in log-loss) beside the regression's
coefficients and Wald statistics. Draws metric bars, calibration and ROC curves, and the
importance-against-coefficient scatter.

Penguins (three species, island and sex enumerated): the maximum-likelihood multinomial
regression does not exist -- island, and the measurements together, separate the species --
so the example prints that diagnosis and compares the network with the penalised
regression's predictions.

    python examples/compare_breast_cancer.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

FEATURES = [
    "mean radius", "mean texture", "mean smoothness", "mean compactness",
    "mean concave points", "mean symmetry",
]


def main(quick: bool = False, out: str | Path = "compare_breast_cancer") -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_breast_cancer
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import train_test_split

    import shallownet as sn
    from shallownet.baselines import SeparationError, compare, compare_cv, fit_logistic, side_by_side
    from shallownet.data.encoder import OutOfRangeWarning
    from shallownet.plots.baselines import (
        plot_calibration, plot_importance_vs_coefficient, plot_metrics, plot_roc,
    )

    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", OutOfRangeWarning)  # a few test cases lie outside the training range
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    epochs = 60 if quick else 600
    n_boot = 100 if quick else 2000

    def network():
        return sn.ShallowNetClassifier(hidden_layer_sizes=(8,), learning_rate=0.02, max_iter=epochs, random_state=0)

    # -- breast cancer ---------------------------------------------------------------------
    data = load_breast_cancer(as_frame=True)
    X = data.data[FEATURES]
    y = data.target.map({0: "malignant", 1: "benign"})
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    clf = network().fit(Xtr, ytr)
    lr = fit_logistic(Xtr, ytr, encoder=clf.encoder_)
    print(lr.summary())
    print()
    held_out = compare(clf, Xte, yte, lr, n_bootstrap=n_boot)
    print(held_out.summary())
    print()
    crossed = compare_cv(network(), X, y, cv=2 if quick else 5, n_bootstrap=n_boot)
    print(crossed.summary())
    print()

    perm = permutation_importance(
        clf, Xte, yte, scoring="neg_log_loss", n_repeats=3 if quick else 20, random_state=0
    )
    importance = {"permutation": dict(zip(FEATURES, perm.importances_mean))}
    sbs = side_by_side(importance, lr)
    print(sbs.summary())

    figures = {
        "metrics": lambda ax: plot_metrics(held_out, ax=ax, kind="difference"),
        "calibration": lambda ax: plot_calibration(held_out, ax=ax),
        "roc": lambda ax: plot_roc(held_out, ax=ax),
        "importance_vs_coefficient": lambda ax: plot_importance_vs_coefficient(sbs, "permutation", ax=ax),
    }
    for name, draw in figures.items():
        fig, ax = plt.subplots(figsize=(6, 4.5))
        draw(ax)
        fig.tight_layout()
        fig.savefig(out / f"breast_cancer_{name}.png", dpi=110)
        plt.close(fig)

    # -- penguins ----------------------------------------------------------------------------
    print()
    P, s = sn.datasets.load_penguins()
    keep = P.notna().all(axis=1).to_numpy()
    P, s = P[keep], s[keep]
    Ptr, Pte, str_, ste = train_test_split(P, s, test_size=0.3, stratify=s, random_state=0)
    penguin_net = network().fit(Ptr, str_)
    try:
        fit_logistic(Ptr, str_, encoder=penguin_net.encoder_)
        separated = None
    except SeparationError as err:
        separated = str(err)
        print("Penguins, maximum-likelihood logistic regression:", separated)
    penalised = fit_logistic(Ptr, str_, encoder=penguin_net.encoder_, inference=False)
    penguins = compare(penguin_net, Pte, ste, penalised, n_bootstrap=n_boot)
    print(penguins.summary())
    fig, ax = plt.subplots(figsize=(6, 4.5))
    plot_roc(penguins, ax=ax)
    fig.tight_layout()
    fig.savefig(out / "penguins_roc.png", dpi=110)
    plt.close(fig)
    return {
        "logistic": lr,
        "held_out": held_out,
        "cross_validated": crossed,
        "side_by_side": sbs,
        "penguins": penguins,
        "penguins_separation": separated,
        "out": out,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs, resamples and folds")
    parser.add_argument("--out", default="compare_breast_cancer", help="folder for the figures")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
