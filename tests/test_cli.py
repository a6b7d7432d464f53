"""The command line, as a user runs it (a real process)."""

from __future__ import annotations

import subprocess
import sys

from .helpers import ROOT


def test_workers_below_one_is_refused() -> None:
    proc = subprocess.run([sys.executable, "-m", "mockvendor", "serve", "--workers", "0"],
                          cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--workers must be at least 1" in proc.stderr


def test_help_names_the_serve_options() -> None:
    proc = subprocess.run([sys.executable, "-m", "mockvendor", "serve", "--help"],
                          cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for option in ("--host", "--port", "--seed", "--no-faults", "--workers"):
        assert option in proc.stdout
