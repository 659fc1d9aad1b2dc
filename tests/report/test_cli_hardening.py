"""Issue 18, items 7 and 8: the command line fails fast where the logistic baseline cannot be
fitted, falls back where only its inference cannot, and explains bad paths.

Each test reproduces a case of the bad-input sweep that failed on the main branch (a lost run
after training, a misquoted option, or exit 1 "unexpected error")."""

import html
import json

import numpy as np
import pandas as pd
import pytest

from shallownet.cli import main

TINY = ["--quiet", "--members", "1", "--epochs", "30", "--bootstrap", "20"]


def table(n=40, seed=0, rare=None):
    rng = np.random.default_rng(seed)
    a = rng.uniform(size=n)
    frame = pd.DataFrame({"a": a, "c": rng.uniform(size=n),
                          "y": np.where(a + 0.3 * rng.normal(size=n) > 0.5, "yes", "no")})
    if rare is not None:
        frame.loc[frame.index[:rare], "y"] = "rare"
    return frame


@pytest.fixture
def no_training(monkeypatch):
    """Training must not start: a check that fails after it has lost the user's time."""
    from shallownet.training import ShallowNetClassifier

    def refuse(self, *args, **kwargs):
        raise AssertionError("the network was trained before the failing check")

    monkeypatch.setattr(ShallowNetClassifier, "fit", refuse)


@pytest.mark.parametrize("command", ["analyze", "compare"])
def test_a_class_too_small_for_the_baselines_folds_fails_fast_naming_cv(command, tmp_path, capsys, no_training):
    path = tmp_path / "d.csv"
    table(rare=4).to_csv(path, index=False)  # 4 rows: 3 of them in training with test_size 0.25
    extra = ["--out", str(tmp_path / "r")] if command == "analyze" else []
    assert main([command, str(path), "--target", "y", *extra, *TINY]) == 2
    err = capsys.readouterr().err
    assert "Class 'rare' has 3 complete training row(s)" in err and "--cv 3" in err


def test_four_rows_fail_fast_quoting_the_test_size_given(tmp_path, capsys, no_training):
    path = tmp_path / "d.csv"
    table(n=4).assign(y=["a", "b", "a", "b"]).to_csv(path, index=False)
    assert main(["analyze", str(path), "--target", "y", "--out", str(tmp_path / "r"), *TINY]) == 2
    err = capsys.readouterr().err
    assert "test_size=0.25 (--test-size) of 4 rows holds out 1 row(s)" in err
    assert "test_size = 1" not in err


def test_a_collinear_column_falls_back_to_the_penalised_baseline_with_the_reason(tmp_path, capsys):
    """Also: --cv reaches the baseline (a class of 4 rows, 3 of them in training)."""
    frame = table(n=60, rare=4)
    frame.insert(1, "twice_a", 2 * frame["a"])
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    assert main(["compare", str(path), "--target", "y", "--json", "--cv", "3", *TINY]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {m["metric"] for m in doc["table"]} >= {"accuracy", "log_loss"}
    note = next(n for n in doc["notes"] if "inference failed" in n)
    assert "twice_a" in note and "penalised" in note


def test_more_columns_than_rows_still_gives_a_report(tmp_path, capsys, monkeypatch):
    """The inference falls back to the penalised fit; and should the held-out comparison fail
    too (simulated: on real data the checks before training prevent it), the report is still
    written, saying why that section is missing."""
    import shallownet.analysis

    def no_comparison(*args, **kwargs):
        raise ValueError("Class 'p' does not occur in `y_true` (simulated)")

    monkeypatch.setattr(shallownet.analysis, "compare", no_comparison)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.uniform(size=(16, 14)), columns=[f"v{i}" for i in range(14)])
    frame["y"] = np.where(frame["v0"] > 0.5, "p", "q")
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "rep"
    assert main(["analyze", str(path), "--target", "y", "--out", str(out), "--cv", "2", *TINY]) == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["comparison"] is None
    # schema 4: without MLE the logistic part holds only the penalised deviance test per variable
    assert doc["logistic"]["coefficients"] is None and doc["logistic"]["odds_ratios"] is None
    assert {t["method"].split(" (")[0] for t in doc["logistic"]["variable_tests"]} == {"penalised deviance"}
    assert any("inference failed" in n and "singular" in n for n in doc["notes"])
    page = html.unescape((out / "index.html").read_text(encoding="utf-8"))
    assert "No held-out comparison with logistic regression: Class 'p'" in page


def test_a_folder_as_data_and_a_file_as_out_are_usage_errors(tmp_path, capsys, no_training):
    assert main(["analyze", str(tmp_path), "--out", str(tmp_path / "r"), *TINY]) == 2
    assert "is a folder" in capsys.readouterr().err
    taken = tmp_path / "taken.txt"
    taken.write_text("mine")
    assert main(["analyze", "--out", str(taken), "--force", *TINY]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert taken.read_text() == "mine"


def test_a_duplicated_csv_header_is_refused_not_renamed(tmp_path, capsys, no_training):
    path = tmp_path / "dup.csv"
    path.write_text("a,b,a,y\n1,2,3,p\n4,5,6,q\n")
    assert main(["compare", str(path), "--target", "y", *TINY]) == 2
    err = capsys.readouterr().err
    assert "duplicated column names ('a' in columns [1, 3])" in err and "'a.1'" in err
