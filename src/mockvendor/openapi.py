"""The server's own OpenAPI document, built from the vendors that serve (each declares its
routes' bodies once, in its ``wire`` module) and the fault lab's description."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .faults.admin import fault_lab_description
from .version import __version__

if TYPE_CHECKING:
    from .context import AppContext


def openapi_document(ctx: AppContext) -> dict[str, Any]:
    """The server's own OpenAPI document, built from the vendors that serve."""
    paths: dict[str, Any] = {}
    for vendor in ctx.vendors:
        paths.update(vendor.openapi())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mockvendor",
            "version": __version__,
            "description": "A local imitation of LLM vendors with simulated failures.\n\n" + fault_lab_description(),
        },
        "paths": paths,
    }
