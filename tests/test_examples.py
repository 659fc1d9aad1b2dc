"""Every example is listed in examples/README.md, has a quick mode, and is smoke-run by a test."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TESTS = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py")
                  if p.name != "test_examples.py")


def test_there_are_examples():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_is_listed_quick_and_smoke_run(script):
    readme = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    assert f"`{script.name}`" in readme, f"{script.name} is not listed in examples/README.md"
    assert "--quick" in script.read_text(encoding="utf-8")
    assert re.search(rf'examples"\s*/\s*"{re.escape(script.name)}"|examples/{re.escape(script.name)}', TESTS), (
        f"no test runs examples/{script.name}"
    )
