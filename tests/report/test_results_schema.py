"""Golden structure of results.json (schema version 4, documented at SCHEMA_VERSION), and the
report's choice of decision surface on a table whose signal lies in two known variables."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from shallownet.report import validate
from shallownet.report.build import RESULTS_SCHEMA, SCHEMA_VERSION, results_json, surface_choice, write_analysis

GOLDEN = {
    "": ["attributions", "classes", "comparison", "created", "data", "decision_surface", "findings",
         "importance_agreement", "information_plane", "logistic", "missing", "model", "notes", "schema_version",
         "shallownet_version", "source", "target", "timings", "variables"],
    "data": ["class_counts", "dropped_columns", "dropped_target_rows", "dropped_training_rows", "majority_accuracy",
             "majority_class", "n_rows", "n_test", "n_test_complete", "n_train"],
    "logistic": ["coefficients", "odds_ratios", "variable_tests"],
    "importance_agreement": ["expected_vs_logistic_spearman"],
    "decision_surface": ["at", "span", "variables"],
}


@pytest.fixture(scope="module")
def two_signal_analysis():
    """Signal in u and v only; w and a category are noise."""
    from shallownet.analysis import analyze

    rng = np.random.default_rng(1)
    n = 240
    X = pd.DataFrame({"w": rng.normal(size=n), "u": rng.normal(10, 2, n), "v": rng.uniform(0, 50, n),
                      "c": rng.choice(["k", "l"], n)})
    eta = 2.0 * (X["u"] - 10) / 2 + 2.0 * (X["v"] - 25) / 14
    y = np.where(eta + rng.logistic(size=n) * 0.5 > 0, "yes", "no")
    return analyze(X, y, n_members=2, max_iter=200, n_bootstrap=20, attributions=(), source="two")


def test_results_json_golden_structure(two_signal_analysis, tmp_path):
    assert SCHEMA_VERSION == 4
    out = write_analysis(two_signal_analysis, tmp_path / "rep")
    doc = json.loads((out / "results.json").read_text())
    validate(doc, RESULTS_SCHEMA)
    assert doc["schema_version"] == 4
    for path, keys in GOLDEN.items():
        part = doc[path] if path else doc
        assert sorted(part) == keys, path
    assert doc["data"]["majority_class"] in ("yes", "no") and 0.3 < doc["data"]["majority_accuracy"] < 0.7
    tests = pd.DataFrame(doc["logistic"]["variable_tests"]).set_index("variable")
    assert set(tests.nlargest(2, "chi2").index) == {"u", "v"} and tests["method"].eq("likelihood ratio").all()
    odds = pd.DataFrame(doc["logistic"]["odds_ratios"]).set_index("variable")
    assert odds.loc["u", "or_per_iqr"] > odds.loc["u", "or_per_unit"] > 1  # IQR of u is about 2.7 units
    assert -1 <= doc["importance_agreement"]["expected_vs_logistic_spearman"] <= 1
    assert sorted(doc["decision_surface"]["variables"]) == ["u", "v"]
    with pytest.raises(Exception, match="majority_accuracy"):
        broken = dict(doc, data={k: v for k, v in doc["data"].items() if k != "majority_accuracy"})
        validate(broken, RESULTS_SCHEMA)
    # the report shows the odds-ratio table unfolded, the [0, 1] coefficients only folded
    page = (out / "index.html").read_text(encoding="utf-8")
    unfolded = re.sub(r"<details>.*?</details>", "", page, flags=re.S)
    assert "tables/odds-ratios.csv" in unfolded
    assert "tables/logistic-coefficients.csv" in page and "tables/logistic-coefficients.csv" not in unfolded

def test_decision_surface_is_drawn_where_the_signal_is(two_signal_analysis):
    a = two_signal_analysis
    surface = surface_choice(a)
    assert set(surface.variables) == {"u", "v"}
    p = surface.proba[:, :, 1]
    assert p.min() <= 0.2 and p.max() >= 0.8
    # on the 1st-99th percentiles of the training values, not the whole training range
    for name, values in zip(surface.variables, surface.values):
        train = a.X_train[name]
        assert values[0] == pytest.approx(np.quantile(train, 0.01), rel=1e-5)
        assert values[-1] == pytest.approx(np.quantile(train, 0.99), rel=1e-5)
    assert surface.at.startswith("the typical case")
    held = a.model.encoder_.transform(a.X_train, report=False)
    assert any(np.allclose(surface.held, row) for row in held)  # a real training case, not column medians
