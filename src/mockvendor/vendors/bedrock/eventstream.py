"""AWS event stream framing (``application/vnd.amazon.eventstream``), the binary framing of
Bedrock's streams: each message is

    total length (uint32) | headers length (uint32) | prelude CRC32 (of the 8 bytes before)
    headers: name length (uint8), name, value type (7: string), value length (uint16), value
    payload
    message CRC32 (of everything before it)

all big-endian, CRC32 as zlib computes it. Only string headers are written (Bedrock's
``:event-type``, ``:content-type``, ``:message-type``, ``:exception-type`` are all strings).
"""

from __future__ import annotations

import struct
import zlib

CONTENT_TYPE = "application/vnd.amazon.eventstream"
PRELUDE = struct.Struct(">II")
CRC = struct.Struct(">I")
STRING = 7  # the header value type of a UTF-8 string
MIN_LENGTH = PRELUDE.size + 2 * CRC.size  # a message with no headers and no payload


def _headers(headers: dict[str, str]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        n, v = name.encode(), value.encode()
        out += bytes([len(n)]) + n + bytes([STRING]) + struct.pack(">H", len(v)) + v
    return bytes(out)


def message(headers: dict[str, str], payload: bytes) -> bytes:
    """One framed message."""
    head = _headers(headers)
    prelude = PRELUDE.pack(MIN_LENGTH + len(head) + len(payload), len(head))
    body = prelude + CRC.pack(zlib.crc32(prelude)) + head + payload
    return body + CRC.pack(zlib.crc32(body))


def event(event_type: str, payload: bytes) -> bytes:
    """An event message (``:message-type: event``) carrying JSON."""
    return message({":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
                   payload)


def exception(exception_type: str, payload: bytes) -> bytes:
    """An exception message (``:message-type: exception``): an error after the stream began, named
    as the operation's stream declares its error members (``throttlingException``, ...)."""
    return message({":exception-type": exception_type, ":content-type": "application/json",
                    ":message-type": "exception"}, payload)


def is_message(data: bytes) -> bool:
    """Whether ``data`` is exactly one well-formed message (lengths and both checksums)."""
    if len(data) < MIN_LENGTH:
        return False
    total, head = PRELUDE.unpack_from(data)
    return (total == len(data) and head <= total - MIN_LENGTH
            and CRC.unpack_from(data, 8)[0] == zlib.crc32(data[:8])
            and CRC.unpack_from(data, total - 4)[0] == zlib.crc32(data[:-4]))


def corrupt(data: bytes) -> bytes:
    """A message whose last checksum no longer matches, as if bits flipped on the way."""
    return data[:-4] + CRC.pack(CRC.unpack_from(data, len(data) - 4)[0] ^ 0xFFFFFFFF)
