"""Ollama's native API: chat, generate and embeddings (NDJSON streams), and its model routes."""

from .vendor import VENDOR, OllamaVendor

__all__ = ["VENDOR", "OllamaVendor"]
