"""The comparison example runs in its quick mode and says what it should."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "compare_breast_cancer.py"


@pytest.mark.filterwarnings("ignore::shallownet.data.encoder.OutOfRangeWarning")
def test_compare_example_quick(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("compare_breast_cancer", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(quick=True, out=tmp_path)
    printed = capsys.readouterr().out
    assert out["held_out"].n_obs == 171 and out["cross_validated"].n_obs == 569
    assert "['island'] separate the classes on their own" in out["penguins_separation"]
    assert len(out["side_by_side"].to_frame()) == 6
    assert "DeLong" in printed and "McFadden pseudo-R2" in printed
    for name in ("metrics", "calibration", "roc", "importance_vs_coefficient"):
        assert (tmp_path / f"breast_cancer_{name}.png").stat().st_size > 0
    assert (tmp_path / "penguins_roc.png").exists()
