"""A small table with a real, a uniform, an enumerated and a boolean variable (shared by tests)."""

import numpy as np
import pandas as pd


def frame(n, seed):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, n)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n) + g,
            "b": rng.uniform(size=n),
            "g": np.array(["u", "v", "w"])[g],
            "flag": rng.uniform(size=n) < 0.4,
        }
    )
