"""Vendors: one module per wire format, in a registry keyed by name.

A vendor class is registered with :func:`register`; ``create_app`` builds one
instance of each registered vendor (with the Settings) and mounts its routes. Each
vendor family is a subpackage (``seed``, ``openai``, ``anthropic``, ``gemini``) whose
``__init__`` exports its vendor classes; shared parts (``base``, ``openapi``,
``model_list``) sit beside them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..settings import Settings
    from .base import BaseVendor

_REGISTRY: dict[str, type[BaseVendor]] = {}


def register(cls: type[BaseVendor]) -> type[BaseVendor]:
    """Register a vendor class under its ``name`` (usable as a decorator)."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    _load_builtins()
    return list(_REGISTRY)


def get(name: str) -> type[BaseVendor]:
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown vendor {name!r}; valid vendors: {sorted(_REGISTRY)}") from None


def build_all(settings: Settings) -> list[Any]:
    """One instance of every registered vendor."""
    _load_builtins()
    return [cls(settings) for cls in _REGISTRY.values()]  # type: ignore[call-arg]


_loaded = False


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import seed

    for cls in (seed.VendorA, seed.VendorB, seed.VendorE, seed.VendorO):
        register(cls)
    # Vendor-compatible APIs register themselves when their modules exist.
    import importlib

    for mod in ("openai", "anthropic", "gemini", "cohere", "mistral", "bedrock", "ollama"):
        try:
            m = importlib.import_module(f".{mod}", __name__)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{mod}":
                raise
            continue
        for cls in getattr(m, "VENDORS", (m.VENDOR,)):  # a family may hold several (openai: azure)
            register(cls)
