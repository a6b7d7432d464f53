"""Cohere's v2 API: chat (streamed with named events) and embed."""

from .vendor import VENDOR, CohereVendor

__all__ = ["VENDOR", "CohereVendor"]
