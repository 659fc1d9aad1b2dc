"""The command line: analyze end to end, exit codes and one-line errors."""

import pandas as pd
import pytest

from shallownet.cli import main


@pytest.fixture(autouse=True)
def no_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SHALLOWNET_CACHE_DIR", str(tmp_path / "cache"))


def test_analyze_bundled_penguins(capsys):
    code = main(["analyze", "--quiet", "--members", "2", "--epochs", "60"])
    out = capsys.readouterr().out
    assert code == 0
    assert "bundled Palmer penguins" in out and "Held-out accuracy" in out
    assert "island" in out and "enumerated" in out


def test_analyze_csv_with_target(tmp_path, capsys):
    df = pd.DataFrame({"a": range(40), "b": ["x", "y"] * 20, "label": ["p", "q"] * 20})
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    assert main(["analyze", str(path), "--target", "label", "--quiet", "--members", "1", "--epochs", "5"]) == 0
    assert "classes ['p', 'q']" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["analyze", "missing.csv"], "no such file"),
        (["analyze", "--hidden", "a,b"], "--hidden must be"),
        (["analyze", "--target", "mass"], "target 'species'"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_analyze_writes_folder_and_never_overwrites_without_force(tmp_path, capsys):
    out = tmp_path / "report"
    argv = ["analyze", "--quiet", "--members", "1", "--epochs", "5", "--out", str(out)]
    assert main(argv) == 0
    assert (out / "model.npz").exists() and "Held-out accuracy" in (out / "summary.txt").read_text()
    (out / "mine.txt").write_text("user's file")
    assert main(argv) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert (out / "mine.txt").exists()
    assert main(argv + ["--force"]) == 0
    assert not (out / "mine.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report-")]
