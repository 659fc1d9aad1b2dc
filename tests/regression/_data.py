"""A numeric-target table with a real, a uniform, an enumerated and a boolean variable."""

import numpy as np
import pandas as pd


def simulate(n=300, seed=0, noise=0.3):
    """y = 1 + 2a - 0.8b + {0, 0.7, -0.5}[g] + 0.6 flag + noise (a ~ U(0,1), b ~ N(0,1))."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.uniform(size=n),
            "b": rng.normal(size=n),
            "g": rng.choice(["u", "v", "w"], size=n),
            "flag": rng.uniform(size=n) < 0.4,
        }
    )
    y = (1 + 2 * X["a"] - 0.8 * X["b"] + X["g"].map({"u": 0.0, "v": 0.7, "w": -0.5})
         + 0.6 * X["flag"] + noise * rng.normal(size=n)).to_numpy()
    return X, y
