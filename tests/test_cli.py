"""The command line, as a user runs it (a real process)."""

from __future__ import annotations

import subprocess
import sys

from .helpers import ROOT


def test_workers_is_refused_with_the_way_to_scale_out() -> None:
    proc = subprocess.run([sys.executable, "-m", "mockvendor", "serve", "--workers", "4"],
                          cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--workers is not supported" in proc.stderr and "MOCKVENDOR_REDIS_URL" in proc.stderr


def test_help_names_the_serve_options() -> None:
    proc = subprocess.run([sys.executable, "-m", "mockvendor", "serve", "--help"],
                          cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for option in ("--host", "--port", "--seed", "--no-faults"):
        assert option in proc.stdout
    assert "--workers" not in proc.stdout
