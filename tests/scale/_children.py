"""Run a test's script in a fresh Python process that sees several simulated CPU devices.

``XLA_FLAGS=--xla_force_host_platform_device_count`` is read once, when JAX is first imported,
and the test session has imported it already, so multi-device checks run in a child process.
"""

import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run_with_devices(code: str, n_devices: int = 4, timeout: float = 300) -> dict:
    """Run ``code`` with ``n_devices`` CPU devices; return the JSON it printed after ``RESULT``."""
    env = dict(os.environ)
    flag = f"--xla_force_host_platform_device_count={n_devices}"
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " " + flag).strip()
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])
