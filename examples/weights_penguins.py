"""What the weights say: a weight-based reading of a small ensemble trained on the penguins.

Trains a 5-member ensemble of one-hidden-layer networks on the Palmer penguins (island and sex
are enumerated variables, the four measurements real), prints the weight tables, Garson, Olden
(with Olden & Jackson's randomisation test) and Milne importances, the hidden nodes' firing
frequencies by species, their output deltas and OR/AND logic, and draws the neural
interpretation diagram, importance bars and the hidden-activity heatmap. Then reads a
scikit-learn MLPClassifier trained on the same encoded data the same way.

    python examples/weights_penguins.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np


def main(quick: bool = False, out: str | Path = "weights_penguins") -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    import shallownet as sn
    from shallownet import interpret
    from shallownet.plots.weights import plot_hidden_activity, plot_importance, plot_network

    warnings.simplefilter("ignore", ConvergenceWarning)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = sn.datasets.load_penguins()
    complete = X.notna().all(axis=1).to_numpy()
    X, y = X[complete], y[complete]
    print(f"Penguins: {len(X)} complete rows ({int((~complete).sum())} with missing values left out).")

    clf = sn.ShallowNetClassifier(
        hidden_layer_sizes=(4,), n_members=2 if quick else 5, max_iter=40 if quick else 400,
        learning_rate=0.02, random_state=0,
    ).fit(X, y)
    print(f"Training accuracy of the ensemble: {clf.score(X, y):.3f}\n")

    weights = interpret.weight_table(clf)
    activity = interpret.hidden_activity(clf, X, y)
    test = interpret.olden_test(clf, X, y, n_permutations=9 if quick else 199, random_state=0)
    results = {
        "weights": weights,
        "garson": interpret.garson(clf),
        "olden_test": test,
        "milne": interpret.milne(clf),
        "activity": activity,
        "weight_frequency": interpret.weight_frequency(clf, X),
        "output_deltas": interpret.output_deltas(clf),
        "logic": interpret.hidden_logic(clf, X),
    }
    for name, result in results.items():
        print(result.summary(digits=3))
        print()

    figures = {
        "network.png": plot_network(weights, activity).figure,
        "olden.png": plot_importance(test).figure,
        "garson.png": plot_importance(results["garson"]).figure,
        "activity.png": plot_hidden_activity(activity, by="true").figure,
    }
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
    print(f"Figures written to {out}/: {', '.join(figures)}")

    # The same reading of a scikit-learn MLP trained on the same encoded matrix. Through the
    # adapter its inputs are nine separate columns; given our encoder's variables, island and
    # sex are read as enumerated variables again.
    Z = clf.encoder_.transform(X)
    mlp = MLPClassifier((4,), max_iter=50 if quick else 1000, random_state=0).fit(Z, np.asarray(y))
    as_columns = interpret.olden(mlp)
    as_variables = interpret.olden(sn.Network.from_weights(
        mlp.coefs_, mlp.intercepts_, activation=mlp.activation, variables=clf.encoder_, classes=mlp.classes_,
    ))
    print(f"\nscikit-learn MLPClassifier, training accuracy {mlp.score(Z, np.asarray(y)):.3f}")
    print(f"Olden through the adapter: {len(as_columns.layout.variables)} input columns")
    print(as_variables.summary(digits=3))
    results["mlp_olden"] = as_variables
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few epochs and permutations (a smoke run)")
    parser.add_argument("--out", default="weights_penguins", help="folder for the figures")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
