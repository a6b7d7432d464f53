"""Google's Gemini API: generateContent (and its stream), embeddings, token counting and models;
and Gemini on Vertex AI (``vertex``), the same API under Vertex's project paths."""

from .vendor import VENDOR, GeminiVendor, proto_duration
from .vertex import VertexVendor

VENDORS = (GeminiVendor, VertexVendor)

__all__ = ["VENDOR", "VENDORS", "GeminiVendor", "VertexVendor", "proto_duration"]
