"""The package's layers hold (ARCHITECTURE.md): import-linter checks the contracts in
pyproject.toml, so a new import that goes up a layer, or from one vendor family into
another, fails `make test`. A reversed contract proves the check can fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"]


def lint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LINT, *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})


def test_layers_and_vendor_families_are_kept() -> None:
    r = lint()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 kept, 0 broken" in r.stdout, r.stdout


def test_an_import_up_a_layer_is_caught(tmp_path: Path) -> None:
    config = tmp_path / "reversed.ini"
    config.write_text(
        "[importlinter]\nroot_package = mockvendor\nexclude_type_checking_imports = True\n\n"
        "[importlinter:contract:reversed]\nname = Vendors below the pipeline (false: vendors build endpoints)\n"
        "type = layers\ncontainers = mockvendor\nlayers =\n    pipeline\n    vendors\n"
    )
    r = lint("--config", str(config))
    assert r.returncode != 0 and "BROKEN" in r.stdout, r.stdout + r.stderr
    assert "mockvendor.vendors" in r.stdout and "mockvendor.pipeline" in r.stdout
