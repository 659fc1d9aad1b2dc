"""Smoke run of examples/weights_penguins.py in its quick mode."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "weights_penguins.py"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_weights_penguins_example_runs_quickly(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("weights_penguins", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(quick=True, out=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["activity.png", "garson.png", "network.png", "olden.png"]
    out = capsys.readouterr().out
    assert "Olden randomisation test (9 permutations)" in out
    assert results["garson"].layout.variables == (
        "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex")
    np.testing.assert_allclose(results["garson"].values.sum(axis=1), 1.0, rtol=1e-6)
    assert results["mlp_olden"].layout.kinds[0] == "enumerated"
