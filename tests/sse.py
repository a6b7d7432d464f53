"""Parse a server-sent events body strictly: every line is ``event:`` or ``data:``."""

from __future__ import annotations

import json
from typing import Any


def events(text: str) -> list[tuple[str | None, str]]:
    """(event name or None, data) for each event, in order."""
    out: list[tuple[str | None, str]] = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
            else:
                raise AssertionError(f"unexpected SSE line {line!r} in {text!r}")
        out.append((name, "\n".join(data)))
    return out


def data_json(text: str) -> list[Any]:
    """The JSON of every data-only event, stopping at ``[DONE]``."""
    out = []
    for name, data in events(text):
        assert name is None, f"data-only SSE expected, got event {name!r}"
        if data == "[DONE]":
            break
        out.append(json.loads(data))
    return out
