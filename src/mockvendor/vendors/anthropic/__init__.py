"""Anthropic's Messages API: messages, token counting and the model list."""

from .vendor import VENDOR, AnthropicVendor

__all__ = ["VENDOR", "AnthropicVendor"]
