"""What Bedrock's two APIs share: the parsed request, and the padding of stream events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from msgspec import UNSET

from ...ids import random_below
from ...types import GenerateRequest


@dataclass(slots=True)
class BedrockRequest(GenerateRequest):
    """A Converse or InvokeModel request (``api``), with its engine kept for a stream's first event."""

    api: str = "converse"
    engine: Any = None


def given(v: Any) -> Any:
    """A declared optional field's value, None when left out."""
    return None if v is UNSET else v


def pad() -> str:
    """Bedrock's ``p`` member: letters of varying length, so an event's size does not tell its text."""
    return "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[: 1 + random_below(40)]
