"""Model names to engines. Configured names (``[models.<name>]``) map to their engine;
every other name a vendor would use (:mod:`.catalog`) is answered by the engine of
``Settings.catalog_model`` (the embedded model), wrapped in :class:`Advertised` so the
name keeps its own context window and output limit. Names that map to the same engine
and options share one engine instance."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson

from . import engines
from .catalog import Card, Catalog
from .errors import ContextLengthExceeded, InvalidRequest, ModelNotFound
from .settings import ModelSpec, Settings
from .types import Chunk, Completion, GenerateRequest, Message

log = logging.getLogger("mockvendor")


class ModelRegistry:
    """Resolves model names; builds each distinct engine once and starts them all."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.specs: dict[str, ModelSpec] = dict(settings.models)
        self.catalog = Catalog(enabled=settings.model_catalog, families=settings.model_families,
                               remove=[n for n in settings.remove_models if n not in self.specs])
        self._engines: dict[bytes, engines.Engine] = {}
        self._by_name: dict[str, engines.Engine] = {}
        self._advertised: dict[str, Advertised] = {}
        for name, spec in self.specs.items():
            key = orjson.dumps([spec.engine, spec.options], option=orjson.OPT_SORT_KEYS)
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = engines.build(spec.engine, settings, spec.options)
            self._by_name[name] = engine
        if settings.catalog_model not in self._by_name:
            # A config whose models leave out the catalog model answers only its own names, as before
            # the catalog existed.
            if self.catalog.cards:
                log.warning("catalog_model %r is not a configured model (configured: %s): only configured "
                            "names are answered", settings.catalog_model, ", ".join(sorted(self._by_name)))
            self.catalog = Catalog(enabled=False)

    def resolve(self, name: str) -> engines.Engine:
        """The engine answering ``name``; a vendor-neutral 404 if no vendor would use the name."""
        engine = self._by_name.get(name)
        if engine is not None:
            return engine
        adv = self._advertised.get(name)
        if adv is not None:
            return adv
        card = self.catalog.get(name)
        if card is None:
            raise ModelNotFound(
                f"The model `{name}` does not exist or you do not have access to it.",
                param="model",
            )
        adv = Advertised(self._by_name[self.settings.catalog_model], card, self.settings.default_max_tokens)
        if len(self._advertised) < 4096:
            self._advertised[name] = adv
        return adv

    def card(self, name: str) -> Card | None:
        """What the vendor publishes about ``name`` (None for configured names)."""
        return None if name in self._by_name else self.catalog.get(name)

    def spec(self, name: str) -> ModelSpec:
        """The configured spec of ``name``, or the catalog model's under the name's own owner."""
        spec = self.specs.get(name)
        if spec is not None:
            return spec
        card = self.catalog.get(name)
        if card is None:
            raise KeyError(name)
        base = self.specs[self.settings.catalog_model]
        return ModelSpec(name, base.engine, base.options, card.owner)

    def names(self, vendor: str | None = None) -> list[str]:
        """Configured names, then the catalog's (``vendor``: only that vendor's published names)."""
        return list(self.specs) + [n for n in self.catalog.names(vendor) if n not in self.specs]

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


class Advertised:
    """A catalog name on the embedded model: the name's own context window and output limit
    are the ones checked and reported; a prompt that fits the name's window but not the
    embedded model's is answered from a cut that fits (the system prompt kept, then the
    newest turns, the oldest text dropped first), while usage counts the whole prompt."""

    can_stream = True

    def __init__(self, inner: Any, card: Card, default_max_tokens: int) -> None:
        self.inner = inner
        self.card = card
        self.name = getattr(inner, "name", "engine")
        self.context_window = card.context_window
        self.can_stream = getattr(inner, "can_stream", True)
        self._default_max = default_max_tokens

    def __getattr__(self, attr: str) -> Any:
        # Everything else (stats, embed, handles_tools, ready...) is the inner engine's.
        return getattr(self.inner, attr)

    # -- counting and checks ---------------------------------------------------------------
    def prompt_tokens(self, req: GenerateRequest) -> int:
        n = self._count(req)
        if n + 1 > self.card.context_window:
            raise ContextLengthExceeded(
                f"This model's maximum context length is {self.card.context_window} tokens. "
                f"However, your messages resulted in {n} tokens. Please reduce the length of the messages.",
                param="messages",
            )
        if req.max_tokens is not None and req.max_tokens > self.card.max_output and not req.count_only:
            raise InvalidRequest(
                f"max_tokens is too large: {req.max_tokens}. This model supports at most "
                f"{self.card.max_output} completion tokens, whereas you provided {req.max_tokens}.",
                param="max_tokens",
            )
        return n

    def _count(self, req: GenerateRequest) -> int:
        """The whole prompt's tokens, with the embedded model's tokenizer, beyond its own window too."""
        count = getattr(self.inner, "count_tokens", None)
        return int(count(req)) if count is not None else int(self.inner.prompt_tokens(req))

    # -- answering --------------------------------------------------------------------------
    @property
    def complete(self) -> Any:
        inner = getattr(self.inner, "complete", None)
        if inner is None:
            raise AttributeError("complete")
        return lambda req: self._with_usage(inner(self._fit(req)), req)

    async def stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
        async for ev in self.inner.stream(self._fit(req)):
            yield self._with_usage(ev, req) if isinstance(ev, Completion) else ev

    def _with_usage(self, c: Completion, req: GenerateRequest) -> Completion:
        c.usage.input_tokens = self._count(req)
        return c

    def _fit(self, req: GenerateRequest) -> GenerateRequest:
        """``req`` itself if the embedded model can take it, else a copy cut to fit its window."""
        window = int(getattr(self.inner, "context_window", 0) or 0)
        if not window:
            return req
        reserve = min(req.max_tokens or self._default_max, window // 2)
        budget = window - reserve
        if self._count(req) <= budget:
            return req
        if req.prompt is not None:
            return self._cut_text(req, budget, lambda text: dataclasses.replace(req, prompt=text, engine_state=None))
        system = [m for m in req.messages if m.role == "system"]
        turns = [m for m in req.messages if m.role != "system"]
        cut = dataclasses.replace(req, messages=system + turns, engine_state=None)
        while len(turns) > 1 and self._count(cut) > budget:
            turns = turns[1:]
            cut = dataclasses.replace(req, messages=system + turns, engine_state=None)
        if self._count(cut) <= budget:
            return cut
        last = turns[-1]
        return self._cut_text(cut, budget, lambda text: dataclasses.replace(
            cut, messages=system + [Message(last.role, text)], engine_state=None), last.content)

    def _cut_text(self, req: GenerateRequest, budget: int, build: Any, text: str | None = None) -> GenerateRequest:
        """The longest tail of ``text`` (the raw prompt by default) whose request fits ``budget``."""
        text = (req.prompt or "") if text is None else text
        lo, hi = 0, len(text)
        while lo < hi:  # the most characters kept that still fit
            mid = (lo + hi + 1) // 2
            if self._count(build(text[len(text) - mid:])) <= budget:
                lo = mid
            else:
                hi = mid - 1
        return build(text[len(text) - lo:])  # type: ignore[no-any-return]
