"""A self-contained HTML report: sections of text, tables and figures, readable offline.

``Report.write(folder)`` produces ``index.html`` (inline CSS, no external assets, figures as
relative PNG files), ``figures/<name>.png`` and ``tables/<name>.csv`` (every table in full).
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
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0 .3rem;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #d6dae3;padding:.25rem .5rem;text-align:right}th{background:#eef1f7}
td:first-child,th:first-child{text-align:left}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #e3e6ee;border-radius:4px;background:#fff}
figcaption,.caption{color:#5b6475;font-size:.85rem}
.callout{background:#fff7e0;border-left:4px solid #e0a800;padding:.6rem 1rem;margin:1rem 0}
.finding{background:#eef7ee;border-left:4px solid #3c9a3c;padding:.5rem 1rem;margin:.5rem 0}
a.csv{font-size:.8rem}
"""


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "item"


@dataclass
class Section:
    """One section of a report; add blocks in reading order."""

    title: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def text(self, paragraph: str) -> "Section":
        """A paragraph of plain text (escaped)."""
        self.blocks.append(("text", paragraph))
        return self

    def callout(self, paragraph: str) -> "Section":
        """A highlighted note (a caveat the reader must not miss)."""
        self.blocks.append(("callout", paragraph))
        return self

    def findings(self, items: list[str]) -> "Section":
        """A list of plain-language findings, each highlighted."""
        self.blocks.append(("findings", list(items)))
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

    def figure(self, name: str, fig, caption: str = "") -> "Section":
        """A matplotlib figure, written to ``figures/<name>.png``."""
        self.blocks.append(("figure", (name, fig, caption)))
        return self


@dataclass
class Report:
    """An HTML report made of sections."""

    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        """Start a new section and return it."""
        sec = Section(title)
        self.sections.append(sec)
        return sec

    def write(self, folder: str | Path, dpi: int = 110, tick=None) -> list[Path]:
        """Write ``index.html``, the figures and the tables into ``folder`` (created).

        ``tick``, when given, is called after each file (a place to stop an interrupted run).
        """
        import matplotlib.pyplot as plt

        folder = Path(folder)
        (folder / "figures").mkdir(parents=True, exist_ok=True)
        (folder / "tables").mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        used: dict[str, set[str]] = {"table": set(), "figure": set()}
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
            + "".join(f'<a href="#{_slug(s.title)}">{html.escape(s.title)}</a>' for s in self.sections)
            + "</nav>"
        )
        for sec in self.sections:
            parts.append(f'<section id="{_slug(sec.title)}"><h2>{html.escape(sec.title)}</h2>')
            for kind, payload in sec.blocks:
                if kind == "text":
                    parts.append(f"<p>{html.escape(payload)}</p>")
                elif kind == "callout":
                    parts.append(f'<div class="callout">{html.escape(payload)}</div>')
                elif kind == "h3":
                    parts.append(f"<h3>{html.escape(payload)}</h3>")
                elif kind in ("bullets", "findings"):
                    if kind == "findings":
                        parts.extend(f'<div class="finding">{html.escape(i)}</div>' for i in payload)
                    else:
                        parts.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in payload) + "</ul>")
                elif kind == "table":
                    name, frame, caption, max_rows, digits = payload
                    name = _unique(_slug(name), used["table"])
                    path = folder / "tables" / f"{name}.csv"
                    frame.to_csv(path, index=False)
                    written.append(path)
                    if tick is not None:
                        tick()
                    shown = frame.head(max_rows)
                    table_html = shown.to_html(
                        index=False, border=0, na_rep="",
                        float_format=lambda v: f"{v:.{digits}g}", escape=True,
                    )
                    more = f" (first {max_rows} of {len(frame)} rows)" if len(frame) > max_rows else ""
                    cap = html.escape(caption) + more
                    parts.append(
                        f"{table_html}<p class=\"caption\">{cap} "
                        f'<a class="csv" href="tables/{name}.csv">CSV</a></p>'
                    )
                elif kind == "figure":
                    name, fig, caption = payload
                    name = _unique(_slug(name), used["figure"])
                    path = folder / "figures" / f"{name}.png"
                    fig.savefig(path, dpi=dpi, bbox_inches="tight")
                    plt.close(fig)
                    written.append(path)
                    if tick is not None:
                        tick()
                    parts.append(
                        f'<figure><img src="figures/{name}.png" alt="{html.escape(caption or name)}">'
                        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
                    )
            parts.append("</section>")
        parts.append("</main></body></html>")
        index = folder / "index.html"
        index.write_text("\n".join(parts), encoding="utf-8")
        written.append(index)
        return written


def _unique(name: str, used: set[str]) -> str:
    base, k = name, 2
    while name in used:
        name = f"{base}-{k}"
        k += 1
    used.add(name)
    return name
