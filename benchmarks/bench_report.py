"""The report a client reads: page height, tables shown unfolded, wall time (issue 19).

For each table, ``shallownet analyze`` is run as a user runs it, a fresh process with default
settings (8 members, L-BFGS, 1,000 bootstrap resamples, every attribution), and its
``index.html`` is opened in headless Chromium at 1,280 x 900 px (``tests/report/browser.py``):

* page height in pixels as it opens (detail folded) and with every ``<details>`` opened;
* tables shown unfolded, and of all tables;
* elements wider than the page;
* whether the headline figures and the findings lie within the first 900 px;
* the printed PDF (A4): pages, and tables or figures past the right margin;
* the wall time of the whole command (imports and compilation included).

Tables: the bundled Palmer penguins (344 rows, 3 classes) and a 5,000-row mixed table made
here (:func:`mixed_table`: 5 correlated real variables, two enumerated ones with 4 and 3
categories, one binary, 5 % of the cells of three columns blank, two classes from a
nonlinear rule).

``--before REV`` runs the same command on a git revision as well (checked out into a
temporary worktree and imported from there), so that the page of an earlier layout is
measured by the same browser script on the same machine; the two versions necessarily run in
separate processes. ``--quick``: penguins only, with small settings (a smoke run).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import print_table, write_result

ROOT = Path(__file__).resolve().parent.parent
QUICK_ARGS = ["--members", "2", "--max-iter", "100", "--bootstrap", "50"]


def mixed_table(n: int = 5000, seed: int = 0):
    """The 5,000-row mixed table of the module docstring, as a DataFrame with target ``outcome``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cov = 0.5 * np.ones((5, 5)) + 0.5 * np.eye(5)
    real = rng.multivariate_normal(np.zeros(5), cov, size=n)
    frame = pd.DataFrame(real * [1, 10, 0.1, 3, 100] + [0, 50, 1, 10, 1000],
                         columns=["age", "income", "ratio", "tenure", "balance"])
    frame["region"] = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    frame["product"] = rng.choice(["basic", "plus", "premium"], n)
    frame["member"] = rng.uniform(size=n) < 0.3
    z = (1.5 * real[:, 0] - real[:, 1] ** 2 + 0.8 * real[:, 0] * real[:, 2]
         + frame["region"].map({"north": 0.0, "south": 0.8, "east": -0.6, "west": 0.3}).to_numpy()
         + 0.7 * frame["member"].to_numpy() + 0.5)
    frame["outcome"] = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-z)), "yes", "no")
    for column in ("income", "tenure", "region"):
        frame.loc[rng.uniform(size=n) < 0.05, column] = np.nan
    return frame


def _browser():
    spec = importlib.util.spec_from_file_location("browser", ROOT / "tests" / "report" / "browser.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_analyze(tree: Path, data: str | None, out: Path, extra: list[str]) -> float:
    """Wall time of ``shallownet analyze`` imported from ``tree``, in a fresh process."""
    args = [*([data] if data else []), "--out", str(out), "--force", "--quiet", *extra]
    env = {**os.environ, "PYTHONPATH": str(tree), "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from shallownet.cli import main; sys.exit(main(sys.argv[1:]))",
                    "analyze", *args], check=True, env=env, cwd=tree, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(page: Path, work: Path) -> dict:
    """What the browser shows of ``page`` at 1,280 px, and of its printed PDF."""
    browser = _browser()
    seen = browser.inspect_page(str(page), width=1280, height=900, script=browser.LAYOUT_SCRIPT)["script"]
    printed = browser.print_to_pdf(str(page), str(work / "page.pdf"))
    return {
        "height_px": seen["height"], "height_opened_px": seen["height_open"],
        "tables_unfolded": seen["tables_unfolded"], "tables": seen["tables"], "wider_than_page": seen["n_wide"],
        "first_screen": "headline" in seen["first_screen"] and "finding" in seen["first_screen"],
        "pdf_pages": printed["pages"], "pdf_cut": len(printed["cut"]),
    }


def main(quick: bool = False, before: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tables = [("penguins", None, 344)]
        if not quick:
            mixed = tmp / "mixed5000.csv"
            mixed_table().to_csv(mixed, index=False)
            tables.append(("mixed, 5,000 rows", str(mixed), 5000))
        trees = [("this checkout", ROOT)]
        if before:
            old = tmp / "before"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), before], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            trees.insert(0, (f"before ({before})", old))
        rows = []
        try:
            for name, data, n in tables:
                for label, tree in trees:
                    out = tmp / f"report-{len(rows)}"
                    seconds = run_analyze(tree, data, out, QUICK_ARGS if quick else [])
                    row = {"table": name, "rows": n, "version": label, "wall_s": seconds,
                           **measure(out / "index.html", tmp)}
                    rows.append(row)
                    print(f"{name}, {label}: {seconds:.1f} s", flush=True)
        finally:
            if before:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tmp / "before")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print_table(rows, ["table", "rows", "version", "wall_s", "height_px", "height_opened_px", "tables_unfolded",
                       "tables", "wider_than_page", "first_screen", "pdf_pages", "pdf_cut"])
    result = {"quick": quick, "before": before, "rows": rows}
    if not quick:
        write_result("report", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="penguins only, small settings")
    parser.add_argument("--before", metavar="REV", help="also measure the report of this git revision")
    ns = parser.parse_args()
    main(quick=ns.quick, before=ns.before)
