"""A self-contained HTML report: sections of text, tables and figures, readable offline.

``Report.write(folder)`` produces ``index.html`` (inline CSS and a few lines of script, no
external assets, figures as relative PNG files or, with ``single_file=True``, embedded as
base64 data), ``figures/<name>.png`` and ``tables/<name>.csv`` (every table in full).

Layout rules the page keeps: every table sits in its own horizontally scrolling box, so that
no table is ever wider than the page; a section's detail goes in a folded ``<details>`` block
(:meth:`Section.details`), opened by the print stylesheet and before printing; table columns
sort on a click of their header; every figure carries alt text.

:func:`render_fragment` renders a report's sections to one HTML fragment in memory (figures
embedded, no files, no script, styles scoped to the fragment): the inline view of a notebook
(:mod:`shallownet.report.notebook`).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2330;background:#fbfbfd}
main{max-width:1060px;margin:0 auto;padding:1.5rem 2rem 4rem}
h1{font-size:1.7rem;margin:.2rem 0 .3rem}h2{font-size:1.3rem;margin-top:2.4rem;border-bottom:2px solid #dfe3ec;padding-bottom:.3rem}
h3{font-size:1.05rem;margin-top:1.4rem}p,li{line-height:1.5}
.meta{color:#5b6475;font-size:.9rem}
nav{background:#eef1f7;border-radius:8px;padding:.6rem 1rem;margin:1rem 0}nav a{margin-right:1rem;white-space:nowrap}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0 .3rem}
th,td{border:1px solid #d6dae3;padding:.25rem .5rem;text-align:right}th{background:#eef1f7}
td:first-child,th:first-child{text-align:left}
figure{margin:1rem 0}figure img{max-width:100%;box-sizing:border-box;border:1px solid #e3e6ee;border-radius:4px;background:#fff}
figcaption,.caption{color:#5b6475;font-size:.85rem}
.callout{background:#fff7e0;border-left:4px solid #e0a800;padding:.6rem 1rem;margin:1rem 0}
.finding{background:#eef7ee;border-left:4px solid #3c9a3c;padding:.5rem 1rem;margin:.5rem 0}
a.csv{font-size:.8rem}
.scroll{overflow-x:auto;max-width:100%;margin:.6rem 0 .3rem}.scroll table{margin:0}
.headline{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.headline div{background:#fff;border:1px solid #dfe3ec;border-radius:8px;padding:.5rem 1rem;flex:1 1 12rem}
.headline b{display:block;font-size:1.5rem}.headline span{color:#5b6475;font-size:.85rem}
.conclusion{font-size:1.05rem;font-weight:600}
details{border:1px solid #dfe3ec;border-radius:6px;padding:.3rem .8rem;margin:1rem 0;background:#fff}
summary{cursor:pointer;font-weight:600;color:#33415c}
th[data-sort]{cursor:pointer}
@media print{
main{max-width:none;padding:0}nav{display:none}
details{border:none;padding:0}details>summary{list-style:none;font-size:1.05rem}
details::details-content{content-visibility:visible;display:block}
.scroll{overflow:visible}table{display:table;font-size:7pt;max-width:100%}
th,td{padding:1px 3px;word-break:break-word}
figure,tr{break-inside:avoid}figure img{max-width:100%;max-height:22cm}
}
"""

# Opens every <details> before printing, and sorts a table on a click of a column header.
_SCRIPT = """
addEventListener('beforeprint', () => document.querySelectorAll('details').forEach(d => { d.open = true; }));
document.querySelectorAll('table').forEach(t => t.querySelectorAll('thead th').forEach((th, i) => {
  th.dataset.sort = ''; th.title = 'sort';
  th.addEventListener('click', () => {
    const body = t.tBodies[0], up = th.dataset.sort !== 'up';
    const key = r => { const s = r.cells[i] ? r.cells[i].textContent.trim() : ''; const v = parseFloat(s);
                       return isNaN(v) || !/^[-+.\\d]/.test(s) ? s.toLowerCase() : v; };
    const rows = [...body.rows].sort((a, b) => { const x = key(a), y = key(b);
      return (typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : typeof x === 'number' ? -1 : 1) * (up ? 1 : -1); });
    rows.forEach(r => body.appendChild(r));
    t.querySelectorAll('thead th').forEach(h => { h.dataset.sort = ''; });
    th.dataset.sort = up ? 'up' : 'down';
  });
}));
"""


