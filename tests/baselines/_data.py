"""Small simulated data sets with every kind of variable, and the oracle's own design."""

import numpy as np
import pandas as pd


def simulate(n=400, n_classes=2, seed=0):
    """Inputs: a ~ U(0, 1), b ~ N(0, 1) (real), g in {u, v, w} (enumerated), flag (binary).

    Binary: logit P(y=1) = -0.5 + 2a - 0.8b + {0, 0.7, -0.5}[g] + 0.6 flag. Three classes:
    class 2 splits off class 1 with probability a.
    """
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.uniform(size=n),
            "b": rng.normal(size=n),
            "g": rng.choice(["u", "v", "w"], size=n),
            "flag": rng.uniform(size=n) < 0.4,
        }
    )
    eta = -0.5 + 2 * X["a"] - 0.8 * X["b"] + X["g"].map({"u": 0.0, "v": 0.7, "w": -0.5}) + 0.6 * X["flag"]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int).to_numpy()
    if n_classes == 3:
        y = np.where(y == 1, np.where(rng.uniform(size=n) < X["a"], 2, 1), 0)
    return X, y



def manual_design(X, reference="u", raw=False):
    """The design built by hand in the test (the oracle's own encoding): constant, a and b
    scaled to [0, 1] with the sample min and max (raw with ``raw=True``), dummies of g
    without ``reference``, flag as 0/1."""
    cols = {"const": np.ones(len(X))}
    for name in ("a", "b"):
        x = X[name].to_numpy(float)
        cols[name] = x if raw else (x - x.min()) / (x.max() - x.min())
    for cat in ("u", "v", "w"):
        if cat != reference:
            cols[f"g={cat}"] = (X["g"] == cat).to_numpy(float)
    cols["flag"] = X["flag"].to_numpy(float)
    return pd.DataFrame(cols)
