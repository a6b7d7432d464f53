"""What an engine wrapping another (several choices, thinking first) passes through unchanged:
its context window, prompt counting and stats."""

from __future__ import annotations

from typing import Any

from ..types import GenerateRequest


class Wrapping:
    can_stream = True

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.context_window = getattr(inner, "context_window", 0)

    def prompt_tokens(self, req: GenerateRequest) -> int:
        return int(self.inner.prompt_tokens(req))

    def stats(self) -> dict[str, Any]:
        return self.inner.stats()  # type: ignore[no-any-return]
