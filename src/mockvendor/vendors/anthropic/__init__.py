"""Anthropic's Messages API: messages, token counting and the model list; and Claude on
Vertex AI (``vertex-anthropic``), the same API under Vertex's project paths."""

from .vendor import VENDOR, AnthropicVendor
from .vertex import VertexAnthropicVendor

VENDORS = (AnthropicVendor, VertexAnthropicVendor)

__all__ = ["VENDOR", "VENDORS", "AnthropicVendor", "VertexAnthropicVendor"]
