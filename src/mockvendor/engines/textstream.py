"""Turning a token stream into text: incremental UTF-8 and stop sequences.

Shared by every engine that produces tokens one by one, so stop sequences behave the
same everywhere: the matched stop string is never emitted, and text that might be the
start of a stop string is held back until it is known not to be.
"""

from __future__ import annotations

import codecs


class StopText:
    """Feed decoded token bytes; get back the text that is safe to emit."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self.text = ""  # everything emitted so far
        self.stopped_by: str | None = None

    def feed(self, piece: bytes) -> str:
        """Add one token's bytes; return newly emittable text ('' if held back)."""
        if self.stopped_by is not None:
            return ""
        self._pending += self._decoder.decode(piece)
        return self._release(final=False)

    def finish(self) -> str:
        """Flush what is held back at the end of generation."""
        if self.stopped_by is not None:
            return ""
        self._pending += self._decoder.decode(b"", final=True)
        return self._release(final=True)

    def _release(self, final: bool) -> str:
        buf = self._pending
        for stop in self.stops:
            i = buf.find(stop)
            if i >= 0:
                self.stopped_by = stop
                self._pending = ""
                out = buf[:i]
                self.text += out
                return out
        hold = 0
        if not final:
            for stop in self.stops:
                # Longest suffix of buf that is a proper prefix of this stop string.
                for k in range(min(len(stop) - 1, len(buf)), 0, -1):
                    if buf.endswith(stop[:k]):
                        hold = max(hold, k)
                        break
        out = buf[: len(buf) - hold] if hold else buf
        self._pending = buf[len(out) :]
        self.text += out
        return out
