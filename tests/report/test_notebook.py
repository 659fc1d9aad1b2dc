"""The notebook view: result objects as HTML tables, an analysis' first screen inline, and the
conclusion that ``shallownet compare`` leads with.

One small classification analysis and one small regression analysis (module fixtures) are
rendered; every HTML fragment is parsed with :mod:`html.parser` and its cells are compared
with the numbers they claim to show.
"""

import json
import math
import sys
import textwrap
import types
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from shallownet._html import DIGITS, MAX_ROWS, format_value
from shallownet.analysis import analyze, split_table
from shallownet.analysis_regression import analyze_regression
from shallownet.cli import main
from shallownet.results import Result


class Page(HTMLParser):
    """Collects tables (rows of cell texts), headline figures, images and the text of findings."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tables, self.images, self.headline, self.findings = [], [], [], []
        self._cell = self._row = None
        self._stack: list[tuple[str, str]] = []
        self.feed(text)
        self.close()
        assert not self._stack, f"unclosed tags: {self._stack}"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
            return
        self._stack.append((tag, attrs.get("class") or ""))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "div" and attrs.get("class") == "finding":
            self.findings.append("")
        elif tag == "b" and any(c == "headline" for _, c in self._stack):
            self.headline.append(["", ""])

    def handle_endtag(self, tag):
        opened, _ = self._stack.pop()
        assert opened == tag, f"</{tag}> closes <{opened}>"
        if tag in ("td", "th"):
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr":
            self.tables[-1].append(self._row)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        classes = [c for _, c in self._stack]
        if classes and classes[-1] == "finding":
            self.findings[-1] += data
        elif "headline" in classes and self._stack[-1][0] in ("b", "span"):
            self.headline[-1][0 if self._stack[-1][0] == "b" else 1] += data


def same_cell(text: str, value) -> bool:
    """The cell shows ``value``: the same number to the digits shown, or the same text."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return text == format_value(value)
    value = float(value)
    if math.isnan(value):
        return text == ""
    return math.isclose(float(text), value, rel_tol=10 ** (1 - DIGITS), abs_tol=1e-300)


def check_rendering(result: Result):
    """The HTML parses; each table's header is the frame's columns and each cell the frame's value."""
    page = Page(result._repr_html_())
    frames = result._html_tables()
    assert len(page.tables) == len(frames)
    assert frames[0][1].equals(result.to_frame())  # the main table comes first
    for table, (_, frame) in zip(page.tables, frames):
        header, *rows = table
        assert header == [str(c) for c in frame.columns]
        assert len(rows) == min(len(frame), MAX_ROWS)
        for row, values in zip(rows, frame.head(MAX_ROWS).itertuples(index=False, name=None)):
            bad = [(c, v) for c, v in zip(row, values) if not same_cell(c, v)]
            assert not bad, f"{type(result).__name__}: cells {bad}"
    return page


def all_results(value):
    if isinstance(value, Result):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from all_results(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from all_results(v)


def table(n, seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["u", "v"], n)})
    signal = X.a + 0.5 * X.b + (X.c == "u") + rng.normal(scale=0.5, size=n)
    return X, signal


@pytest.fixture(scope="module")
def analysis():
    X, signal = table(160, 0)
    # unbalanced classes whose share differs between the training and the held-out rows
    return analyze(X, np.where(signal > 1.2, "yes", "no"), n_members=2, max_iter=40, n_bootstrap=30)


@pytest.fixture(scope="module")
def regression():
    X, signal = table(120, 1)
    return analyze_regression(X, signal, n_members=2, max_iter=40, n_bootstrap=30)


# -- result objects -------------------------------------------------------------------------
def test_every_result_of_an_analysis_renders_its_tables(analysis, regression):
    seen = set()
    for result in [*all_results(analysis.results), *all_results(regression.results)]:
        check_rendering(result)
        seen.add(type(result).__name__)
    # the classes with more than one table are among them
    assert {"ComparisonResult", "RegressionComparison", "ExpectedInfluence", "Shapley", "Counterfactuals"} <= seen


