"""What a request's sampling resolves to, the same way in every local engine."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ids import random_bits
from ..types import GenerateRequest


@dataclass
class Defaults:
    """Sampling values used when a request leaves them out."""

    max_tokens: int = 128
    temperature: float = 0.8
    top_k: int = 40
    min_p: float = 0.05
    seed: int | None = None  # the server's seed; None = a fresh random seed per request


@dataclass
class Sampling:
    """One request's resolved sampling: temperature 0 means greedy."""

    temperature: float
    top_k: int
    top_p: float
    min_p: float
    seed: int
    max_tokens: int
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    logit_bias: dict[int, float] = field(default_factory=dict)

    @classmethod
    def of(cls, req: GenerateRequest, d: Defaults, budget: int) -> Sampling:
        """Resolve ``req`` against ``d``; ``budget`` caps max_tokens (context left after the prompt)."""
        seed = req.seed
        if seed is None:
            seed = d.seed if d.seed is not None else random_bits(32)
        seed += req.choice  # the n-th of several answers: its own seed, as reproducible as the first
        min_p = getattr(req, "min_p", None)  # not every vendor has one
        return cls(
            temperature=d.temperature if req.temperature is None else req.temperature,
            top_k=d.top_k if req.top_k is None else req.top_k,
            top_p=1.0 if req.top_p is None else req.top_p,
            min_p=d.min_p if min_p is None else min_p,
            seed=seed,
            max_tokens=min(req.max_tokens or d.max_tokens, budget),
            presence_penalty=req.presence_penalty,
            frequency_penalty=req.frequency_penalty,
            logit_bias=req.logit_bias,
        )
