"""Google's Gemini API: generateContent (and its stream), embeddings, token counting and models."""

from .vendor import VENDOR, GeminiVendor, proto_duration

__all__ = ["VENDOR", "GeminiVendor", "proto_duration"]