# The page's look, scoped to a fragment inside someone else's page (a notebook).
_FRAGMENT_CSS = """
.shallownet-report{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d2330;max-width:1060px}
.shallownet-report h2{font-size:1.3rem;margin:.8rem 0 .3rem}.shallownet-report h3{font-size:1.05rem}
.shallownet-report .meta,.shallownet-report figcaption,.shallownet-report .caption{color:#5b6475;font-size:.85rem}
.shallownet-report .headline{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.shallownet-report .headline div{background:#fff;border:1px solid #dfe3ec;border-radius:8px;padding:.5rem 1rem;flex:1 1 12rem}
.shallownet-report .headline b{display:block;font-size:1.5rem}.shallownet-report .headline span{color:#5b6475;font-size:.85rem}
.shallownet-report .finding{background:#eef7ee;border-left:4px solid #3c9a3c;padding:.5rem 1rem;margin:.5rem 0}
.shallownet-report .callout{background:#fff7e0;border-left:4px solid #e0a800;padding:.6rem 1rem;margin:1rem 0}
.shallownet-report .conclusion{font-size:1.05rem;font-weight:600}
.shallownet-report .scroll{overflow-x:auto;max-width:100%}
.shallownet-report figure{margin:1rem 0}.shallownet-report figure img{max-width:100%;border:1px solid #e3e6ee;background:#fff}
"""


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "item"


@dataclass
class Section:
    """One section of a report (or the folded detail of one); add blocks in reading order."""

    title: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def text(self, paragraph: str) -> "Section":
        """A paragraph of plain text (escaped)."""
        self.blocks.append(("text", paragraph))
        return self

    def conclusion(self, sentence: str) -> "Section":
        """The section's conclusion in plain words (shown first, emphasised)."""
        self.blocks.append(("conclusion", sentence))
        return self

    def callout(self, paragraph: str) -> "Section":
        """A highlighted note (a caveat the reader must not miss)."""
        self.blocks.append(("callout", paragraph))
        return self

    def findings(self, items: list[str]) -> "Section":
        """A list of plain-language findings, each highlighted."""
        self.blocks.append(("findings", list(items)))
        return self

    def headline(self, figures: list[tuple[str, str]]) -> "Section":
        """A row of headline figures, each ``(value, label)`` (e.g. ``("93.1%", "network")``)."""
        self.blocks.append(("headline", list(figures)))
        return self

    def bullets(self, items: list[str]) -> "Section":
        """A plain bullet list."""
        self.blocks.append(("bullets", list(items)))
        return self

    def subheading(self, text: str) -> "Section":
        self.blocks.append(("h3", text))
        return self

    def table(self, name: str, frame: pd.DataFrame, caption: str = "", max_rows: int = 40,
              digits: int = 4) -> "Section":
        """A table, shown up to ``max_rows`` rows and written in full to ``tables/<name>.csv``."""
        self.blocks.append(("table", (name, frame, caption, max_rows, digits)))
        return self

    def figure(self, name: str, fig, caption: str = "", alt: str = "") -> "Section":
        """A matplotlib figure, written to ``figures/<name>.png``; ``alt`` (default: the
        caption) describes it for readers who cannot see it."""
        self.blocks.append(("figure", (name, fig, caption, alt or caption or name)))
        return self

    def details(self, summary: str) -> "Section":
        """A folded block (``<details>``) under this one; returns it to add its blocks."""
        inner = Section(summary)
        self.blocks.append(("details", inner))
        return inner


@dataclass
class Report:
    """An HTML report made of sections; the first may be an untitled opening screen."""

    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        """Start a new section and return it (an empty title: an opening block without a
        heading or a link in the navigation bar)."""
        sec = Section(title)
        self.sections.append(sec)
        return sec

    def write(self, folder: str | Path, dpi: int = 110, tick=None, single_file: bool = False) -> list[Path]:
        """Write ``index.html``, the figures and the tables into ``folder`` (created).

        ``tick``, when given, is called after each file (a place to stop an interrupted run).
        With ``single_file`` the figures are also embedded in ``index.html`` (base64 PNG), so
        that the page alone can be mailed.
        """
        folder = Path(folder)
        (folder / "figures").mkdir(parents=True, exist_ok=True)
        (folder / "tables").mkdir(parents=True, exist_ok=True)
        writer = _Writer(folder, dpi, tick, single_file)
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body><main>",
            f"<h1>{html.escape(self.title)}</h1>",
        ]
        if self.subtitle:
            parts.append(f'<p class="meta">{html.escape(self.subtitle)}</p>')
        parts.append(
            "<nav>"
            + "".join(f'<a href="#{_slug(s.title)}">{html.escape(s.title)}</a>' for s in self.sections if s.title)
            + "</nav>"
        )
        for sec in self.sections:
            if sec.title:
                parts.append(f'<section id="{_slug(sec.title)}"><h2>{html.escape(sec.title)}</h2>')
            else:
                parts.append('<section class="first-screen">')
            writer.blocks(sec, parts)
            parts.append("</section>")
        parts.append(f"</main><script>{_SCRIPT}</script></body></html>")
        index = folder / "index.html"
        index.write_text("\n".join(parts), encoding="utf-8")
        writer.written.append(index)
        return writer.written


