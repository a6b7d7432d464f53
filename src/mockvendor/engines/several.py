"""Several answers to one request (OpenAI's ``n``, Gemini's ``candidateCount``): ``n`` copies of
the request run side by side on the same engine (the batching engine decodes them together),
copy ``i`` sampled with seed + ``i`` (``GenerateRequest.choice``), so the choices differ and the
same seed gives the same choices again. Their chunks are merged as they come, each marked with
its choice (``Chunk.index``); the one Completion at the end is choice 0 holding the others in
``choices``, its usage the prompt once and every choice's output tokens, as the vendors bill it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from ..types import Chunk, Completion, GenerateRequest, Usage
from .wrapping import Wrapping

_DONE = object()


class Several(Wrapping):
    name = "several"

    def __init__(self, inner: Any, n: int) -> None:
        super().__init__(inner)
        self.n = n

    async def stream(self, req: GenerateRequest) -> AsyncIterator[Chunk | Completion]:
        queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()

        async def run(i: int) -> None:
            copy = replace(req, n=1, choice=i, engine_state=None)
            try:
                async for item in self.inner.stream(copy):
                    await queue.put((i, item))
            except BaseException as e:  # noqa: BLE001 - handed to the reader, which raises it
                await queue.put((i, e))
            finally:
                await queue.put((i, _DONE))

        tasks = [asyncio.create_task(run(i)) for i in range(self.n)]
        done: dict[int, Completion] = {}
        running = self.n
        try:
            while running:
                i, item = await queue.get()
                if item is _DONE:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                elif isinstance(item, Completion):
                    done[i] = item
                else:
                    yield replace(item, index=i)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        first = done[0]
        first.choices = [done[i] for i in range(1, self.n)]
        first.usage = Usage(first.usage.input_tokens, sum(c.usage.output_tokens for c in done.values()),
                            cached_tokens=first.usage.cached_tokens,
                            reasoning_tokens=sum(c.usage.reasoning_tokens for c in done.values()))
        yield first
