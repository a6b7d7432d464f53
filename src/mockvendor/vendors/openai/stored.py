"""Stored responses (the Responses API's ``store``, on by default): each answer is kept in the
state store (so replicas sharing Redis see the same ones) with an expiry
(``MOCKVENDOR_STORED_RESPONSES_TTL_S``) and, in memory, a bound on their number. A stored
response can be read (``GET /v1/responses/{id}``), listed by its input items, deleted, and
continued: ``previous_response_id`` puts its whole conversation (its own input, earlier turns
included, and its output) before the new input. Its ``instructions`` are not carried over, as
OpenAI documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from ...errors import InvalidRequest, MockVendorError
from ...types import Message, ToolCall

if TYPE_CHECKING:
    from ...faults.store import StateStore

PREFIX = "resp:"


class NotFound(MockVendorError):
    status, kind = 404, "not_found"


class Turn(msgspec.Struct, array_like=True):
    role: str
    content: str
    calls: list[tuple[str, str, dict[str, Any]]] = []
    tool_call_id: str | None = None
    name: str | None = None


class Kept(msgspec.Struct):
    response: msgspec.Raw  # the response object as it was sent
    conversation: list[Turn]  # input (earlier turns included) and output, as neutral turns
    input_items: list[Any]  # this request's input items, with ids, as input_items lists them


def turns(messages: list[Message]) -> list[Turn]:
    return [Turn(m.role, m.content, [(c.id, c.name, c.arguments) for c in m.tool_calls], m.tool_call_id, m.name)
            for m in messages]


def messages(kept: list[Turn]) -> list[Message]:
    return [Message(t.role, t.content, [ToolCall(i, n, a) for i, n, a in t.calls], t.tool_call_id, t.name)
            for t in kept]


class StoredResponses:
    def __init__(self, store: StateStore, ttl_s: float) -> None:
        self.store = store
        self.ttl_s = ttl_s

    async def keep(self, rid: str, response: bytes, conversation: list[Message], input_items: list[Any]) -> None:
        kept = Kept(msgspec.Raw(response), turns(conversation), input_items)
        await self.store.put(PREFIX + rid, msgspec.json.encode(kept), self.ttl_s)

    async def _get(self, rid: str) -> Kept | None:
        raw = await self.store.get(PREFIX + rid)
        return None if raw is None else msgspec.json.decode(raw, type=Kept)

    async def conversation(self, rid: str) -> list[Message]:
        """What ``previous_response_id`` continues (a 400 naming it when there is no such response)."""
        kept = await self._get(rid)
        if kept is None:
            raise InvalidRequest(f"Previous response with id '{rid}' not found.", param="previous_response_id",
                                 kind="previous_response_not_found")
        return messages(kept.conversation)

    async def response(self, rid: str) -> bytes:
        kept = await self._get(rid)
        if kept is None:
            raise NotFound(f"Response with id '{rid}' not found.")
        return bytes(kept.response)

    async def input_items(self, rid: str) -> list[Any]:
        kept = await self._get(rid)
        if kept is None:
            raise NotFound(f"Response with id '{rid}' not found.")
        return kept.input_items

    async def delete(self, rid: str) -> None:
        if not await self.store.delete(PREFIX + rid):
            raise NotFound(f"Response with id '{rid}' not found.")