def test_comparison_html_title_figures_and_tests(analysis):
    comp = analysis.results["comparison"]
    text = comp._repr_html_()
    assert comp.title in text and f"n_obs: <b>{comp.n_obs}</b>" in text
    page = check_rendering(comp)
    tests = page.tables[1]
    assert tests[0][:4] == ["test", "method", "statistic", "p_value"]
    assert [r[0] for r in tests[1:]] == [t.test for t in comp.tests.values()]


def test_long_tables_are_cut_with_a_note_and_text_is_escaped():
    class Toy(Result):
        def to_frame(self):
            return pd.DataFrame({"name": [f"<b>{i}</b> & co" for i in range(45)], "value": np.arange(45) / 7})

    text = Toy()._repr_html_()
    assert "<b>0</b>" not in text and "&lt;b&gt;0&lt;/b&gt; &amp; co" in text
    assert f"first {MAX_ROWS} of 45 rows" in text
    rows = Page(text).tables[0]
    assert len(rows) == MAX_ROWS + 1 and rows[2] == ["<b>1</b> & co", "0.1429"]
    assert len(Page(Toy()._repr_html_(max_rows=5)).tables[0]) == 6


def test_format_value():
    assert [format_value(v) for v in (1 / 3, 12345.678, 3.0, np.int64(7), True, None, np.nan, "x")] == \
        ["0.3333", "1.235e+04", "3", "7", "True", "", "", "x"]


# -- the analysis inline --------------------------------------------------------------------
def test_analysis_html_holds_the_headline_of_the_comparison(analysis):
    page = Page(analysis._repr_html_())
    acc = analysis.results["comparison"].to_frame().set_index("metric").loc["accuracy"]
    majority = analysis.y_train.value_counts().idxmax()
    base = float((analysis.y_test == majority).mean())
    assert base != pytest.approx(float((analysis.y_train == majority).mean()))  # the check can tell them apart
    assert page.headline == [
        [f"{acc['network']:.1%}", "network accuracy, held-out cases"],
        [f"{acc['logistic']:.1%}", "logistic regression accuracy"],
        [f"{acc['difference']:+.1%} [{acc['diff_low']:+.1%}, {acc['diff_high']:+.1%}]",
         "network minus logistic, 95% interval"],
        [f"{base:.1%}", f"always predicting {majority}"],
    ]
    assert page.findings and page.findings[0].startswith(f"On {analysis.n_test_complete} held-out cases")
    assert len(page.images) == 1
    img = page.images[0]
    assert img["src"].startswith("data:image/png;base64,") and len(img["src"]) > 5000
    assert img["alt"].strip()


def test_regression_analysis_html_holds_rmse_and_r2(regression):
    page = Page(regression._repr_html_())
    m = regression.results["comparison"].to_frame().set_index("metric")
    rmse = m.loc["rmse"]
    assert page.headline[:3] == [
        [f"{rmse['network']:.3g}", f"network RMSE, held-out cases (R² {m.loc['r2', 'network']:.3f})"],
        [f"{rmse['linear']:.3g}", f"OLS RMSE (R² {m.loc['r2', 'linear']:.3f})"],
        [f"{rmse['difference']:+.3g} [{rmse['ci_low']:+.3g}, {rmse['ci_high']:+.3g}]",
         "network minus OLS, 95% interval"],
    ]
    assert len(page.images) == 1 and page.images[0]["alt"].strip()


def test_show_uses_ipython_when_it_runs_and_returns_the_html_otherwise(analysis, monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)  # not installed
    text = analysis.show(dpi=40)
    assert isinstance(text, str) and text.startswith('<div class="shallownet-report">')
    shown = []
    display = types.ModuleType("IPython.display")
    display.HTML = lambda data: ("HTML", data)
    display.display = shown.append
    ipython = types.ModuleType("IPython")
    ipython.display = display
    ipython.get_ipython = lambda: None  # installed, but a plain Python process
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    assert isinstance(analysis.show(dpi=40), str) and not shown
    ipython.get_ipython = lambda: object()  # a running IPython session
    assert analysis.show(dpi=40) is None
    assert len(shown) == 1 and shown[0][0] == "HTML" and Page(shown[0][1]).images


