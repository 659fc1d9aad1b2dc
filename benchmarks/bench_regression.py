"""Regression training speed against scikit-learn's MLPRegressor (issue 16).

Data: ``make_regression(10_000, 20, n_informative=10, noise=10)``, 80/20 split, inputs encoded
to [0, 1] once with shallownet's Encoder, and the target standardised with the training mean
and sd; BOTH models get the same matrices, so both solve the same problem (ShallowNetRegressor
standardises internally; the already-standard target leaves that step a no-op up to rounding).
Identical settings: one hidden layer of 16 relu units, Adam with learning rate 1e-3, batch 200,
L2 penalty ``MLPRegressor(alpha=1e-4)`` = ``ShallowNetRegressor(alpha=1e-4 / 200)`` (the loss
conventions of ``shallownet.training.loop``), exactly ``epochs`` epochs (no early stop).
Quality: held-out R^2 of each. Times: the whole ``fit``; ours once cold (trace and compile
included) and once warm (same shapes, the compiled program reused).

Full-batch rows (:func:`run_lbfgs`): the same network and penalised objective fitted to the
optimum by ``MLPRegressor(solver="lbfgs")`` (scipy's L-BFGS-B; ``alpha = 1e-4 n`` there is
``1e-4`` here, ``tol = gtol = 1e-5``, at most 300 iterations) and by ``ShallowNetRegressor`` with
its default (``optimizer="auto"``: L-BFGS), on the first ``n_lbfgs`` training rows: the time of
each fit and the training MSE it reaches (MLPRegressor's loss is half the MSE).
"""

from __future__ import annotations

import argparse
import warnings

from benchmarks._common import print_table, timed, write_result


def data(n: int):
    import numpy as np
    from sklearn.datasets import make_regression
    from sklearn.model_selection import train_test_split

    from shallownet.data import Encoder

    X, y = make_regression(n, 20, n_informative=10, noise=10.0, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0)
    enc = Encoder().fit(Xtr)
    mean, sd = ytr.mean(), ytr.std()
    return (enc.transform(Xtr), enc.transform(Xte, report=False), (ytr - mean) / sd,
            (yte - mean) / sd, np)


def run(n: int, epochs: int) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    from shallownet import ShallowNetRegressor

    Ztr, Zte, ytr, yte, np = data(n)
    # test rows outside the training range are kept unclipped; the note is noise here
    warnings.filterwarnings("ignore", "Values outside the training range")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = MLPRegressor(hidden_layer_sizes=(16,), activation="relu", learning_rate_init=1e-3, batch_size=200,
                          alpha=1e-4, max_iter=epochs, n_iter_no_change=epochs + 1, tol=0.0,
                          random_state=0)
        t_sk, sk = timed(sk.fit, Ztr, ytr)

        def ours():
            return ShallowNetRegressor(hidden_layer_sizes=(16,), activation="relu", optimizer="adam", learning_rate=1e-3,
                                       batch_size=200, alpha=1e-4 / 200, max_iter=epochs,
                                       n_iter_no_change=None, random_state=0)

        t_cold, _ = timed(ours().fit, Ztr, ytr)
        t_warm, reg = timed(ours().fit, Ztr, ytr)
    rows = [
        {"model": "MLPRegressor", "epochs": sk.n_iter_, "fit_s": t_sk, "s_per_epoch": t_sk / sk.n_iter_,
         "test_r2": float(sk.score(Zte, yte)), "ratio_peer_over_ours": None},
        {"model": "ShallowNetRegressor (cold)", "epochs": int(reg.n_iter_[0]), "fit_s": t_cold,
         "s_per_epoch": t_cold / int(reg.n_iter_[0]), "test_r2": float(reg.score(Zte, yte)),
         "ratio_peer_over_ours": t_sk / t_cold},
        {"model": "ShallowNetRegressor (warm)", "epochs": int(reg.n_iter_[0]), "fit_s": t_warm,
         "s_per_epoch": t_warm / int(reg.n_iter_[0]), "test_r2": float(reg.score(Zte, yte)),
         "ratio_peer_over_ours": t_sk / t_warm},
    ]
    return {"n": n, "epochs": epochs, "rows": rows}


def run_lbfgs(n: int) -> list[dict]:
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    from shallownet import ShallowNetRegressor

    Ztr, Zte, ytr, yte, _ = data(n)
    warnings.filterwarnings("ignore", "Values outside the training range")
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = MLPRegressor(hidden_layer_sizes=(16,), activation="relu", solver="lbfgs", alpha=1e-4 * len(ytr),
                          tol=1e-5, max_iter=300, random_state=0)
        t_sk, sk = timed(sk.fit, Ztr, ytr)

        def ours():
            return ShallowNetRegressor(hidden_layer_sizes=(16,), activation="relu", alpha=1e-4, random_state=0)

        t_cold, _ = timed(ours().fit, Ztr, ytr)
        t_warm, reg = timed(ours().fit, Ztr, ytr)
    mse = lambda m: float(np.mean((m.predict(Ztr) - ytr) ** 2))  # noqa: E731
    rows.append({"model": "MLPRegressor lbfgs", "iterations": sk.n_iter_, "fit_s": t_sk, "train_mse": mse(sk),
                 "objective": float(sk.loss_), "test_r2": float(sk.score(Zte, yte)), "ratio_peer_over_ours": None})
    for label, t in (("ShallowNetRegressor auto (lbfgs), cold", t_cold), ("ShallowNetRegressor auto (lbfgs), warm", t_warm)):
        rows.append({"model": label, "iterations": int(reg.n_iter_[0]), "fit_s": t, "train_mse": mse(reg),
                     "objective": float(reg.objective_[0]), "test_r2": float(reg.score(Zte, yte)),
                     "ratio_peer_over_ours": t_sk / t})
    return rows


def main(quick: bool = False) -> dict:
    n, epochs = (2000, 20) if quick else (10_000, 100)
    result = run(n, epochs)
    n_lbfgs = 1000 if quick else 5000
    result["lbfgs"] = run_lbfgs(n_lbfgs)
    print(f"Regression training, {n} rows x 20 (80 % train), (16,) relu, Adam 1e-3, batch 200, "
          f"{epochs} epochs")
    print_table(result["rows"], ["model", "epochs", "fit_s", "s_per_epoch", "test_r2", "ratio_peer_over_ours"])
    print(f"\nFull batch to the optimum, {n_lbfgs} rows (80 % train): the same penalised objective "
          "(ours: objective = MSE/2 of the standardised target + penalty)")
    print_table(result["lbfgs"], ["model", "iterations", "fit_s", "train_mse", "objective", "test_r2",
                                  "ratio_peer_over_ours"])
    if not quick:
        print("wrote", write_result("regression", result))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    main(quick=parser.parse_args().quick)
