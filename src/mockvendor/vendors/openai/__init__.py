"""OpenAI's API: chat completions, legacy completions, Responses, embeddings and models."""

from .vendor import VENDOR, OpenAIVendor, go_duration

__all__ = ["VENDOR", "OpenAIVendor", "go_duration"]
