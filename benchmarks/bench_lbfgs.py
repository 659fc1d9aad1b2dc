"""Converged fits (issue 14): how close each optimiser gets to the optimum, and at what cost.

Part 1, "optimum": for each data set, the same network (same size, same penalised objective
``mean NLL + alpha/2 sum ||W||^2``, the same encoded [0, 1] inputs) is fitted by

* shallownet's default (``optimizer="auto"``, which is L-BFGS on these sizes), float32 and float64;
* shallownet with minibatch Adam (``optimizer="adam"``, its defaults: 300 epochs at most);
* scikit-learn's ``MLPClassifier(solver="lbfgs")``, the peer with IDENTICAL settings: scipy's
  L-BFGS-B on the same objective (its ``alpha`` is ours times the number of rows: scikit-learn
  divides the penalty by n), ``tol = gtol = 1e-5``, ``max_iter = 300``, logistic hidden units.

It prints each fit's final objective, its gap to the best objective any of them reached, and the
wall time (ours warm: the compiled program reused; the first, cold call is printed apart). The
zero-hidden row on statsmodels' Spector data also prints the log-likelihood against statsmodels'
``Logit`` (the maximum-likelihood value -12.88963).

Part 2, "members": 32 members of the breast-cancer network in one vmapped L-BFGS loop against 32
scikit-learn fits in a Python loop (identical settings).

Part 3, "auto rule": L-BFGS and Adam (both with their defaults) on ``make_classification`` data of
growing size (20 columns, 16 logistic units): fit time (warm, and cold: the first fit of that
shape, tracing and compilation included) and final objective, the measurement
behind ``AUTO_LBFGS_MAX_VALUES``.
"""

from __future__ import annotations

import argparse
import warnings

from benchmarks._common import print_table, timed, write_result


def datasets(quick: bool):
    import numpy as np
    import statsmodels.api as sm
    from sklearn.datasets import load_breast_cancer, load_iris

    spector = sm.datasets.spector.load_pandas()
    out = [("spector (logit)", spector.exog.to_numpy(float), spector.endog.to_numpy(int), (), 0.0)]
    bc = load_breast_cancer()
    out.append(("breast cancer", bc.data, bc.target, (5,), 1e-4))
    iris = load_iris()
    out.append(("iris", iris.data, iris.target, (4,), 1e-4))
    if not quick:
        out.append(("breast cancer (4, 3)", bc.data, bc.target, (4, 3), 1e-4))
    return [(name, X.astype(np.float64), y, h, a) for name, X, y, h, a in out]


def encoded(X):
    from shallownet.data import Encoder

    return Encoder().fit(X).transform(X)


def ours(hidden, alpha, dtype="float32", optimizer="auto", members=1, seed=0):
    from shallownet import ShallowNetClassifier

    return ShallowNetClassifier(hidden_layer_sizes=hidden, alpha=alpha, optimizer=optimizer, dtype=dtype,
                                n_members=members, random_state=seed)


def sklearn_lbfgs(hidden, alpha, n, seed=0):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=hidden, activation="logistic", solver="lbfgs", alpha=alpha * n,
                         tol=1e-5, max_iter=300, random_state=seed)


def logit_loglik(Z, y, clf):
    """Log-likelihood of a zero-hidden network (sum over rows), and statsmodels' Logit maximum."""
    import numpy as np
    import statsmodels.api as sm

    p = clf.predict_proba(Z)[np.arange(len(y)), y]
    mle = sm.Logit(y, sm.add_constant(Z)).fit(disp=0).llf
    return float(np.sum(np.log(p))), float(mle)


