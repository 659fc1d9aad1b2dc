"""The paper reproductions run end to end in their quick modes."""

import importlib.util
import json
from pathlib import Path

import pytest

PAPERS = Path(__file__).resolve().parents[2] / "papers"


def _load(folder):
    name = f"reproduce_{folder.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, PAPERS / folder / "reproduce.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shwartz_ziv_quick(tmp_path, capsys):
    assert _load("shwartz-ziv2017").main(["--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "tanh 12-10-7-5-4-3-2, 2 seeds, 60 epochs" in out and "hidden layers whose I(X;T) fell" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["layer"] for r in results["per_layer"]] == ["h1", "h2", "h3", "h4", "h5", "output"]
    assert (tmp_path / "figure.png").stat().st_size > 10_000


def test_saxe_quick(tmp_path, capsys):
    assert _load("saxe2018").main(["--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "relu, bins 30 edges on [-1, 1]" in out and "minimal model" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results["per_layer"]) == 6
    mini = results["minimal_model"]
    peak = max(mini["tanh_30_edges"])
    assert peak == pytest.approx(4.83, abs=0.05)
    assert all(b > a for a, b in zip(mini["relu_width_0.07"], mini["relu_width_0.07"][1:]))
    assert (tmp_path / "figure.png").stat().st_size > 10_000
