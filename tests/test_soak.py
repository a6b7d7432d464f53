"""The soak, short: bench/soak.py for about a minute against a real server (faults on,
every vendor, streams left mid-way), and every one of its checks must pass. The long run
(ten minutes and more) is the same command with a larger --duration (README "Soak")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import ROOT

pytestmark = pytest.mark.slow


def test_short_soak_passes_every_check(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak.py"), "--duration", "50", "--warmup", "15",
         "--concurrency", "6", "--json", str(out)],
        cwd=str(ROOT), capture_output=True, text=True, timeout=400,
    )
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    figures = result["figures"]
    assert figures["requests_sent"] > 20, figures  # a load, not a trickle
    assert figures["faults_seen"], "faults were on"
    assert result["checks"] == {name: True for name in result["checks"]}, json.dumps(result, indent=2)
    assert proc.returncode == 0