# -- shallownet compare ---------------------------------------------------------------------
QUICK = ["--quiet", "--members", "1", "--max-iter", "30", "--bootstrap", "30", "--hidden", "2"]


def test_compare_leads_with_the_conclusion_and_its_json_gives_the_majority_rate(tmp_path, capsys):
    X, signal = table(160, 2)
    y = np.where(signal > 1.2, "yes", "no")
    path = tmp_path / "d.csv"
    X.assign(outcome=y).to_csv(path, index=False)
    assert main(["compare", str(path), "--target", "outcome", "--json", *QUICK]) == 0
    doc = json.loads(capsys.readouterr().out)
    _, _, y_train, y_test = split_table(X, pd.Series(y, index=X.index), 0.25, 0)
    majority = y_train.value_counts().idxmax()
    assert doc["majority_class"] == majority
    assert doc["majority_accuracy"] == pytest.approx(float((y_test == majority).mean()), abs=1e-12)
    # the test rows' share differs from the training rows': the check tells them apart
    assert doc["majority_accuracy"] != pytest.approx(float((y_train == majority).mean()))
    acc = {r["metric"]: r for r in doc["table"]}["accuracy"]
    assert doc["conclusion"].startswith(
        f"On {doc['n_obs']} held-out cases the network classifies {acc['network']:.1%} correctly and logistic "
        f"regression {acc['logistic']:.1%}")
    assert f"{majority}, would be right for {doc['majority_accuracy']:.1%}" in doc["conclusion"]
    assert {"title", "table", "tests", "notes"} <= set(doc)  # the keys it had
    assert main(["compare", str(path), "--target", "outcome", *QUICK]) == 0
    out = capsys.readouterr().out
    assert out.startswith(textwrap.fill(doc["conclusion"], width=100) + "\n\nnetwork vs logistic")


def test_the_conclusions_are_the_reports_words(analysis, regression):
    from shallownet.report.build import findings, majority_baseline
    from shallownet.report.conclusions import classification_conclusion, regression_conclusion
    from shallownet.report.regression import regression_findings

    majority, rate = majority_baseline(analysis)
    text = classification_conclusion(analysis.results["comparison"], majority, rate)
    assert text.startswith(findings(analysis)[0])
    assert text.endswith(f"Always predicting the most common training class, {majority}, would be right for "
                         f"{rate:.1%} of them.")
    mean = float(regression.y_train.mean())
    words = regression_conclusion(regression.results["comparison"], regression.target, mean)
    assert words == regression_findings(regression)[0]
    y = np.asarray(regression.results["comparison"].y, dtype=float)
    assert words.endswith(f"Always predicting the training mean, {mean:.3g}, would have RMSE "
                          f"{np.sqrt(np.mean((y - mean) ** 2)):.3g}.")


def test_compare_on_a_numeric_target_leads_with_rmse_against_ols(tmp_path, capsys):
    X, signal = table(120, 3)
    path = tmp_path / "n.csv"
    X.assign(size=signal).to_csv(path, index=False)
    assert main(["compare", str(path), "--json", *QUICK]) == 0
    doc = json.loads(capsys.readouterr().out)
    rmse = {r["metric"]: r for r in doc["table"]}["rmse"]
    assert doc["conclusion"].startswith(
        f"On {doc['n']} held-out cases the network predicts size with RMSE {rmse['network']:.3g}")
    assert f"interval {rmse['ci_low']:+.3g} to {rmse['ci_high']:+.3g}" in doc["conclusion"]
    # The mean predictor: the training rows' mean of the split compare makes, recomputed here.
    _, X_test, y_train, y_test = split_table(X, pd.Series(signal, name="size"), 0.25, 0, stratify=False)
    assert doc["training_mean"] == pytest.approx(y_train.mean(), rel=1e-12)
    assert doc["mean_prediction_rmse"] == pytest.approx(np.sqrt(np.mean((y_test - y_train.mean()) ** 2)), rel=1e-9)
    assert main(["compare", str(path), *QUICK]) == 0
    assert capsys.readouterr().out.startswith("On ")
