"""Message threads (beta ``message-threads-2026-08-12``): the server holds a conversation
under each answer's ``id``, so the next turn sends only its new messages.

``thread: {"type": "create"}`` starts one; ``{"type": "continue", "previous_message_id":
...}`` resumes from an answer, taking ``system`` and ``tools`` from the thread (a request
that repeats them is refused). The SDK's tool runner (``client.beta.messages.tool_runner``)
works this way. Threads live in this process, the newest ``MAX_THREADS`` kept: an unknown id
gets ``thread_not_found`` in ``error.details.error_code``, on which the SDK sends the whole
history again under a new thread, as it does when the real API has lost one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec import UNSET

from ...errors import InvalidRequest, NotFound
from . import wire

MAX_THREADS = 10_000
CODES = ("thread_not_found", "thread_unsupported_request")


class ThreadNotFound(NotFound):
    kind = "thread_not_found"


@dataclass(frozen=True, slots=True)
class Held:
    """A conversation as the server holds it: the turns so far and what a continue takes from it."""

    messages: list[wire.MessageParam]
    system: Any
    tools: Any
    raw_tools: Any


class Threads:
    """The held conversations, by answer id (least recently used dropped past ``size``)."""

    def __init__(self, size: int = MAX_THREADS) -> None:
        self.size = size
        self._held: OrderedDict[str, Held] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, message_id: str, held: Held) -> None:
        with self._lock:
            self._held[message_id] = held
            while len(self._held) > self.size:
                self._held.popitem(last=False)

    def resume(self, m: Any, body: Any) -> tuple[Any, Held | None]:
        """The request with its thread's turns, system and tools in front, and what to hold after the
        answer (None: no thread)."""
        thread = m.thread if m.thread is not UNSET else None
        if thread is None:
            return m, None
        if isinstance(thread, wire.ThreadCreate):
            return m, Held(list(m.messages), m.system, m.tools, body.get("tools"))
        for field in ("system", "tools"):
            if getattr(m, field) is not UNSET:
                raise InvalidRequest(f"{field}: `{field}` comes from the thread on a `continue`; leave it out.",
                                     param=field)
        with self._lock:
            held = self._held.get(thread.previous_message_id)
            if held is not None:
                self._held.move_to_end(thread.previous_message_id)
        if held is None:
            raise ThreadNotFound(
                f"thread.previous_message_id: no thread holds the message {thread.previous_message_id!r} (it was "
                "never answered with a thread, or this server has restarted or dropped it); send the whole "
                "conversation again with `thread: {\"type\": \"create\"}`.",
                param="thread.previous_message_id",
            )
        whole = msgspec.structs.replace(m, messages=[*held.messages, *m.messages], system=held.system,
                                             tools=held.tools)
        return whole, Held(list(whole.messages), held.system, held.tools, held.raw_tools)

    def answered(self, message_id: str, held: Held, reply: list[Any]) -> None:
        """Hold the conversation with the assistant's ``reply`` blocks under the answer's id."""
        turn = wire.MessageParam(role="assistant", content=reply)
        self.put(message_id, Held([*held.messages, turn], held.system, held.tools, held.raw_tools))
