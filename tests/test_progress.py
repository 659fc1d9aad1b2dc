import io

from shallownet._progress import ProgressBar, _fmt_seconds


def test_progress_prints_throttled_lines_and_the_end():
    out = io.StringIO()
    bar = ProgressBar(10, "fit", stream=out, min_interval=3600)
    for i in range(1, 11):
        bar.update(i, "loss 0.1")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2  # the first update, then the end (throttled in between)
    assert lines[0].startswith("fit [##") and "1/10" in lines[0] and "left" in lines[0]
    assert "10/10" in lines[1] and "#" * 24 in lines[1] and "left" not in lines[1]


def test_disabled_progress_is_silent_and_time_format():
    out = io.StringIO()
    ProgressBar(3, "x", stream=out, enabled=False).update(3)
    assert out.getvalue() == ""
    assert _fmt_seconds(5.04) == "5.0s" and _fmt_seconds(125) == "2m05s" and _fmt_seconds(7300) == "2h01m"



def test_time_left_uses_the_rate_since_the_first_report(monkeypatch):
    clock = iter([0.0, 1.0, 2.0])  # creation, first report, second report
    monkeypatch.setattr("shallownet._progress.time.perf_counter", lambda: next(clock))
    out = io.StringIO()
    bar = ProgressBar(100, "resumed", stream=out, min_interval=0.0)
    bar.update(50)  # e.g. resumed at 50 of 100: 1 s for 50 units would promise 1 s left
    bar.update(60)  # 10 units in the last 1 s -> 40 units take 4 s
    lines = out.getvalue().splitlines()
    assert "~1.0s left" in lines[0] and "~4.0s left" in lines[1] and "2.0s" in lines[1]