def optimum_rows(quick: bool) -> list[dict]:
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    rows = []
    for name, X, y, hidden, alpha in datasets(quick):
        Z = encoded(X)
        fits = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for label, make in [
                ("shallownet auto (lbfgs) float32", lambda: ours(hidden, alpha)),
                ("shallownet auto (lbfgs) float64", lambda: ours(hidden, alpha, "float64")),
                ("shallownet adam (defaults)", lambda: ours(hidden, alpha, optimizer="adam")),
            ]:
                t_cold, _ = timed(make().fit, Z, y)
                t, m = timed(make().fit, Z, y)
                fits[label] = (t, float(m.objective_[0]), t_cold, int(m.n_iter_[0]), bool(m.converged_[0]), m)
            t, sk = timed(sklearn_lbfgs(hidden, alpha, len(y)).fit, Z, y)
            fits["sklearn MLPClassifier lbfgs"] = (t, float(sk.loss_), None, int(sk.n_iter_), None, sk)
        best = min(f[1] for f in fits.values())
        t_peer = fits["sklearn MLPClassifier lbfgs"][0]
        for label, (t, obj, t_cold, iters, conv, model) in fits.items():
            row = {"data": name, "hidden": str(hidden), "fit": label, "objective": obj,
                   "gap_rel": (obj - best) / abs(best), "iters": iters, "converged": conv,
                   "fit_s": t, "cold_s": t_cold,
                   "peer_over_ours": None if label.startswith("sklearn") else t_peer / t}
            if hidden == () and label.startswith("shallownet"):
                ll, mle = logit_loglik(Z, y, model)
                row["loglik"], row["loglik_minus_mle"] = ll, ll - mle
            rows.append(row)
        np.testing.assert_array_equal(np.isfinite([r["objective"] for r in rows]), True)
    return rows


def members_rows(quick: bool) -> list[dict]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.exceptions import ConvergenceWarning
    import numpy as np

    members = 8 if quick else 32
    bc = load_breast_cancer()
    Z, y = encoded(bc.data), bc.target
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        make = lambda: ours((5,), 1e-4, "float64", members=members)  # noqa: E731
        timed(make().fit, Z, y)
        t_ours, m = timed(make().fit, Z, y)

        def loop():
            return [sklearn_lbfgs((5,), 1e-4, len(y), seed=s).fit(Z, y) for s in range(members)]

        t_sk, sks = timed(loop)
    return [
        {"fit": f"shallownet lbfgs float64, {members} members vmapped", "fit_s": t_ours,
         "median_objective": float(np.median(m.objective_)), "converged": int(m.converged_.sum()),
         "peer_over_ours": t_sk / t_ours},
        {"fit": f"sklearn MLPClassifier lbfgs, {members} fits in a loop", "fit_s": t_sk,
         "median_objective": float(np.median([s.loss_ for s in sks])), "converged": None,
         "peer_over_ours": None},
    ]


AUTO_SIZES = (1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000)


def auto_rows(quick: bool, sizes=None) -> list[dict]:
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning

    sizes = sizes or ((1_000, 5_000) if quick else AUTO_SIZES)
    rows = []
    for n in sizes:
        X, y = make_classification(n, 20, n_informative=10, n_redundant=0, random_state=0)
        Z = encoded(X)
        for optimizer in ("lbfgs", "adam"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                make = lambda: ours((16,), 1e-4, optimizer=optimizer)  # noqa: E731
                t_cold, _ = timed(make().fit, Z, y)
                t, m = timed(make().fit, Z, y)
            rows.append({"rows": n, "values": Z.size, "optimizer": optimizer, "fit_s": t, "cold_s": t_cold,
                         "iters": int(m.n_iter_[0]), "converged": bool(m.converged_[0]),
                         "objective": float(m.objective_[0])})
    return rows


def main(quick: bool = False) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)  # the float64 rows; float32 fits stay float32
    print("Part 1: the same network and penalised objective, fitted by each optimiser "
          "(ours warm; cold = first call with tracing and compilation)")
    opt = optimum_rows(quick)
    print_table(opt, ["data", "hidden", "fit", "objective", "gap_rel", "iters", "converged", "fit_s", "cold_s",
                      "peer_over_ours", "loglik", "loglik_minus_mle"])
    print("\nPart 2: ensemble of the breast-cancer network (5 logistic units, alpha 1e-4), identical settings")
    mem = members_rows(quick)
    print_table(mem, ["fit", "fit_s", "median_objective", "converged", "peer_over_ours"])
    print("\nPart 3: the auto rule, make_classification(n, 20), (16,) logistic units, each optimiser's defaults")
    auto = auto_rows(quick)
    print_table(auto, ["rows", "values", "optimizer", "fit_s", "cold_s", "iters", "converged", "objective"])
    result = {"optimum": opt, "members": mem, "auto": auto, "quick": quick}
    write_result("lbfgs", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    main(parser.parse_args().quick)
