"""``shallownet analyze`` and ``shallownet compare`` end to end.

One penguins analysis (a quick configuration) is run once per module and inspected from many
sides: the folder's contents, results.json against its schema, the model file, a real browser.
Awkward CSVs and every bad-input path are checked separately.
"""

import json
import re

import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.cli import main
from shallownet.report import validate
from shallownet.report.build import RESULTS_SCHEMA

from .browser import LAYOUT_SCRIPT, find_chromium, inspect_page, print_to_pdf

QUICK = ["--quiet", "--members", "2", "--epochs", "150", "--bootstrap", "100"]


ANALYSES = {}  # the Analysis behind each report the module fixture wrote


@pytest.fixture(scope="module")
def penguins_report(tmp_path_factory):
    import shallownet.report.build as build

    out = tmp_path_factory.mktemp("penguins") / "report"
    write = build.write_analysis

    def keep(a, folder, force=False, single_file=False):
        ANALYSES[str(folder)] = a
        return write(a, folder, force=force, single_file=single_file)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build, "write_analysis", keep)
        code = main(["analyze", "--out", str(out), *QUICK])
    assert code == 0
    return out


def test_report_folder_contents(penguins_report):
    out = penguins_report
    page = (out / "index.html").read_text(encoding="utf-8")
    for section in ["How good is the network?", "Which variables matter, and how do we know?",
                    "What do the hidden nodes do?", "Where does the network differ from logistic regression?",
                    "Data and method"]:
        assert f">{section}</h2>" in page
        # each section opens with its conclusion, drawn from the numbers
        assert page.split(f">{section}</h2>")[1].lstrip().startswith('<p class="conclusion">')
    assert ">Missing data<" in page and (out / "tables" / "missing-data.csv").exists()
    # member-level tables only in folded detail (and in the CSVs)
    unfolded = re.sub(r"<details>.*?</details>", "", page, flags=re.S)
    for table in ["output-deltas", "hidden-activity", "hidden-logic", "hidden-activations", "convergence"]:
        assert (out / "tables" / f"{table}.csv").exists() and f"tables/{table}.csv" not in unfolded
    first = page.split('<section class="first-screen">')[1].split("</section>")[0]
    assert "Question: which species (Adelie, Chinstrap, Gentoo)" in first and "always predicting Adelie" in first
    assert 3 <= first.count('class="finding"') <= 5 and 'src="figures/importance.png"' in first
    for fig in ["network-diagram", "olden", "influence", "roc", "training-curve", "decision-surface",
                "importance", "influence-vs-logistic", "hidden-activations"]:
        assert (out / "figures" / f"{fig}.png").stat().st_size > 2000
        assert f'src="figures/{fig}.png"' in page
    variables = pd.read_csv(out / "tables" / "variables.csv")
    assert variables["variable"].tolist() == ["island", "bill_length_mm", "bill_depth_mm",
                                              "flipper_length_mm", "body_mass_g", "sex"]
    assert "http://" not in page and "https://" not in page
    # The logistic MLE does not exist on penguins, said plainly: the four measurements are missing
    # together (identical indicators, a singular design) and the species separate.
    assert "design is singular" in page and "penalised logistic regression" in page


