"""``shallownet analyze`` and ``compare`` on a numeric target: the regression report end to end.

One quick analysis of a small simulated CSV (module fixture) is inspected from several sides:
the folder, results.json against its schema, the headline numbers recomputed with
``sn.baselines.compare`` on the same split, the residuals, a real browser. ``compare`` and the
``--task`` override are checked on their own small tables.
"""

import json

import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.analysis import split_table, usable_rows
from shallownet.cli import main
from shallownet.commands.analyze import read_csv
from shallownet.report import validate
from shallownet.report.regression import REGRESSION_SCHEMA

from .browser import LAYOUT_SCRIPT, find_chromium, inspect_page

def simulate(n, seed):
    """y = 1 + 2a - 0.8b + {0, 0.7, -0.5}[g] + 0.6 flag + noise: a real, an enumerated, a binary input."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.uniform(size=n), "b": rng.normal(size=n), "g": rng.choice(["u", "v", "w"], n),
                      "flag": rng.uniform(size=n) < 0.4})
    y = 1 + 2 * X["a"] - 0.8 * X["b"] + X["g"].map({"u": 0.0, "v": 0.7, "w": -0.5}) + 0.6 * X["flag"]
    return X, (y + 0.3 * rng.normal(size=n)).to_numpy()


QUICK = ["--quiet", "--members", "2", "--max-iter", "30", "--bootstrap", "60", "--hidden", "3"]


@pytest.fixture(scope="module")
def numeric_csv(tmp_path_factory):
    X, y = simulate(120, seed=3)
    frame = X.assign(length_cm=y)
    frame.loc[[5, 17], "length_cm"] = np.nan  # rows without a target are dropped and reported
    path = tmp_path_factory.mktemp("numeric") / "fish.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def report(numeric_csv):
    out = numeric_csv.parent / "report"
    assert main(["analyze", str(numeric_csv), "--out", str(out), *QUICK]) == 0
    return out


def test_the_folder_holds_the_regression_report(report):
    page = (report / "index.html").read_text(encoding="utf-8")
    for section in ["How good is the network?", "Which variables matter, and how do we know?",
                    "What do the hidden nodes do?", "Where does the network differ from OLS?", "Data and method"]:
        assert f">{section}</h2>" in page
    for fig in ["importance", "predicted-vs-observed", "residuals-vs-fitted", "residuals-histogram", "residuals-qq",
                "influence", "olden", "partial-dependence", "regression-surface", "hidden-activations",
                "training-curve"]:
        assert (report / "figures" / f"{fig}.png").stat().st_size > 2000
        assert f'src="figures/{fig}.png"' in page
    for table in ["comparison", "residuals", "ols-coefficients", "ols-importance", "side-by-side", "convergence",
                  "influence", "influence-bounds", "permutation", "sensitivity", "olden", "garson", "milne"]:
        assert len(pd.read_csv(report / "tables" / f"{table}.csv")) > 0
    assert "The question: how do the 4 input variables predict the number length_cm?" in page
    assert "accuracy" not in page.lower()  # nothing of the classification report leaks in
    assert "http://" not in page and "https://" not in page
    side = pd.read_csv(report / "tables" / "side-by-side.csv")
    assert {"ols_t", "ols_standardised", "expected influence", "permutation R^2 drop"} <= set(side.columns)


def test_results_json_follows_its_schema(report):
    doc = json.loads((report / "results.json").read_text())
    validate(doc, REGRESSION_SCHEMA)
    assert doc["task"] == "regression" and doc["target"] == "length_cm" and doc["model"]["output"] == "linear"
    assert doc["data"]["n_rows"] == 118 and doc["data"]["dropped_target_rows"] == 2
    assert any("118 distinct values (more than 10)" in n for n in doc["notes"])
    assert any("Dropped 2 rows without a target value" in n for n in doc["notes"])
    for v in doc["variables"]:
        assert 0 <= v["expected"] <= v["potential"] + 1e-9  # the mean change never exceeds the range
    ei = pd.read_csv(report / "tables" / "influence.csv").set_index("variable")["expected"]
    for v in doc["variables"]:
        assert v["expected"] == pytest.approx(ei[v["variable"]], rel=1e-9)
    assert len(doc["findings"]) >= 4
    with pytest.raises(Exception, match="expected 'regression'"):
        validate({**doc, "task": "classification"}, REGRESSION_SCHEMA)


def held_out(numeric_csv, model):
    frame = read_csv(str(numeric_csv))
    frame = frame[frame["length_cm"].notna()]
    X, y = frame.drop(columns=["length_cm"]), frame["length_cm"]
    _, X_test, _, y_test = split_table(X, y, 0.25, 0, stratify=False)
    X_train, _, y_train, _ = split_table(X, y, 0.25, 0, stratify=False)
    tr, te = usable_rows(model, X_train), usable_rows(model, X_test)
    return X_train[tr], y_train[tr], X_test[te], y_test[te]


def test_headline_numbers_equal_baselines_compare_on_the_same_split(report, numeric_csv):
    doc = json.loads((report / "results.json").read_text())
    model = sn.load(report / "model.npz")
    X_train, y_train, X_test, y_test = held_out(numeric_csv, model)
    linear = sn.baselines.fit_linear(X_train, y_train.to_numpy(), encoder=model.encoder_)
    want = sn.baselines.compare(model, X_test, y_test.to_numpy(), baseline=linear, n_bootstrap=60,
                                random_state=0).to_frame().set_index("metric")
    got = pd.DataFrame(doc["comparison"]["metrics"]).set_index("metric")
    assert doc["comparison"]["n"] == len(y_test) == 30
    pd.testing.assert_frame_equal(got[want.columns], want, rtol=1e-6)
    assert doc["model"]["test_rmse"] == pytest.approx(want.loc["rmse", "network"], rel=1e-6)
    assert doc["linear"]["rsquared"] == pytest.approx(linear.rsquared, rel=1e-9)
    table = pd.read_csv(report / "tables" / "comparison.csv").set_index("metric")
    np.testing.assert_allclose(table["ci_low"], want["ci_low"], rtol=1e-6)


def test_residuals_are_observed_minus_prediction(report, numeric_csv):
    model = sn.load(report / "model.npz")
    _, _, X_test, y_test = held_out(numeric_csv, model)
    res = pd.read_csv(report / "tables" / "residuals.csv").set_index("row").loc[X_test.index]
    np.testing.assert_allclose(res["observed"], y_test.to_numpy())
    np.testing.assert_allclose(res["network_predicted"], model.predict(X_test), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res["network_residual"], y_test.to_numpy() - model.predict(X_test), atol=1e-5)
    np.testing.assert_allclose(res["linear_residual"], res["observed"] - res["linear_predicted"], atol=1e-9)


def test_regression_report_in_a_real_browser(report, tmp_path):
    if find_chromium() is None:
        pytest.skip("Chromium is not installed: `apt-get install chromium` (Debian) enables this test")
    seen = inspect_page(str(report / "index.html"), screenshot=str(tmp_path / "page.png"), width=1280, height=900,
                        script=LAYOUT_SCRIPT)
    assert seen["title"].startswith("shallownet analysis: length_cm")
    assert seen["images"] >= 10 and seen["broken"] == []
    assert seen["console_errors"] == []
    layout = seen["script"]  # the layout the classification report keeps, checked the same way
    assert layout["scroll_width"] <= layout["viewport"] and layout["n_wide"] == 0, layout["wide"]
    assert layout["images_without_alt"] == []
    assert layout["details"] >= 5 and layout["details_open"]
    assert "headline" in layout["first_screen"] and "finding" in layout["first_screen"]
    assert layout["tables_unfolded"] <= 1 and layout["height"] < layout["height_open"] / 2


def test_first_screen_figures_equal_the_comparison(report, numeric_csv):
    """The headline boxes: the network's and OLS's RMSE, the difference with its interval, and the
    RMSE of predicting the training mean, recomputed here from the split."""
    doc = json.loads((report / "results.json").read_text())
    page = (report / "index.html").read_text(encoding="utf-8")
    metrics = pd.DataFrame(doc["comparison"]["metrics"]).set_index("metric").loc["rmse"]
    model = sn.load(report / "model.npz")
    _, y_train, _, y_test = held_out(numeric_csv, model)
    frame = read_csv(str(numeric_csv))
    frame = frame[frame["length_cm"].notna()]
    _, _, y_all_train, _ = split_table(frame.drop(columns=["length_cm"]), frame["length_cm"], 0.25, 0, stratify=False)
    mean_rmse = np.sqrt(np.mean((y_test.to_numpy() - y_all_train.mean()) ** 2))
    boxes = page.split('class="headline"')[1].split("</div></div>")[0]
    for value in (metrics["network"], metrics["linear"], mean_rmse):
        assert f"<b>{value:.3g}</b>" in boxes
    assert f"<b>{metrics['difference']:+.3g} [{metrics['ci_low']:+.3g}, {metrics['ci_high']:+.3g}]</b>" in boxes


def test_compare_prints_the_regression_comparison(numeric_csv, capsys):
    assert main(["compare", str(numeric_csv), "--quiet", "--members", "1", "--max-iter", "20", "--bootstrap", "30",
                 "--hidden", "2"]) == 0
    captured = capsys.readouterr()
    assert "network vs linear on 30 held-out cases" in captured.out
    assert "rmse" in captured.out and "Paired t test of squared errors" in captured.out
    assert "analysed as a number (regression)" in captured.err


def coded_csv(tmp_path, n_codes, rows_per_code=12):
    """A target of integer codes 1..n_codes that follow the input x."""
    rng = np.random.default_rng(0)
    code = np.repeat(np.arange(1, n_codes + 1), rows_per_code)
    frame = pd.DataFrame({"x": code + rng.normal(0, 0.3, code.size), "z": rng.normal(size=code.size),
                          "code": code})
    path = tmp_path / "coded.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("n_codes, task, metric", [(12, "classification", "accuracy"), (3, "regression", "rmse")])
def test_task_overrides_the_rule_both_ways(tmp_path, capsys, n_codes, task, metric):
    """12 integer codes would be a number and 3 would be classes; --task says otherwise."""
    path = coded_csv(tmp_path, n_codes)
    assert main(["compare", str(path), "--task", task, "--json", "--quiet", "--members", "1", "--max-iter", "20",
                 "--bootstrap", "20", "--hidden", "2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert metric in {r["metric"] for r in doc["table"]}
    assert doc.get("task", "classification") == task


def test_task_regression_on_text_and_the_information_plane_are_refused_before_training(
        numeric_csv, tmp_path, capsys, monkeypatch):
    import shallownet.analysis

    monkeypatch.setattr(shallownet.analysis, "analyze", lambda *a, **k: pytest.fail("the analysis ran"))
    assert main(["analyze", "--task", "regression", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "non-numeric value 'Adelie'" in capsys.readouterr().err  # penguins' species
    assert main(["analyze", str(numeric_csv), "--information-plane", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "--information-plane needs class labels" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_analyze_passes_the_task_to_the_analysis(numeric_csv, tmp_path, monkeypatch, capsys):
    import shallownet.analysis

    seen = {}

    def capture(*args, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(shallownet.analysis, "analyze", capture)
    assert main(["analyze", str(numeric_csv), "--task", "classification", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert seen["task"] == "classification" and "stop here" in capsys.readouterr().err


def test_first_screen_warns_of_members_that_did_not_converge(report):
    doc = json.loads((report / "results.json").read_text())
    first = (report / "index.html").read_text(encoding="utf-8").split("<h2")[0]
    stopped = [i for i, m in enumerate(doc["model"]["convergence"]) if not m["converged"]]
    assert ("did not converge" in first) == bool(stopped)
    if stopped:
        assert f"members {stopped} of {len(doc['model']['convergence'])} did not converge" in first
