"""Mistral's chat completions and embeddings, under ``/mistral/v1/``."""

from .vendor import VENDOR, MistralVendor

__all__ = ["VENDOR", "MistralVendor"]