def test_results_json_follows_its_schema_and_the_tables(penguins_report):
    doc = json.loads((penguins_report / "results.json").read_text())
    validate(doc, RESULTS_SCHEMA)
    assert doc["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert doc["data"]["n_rows"] == 344 and doc["data"]["dropped_training_rows"] == 0  # missing="indicator"
    assert {c["variable"] for c in doc["missing"]["columns"]} >= {"sex"}
    ei = pd.read_csv(penguins_report / "tables" / "influence.csv").set_index("variable")["expected"]
    for v in doc["variables"]:
        assert v["expected"] == pytest.approx(ei[v["variable"]], rel=1e-9)
        assert 0 <= v["expected"] <= v["potential"] + 1e-12  # EI can never exceed PI
    assert len(doc["findings"]) >= 3


def test_model_file_reproduces_the_reported_accuracy(penguins_report):
    doc = json.loads((penguins_report / "results.json").read_text())
    model = sn.load(penguins_report / "model.npz")
    assert model.network_.n_members == 2
    X, y = sn.datasets.load_penguins()
    from shallownet.analysis import split_table, usable_rows

    _, X_test, _, y_test = split_table(X, y, 0.25, 0)
    rows = usable_rows(model, X_test)
    acc = float(np.mean(model.predict(X_test[rows]) == y_test[rows].to_numpy()))
    assert acc == pytest.approx(doc["model"]["test_accuracy"])


def test_report_in_a_real_browser(penguins_report, tmp_path):
    if find_chromium() is None:
        pytest.skip("Chromium is not installed: `apt-get install chromium` (Debian) enables this test")
    shot = tmp_path / "report.png"
    seen = inspect_page(str(penguins_report / "index.html"), screenshot=str(shot), width=1280, height=900,
                        script=LAYOUT_SCRIPT)
    assert seen["title"].startswith("shallownet analysis: species")
    assert seen["images"] >= 10 and seen["broken"] == []
    assert seen["console_errors"] == []
    assert shot.stat().st_size > 50_000
    layout = seen["script"]
    # Nothing wider than the viewport, folded or opened: wide tables scroll inside their own box.
    assert layout["scroll_width"] <= layout["viewport"] and layout["n_wide"] == 0, layout["wide"]
    assert layout["images_without_alt"] == []
    assert layout["details"] >= 5 and layout["details_open"]  # every <details> opens and shows content
    assert "headline" in layout["first_screen"] and "finding" in layout["first_screen"]  # within 900 px
    assert layout["tables_unfolded"] <= 2 and layout["height"] < layout["height_open"] / 3


def test_report_prints_to_pdf_with_no_table_cut(penguins_report, tmp_path):
    if find_chromium() is None:
        pytest.skip("Chromium is not installed: `apt-get install chromium` (Debian) enables this test")
    printed = print_to_pdf(str(penguins_report / "index.html"), str(tmp_path / "report.pdf"))
    # Every table and figure, the folded detail included, fits between the A4 margins.
    assert printed["tables"] >= 20 and printed["cut"] == []
    # The PDF's page objects and its page tree agree, and the printed length accounts for them:
    # at least the laid-out height in pages, plus what keeping figures and rows whole adds.
    assert printed["pages"] == printed["page_tree_count"]
    least = -(-printed["height"] // printed["page_height"])
    assert least <= printed["pages"] <= 1.5 * least + 2


def test_single_file_report_embeds_every_figure(penguins_report, tmp_path):
    from shallownet.report.build import write_analysis

    out = write_analysis(ANALYSES[str(penguins_report)], tmp_path / "one", single_file=True)
    page = (out / "index.html").read_text(encoding="utf-8")
    n_figures = len(list((out / "figures").glob("*.png")))
    assert page.count('src="data:image/png;base64,') == n_figures >= 10 and 'src="figures/' not in page


def test_never_overwrites_without_force(penguins_report, capsys):
    (penguins_report / "mine.txt").write_text("keep me")
    assert main(["analyze", "--out", str(penguins_report), *QUICK]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert (penguins_report / "mine.txt").read_text() == "keep me"


def awkward_frame(n=120, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    colour = rng.choice(["red, dark", "blue", "green"], size=n)  # quoted commas in a CSV
    frame = pd.DataFrame({
        "patient_id": np.arange(1000, 1000 + n),          # numeric-looking id
        "größe (cm)": 170 + 10 * a,                       # non-ASCII name
        "colour": colour,
        "site": ["A"] * n,                                # constant column
        "dose": rng.uniform(0, 5, n),
        "outcome": np.where(a + (colour == "blue") + rng.normal(0, 0.5, n) > 0.5, "sick", "well"),
    })
    frame.loc[[3, 10], "dose"] = np.nan                   # missing values
    return frame


def test_awkward_csv_end_to_end(tmp_path, capsys):
    frame = awkward_frame()
    # A category that appears in one row only: it can land in the test split alone.
    frame.loc[frame.index[-1], "colour"] = "purple"
    path = tmp_path / "awkward.csv"
    frame.to_csv(path, index=False)
    assert '"red, dark"' in path.read_text()
    out = tmp_path / "rep"
    code = main(["analyze", str(path), "--target", "outcome", "--out", str(out), *QUICK])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "identifier-like column 'patient_id'" in err and "--keep patient_id" in err
    doc = json.loads((out / "results.json").read_text())
    validate(doc, RESULTS_SCHEMA)
    assert doc["data"]["dropped_columns"] == ["site"]
    assert [c["variable"] for c in doc["missing"]["columns"]] == ["dose"]  # kept, with an indicator
    assert doc["missing"]["rows"]["train_used"] == doc["data"]["n_train"]
    names = [v["variable"] for v in doc["variables"]]
    assert "größe (cm)" in names and "site" not in names and "patient_id" not in names
    colour = next(v for v in doc["variables"] if v["variable"] == "colour")
    assert "red, dark" in colour["categories"]


def test_semicolon_csv_and_drop_option(tmp_path):
    frame = awkward_frame()
    path = tmp_path / "semi.csv"
    frame.to_csv(path, index=False, sep=";")
    out = tmp_path / "rep"
    assert main(["analyze", str(path), "--target", "outcome", "--drop", "patient_id", "--out", str(out), *QUICK]) == 0
    doc = json.loads((out / "results.json").read_text())
    assert "patient_id" not in [v["variable"] for v in doc["variables"]]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["analyze", "missing.csv"], "no such file"),
        (["analyze", "--hidden", "a,b"], "--hidden must be"),
        (["analyze", "--target", "mass"], "target 'species'"),
        (["analyze", "--members", "0"], "must be positive"),
        (["analyze", "--test-size", "1.5"], "--test-size"),
        (["analyze", "--drop", "nope"], "--drop names unknown columns ['nope']"),
        (["analyze", "{csv}", "--target", "nope"], "--target 'nope' is not a column"),
        (["analyze", "{csv}", "--target", "outcome", "--real", "colour"], "non-numeric value"),
        (["compare", "{csv}", "--target", "outcome", "--categorical", "nope"], "--categorical names unknown"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys, tmp_path):
    path = tmp_path / "d.csv"
    awkward_frame().to_csv(path, index=False)
    argv = [a.replace("{csv}", str(path)) for a in argv] + ["--out", str(tmp_path / "o")] * (argv[0] == "analyze")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "o").exists()


def test_unexpected_errors_exit_1(monkeypatch, capsys, tmp_path):
    import shallownet.analysis

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(shallownet.analysis, "analyze", boom)
    assert main(["analyze", "--out", str(tmp_path / "o"), "--quiet"]) == 1
    assert "unexpected error: RuntimeError: kaboom" in capsys.readouterr().err


def test_compare_command_table_and_json(tmp_path, capsys):
    path = tmp_path / "d.csv"
    awkward_frame(200, seed=1).drop(columns=["patient_id"]).to_csv(path, index=False)
    assert main(["compare", str(path), "--target", "outcome", *QUICK]) == 0
    out = capsys.readouterr().out
    assert "network vs logistic" in out and "accuracy" in out and "McNemar" in out
    assert main(["compare", str(path), "--target", "outcome", "--json", *QUICK]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {r["metric"] for r in doc["table"]} >= {"accuracy", "log_loss", "roc_auc"}


def holes_csv(tmp_path):
    """Empty cells, 'NA' and '?' tokens, an identifier, and a category seen only in test rows."""
    from shallownet.analysis import split_table

    rng = np.random.default_rng(5)
    n = 80
    a = rng.normal(size=n)
    colour = rng.choice(["red", "blue"], n).astype(object)
    frame = pd.DataFrame({"id": [f"case-{i}" for i in range(n)], "a": a.round(4).astype(object),
                          "colour": colour, "b": rng.normal(size=n).round(4),
                          "y": np.where(a + (colour == "blue") > 0.5, "yes", "no")})
    frame.loc[[1, 7, 30], "a"] = "NA"
    frame.loc[[2, 40], "a"] = "?"
    frame.loc[[5, 50], "a"] = ""
    frame.loc[[4, 44], "colour"] = ""
    _, X_test, _, _ = split_table(frame.drop(columns="y"), frame["y"], 0.25, 0)
    frame.loc[X_test.index[:2], "colour"] = "violet"  # unseen in training
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    return path


def test_csv_with_holes_tokens_and_an_unseen_category(tmp_path, capsys):
    path = holes_csv(tmp_path)
    quick = ["--quiet", "--members", "1", "--epochs", "30", "--bootstrap", "20"]
    assert main(["compare", str(path), "--json", "--real", "a", *quick]) == 0  # --real allows the tokens
    doc = json.loads(capsys.readouterr().out)
    assert any("identifier-like column 'id'" in n for n in doc["notes"])
    assert any(n.startswith("2 test rows with a category not seen in training were scored") for n in doc["notes"])
    assert doc["table"][0]["metric"] == "accuracy" and "n = 20" in doc["title"]  # every test row scored
    assert main(["compare", str(path), "--json", "--missing", "error", *quick]) == 2
    err = capsys.readouterr().err
    assert re.search(r"missing values \(NaN\): \{'a': \d, 'colour': \d\}", err) and "'NA': " in err and "'?': " in err
    # Refusing unseen categories leaves those test rows out, counted and said why.
    assert main(["compare", str(path), "--json", "--unknown", "error", *quick]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "2 test rows the missing-value policy ('indicator', unknown='error') cannot encode" in " ".join(doc["notes"])
    assert "n = 18" in doc["title"]


def _explained_rows():
    """The complete training and test rows of the quick penguins analysis (as analyze() splits)."""
    from shallownet.analysis import split_table, usable_rows

    X, y = sn.datasets.load_penguins()
    keep = y.notna().to_numpy()
    X_train, X_test, _, y_test = split_table(X[keep], y[keep], 0.25, 0)
    return X_train, X_test, y_test, usable_rows


def test_attribution_sections_match_the_library(penguins_report):
    from shallownet.report.attributions import MAX_COUNTERFACTUALS, MAX_EXPLAINED, N_ALE

    out = penguins_report
    page = (out / "index.html").read_text(encoding="utf-8")
    for section in ["Shapley values", "Final-feature map", "Counterfactuals", "Accumulated local effects"]:
        assert f">{section}</h3>" in page
    for fig in ["shapley-importance", "shapley-summary", "shapley-waterfall", "hidden-map"]:
        assert (out / "figures" / f"{fig}.png").stat().st_size > 2000 and f'src="figures/{fig}.png"' in page
    model = sn.load(out / "model.npz")
    X_train, X_test, y_test, usable_rows = _explained_rows()
    Xtr = X_train[usable_rows(model, X_train)]
    te = usable_rows(model, X_test)
    Xte, yte = X_test[te], y_test[te]
    doc = json.loads((out / "results.json").read_text())
    validate(doc, RESULTS_SCHEMA)
    att = doc["attributions"]
    assert att["methods"] == ["shapley", "hidden-map", "counterfactuals", "ale"]
    # Shapley: exact (6 variables), the first MAX_EXPLAINED test rows against the training rows
    phi = sn.interpret.shapley(model, Xte.iloc[:MAX_EXPLAINED], Xtr, method="exact")
    want = phi.to_frame().groupby("variable")["mean_abs"].mean()
    got = pd.read_csv(out / "tables" / "shapley-importance.csv").set_index("variable")["mean_abs"]
    np.testing.assert_allclose(got[want.index], want, rtol=1e-5)
    assert att["shapley"]["method"] == "exact" and att["shapley"]["n_explained"] == min(MAX_EXPLAINED, len(Xte))
    assert got.index[0] in page.split(">Shapley values</h3>")[1].split("</p>")[0]  # the opening sentence
    from scipy.stats import spearmanr

    variables = pd.DataFrame(doc["variables"]).set_index("variable")
    agree = pd.read_csv(out / "tables" / "shapley-agreement.csv").set_index("method")["spearman"]
    assert agree["expected influence"] == pytest.approx(spearmanr(want, variables.loc[want.index, "expected"]).statistic)
    assert agree["olden |CW|"] == pytest.approx(spearmanr(want, variables.loc[want.index, "olden_abs"]).statistic)
    # the final-feature map of the complete test rows
    hm = sn.interpret.hidden_map(model, Xte, yte)
    np.testing.assert_allclose(att["hidden_map"]["explained_variance_ratio"], hm.explained_variance_ratio, rtol=1e-5)
    # counterfactuals of the first MAX_COUNTERFACTUALS test rows
    cf = sn.interpret.counterfactuals(model, Xte.iloc[:MAX_COUNTERFACTUALS], reference=Xtr).variable_frame()
    table = pd.read_csv(out / "tables" / "counterfactual-variables.csv")
    assert table["variable"].tolist() == cf["variable"].tolist()
    np.testing.assert_allclose(table["within_one_spread"], cf["within_one_spread"], atol=1e-12)
    np.testing.assert_allclose(table["median_distance"], cf["median_distance"], rtol=1e-4)
    # ALE of the N_ALE variables of largest expected influence, over the training rows
    top = variables["expected"].sort_values(ascending=False).index[:N_ALE].tolist()
    assert [e["variable"] for e in att["ale"]] == top
    first = sn.interpret.ale(model, Xtr, top[0]).to_frame()
    np.testing.assert_allclose(pd.DataFrame(att["ale"][0]["effects"])["effect"], first["effect"], atol=1e-6)


def test_skip_options_remove_the_attribution_sections(penguins_report, tmp_path, monkeypatch):
    import dataclasses

    import shallownet.analysis
    from shallownet.report.attributions import compute_attributions
    from shallownet.report.build import write_analysis

    a = ANALYSES[str(penguins_report)]
    kept = {"hidden_map": a.results["attributions"]["hidden_map"]}
    skipped = dataclasses.replace(a, results={**a.results, "attributions": kept},
                                  settings={**a.settings, "attributions": ["hidden-map"]})
    out = write_analysis(skipped, tmp_path / "rep")
    page = (out / "index.html").read_text(encoding="utf-8")
    for gone in ["Shapley values", "Counterfactuals", "Accumulated local effects"]:
        assert f">{gone}</h3>" not in page
    assert ">Final-feature map</h3>" in page and not list((out / "figures").glob("shapley*"))
    doc = json.loads((out / "results.json").read_text())
    validate(doc, RESULTS_SCHEMA)
    assert doc["attributions"]["methods"] == ["hidden-map"] and set(doc["attributions"]) == {"methods", "hidden_map"}
    # the computation runs only what is asked for
    X_train, X_test, y_test, usable_rows = _explained_rows()
    te = usable_rows(a.model, X_test)
    Xtr = X_train[usable_rows(a.model, X_train)]
    args = (a.model, Xtr, X_test[te], y_test[te], a.results["expected"])
    assert set(compute_attributions(*args, ("hidden-map",))) == {"hidden_map"}
    assert compute_attributions(*args, ()) == {}
    # --skip reaches analyze() as the methods left
    seen = {}

    def capture(*args, **kwargs):
        seen.update(kwargs)
        raise RuntimeError("stop here")

    monkeypatch.setattr(shallownet.analysis, "analyze", capture)
    assert main(["analyze", "--out", str(tmp_path / "o"), *QUICK, "--skip", "shapley", "ale"]) == 1
    assert seen["attributions"] == ["hidden-map", "counterfactuals"]
    with pytest.raises(SystemExit) as bad:
        main(["analyze", "--out", str(tmp_path / "o"), *QUICK, "--skip", "nope"])
    assert bad.value.code == 2


def test_attribution_options_are_checked():
    from shallownet.analysis import analyze

    X, y = sn.datasets.load_penguins()
    with pytest.raises(ValueError, match=r"`attributions` must name methods among .* Got \['shap'\]"):
        analyze(X, y, attributions=["shap"])
    with pytest.raises(TypeError, match="`attributions` must be 'all' or a sequence"):
        analyze(X, y, attributions=3)


def test_first_screen_warns_of_members_that_did_not_converge(penguins_report):
    doc = json.loads((penguins_report / "results.json").read_text())
    first = (penguins_report / "index.html").read_text(encoding="utf-8").split("<h2")[0]
    stopped = [i for i, m in enumerate(doc["model"]["convergence"]) if not m["converged"]]
    assert ("did not converge" in first) == bool(stopped)
    if stopped:
        assert f"members {stopped} of {len(doc['model']['convergence'])} did not converge" in first
