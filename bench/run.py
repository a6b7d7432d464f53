"""Run every benchmark in bench/ (each prints ratios against its own baseline).

    python bench/run.py [name ...]      # e.g. python bench/run.py echo_throughput
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"run.py", "common.py", "bare_echo.py", "mock_app.py", "__init__.py"}


def main() -> None:
    wanted = set(sys.argv[1:])
    scripts = sorted(p for p in HERE.glob("*.py") if p.name not in SKIP)
    failed = 0
    for script in scripts:
        if wanted and script.stem not in wanted:
            continue
        print(f"== {script.stem}", flush=True)
        failed += subprocess.call([sys.executable, str(script)], cwd=str(HERE.parent)) != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
