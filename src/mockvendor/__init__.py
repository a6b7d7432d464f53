"""mockvendor: a local, reproducible imitation of LLM vendors."""

from .app import create_app
from .settings import Settings
from .version import __version__

__all__ = ["Settings", "__version__", "create_app"]
