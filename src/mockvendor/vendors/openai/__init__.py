"""OpenAI's API: chat completions, legacy completions, Responses, embeddings and models; and
Azure OpenAI (``azure``), the same API as Azure serves it."""

from .azure import AzureVendor
from .vendor import VENDOR, OpenAIVendor, go_duration

VENDORS = (OpenAIVendor, AzureVendor)

__all__ = ["VENDOR", "VENDORS", "AzureVendor", "OpenAIVendor", "go_duration"]
