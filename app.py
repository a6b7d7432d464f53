"""Kept for the seed's users: ``python app.py`` starts the server on port 8080."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "src"))

from mockvendor.cli import main  # noqa: E402

if __name__ == "__main__":
    main(["serve", *sys.argv[1:]])
