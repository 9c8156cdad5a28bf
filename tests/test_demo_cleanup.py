"""`tracker demo` without --data-dir keeps its database in a temporary folder and removes it on exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_demo_removes_its_temporary_folder_on_exit(tmp_path: Path, stop_signal: signal.Signals) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONUNBUFFERED": "1"}
    env.pop("TRACKER_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "demo", "--port", "0"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        lines = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line:
                break
            lines.append(line)
            if line.startswith("password:"):
                break
        assert any(x.startswith("password:") for x in lines), (lines, proc.stderr.read() if proc.poll() is not None else "")
        assert [p.name for p in temp.iterdir() if p.name.startswith("tracker-demo-")]  # it did use one
        proc.send_signal(stop_signal)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
    assert [p.name for p in temp.iterdir() if p.name.startswith("tracker-demo-")] == []
