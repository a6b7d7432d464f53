"""Amazon Bedrock Runtime: Converse, ConverseStream, InvokeModel and InvokeModelWithResponseStream."""

from .vendor import VENDOR, BedrockVendor

__all__ = ["VENDOR", "BedrockVendor"]
