"""The background (reference) sample of a Shapley value function, summarised to few rows.

An interventional value ``v(S) = E_r f(x_S, r_{-S})`` costs one forward pass per reference row
and coalition, so the reference is kept small:

``"kmeans"``
    k-means (scikit-learn, ``n_init=4``) with ``n_rows`` clusters on the encoded rows, real
    columns divided by their standard deviation and one-hot columns by sqrt(2) (the scale of
    the kNN conditional, :func:`~shallownet.interpret.conditionals.knn_scaling`). Each cluster
    is represented by its member row nearest the centroid (an observed row, so one-hot groups
    stay valid and binary values stay 0/1), weighted by the cluster's share of the rows.
``"random"``
    ``n_rows`` rows drawn without replacement, equal weights (an unbiased sample of the
    expectation, and the only choice for the conditional value function, whose kNN
    neighbours must be rows of the data with equal mass).

A reference with at most ``n_rows`` rows is used whole with equal weights.
"""

from __future__ import annotations

import numpy as np

from . import conditionals as cond

BACKGROUND_METHODS = ("kmeans", "random")


def summarise(variables, x_ref: np.ndarray, n_rows: int, method: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows (B, D) and weights (B,) summing to 1 (see the module docstring)."""
    n = x_ref.shape[0]
    if n <= n_rows:
        return x_ref, np.full(n, 1.0 / n)
    if method == "random":
        rows = np.sort(np.random.default_rng(seed).choice(n, n_rows, replace=False))
        return x_ref[rows], np.full(n_rows, 1.0 / n_rows)
    from sklearn.cluster import KMeans

    scaled = x_ref.astype(np.float64) * cond.knn_scaling(variables, x_ref)[None, :]
    km = KMeans(n_clusters=n_rows, n_init=4, random_state=seed).fit(scaled)
    labels = km.labels_
    rows, weights = [], []
    for c in range(n_rows):
        members = np.flatnonzero(labels == c)
        if members.size == 0:  # an empty cluster carries no mass
            continue
        d = ((scaled[members] - km.cluster_centers_[c]) ** 2).sum(axis=1)
        rows.append(members[np.argmin(d)])
        weights.append(members.size / n)
    return x_ref[np.asarray(rows)], np.asarray(weights, dtype=np.float64)
