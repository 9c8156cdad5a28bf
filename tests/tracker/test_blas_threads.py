"""`tracker` runs its analysis on one BLAS thread unless the user set the thread count (see tracker.cli)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tracker.cli import BLAS_THREAD_VARIABLES


def _environment_after_main(extra: dict[str, str]) -> dict[str, str | None]:
    script = (
        "import json, os, sys\n"
        "from tracker.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps({{k: os.environ.get(k) for k in {BLAS_THREAD_VARIABLES!r}}}))\n"
        "print(json.dumps('numpy' in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES} | extra
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    *_, variables, numpy_loaded = out.stdout.strip().splitlines()
    assert json.loads(numpy_loaded) is False  # set before numpy (and its BLAS) is first loaded
    return json.loads(variables)


def test_the_cli_defaults_blas_to_one_thread() -> None:
    assert _environment_after_main({}) == {name: "1" for name in BLAS_THREAD_VARIABLES}


def test_a_thread_count_the_user_set_is_kept() -> None:
    got = _environment_after_main({"OPENBLAS_NUM_THREADS": "4"})
    assert got["OPENBLAS_NUM_THREADS"] == "4" and got["OMP_NUM_THREADS"] == "1"
