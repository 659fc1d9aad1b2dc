"""Olden, Joy & Death (2004) with the paper's continuous response: regression networks.

The design of ``reproduce.py`` (five independent standard-normal predictors with correlations
``c = (0.6, 0.45, 0.3, 0.15, 0)`` to the response), but the networks predict the response
``r = c . x + sqrt(1 - sum c^2) e`` itself, as in the paper, instead of its sign:
``ShallowNetRegressor`` with five logistic hidden units and a linear output, fitted with the
library's default (full-batch L-BFGS to the optimum of the penalised squared error), an
ensemble of ``n_members`` per replicate data set (member 0 is "the single network").

Truth. The regression function is ``E[r | x] = c . x``, so every sensible measure ranks
x1 > x2 > x3 > x4 > x5, and two have closed forms:

* connection weights of the true (linear) function: ``c_i`` per unit of x_i;
* expected influence with the marginal (here exact) conditional:
  ``E|c_i (x_i' - x_i)| = |c_i| E|x_i' - x_i| = 2 |c_i| / sqrt(pi)`` (the difference of two
  independent standard normals is N(0, 2)), in units of the response: 0.677, 0.508, 0.339,
  0.169, 0.

Methods (regression analogues of ``reproduce.METHODS``): connection weights, Garson, Milne,
partial derivatives (RMS of dr/dx_i), Lek profile (range of the prediction), input
perturbation (squared-error increase), grouped permutation (R^2 drop), potential influence
(range of the prediction over the variable's grid, mean over cases), expected influence (kNN
and marginal, response units). Scores as in ``reproduce.py``.

Run ``python papers/olden2004/regression.py`` (writes ``regression_table.md``,
``regression_results.json`` next to this file) or ``--quick``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

import shallownet as sn
from shallownet import interpret as si
from shallownet.results import to_jsonable

HERE = Path(__file__).resolve().parent


def _classification_half():
    spec = importlib.util.spec_from_file_location("olden2004_reproduce", HERE / "reproduce.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


base = _classification_half()
CORRELATIONS = base.CORRELATIONS
FULL = dict(n_samples=200, n_replicates=100, n_members=5, hidden=5, max_iter=500, n_test=2000)
QUICK = dict(n_samples=200, n_replicates=3, n_members=2, hidden=5, max_iter=1000, n_test=500)
METHODS = (
    "connection weights (Olden)",
    "Garson",
    "Milne",
    "partial derivatives (RMS)",
    "Lek profile",
    "input perturbation",
    "permutation (grouped)",
    "potential influence",
    "expected influence (kNN)",
    "expected influence (marginal)",
)
REFERENCE = "sample |corr(x, r)| (no network)"


def true_expected_influence(correlations=CORRELATIONS) -> np.ndarray:
    """``2 |c_i| / sqrt(pi)``: the expected absolute change of ``c . x`` when x_i is redrawn
    from its (standard normal) distribution."""
    return 2 * np.abs(np.asarray(correlations, dtype=float)) / np.sqrt(np.pi)


def importances(net, X, r, seed: int) -> dict[str, np.ndarray]:
    """One importance per variable from every method, shape (V,)."""
    ei = si.expected_influence(net, X, conditional="knn")
    return {
        "connection weights (Olden)": np.abs(si.olden(net).mean[:, 0]),
        "Garson": si.garson(net).mean[:, 0],
        "Milne": np.abs(si.milne(net).mean[:, 0]),
        "partial derivatives (RMS)": si.sensitivity(net, X).rms[:, 0],
        "Lek profile": np.array([si.profile(net, X, v).ranges[:, 0].mean() for v in X.columns]),
        "input perturbation": si.input_perturbation(net, X, r, scoring="mse", random_state=seed).importances,
        "permutation (grouped)": si.permutation_importance(
            net, X, r, scoring="r2", random_state=seed).importances_mean,
        "potential influence": ei.potential[..., 0].mean(axis=0),
        "expected influence (kNN)": ei.expected[..., 0].mean(axis=0),
        "expected influence (marginal)": ei.marginal[..., 0].mean(axis=0),
    }


def replicate(r: int, cfg: dict) -> list[dict]:
    """Simulate one data set, fit the ensemble, score every method; one record per row."""
    ds = sn.datasets.correlated_predictors(cfg["n_samples"], CORRELATIONS, random_state=r)
    test = sn.datasets.correlated_predictors(cfg["n_test"], CORRELATIONS, random_state=10**6 + r)
    resp, resp_test = ds.ground_truth["latent_response"], test.ground_truth["latent_response"]
    truth = np.array([ds.ground_truth["true_rank"][c] for c in ds.X.columns], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # recorded below instead
        reg = sn.ShallowNetRegressor((cfg["hidden"],), n_members=cfg["n_members"], max_iter=cfg["max_iter"],
                                     random_state=r).fit(ds.X, resp)
    common = {"replicate": r, "n_samples": cfg["n_samples"], "converged": float(np.mean(reg.converged_)),
              "iterations": float(np.median(reg.n_iter_))}
    records = []
    for name, net in (("single", reg.network_.member(0)), ("ensemble", reg.network_)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # test cases beyond the training range
            pred = np.asarray(net.predict(test.X), dtype=float).reshape(-1)
        r2 = 1 - np.mean((resp_test - pred) ** 2) / np.var(resp_test)
        values = importances(net, ds.X, resp, r)
        reference = base.ranks(values[METHODS[0]])
        for method, v in values.items():
            records.append({**common, "set": name, "method": method, "test_r2": r2,
                            **base._scores(v, truth, reference)})
    corr = np.abs([np.corrcoef(ds.X[c], resp)[0, 1] for c in ds.X.columns])
    records.append({**common, "set": "reference", "method": REFERENCE, "test_r2": np.nan,
                    **base._scores(corr, truth, None)})
    return records


def main(quick: bool = False, out: str | Path | None = None) -> dict:
    """Run the study; write ``regression_table.md`` and ``regression_results.json``."""
    cfg = QUICK if quick else FULL
    out = Path(out) if out is not None else (Path(tempfile.mkdtemp(prefix="olden2004-reg-")) if quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    frame = pd.DataFrame([rec for r in range(cfg["n_replicates"]) for rec in replicate(r, cfg)])
    seconds = time.perf_counter() - start
    table = base.summarise(frame).drop(columns="n_samples")
    r2 = frame[frame["set"] != "reference"].groupby("set")["test_r2"].mean()
    values = [f"x{i}_value" for i in range(1, 6)]
    ei_rows = {"c . x (closed form 2|c_i|/sqrt(pi))": true_expected_influence()}
    for set_ in ("single", "ensemble"):
        for method in ("expected influence (marginal)", "expected influence (kNN)"):
            sub = frame[(frame["set"] == set_) & (frame["method"] == method)]
            ei_rows[f"{method} [{set_}]"] = sub[values].mean().to_numpy()
    ei = pd.DataFrame(ei_rows, index=[v.split("_")[0] for v in values]).T
    best_r2 = float(np.sum(np.square(CORRELATIONS)))
    text = [
        f"Design: correlations {CORRELATIONS}, continuous response, N = {cfg['n_samples']} per data set, "
        f"{cfg['n_replicates']} replicates, {cfg['hidden']} logistic hidden units and a linear output, "
        f"ensembles of {cfg['n_members']}, default optimiser (L-BFGS); {seconds:.0f} s.",
        f"Members converged: {100 * frame['converged'].mean():.1f} %, median iterations "
        f"{frame['iterations'].median():.0f}. Mean test R^2 (best possible {best_r2:.3f}): "
        + ", ".join(f"{s}: {v:.3f}" for s, v in r2.items()),
        "",
        base.markdown(table),
        "",
        "Mean expected influence over replicates (response units) against its closed form:",
        "",
        "| | x1 | x2 | x3 | x4 | x5 |",
        "|---|---|---|---|---|---|",
    ]
    text += [f"| {name} | " + " | ".join(f"{v:.3f}" for v in row) + " |" for name, row in ei.iterrows()]
    report = "\n".join(text)
    print(report)
    (out / "regression_table.md").write_text(report + "\n")
    results = {"config": {**cfg, "correlations": CORRELATIONS}, "seconds": seconds,
               "table": table.to_dict(orient="records"),
               "expected_influence": ei.reset_index(names="row").to_dict(orient="records")}
    (out / "regression_results.json").write_text(json.dumps(to_jsonable(results), indent=1) + "\n")
    return {"table": table, "records": frame, "expected_influence": ei, "out": out}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few replicates, for a smoke test")
    parser.add_argument("--out", default=None, help="output folder")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
