"""The seed prototype's four vendors: A (chat), B (creative), E (echo), O (OpenAI passthrough)."""

from .vendor import VendorA, VendorB, VendorE, VendorO

__all__ = ["VendorA", "VendorB", "VendorE", "VendorO"]
