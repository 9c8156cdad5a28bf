"""The `tracker` command runs numpy's BLAS on one thread unless the environment chooses otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tracker.cli import BLAS_THREAD_VARIABLES

CODE = (
    "import json, os, sys\n"
    "from tracker.cli import main\n"
    "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
    f"print(json.dumps({{k: os.environ.get(k) for k in {BLAS_THREAD_VARIABLES!r}}}))\n"
)


def _env_after_main(**preset: str) -> dict[str, str | None]:
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES} | preset
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_command_limits_blas_to_one_thread() -> None:
    assert _env_after_main() == dict.fromkeys(BLAS_THREAD_VARIABLES, "1")


def test_a_setting_in_the_environment_is_kept() -> None:
    got = _env_after_main(OPENBLAS_NUM_THREADS="3")
    assert got["OPENBLAS_NUM_THREADS"] == "3" and got["OMP_NUM_THREADS"] == "1"
