"""`tracker emulate --profile band` in another process, and `tracker scan|pair|sync` against it over TCP:
a wrong or malformed key exits 2 naming the key (never echoing it), the right key pairs and syncs."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracker.cli import main

KEY = "5a" * 8 + "c3" * 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_band_over_tcp_from_the_command_line(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--config", str(config_file), "emulate", "--profile", "band", "--days", "2",
         "--transport", f"tcp-server:127.0.0.1:{port}", "--auth-key", KEY, "--refuse-connections", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert emulator.stdout is not None
        assert "emulating a band" in emulator.stdout.readline()
        cfg = ["--config", str(config_file)]
        transport = ["--transport", f"tcp-client:127.0.0.1:{port}"]
        assert main([*cfg, "init"]) == 0
        assert main([*cfg, "person", "add", "Cy", "--tz", "America/Denver"]) == 0
        capsys.readouterr()
        for _ in range(20):  # the emulator may still be starting
            if main([*cfg, "scan", "--seconds", "1", "--json", *transport]) == 0:
                break
            time.sleep(0.25)
        found = [r for r in json.loads(capsys.readouterr().out) if r["family"] == "huami"]
        assert len(found) == 1
        address = found[0]["address"]
        wrong = "00" * 16
        assert main([*cfg, "pair", address, "--person", "Cy", "--auth-key", wrong, *transport]) == 2
        err = capsys.readouterr().err
        assert "auth key" in err and wrong not in err and "Traceback" not in err
        assert main([*cfg, "pair", address, "--person", "Cy", "--auth-key", "xyz", *transport]) == 2
        assert "--auth-key" in capsys.readouterr().err
        assert main([*cfg, "pair", address, "--person", "Cy", "--auth-key", KEY, *transport]) == 0
        out = capsys.readouterr().out
        assert "(huami" in out and KEY not in out
        assert main([*cfg, "sync", "--json", *transport]) == 0
        outcome = json.loads(capsys.readouterr().out)[0]
        assert outcome["status"] == "ok" and outcome["heart_rate"] > 1000 and outcome["sleep"] > 0
        assert main([*cfg, "devices", "--json"]) == 0
        assert KEY not in capsys.readouterr().out
    finally:
        emulator.terminate()
        emulator.wait(10)


def test_scan_without_a_bluetooth_stack_exits_2_saying_what_to_install(config_file: Path, tmp_path: Path) -> None:
    import os

    assert main(["--config", str(config_file), "init"]) == 0
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path / 'no-such-bus'}"}
    proc = subprocess.run([sys.executable, "-m", "tracker", "--config", str(config_file), "scan", "--seconds", "1"],
                          capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert proc.returncode == 2
    assert "no usable Bluetooth stack" in proc.stderr and "BlueZ" in proc.stderr and "--transport" in proc.stderr
    assert "Traceback" not in proc.stderr
