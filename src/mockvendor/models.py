"""Model names to engines: every public model name maps, by configuration, to one
engine instance; names that map to the same engine and options share it."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from . import engines
from .errors import ModelNotFound
from .settings import ModelSpec, Settings


class ModelRegistry:
    """Resolves model names; builds each distinct engine once and starts them all."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.specs: dict[str, ModelSpec] = dict(settings.models)
        self._engines: dict[bytes, engines.Engine] = {}
        self._by_name: dict[str, engines.Engine] = {}
        for name, spec in self.specs.items():
            key = orjson.dumps([spec.engine, spec.options], option=orjson.OPT_SORT_KEYS)
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = engines.build(spec.engine, settings, spec.options)
            self._by_name[name] = engine

    def resolve(self, name: str) -> engines.Engine:
        """The engine answering ``name``; a vendor-neutral 404 if it is not configured."""
        engine = self._by_name.get(name)
        if engine is None:
            raise ModelNotFound(
                f"The model `{name}` does not exist or you do not have access to it.",
                param="model",
            )
        return engine

    def names(self) -> list[str]:
        return list(self.specs)

    def all_engines(self) -> list[engines.Engine]:
        return list(self._engines.values())

    async def start(self) -> None:
        await asyncio.gather(*(e.start() for e in self._engines.values()))

    async def aclose(self) -> None:
        for e in self._engines.values():
            await e.aclose()

    def ready(self) -> bool:
        return all(e.ready() for e in self._engines.values())

    def stats(self) -> dict[str, Any]:
        return {
            name: self._by_name[name].stats() for name in self.specs
        }
