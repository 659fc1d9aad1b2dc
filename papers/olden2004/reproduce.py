"""Olden, Joy & Death (2004) for a classifier: which importance method recovers a known ranking?

Design (see README.md for the reasons):

* Monte Carlo data sets from :func:`shallownet.datasets.correlated_predictors`: five
  independent standard-normal predictors, a latent response ``r = sum_i c_i x_i + sqrt(1 -
  sum c_i^2) e`` with ``corr(x_i, r) = c_i = (0.6, 0.45, 0.3, 0.15, 0)`` (the often-quoted set
  0.8, 0.6, 0.4, 0.2, 0 times 0.75), and the class ``y = 1[r > 0]``. True ranking: x1 > x2 >
  x3 > x4 > x5.
* One network per replicate data set: five logistic hidden units, a sigmoid output, trained
  with Adam on minibatches of 32 and the library's early stop on the training loss. Each
  replicate trains an ensemble of ``n_members`` networks at once; its first member is "the
  single network" and the whole ensemble gives the ensemble rows.
* Every method gives one number per variable; variables are ranked by it (ties share the
  average rank). Per replicate: the rank similarity ``1 - sum_i |rank_i - true_i| / 12`` (the
  normalised Spearman footrule: 1 for the true order, 0 for its reverse, 1/3 on average for a
  random order), whether each variable's rank is exactly right, the paired difference from
  the connection-weight similarity of the same network, and the agreement (same measure)
  between the method's ranking and the connection-weight ranking.
* Checks beside the ranks: the networks' test accuracy against the Bayes rate, their mean
  expected influence against its closed form for the Bayes decision
  (:func:`true_expected_influence`), and the similarity at other sample sizes.

Run ``python papers/olden2004/reproduce.py`` (full run, writes the table, the figure and
``results.json`` next to this file) or ``--quick`` (a few replicates, written to a temporary
folder unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.exceptions import ConvergenceWarning

import shallownet as sn
from shallownet import interpret as si
from shallownet.data.encoder import OutOfRangeWarning
from shallownet.results import to_jsonable

HERE = Path(__file__).resolve().parent
CORRELATIONS = (0.6, 0.45, 0.3, 0.15, 0.0)
PAPER_CONNECTION_WEIGHTS = 0.92
PAPER_OTHERS = (0.28, 0.74)

FULL = dict(n_samples=200, n_replicates=500, n_members=5, hidden=5, batch_size=32, max_iter=500,
            n_test=2000, sweep_sizes=(50, 1000), sweep_replicates=200)
QUICK = dict(n_samples=200, n_replicates=6, n_members=2, hidden=5, batch_size=32, max_iter=300,
             n_test=500, sweep_sizes=(), sweep_replicates=0)

METHODS = (
    "connection weights (Olden)",
    "Garson",
    "Milne",
    "partial derivatives (RMS)",
    "Lek profile",
    "input perturbation",
    "permutation (grouped)",
    "potential influence",
    "potential influence (graded)",
    "expected influence (kNN)",
    "expected influence (marginal)",
)
REFERENCE = "sample |corr(x, y)| (no network)"


def importances(net, X, y, seed: int) -> dict[str, np.ndarray]:
    """One importance per variable (larger = more important) from every method, shape (V,).

    Weight methods give each member's values and their mean over members; the output-based
    methods read the network's output (for an ensemble, the members' mean probability)."""
    pi = si.potential_influence(net, X)
    ei = si.expected_influence(net, X, conditional="knn")
    return {
        "connection weights (Olden)": np.abs(si.olden(net).mean[:, 0]),
        "Garson": si.garson(net).mean[:, 0],
        "Milne": np.abs(si.milne(net).mean[:, 0]),
        "partial derivatives (RMS)": si.sensitivity(net, X).rms[:, 1],
        "Lek profile": np.array([si.profile(net, X, v).ranges[:, 1].mean() for v in X.columns]),
        "input perturbation": si.input_perturbation(net, X, y, scoring="mse", random_state=seed).importances,
        "permutation (grouped)": si.permutation_importance(
            net, X, y, scoring="log_loss", random_state=seed).importances_mean,
        "potential influence": pi.potential.mean(axis=0),
        "potential influence (graded)": pi.graded.mean(axis=0),
        "expected influence (kNN)": ei.expected.mean(axis=0),
        "expected influence (marginal)": ei.marginal.mean(axis=0),
    }


def ranks(values: np.ndarray) -> np.ndarray:
    """Rank 1 = largest; ties share the average rank."""
    return rankdata(-np.asarray(values, dtype=np.float64), method="average")


def similarity(rank: np.ndarray, truth: np.ndarray) -> float:
    """``1 - sum |rank - truth| / max`` with ``max = floor(V^2 / 2)``, the footrule distance of
    the reversed order."""
    V = len(truth)
    return 1.0 - np.abs(rank - truth).sum() / (V * V // 2)


def true_expected_influence(correlations=CORRELATIONS) -> np.ndarray:
    """Mean expected influence of each variable on the Bayes decision ``1[c . x > 0]`` with
    the marginal (here exact) conditional: ``arccos(1 - c_i^2 / sum c^2) / pi``.

    Redrawing x_i turns ``U = A + c_i x_i`` into ``U' = A + c_i x_i'``: two normals of
    variance ``sum c^2`` and covariance ``sum c^2 - c_i^2``, whose signs differ with
    probability ``arccos(rho) / pi`` (Sheppard)."""
    c = np.asarray(correlations, dtype=float)
    return np.arccos(1 - c**2 / np.sum(c**2)) / np.pi


def replicate(r: int, cfg: dict, n_samples: int, with_ensemble: bool = True) -> list[dict]:
    """Simulate one data set, train the ensemble, score every method; one record per row."""
    ds = sn.datasets.correlated_predictors(n_samples, CORRELATIONS, random_state=r)
    test = sn.datasets.correlated_predictors(cfg["n_test"], CORRELATIONS, random_state=10**6 + r)
    truth = np.array([ds.ground_truth["true_rank"][c] for c in ds.X.columns], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the epochs run are recorded instead
        clf = sn.ShallowNetClassifier((cfg["hidden"],), optimizer="adam", n_members=cfg["n_members"], batch_size=cfg["batch_size"],
                                      max_iter=cfg["max_iter"], random_state=r).fit(ds.X, ds.y)
    common = {"replicate": r, "n_samples": n_samples, "epochs": clf.n_iter_}
    records = []
    sets = [("single", clf.network_.member(0))] + ([("ensemble", clf.network_)] if with_ensemble else [])
    for name, net in sets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OutOfRangeWarning)  # test cases beyond the training range
            accuracy = float(np.mean(net.predict(test.X) == test.y.to_numpy()))
        values = importances(net, ds.X, ds.y, r)
        reference = ranks(values[METHODS[0]])
        for method, v in values.items():
            records.append({**common, "set": name, "method": method, "test_accuracy": accuracy,
                            **_scores(v, truth, reference)})
    corr = np.abs([np.corrcoef(ds.X[c], ds.y)[0, 1] for c in ds.X.columns])
    records.append({**common, "set": "reference", "method": REFERENCE, "test_accuracy": np.nan,
                    **_scores(corr, truth, None)})
    return records


def _scores(values: np.ndarray, truth: np.ndarray, reference: np.ndarray | None) -> dict:
    """Similarity to the truth, agreement with the connection-weight ranking of the same
    network, whether each rank is right, and the values themselves."""
    rk = ranks(values)
    out = {"similarity": similarity(rk, truth), "all_right": bool(np.all(rk == truth)),
           "agreement_cw": np.nan if reference is None else similarity(rk, reference)}
    for i in range(len(truth)):
        out[f"x{i + 1}_right"] = bool(rk[i] == truth[i])
        out[f"x{i + 1}_value"] = float(values[i])
    return out


def summarise(records: pd.DataFrame) -> pd.DataFrame:
    """Per method and set: mean, sd and standard error of the similarity; the paired
    difference from connection weights on the same networks (mean and standard error); the
    mean agreement with the connection-weight ranking; % of replicates with each rank right."""
    keys = ["n_samples", "set", "replicate"]
    cw = records[records["method"] == METHODS[0]].set_index(keys)["similarity"]
    records = records.assign(diff_cw=records["similarity"].to_numpy() - cw.reindex(
        pd.MultiIndex.from_frame(records[keys])).to_numpy())
    right = [c for c in records.columns if c.endswith("_right")]
    grouped = records.groupby(["n_samples", "set", "method"], sort=False)
    table = grouped["similarity"].agg(["mean", "std", "count"]).rename(
        columns={"mean": "similarity", "std": "similarity_sd", "count": "replicates"})
    table["similarity_se"] = table["similarity_sd"] / np.sqrt(table["replicates"])
    table["diff_cw"] = grouped["diff_cw"].mean()
    table["diff_cw_se"] = grouped["diff_cw"].std() / np.sqrt(table["replicates"])
    table["agreement_cw"] = grouped["agreement_cw"].mean()
    table = table.join(100 * grouped[right].mean())
    return table.reset_index()


def expected_influence_table(records: pd.DataFrame) -> pd.DataFrame:
    """Mean expected influence per variable over replicates, beside the closed form."""
    values = [f"x{i}_value" for i in range(1, 6)]
    rows = {"Bayes decision (closed form)": true_expected_influence()}
    for set_ in ("single", "ensemble"):
        for method in ("expected influence (marginal)", "expected influence (kNN)"):
            sub = records[(records["set"] == set_) & (records["method"] == method)]
            rows[f"{method} [{set_}]"] = sub[values].mean().to_numpy()
    return pd.DataFrame(rows, index=[v.split("_")[0] for v in values]).T


def markdown(table: pd.DataFrame) -> str:
    """The main table as Markdown: similarity and % of replicates with each rank right."""
    lines = ["| set | method | similarity (sd) | minus CW (2 se) | agrees with CW | all 5 right | "
             "x1 | x2 | x3 | x4 | x5 |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, row in table.iterrows():
        diff = "" if row["set"] == "reference" else f"{row['diff_cw']:+.3f} ({2 * row['diff_cw_se']:.3f})"
        agree = "" if row["set"] == "reference" else f"{row['agreement_cw']:.2f}"
        lines.append(
            f"| {row['set']} | {row['method']} | {row['similarity']:.2f} ({row['similarity_sd']:.2f}) | "
            f"{diff} | {agree} | {row['all_right']:.0f} % | "
            + " | ".join(f"{row[f'x{i}_right']:.0f}" for i in range(1, 6)) + " |"
        )
    return "\n".join(lines)


def plot(table: pd.DataFrame, n_samples: int, path: Path) -> None:
    """Left: mean similarity per method (single network, ensemble, and single networks at the
    other sample sizes) against the paper's figures. Right: % of replicates with each
    variable's rank right at the main sample size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(15, 7.5), gridspec_kw={"width_ratios": [1, 1.05]})
    methods = list(METHODS) + [REFERENCE]
    y = np.arange(len(methods))
    ax.axvspan(*PAPER_OTHERS, color="grey", alpha=0.15, label="paper: other methods 0.28-0.74")
    ax.axvline(PAPER_CONNECTION_WEIGHTS, color="black", ls="--", lw=1, label="paper: connection weights 0.92")
    ax.axvline(1 / 3, color="red", ls=":", label="random order (1/3)")
    main = table[table["n_samples"] == n_samples]
    styles = (("single", "o", "tab:blue", -0.15), ("ensemble", "s", "tab:orange", 0.15), ("reference", "D", "tab:grey", 0.0))
    for set_, marker, colour, dy in styles:
        sub = main[main["set"] == set_].set_index("method").reindex(methods)
        ax.errorbar(sub["similarity"], y + dy, xerr=2 * sub["similarity_se"], fmt=marker, color=colour, ms=5,
                    label=f"{set_}, N = {n_samples}")
    for n, marker in zip(sorted(set(table["n_samples"]) - {n_samples}), ("<", ">")):
        sub = table[(table["n_samples"] == n) & (table["set"] != "ensemble")].set_index("method").reindex(methods)
        ax.plot(sub["similarity"], y, marker, color="tab:green", ms=6, alpha=0.7, label=f"single, N = {n}")
    ax.set_yticks(y, methods)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("mean rank similarity (1 = true order; bars: 2 standard errors)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.45, -0.09), ncol=3, fontsize=8)
    rows = [(s, m) for s in ("single", "ensemble") for m in METHODS] + [("reference", REFERENCE)]
    indexed = main.set_index(["set", "method"])
    grid = np.array([[indexed.loc[r, f"x{i}_right"] for i in range(1, 6)] for r in rows])
    im = ax2.imshow(grid, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    for (i, j), v in np.ndenumerate(grid):
        ax2.text(j, i, f"{v:.0f}", ha="center", va="center", color="white" if v < 60 else "black", fontsize=7)
    ax2.set_xticks(range(5), [f"x{i}\nc = {c:g}" for i, c in enumerate(CORRELATIONS, 1)])
    ax2.set_yticks(range(len(rows)), [f"{m} [{s}]" for s, m in rows], fontsize=7)
    ax2.set_title(f"% of replicates with the variable's rank right (N = {n_samples})", fontsize=10)
    fig.colorbar(im, ax=ax2, fraction=0.05)
    fig.suptitle("Olden, Joy & Death (2004) design with a thresholded response: recovery of the true ranking")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(quick: bool = False, out: str | Path | None = None) -> dict:
    """Run the study; write ``table.md``, ``olden2004.png`` and ``results.json`` to ``out``
    (default: this folder for a full run, a temporary folder for ``quick``). Returns the
    summary tables and the per-replicate records."""
    cfg = QUICK if quick else FULL
    out = Path(out) if out is not None else (Path(tempfile.mkdtemp(prefix="olden2004-")) if quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    records = [rec for r in range(cfg["n_replicates"]) for rec in replicate(r, cfg, cfg["n_samples"])]
    main_seconds = time.perf_counter() - start
    for n in cfg["sweep_sizes"]:
        records += [rec for r in range(cfg["sweep_replicates"]) for rec in replicate(r, cfg, n, with_ensemble=False)]
    seconds = time.perf_counter() - start
    frame = pd.DataFrame(records)
    table = summarise(frame)
    main_table = table[table["n_samples"] == cfg["n_samples"]].drop(columns="n_samples")
    accuracy = frame[frame["set"] != "reference"].groupby(["n_samples", "set"])["test_accuracy"].mean()
    text = [
        f"Design: correlations {CORRELATIONS}, N = {cfg['n_samples']} per data set, "
        f"{cfg['n_replicates']} replicates, {cfg['hidden']} logistic hidden units, "
        f"ensembles of {cfg['n_members']}; {main_seconds:.0f} s for the main run, {seconds:.0f} s in all.",
        "Mean test accuracy (Bayes rate 0.807): "
        + ", ".join(f"N={n} {s}: {a:.3f}" for (n, s), a in accuracy.items()),
        "",
        markdown(main_table),
    ]
    ei = expected_influence_table(frame[frame["n_samples"] == cfg["n_samples"]])
    text += ["", "Mean expected influence over replicates against the Bayes decision's closed form "
             "arccos(1 - c_i^2 / sum c^2) / pi:", "", "| | x1 | x2 | x3 | x4 | x5 |", "|---|---|---|---|---|---|"]
    text += [f"| {name} | " + " | ".join(f"{v:.3f}" for v in row) + " |" for name, row in ei.iterrows()]
    if cfg["sweep_sizes"]:
        sweep = table[table["set"] != "ensemble"].pivot(index="method", columns="n_samples", values="similarity")
        sweep = sweep.reindex(list(METHODS) + [REFERENCE])
        text += ["", "Mean similarity by sample size (single networks, "
                 f"{cfg['sweep_replicates']} replicates at the other sizes):", "",
                 "| method | " + " | ".join(f"N = {n}" for n in sweep.columns) + " |",
                 "|---|" + "---|" * len(sweep.columns)]
        text += [f"| {m} | " + " | ".join(f"{v:.2f}" for v in row) + " |" for m, row in sweep.iterrows()]
    report = "\n".join(text)
    print(report)
    (out / "table.md").write_text(report + "\n")
    plot(table, cfg["n_samples"], out / "olden2004.png")
    results = {
        "config": {**cfg, "correlations": CORRELATIONS, "sweep_sizes": list(cfg["sweep_sizes"])},
        "seconds": seconds,
        "paper": {"connection_weights": PAPER_CONNECTION_WEIGHTS, "others": PAPER_OTHERS},
        "table": table.to_dict(orient="records"),
        "expected_influence": ei.reset_index(names="row").to_dict(orient="records"),
    }
    (out / "results.json").write_text(json.dumps(to_jsonable(results), indent=1) + "\n")
    return {"table": main_table, "records": frame, "out": out}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few replicates, for a smoke test")
    parser.add_argument("--out", default=None, help="output folder")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
