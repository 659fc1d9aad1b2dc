import re

import pandas as pd
import pytest

from shallownet.report import Report, SchemaError, validate


def test_report_writes_offline_html_tables_and_figures(tmp_path):
    import matplotlib.pyplot as plt

    rep = Report("Title <&>", subtitle="sub")
    sec = rep.section("Data & encoding")
    sec.text("a < b").table("vars", pd.DataFrame({"v": ["x", "y"], "w": [0.123456, 2.0]}), "caption")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    sec.figure("line", fig, "a line")
    sec.table("vars", pd.DataFrame({"a": range(100)}), max_rows=5)
    rep.write(tmp_path)
    page = (tmp_path / "index.html").read_text()
    assert "Title &lt;&amp;&gt;" in page and "a &lt; b" in page
    assert 'src="figures/line.png"' in page and (tmp_path / "figures/line.png").stat().st_size > 1000
    assert (tmp_path / "tables/vars.csv").exists() and (tmp_path / "tables/vars-2.csv").exists()
    assert len(pd.read_csv(tmp_path / "tables/vars-2.csv")) == 100  # full table in CSV
    assert "first 5 of 100 rows" in page
    assert "http" not in page  # no external assets
    assert 'href="#data-encoding"' in page


SCHEMA = {
    "type": "object",
    "required": ["version", "rows"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "rows": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}}},
        "kind": {"enum": ["a", "b"]},
        "value": {"type": ["number", "null"]},
    },
}


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"rows": []}, "missing required key 'version'"),
        ({"version": 2, "rows": []}, "expected 1"),
        ({"version": 1, "rows": [{"n": -1}]}, r"\$.rows\[0\].n: -1 is below"),
        ({"version": 1, "rows": [{"n": 1.5}]}, "expected integer"),
        ({"version": 1, "rows": [], "kind": "c"}, "not one of"),
        ({"version": 1, "rows": [], "other": 1}, "unexpected key 'other'"),
        ({"version": 1, "rows": [], "value": True}, "expected number or null"),
    ],
)
def test_schema_violations_are_reported_with_their_path(doc, message):
    with pytest.raises(SchemaError, match=message):
        validate(doc, SCHEMA)


def test_schema_accepts_a_valid_document():
    validate({"version": 1, "rows": [{"n": 3}], "kind": "a", "value": None}, SCHEMA)


def test_details_scroll_boxes_alt_text_and_single_file(tmp_path):
    from matplotlib.figure import Figure

    rep = Report("T")
    first = rep.section("")
    first.headline([("91.0%", "network accuracy")]).conclusion("It works.")
    sec = rep.section("How good?")
    fig = Figure()
    fig.subplots().plot([0, 1], [1, 0])
    sec.figure("f", fig, "caption", alt="a falling line")
    detail = sec.details("Detail")
    detail.table("wide", pd.DataFrame({f"column {i}": [i] for i in range(40)}))
    rep.write(tmp_path / "folder")
    page = (tmp_path / "folder" / "index.html").read_text()
    assert '<section class="first-screen">' in page and 'href="#how-good"' in page and 'href="#"' not in page
    assert re.search(r'<details><summary>Detail</summary>\s*<div class="scroll"><table', page)
    assert 'alt="a falling line"' in page and 'src="figures/f.png"' in page
    assert "@media print" in page and "beforeprint" in page
    fig = Figure()
    fig.subplots().plot([0, 1], [1, 0])
    sec.blocks[0] = ("figure", ("f", fig, "caption", "a falling line"))
    rep.write(tmp_path / "one", single_file=True)
    page = (tmp_path / "one" / "index.html").read_text()
    assert 'src="data:image/png;base64,iVBOR' in page and 'src="figures/' not in page
