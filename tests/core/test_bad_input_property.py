"""Issue 18, property test: whatever small mixed-type table comes in (real, integer, boolean,
enumerated, constant and extreme columns), ``fit`` + ``predict_proba`` + ``expected_influence``
either succeed with finite results or raise a ``ValueError`` naming one of the columns:
never another exception type (RuntimeWarnings from shallownet are errors in this suite),
never NaN. Missing-value tokens and identifier columns are in the
generator with the encoder's missing-value policies ("error": a ValueError naming the column;
"indicator": filled, with a missingness indicator)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import shallownet as sn

N = 12  # one row count and two columns keep the compiled shapes few, so the examples stay fast
KINDS = ("real", "integer", "boolean", "category", "constant", "extreme", "tokens", "identifier")
TOKENS = ("", "NA", "?", "n/a", "null", "-")


@st.composite
def tables(draw):
    columns = {}
    for j in range(2):
        kind = draw(st.sampled_from(KINDS))
        name = f"{kind}{j}"
        if kind == "real":
            values = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=N, max_size=N))
        elif kind == "integer":
            values = draw(st.lists(st.integers(-3, 3), min_size=N, max_size=N))
        elif kind == "boolean":
            values = draw(st.lists(st.booleans(), min_size=N, max_size=N))
        elif kind == "category":
            values = draw(st.lists(st.sampled_from(["red", "blue"]), min_size=N, max_size=N))
        elif kind == "constant":
            values = [draw(st.one_of(st.floats(-5, 5, allow_nan=False), st.just("same")))] * N
        elif kind == "tokens":  # numbers with missing-value tokens in some cells
            numbers = draw(st.lists(st.floats(-10, 10, allow_nan=False), min_size=N, max_size=N))
            holes = draw(st.lists(st.booleans(), min_size=N, max_size=N))
            values = [draw(st.sampled_from(TOKENS)) if h and i > 1 else str(v)
                      for i, (v, h) in enumerate(zip(numbers, holes))]
        elif kind == "identifier":  # a distinct string in every row
            values = [f"case-{i}" for i in draw(st.permutations(range(N)))]
        else:  # finite values at the edges of float64 and float32
            values = draw(st.lists(st.sampled_from([1e308, -1e308, 3e38, -3e38, 1e-308, 0.0, 1.0]),
                                   min_size=N, max_size=N))
        columns[name] = values
    X = pd.DataFrame(columns)
    y = np.array(draw(st.permutations([0] * (N // 2) + [1] * (N - N // 2))))
    constant = draw(st.sampled_from(["error", "drop"]))
    missing = draw(st.sampled_from(["error", "indicator"]))
    return X, y, constant, missing


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tables())
@example((pd.DataFrame({"extreme0": [1e308, -1e308] * 6, "real1": np.linspace(0, 1, N)}),
          np.array([0, 1] * 6), "error", "error"))
@example((pd.DataFrame({"constant0": ["same"] * N, "category1": ["red", "blue"] * 6}),
          np.array([0, 0, 1] * 4), "drop", "error"))
@example((pd.DataFrame({"tokens0": ["1.5", "NA", "2", "?"] * 3, "identifier1": [f"case-{i}" for i in range(N)]}),
          np.array([0, 1] * 6), "error", "indicator"))
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_fit_predict_and_influence_are_finite_or_a_value_error_naming_a_column(table):
    X, y, constant, missing = table
    try:
        clf = sn.ShallowNetClassifier(hidden_layer_sizes=(2,), optimizer="adam", max_iter=3,
                                      constant=constant, missing=missing, random_state=0).fit(X, y)
        proba = clf.predict_proba(X)
        ei = sn.interpret.expected_influence(clf, X, y, conditional="marginal")
    except ValueError as exc:
        assert any(repr(c) in str(exc) or f"'{c}'" in str(exc) for c in X.columns), str(exc)
        return
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1.0)
    frame = ei.to_frame()
    numeric = frame.select_dtypes("number")
    assert np.all(np.isfinite(numeric.to_numpy(dtype=float)))
