"""Command-line options for long runs: --platform, --devices, --checkpoint, progress with ETA."""

import json
import re
import subprocess
import sys

import jax
import pytest

import shallownet.analysis
import shallownet.information
import shallownet.training
from shallownet._progress import ProgressBar
from shallownet.cli import main

QUICK_BOTTLENECK = ["bottleneck", "--epochs", "120", "--seeds", "1", "--snapshots", "6"]


class Stop(Exception):
    pass


@pytest.mark.parametrize("argv, message", [
    (["bottleneck", "--devices", "2"], "argument --devices: invalid choice: '2'"),
    (["analyze", "--devices", "all"], "argument --devices: invalid choice: 'all'"),
    (["compare", "x.csv", "--platform", "tpu"], "argument --platform: invalid choice: 'tpu'"),
])
def test_bad_device_options_exit_2_with_the_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_checkpoint_must_be_a_folder(tmp_path, capsys):
    a_file = tmp_path / "ckpt"
    a_file.write_text("")
    assert main([*QUICK_BOTTLENECK, "--checkpoint", str(a_file)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--checkpoint" in err[0] and "is a file; it must be a folder" in err[0]


@pytest.mark.parametrize("option, expected", [([], "auto"), (["--devices", "none"], "none"), (["--devices", "1"], 1)])
def test_devices_reach_the_library(monkeypatch, tmp_path, option, expected):
    seen = {}

    def spy(name):
        def record(*args, **kwargs):
            seen[name] = kwargs["devices"]
            raise Stop
        return record

    class Classifier(shallownet.training.ShallowNetClassifier):
        def fit(self, X, y):
            seen["compare"] = self.devices
            raise Stop

    monkeypatch.setattr(shallownet.information, "train_with_snapshots", spy("bottleneck"))
    monkeypatch.setattr(shallownet.analysis, "analyze", spy("analyze"))
    monkeypatch.setattr(shallownet.training, "ShallowNetClassifier", Classifier)
    table = tmp_path / "t.csv"
    # 40 rows: enough of each class for the baseline's 5 folds, checked before any fit
    table.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    assert main([*QUICK_BOTTLENECK, *option]) == 1  # the spy's Stop is an unexpected error
    assert main(["analyze", "--out", str(tmp_path / "r"), "--quiet", *option]) == 1
    assert main(["compare", str(table), "--quiet", *option]) == 1
    assert seen == {"bottleneck": expected, "analyze": expected, "compare": expected}


def test_analyze_passes_devices_to_the_estimator_and_refuses_bad_ones(monkeypatch):
    seen = []

    class Spy(shallownet.analysis.ShallowNetClassifier):
        def fit(self, X, y):
            seen.append(self.devices)
            raise Stop

    monkeypatch.setattr(shallownet.analysis, "ShallowNetClassifier", Spy)
    X, y = shallownet.datasets.load_penguins()
    with pytest.raises(Stop):
        shallownet.analysis.analyze(X, y, devices=1)
    assert seen == [1]
    with pytest.raises(ValueError, match="`devices` must be one of 'auto', 'none' or 1"):
        shallownet.analysis.analyze(X, y, devices="all")


def test_platform_cpu_in_a_process_already_on_the_cpu(monkeypatch, capsys):
    if jax.default_backend() != "cpu":
        pytest.skip("this process computes on an accelerator")
    monkeypatch.setattr(shallownet.information, "train_with_snapshots", lambda *a, **k: (_ for _ in ()).throw(Stop))
    assert main([*QUICK_BOTTLENECK, "--platform", "cpu"]) == 1  # accepted: it ran up to training
    assert "unexpected error: Stop" in capsys.readouterr().err
    assert main([*QUICK_BOTTLENECK, "--platform", "gpu"]) == 2
    assert "--platform gpu: JAX has already started on 'cpu'" in capsys.readouterr().err


def test_platform_gpu_without_a_gpu_is_a_clear_error(tmp_path):
    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is visible")
    code = "import sys; from shallownet.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {"PATH": "/usr/bin:/bin", "SHALLOWNET_CACHE_DIR": "off", "PYTHONPATH": str(shallownet_root())}
    done = subprocess.run([sys.executable, "-c", code, *QUICK_BOTTLENECK, "--platform", "gpu"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and "shallownet bottleneck: error: --platform gpu: JAX cannot use a GPU here" in err[0]
    assert "pass --platform cpu" in err[0]


def shallownet_root():
    import pathlib

    return pathlib.Path(shallownet.__file__).resolve().parent.parent


def test_long_stages_report_progress_with_time_left(tmp_path, capsys):
    assert main([*QUICK_BOTTLENECK, "--out", str(tmp_path / "ib")]) == 0
    err = capsys.readouterr().err
    # first report of training: after the first 50 of 120 epochs, with an estimate of the time left
    assert re.search(r"^training 1 network\(s\) \[#+-+\] 50/120  \d+\.\ds  ~\d+\.\ds left  loss \d\.\d{4}$", err, re.M)
    assert re.search(r"^training 1 network\(s\) \[#{24}\] 120/120 ", err, re.M)
    assert re.search(r"^mutual information \(binning.*\[#{24}\] (\d+)/\1 ", err, re.M)


def test_bottleneck_killed_and_rerun_with_its_checkpoint_gives_the_same_results(tmp_path, monkeypatch, capsys):
    assert main([*QUICK_BOTTLENECK, "--out", str(tmp_path / "plain"), "--quiet"]) == 0
    checkpoint = str(tmp_path / "ckpt")
    real = ProgressBar.callback

    def interrupt_after_first_chunk(self):
        show = real(self)

        def progress(done, total, loss):
            show(done, total, loss)
            raise KeyboardInterrupt
        return progress

    monkeypatch.setattr(ProgressBar, "callback", interrupt_after_first_chunk)
    assert main([*QUICK_BOTTLENECK, "--out", str(tmp_path / "cut"), "--checkpoint", checkpoint]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "cut").exists()
    monkeypatch.setattr(ProgressBar, "callback", real)
    assert main([*QUICK_BOTTLENECK, "--out", str(tmp_path / "resumed"), "--checkpoint", checkpoint]) == 0
    err = capsys.readouterr().err
    assert f"note: resuming from the checkpoints in {checkpoint}" in err
    assert "50/120" not in err and "100/120" in err  # the first 50 epochs were not trained again
    plain = json.loads((tmp_path / "plain" / "results.json").read_text())["plane"]
    resumed = json.loads((tmp_path / "resumed" / "results.json").read_text())["plane"]
    assert resumed == plain
    assert (tmp_path / "resumed" / "plane.csv").read_text() == (tmp_path / "plain" / "plane.csv").read_text()
