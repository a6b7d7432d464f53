"""Engines: the generators behind every vendor, in a registry keyed by name.

An engine is built once per (name, options) and shared by every model name that maps
to it. Built-in engines register exactly like external ones would, through
:func:`register`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..types import Chunk, Completion, GenerateRequest

if TYPE_CHECKING:
    from ..settings import Settings


@runtime_checkable
class Engine(Protocol):
    """A generator of text.

    Contract:
    - ``name``: the registry name. ``can_stream``: whether ``stream`` yields text as it
      is produced (otherwise it yields everything at once, still ending with a Completion).
    - ``context_window``: the most tokens (prompt + output) one request may use; 0 if
      unbounded.
    - ``start()`` loads whatever is heavy (in a thread, never on the event loop) and
      ``ready()`` says whether the engine can answer now. ``aclose()`` releases it.
    - ``prompt_tokens(req)`` counts the prompt with the model's own tokenizer, after the
      chat template; it raises :class:`~mockvendor.errors.ContextLengthExceeded` (a 400
      in every vendor's shape) if prompt plus at least one output token cannot fit.
    - ``stream(req)`` is an async iterator of :class:`Chunk` (text deltas) that ends with
      exactly one :class:`Completion` carrying the whole text, the usage and the finish
      reason. Stop sequences are honoured and never emitted. Closing the iterator early
      (client gone) releases the request's resources promptly. Engine-side failures are
      raised as :class:`~mockvendor.errors.MockVendorError`; a full queue raises
      :class:`~mockvendor.errors.Overloaded` at once (from the first iteration), never
      a wait.
    - The same request with the same ``seed`` gives the same text, whatever else runs.
    """

    name: str
    can_stream: bool
    context_window: int

    async def start(self) -> None: ...

    def ready(self) -> bool: ...

    async def aclose(self) -> None: ...

    def prompt_tokens(self, req: GenerateRequest) -> int: ...

    def stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]: ...

    def stats(self) -> dict[str, Any]: ...


EngineFactory = Callable[["Settings", dict[str, Any]], Engine]
_REGISTRY: dict[str, EngineFactory] = {}


def register(name: str, factory: EngineFactory) -> None:
    """Register an engine factory under ``name``."""
    _REGISTRY[name] = factory


def build(name: str, settings: Settings, options: dict[str, Any]) -> Engine:
    """Build the engine registered as ``name``; an unknown name lists the valid ones."""
    _load_builtins()
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; valid engines: {sorted(_REGISTRY)}") from None
    return factory(settings, options)


def names() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


async def generate(engine: Engine, req: GenerateRequest) -> Completion:
    """Run ``engine.stream`` to the end and return its Completion."""
    agen = engine.stream(req)
    try:
        async for item in agen:
            if isinstance(item, Completion):
                return item
    finally:
        await agen.aclose()  # type: ignore[attr-defined]
    raise RuntimeError(f"engine {engine.name} ended without a Completion")


def _load_builtins() -> None:
    # Modules are light to import: heavy libraries load inside each engine's start().
    # Importing registers them; a module imported earlier is simply not re-run.
    from . import echo, llamacpp, transformers, upstream  # noqa: F401
