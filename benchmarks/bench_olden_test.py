"""Olden & Jackson's randomisation test: all replicates trained together vs a loop of fits.

Data: the penguins (333 complete rows, encoded to 9 columns), 3 species. The tested model is a
scikit-learn ``MLPClassifier((4,), learning_rate_init=0.01, max_iter=200)`` fitted on the true
labels, trained for exactly 200 epochs (``n_iter_no_change`` set out of reach) so that both
procedures train every replicate the same way: the two libraries' stopping rules see different
epoch losses (see the report of issue 3), which would otherwise make the comparison one of
stopping rules.

* peer: the usual way — a Python loop of R ``MLPClassifier`` fits (same settings) on permuted
  labels, connection weights ``W1 V`` computed with NumPy, p-values by the same formula;
* ours: ``shallownet.interpret.olden_test(mlp, Z, y, n_permutations=R)``, which trains the R
  replicates together with the model's settings (first call includes compilation; the second,
  with a new seed, does not).

Quality: both procedures draw the null distribution of the same statistic, so their spread should
agree: printed are the median over variables x targets of the ratio of null standard deviations
(ours / peer) and the largest difference between the two procedures' p-values.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from benchmarks._common import print_table, timed, write_result


def data():
    from shallownet.data import Encoder
    from shallownet.datasets import load_penguins

    X, y = load_penguins()
    keep = X.notna().all(axis=1).to_numpy()
    Z = Encoder().fit_transform(X[keep])
    return Z, np.asarray(y[keep])


def mlp(seed: int, max_iter: int):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier((4,), learning_rate_init=0.01, max_iter=max_iter, n_iter_no_change=10**6,
                         random_state=seed)


def peer(Z, y, R: int, max_iter: int, T: np.ndarray, seed: int = 0) -> np.ndarray:
    """R fits on permuted labels in a loop; returns the null CW on the targets, (R, D, n_targets)."""
    rng = np.random.default_rng(seed)
    out = []
    for r in range(R):
        m = mlp(1000 + r, max_iter).fit(Z, y[rng.permutation(len(y))])
        out.append(m.coefs_[0] @ m.coefs_[1] @ T)
    return np.stack(out)


def main(quick: bool = False) -> dict:
    from shallownet.interpret import olden_test
    from shallownet.interpret.randomization import permutation_p_values

    warnings.simplefilter("ignore")
    R = 49 if quick else 999
    max_iter = 200
    Z, y = data()
    model = mlp(0, max_iter).fit(Z, y)
    print(f"penguins {Z.shape[0]} x {Z.shape[1]} encoded; MLPClassifier((4,)) training accuracy "
          f"{model.score(Z, y):.3f}; R = {R} permutations")

    t_first, first = timed(olden_test, model, Z, y, n_permutations=R, random_state=0, encoded=True)
    t_ours, ours = timed(olden_test, model, Z, y, n_permutations=R, random_state=1, encoded=True)
    T = ours.observed.layout.T
    t_peer, null_peer = timed(peer, Z, y, R, max_iter, T)
    observed = ours.observed.mean  # (D, n_targets): every column is a real variable here
    p_peer = permutation_p_values(observed, null_peer)
    sd_ratio = ours.null.std(axis=0, ddof=1) / null_peer.std(axis=0, ddof=1)
    rows = [
        {"run": f"peer: loop of {R} MLPClassifier fits", "seconds": t_peer, "per replicate ms": 1e3 * t_peer / R,
         "ratio peer/ours": 1.0},
        {"run": f"ours: {R} replicates together (incl. compile)", "seconds": t_first,
         "per replicate ms": 1e3 * t_first / R, "ratio peer/ours": t_peer / t_first},
        {"run": f"ours: {R} replicates together (compiled)", "seconds": t_ours,
         "per replicate ms": 1e3 * t_ours / R, "ratio peer/ours": t_peer / t_ours},
    ]
    print_table(rows, ["run", "seconds", "per replicate ms", "ratio peer/ours"])
    quality = {
        "median_null_sd_ratio": float(np.median(sd_ratio)),
        "null_sd_ratio_range": [float(sd_ratio.min()), float(sd_ratio.max())],
        "max_p_value_difference": float(np.abs(ours.p_values - p_peer).max()),
        "p_values_ours_first_target": ours.p_values[:, 0].tolist(),
        "p_values_peer_first_target": p_peer[:, 0].tolist(),
    }
    print(f"null sd ratio ours/peer: median {quality['median_null_sd_ratio']:.3f} "
          f"(range {quality['null_sd_ratio_range'][0]:.3f} .. {quality['null_sd_ratio_range'][1]:.3f}); "
          f"largest p-value difference {quality['max_p_value_difference']:.4f}")
    result = {"R": R, "quick": quick, "rows": rows, "quality": quality,
              "settings": {k: v for k, v in ours.settings.items() if k != "random_state"}}
    write_result("olden_test_quick" if quick else "olden_test", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    main(quick=parser.parse_args().quick)