class _Writer:
    """Renders blocks to HTML, writing each table's CSV and each figure's PNG on the way."""

    def __init__(self, folder: Path, dpi: int, tick, single_file: bool):
        self.folder, self.dpi, self.tick, self.single_file = folder, dpi, tick, single_file
        self.written: list[Path] = []
        self.used: dict[str, set[str]] = {"table": set(), "figure": set()}

    def _done(self, path: Path) -> None:
        self.written.append(path)
        if self.tick is not None:
            self.tick()

    def blocks(self, sec: Section, parts: list[str]) -> None:
        for kind, payload in sec.blocks:
            if kind == "text":
                parts.append(f"<p>{html.escape(payload)}</p>")
            elif kind == "conclusion":
                parts.append(f'<p class="conclusion">{html.escape(payload)}</p>')
            elif kind == "callout":
                parts.append(f'<div class="callout">{html.escape(payload)}</div>')
            elif kind == "h3":
                parts.append(f"<h3>{html.escape(payload)}</h3>")
            elif kind == "findings":
                parts.extend(f'<div class="finding">{html.escape(i)}</div>' for i in payload)
            elif kind == "bullets":
                parts.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in payload) + "</ul>")
            elif kind == "headline":
                parts.append('<div class="headline">' + "".join(
                    f"<div><b>{html.escape(v)}</b><span>{html.escape(label)}</span></div>" for v, label in payload)
                    + "</div>")
            elif kind == "details":
                parts.append(f"<details><summary>{html.escape(payload.title)}</summary>")
                self.blocks(payload, parts)
                parts.append("</details>")
            elif kind == "table":
                self._table(payload, parts)
            elif kind == "figure":
                self._figure(payload, parts)

    def _table(self, payload, parts: list[str]) -> None:
        name, frame, caption, max_rows, digits = payload
        name = _unique(_slug(name), self.used["table"])
        path = self.folder / "tables" / f"{name}.csv"
        frame.to_csv(path, index=False)
        self._done(path)
        parts.append(_table_html(frame, caption, max_rows, digits, f' <a class="csv" href="tables/{name}.csv">CSV</a>'))

    def _figure(self, payload, parts: list[str]) -> None:
        import base64

        import matplotlib.pyplot as plt

        name, fig, caption, alt = payload
        name = _unique(_slug(name), self.used["figure"])
        path = self.folder / "figures" / f"{name}.png"
        fig.savefig(path, dpi=self.dpi, bbox_inches="tight")
        plt.close(fig)
        self._done(path)
        src = (f"data:image/png;base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
               if self.single_file else f"figures/{name}.png")
        parts.append(_figure_html(src, caption, alt))


class _InlineWriter(_Writer):
    """Renders blocks like :class:`_Writer` but writes nothing: figures embedded as base64 PNG,
    tables without a CSV link."""

    def __init__(self, dpi: int):
        super().__init__(Path("."), dpi, None, single_file=True)

    def _table(self, payload, parts: list[str]) -> None:
        _, frame, caption, max_rows, digits = payload
        parts.append(_table_html(frame, caption, max_rows, digits, ""))

    def _figure(self, payload, parts: list[str]) -> None:
        import base64
        import io

        import matplotlib.pyplot as plt

        _, fig, caption, alt = payload
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=self.dpi, bbox_inches="tight")
        plt.close(fig)
        parts.append(_figure_html(f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}",
                                  caption, alt))


def _table_html(frame: pd.DataFrame, caption: str, max_rows: int, digits: int, link: str) -> str:
    table_html = frame.head(max_rows).to_html(
        index=False, border=0, na_rep="", float_format=lambda v: f"{v:.{digits}g}", escape=True,
    )
    more = f" (first {max_rows} of {len(frame)} rows)" if len(frame) > max_rows else ""
    return f'<div class="scroll">{table_html}</div><p class="caption">{html.escape(caption) + more}{link}</p>'


def _figure_html(src: str, caption: str, alt: str) -> str:
    return (f'<figure><img src="{src}" alt="{html.escape(alt)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def render_fragment(report: Report, dpi: int = 100) -> str:
    """A report as one HTML fragment, in memory: title, subtitle and every section, figures
    embedded as base64 PNG (with their alt text), tables shown as in the page (no CSV links),
    styles scoped to ``.shallownet-report``, no script. Nothing is written.

    Parameters
    ----------
    report : Report
    dpi : int
        Resolution of the embedded figures.

    Returns
    -------
    str
        ``<div class="shallownet-report">...</div>``, for a notebook cell or another page.
    """
    writer = _InlineWriter(dpi)
    parts = [f'<div class="shallownet-report"><style>{_FRAGMENT_CSS}</style>',
             f"<h2>{html.escape(report.title)}</h2>"]
    if report.subtitle:
        parts.append(f'<p class="meta">{html.escape(report.subtitle)}</p>')
    for sec in report.sections:
        parts.append(f"<section><h2>{html.escape(sec.title)}</h2>" if sec.title else '<section class="first-screen">')
        writer.blocks(sec, parts)
        parts.append("</section>")
    parts.append("</div>")
    return "\n".join(parts)


def _unique(name: str, used: set[str]) -> str:
    base, k = name, 2
    while name in used:
        name = f"{base}-{k}"
        k += 1
    used.add(name)
    return name
