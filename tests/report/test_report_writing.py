"""Writing the report folder: nothing the user has is lost, whatever happens meanwhile.

One quick analysis of a small table (module fixture) is written many ways: into a folder that
appears while the report is drawn, over an old report with ``force``, interrupted by a Ctrl-C
that a library swallowed, and in child processes killed with SIGKILL at random moments of the
writing. The oracle throughout is the folder's state: absent, the complete old report, or the
complete new one (same files as an undisturbed run, results.json naming its source).
"""

import dataclasses
import json
import os
import pickle
import signal
import subprocess
import sys
import shutil
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import shallownet as sn
from shallownet.cli import main
from shallownet.report import build
from shallownet.report.publish import recover

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small_analysis():
    from shallownet.analysis import analyze

    rng = np.random.default_rng(0)
    n = 80
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y"], n)})
    y = np.where(X["a"] + rng.normal(0, 0.5, n) > 0, "p", "q")
    return analyze(X, y, n_members=1, max_iter=30, n_bootstrap=20, source="new")


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def state(folder: Path, reference: set[str]) -> str:
    """'absent', or the source named by a complete report; anything else fails the test."""
    if not os.path.lexists(folder):
        return "absent"
    assert files(folder) == reference, f"{folder} is not a complete report"
    assert (folder / "index.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    sn.load(folder / "model.npz")
    return json.loads((folder / "results.json").read_text())["source"]


def hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_a_folder_that_appears_while_writing_is_never_removed(small_analysis, tmp_path, monkeypatch):
    out = tmp_path / "rep"
    real = build.build_report

    def build_and_meanwhile_someone_creates_out(a):
        out.mkdir()
        (out / "mine.txt").write_text("keep me")
        return real(a)

    monkeypatch.setattr(build, "build_report", build_and_meanwhile_someone_creates_out)
    with pytest.raises(FileExistsError, match="appeared while the report was being written"):
        build.write_analysis(small_analysis, out)
    assert files(out) == {"mine.txt"} and (out / "mine.txt").read_text() == "keep me"
    assert (tmp_path / "rep-2" / "index.html").exists()  # the finished report is kept, and named
    assert hidden(tmp_path) == []


def test_force_replaces_in_one_step_and_leaves_nothing_hidden(small_analysis, tmp_path):
    out = tmp_path / "rep"
    build.write_analysis(dataclasses.replace(small_analysis, source="old"), out)
    reference = files(out)
    (out / "extra.txt").write_text("old")
    build.write_analysis(small_analysis, out, force=True)
    assert state(out, reference) == "new"
    assert hidden(tmp_path) == []
    with pytest.raises(FileExistsError, match="pass --force"):
        build.write_analysis(small_analysis, out)


def test_report_folders_get_the_users_umask(small_analysis, tmp_path):
    previous = os.umask(0o022)
    try:
        out = build.write_analysis(small_analysis, tmp_path / "rep")
    finally:
        os.umask(previous)
    assert out.stat().st_mode & 0o777 == 0o755  # mkdtemp gave 0700
    assert (out / "figures").stat().st_mode & 0o777 == 0o755


def test_ctrl_c_swallowed_by_a_library_still_stops_the_run(small_analysis, tmp_path, monkeypatch):
    out = tmp_path / "rep"
    real = build.results_json

    def swallowing(a):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        except KeyboardInterrupt:
            pass  # as a finaliser or callback would: the interrupt is printed and dropped
        return real(a)

    monkeypatch.setattr(build, "results_json", swallowing)
    with pytest.raises(KeyboardInterrupt):
        build.write_analysis(small_analysis, out)
    assert not os.path.lexists(out) and hidden(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_a_killed_run_are_put_back_or_removed_and_named(tmp_path):
    out = tmp_path / "rep"
    pid = dead_pid()
    old = tmp_path / f".rep.shallownet-old-{pid}-ab12"
    new = tmp_path / f".rep.shallownet-new-{pid}-cd34"
    live = tmp_path / f".rep.shallownet-new-{os.getpid()}-ef56"
    for folder in (old, new, live):
        folder.mkdir()
        (folder / "index.html").write_text(folder.name)
    (tmp_path / ".rep-unrelated").mkdir()
    notes = recover(out)
    assert (out / "index.html").read_text() == old.name  # the old report, put back
    assert not new.exists() and live.exists() and (tmp_path / ".rep-unrelated").exists()
    assert any("Put back" in n and str(old) in n for n in notes)
    assert any("Removed" in n and str(new) in n for n in notes)
    assert any("running" in n and str(live) in n for n in notes)


CHILD = textwrap.dedent("""
    import os, pickle, sys, time
    from shallownet.report.build import write_analysis

    # Each removal and rename takes 20 ms, so that the final moves and deletions (instants on a
    # real disk) fill a good part of the writing phase and the random kills land in them.
    def slow(fn):
        def wrapped(*args, **kwargs):
            time.sleep(0.02)
            return fn(*args, **kwargs)
        return wrapped
    for name in ("unlink", "remove", "rmdir", "rename", "replace"):
        setattr(os, name, slow(getattr(os, name)))
    with open(sys.argv[1], "rb") as fh:
        analysis = pickle.load(fh)
    print("go", flush=True)
    write_analysis(analysis, sys.argv[2], force=True)
    print("done", flush=True)
""")


def run_child(script, blob, out, delay=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", JAX_PLATFORMS="cpu")
    child = subprocess.Popen([sys.executable, str(script), str(blob), str(out)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    assert child.stdout.readline().strip() == "go"
    start = time.perf_counter()
    if delay is None:
        _, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        return time.perf_counter() - start
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    return None


def test_sigkill_at_random_moments_leaves_the_old_or_the_new_report(small_analysis, tmp_path):
    """Children write a report with force and are killed (SIGKILL) after a random delay.

    Each time the folder must be the complete old report or the complete new one (absent or
    new when there was no old one), and the next run's clean-up leaves no hidden folder.
    """
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    blob = tmp_path / "new.pkl"
    blob.write_bytes(pickle.dumps(small_analysis))
    old = build.write_analysis(dataclasses.replace(small_analysis, source="old"), tmp_path / "old" / "rep")
    # An undisturbed run over an old report: the reference file list and the writing time.
    first = tmp_path / "first" / "rep"
    shutil.copytree(old, first)
    duration = run_child(script, blob, first)
    reference = files(first)
    assert state(first, reference) == "new" and files(old) == reference
    rng = np.random.default_rng(18)
    for seed in range(5):
        parent = tmp_path / f"run{seed}"
        out = parent / "rep"
        over_old = seed < 3
        if over_old:
            shutil.copytree(old, out)
        else:
            parent.mkdir()
        run_child(script, blob, out, delay=float(rng.uniform(0.3, 1.05) * duration))
        result = state(out, reference)
        assert result in ({"old", "new"} if over_old else {"absent", "new"}), (seed, result)
        recover(out)  # what the next run does first
        assert hidden(parent) == []
        assert state(out, reference) == result


def test_cli_refuses_a_file_as_out_and_a_folder_as_data_before_running(tmp_path, monkeypatch, capsys):
    import shallownet.analysis

    def never(*a, **k):
        raise AssertionError("the analysis ran")

    monkeypatch.setattr(shallownet.analysis, "analyze", never)
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    assert main(["analyze", "--out", str(target), "--force", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is not a folder" in err and len(err.strip().splitlines()) == 1
    assert target.read_text() == "mine"
    assert main(["analyze", str(tmp_path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "is a folder" in capsys.readouterr().err
