"""Making captured bodies safe to keep: secrets redacted, size bounded.

Applied once per record when it enters the request log, so the ring, the live feed, the
SQLite file and every export only ever see the sanitized form.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import orjson
from ahocorasick_rs import BytesAhoCorasick

REDACTED = "[REDACTED]"

# Words that make a JSON key secret. Whole words only: ``max_tokens`` and ``tokensIn`` are
# counts, not credentials, so "tokens" (plural) is deliberately absent.
_SECRET_WORDS = frozenset(
    {"authorization", "password", "passwd", "passphrase", "secret", "token", "apikey", "cookie",
     "credential", "credentials", "bearer"}
)
_SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("access", "key"), ("session", "key")})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")

# Strings that look like credentials wherever they appear (a key pasted into a prompt).
_KEYLIKE = re.compile(
    r"\bsk-[A-Za-z0-9_\-]{8,}"  # OpenAI, Anthropic (sk-ant-...)
    r"|\bAIza[0-9A-Za-z_\-]{30,}"  # Google API keys
    r"|\b[Bb]earer\s+[A-Za-z0-9._~+/=\-]{8,}"
)


@lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether a JSON key names a credential (``api_key``, ``Authorization``, ``clientSecret``...)."""
    words = [w.lower() for w in _WORD.findall(key)]
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(words, words[1:], strict=False))


def redact_text(text: str) -> str:
    """``text`` with anything that looks like an API key replaced."""
    return _KEYLIKE.sub(REDACTED, text)


def redact(value: Any) -> Any:
    """A copy of a JSON value with secret keys' values and key-like strings replaced."""
    t = type(value)
    if t is str:
        # search() first: almost no string holds a key, and sub() always builds a new one.
        return _KEYLIKE.sub(REDACTED, value) if _KEYLIKE.search(value) else value
    if t is dict:
        return {
            k: (REDACTED if isinstance(k, str) and is_secret_key(k) else redact(v)) for k, v in value.items()
        }
    if t is list or t is tuple:
        return [redact(v) for v in value]
    return value


MIN_LIMIT = 256


def bound(value: Any, limit: int) -> tuple[Any, bytes]:
    """``value`` and its JSON if that is at most ``limit`` bytes, else a marker holding its head.

    The marker itself serializes within ``limit``, so bounding twice changes nothing.
    """
    data = orjson.dumps(value, default=str)
    if len(data) <= limit:
        return value, data
    limit = max(limit, MIN_LIMIT)
    head_len = limit - 64
    while True:
        # Cut on a character boundary; JSON escaping can grow the head, so shrink until it fits.
        head = data[:head_len].decode("utf-8", errors="ignore")
        marker = {"truncated": True, "bytes": len(data), "head": head}
        marker_data = orjson.dumps(marker)
        if len(marker_data) <= limit or head_len <= 0:
            return marker, marker_data
        head_len = head_len * 3 // 4


# Every key or string that redact() would touch contains one of these (in lower case), so
# JSON without any of them needs no walk. Most bodies take that path: one search over the
# lowered bytes (about five times faster than the same search with re.IGNORECASE).
# "tokens" followed by a non-letter (``max_tokens``, ``prompt_tokens_details``: counts, in
# every usage object) is not the word "token", so those bodies need no walk either.
_WORDS = BytesAhoCorasick([b"key", b"secret", b"sk-", b"passw", b"passphrase", b"authoriz", b"aiza", b"cookie",
                           b"credential", b"bearer"])
_TOKEN = re.compile(rb"token(?!s[^a-z])")  # a literal start: re finds it at C speed


def maybe_secret(low: bytes) -> bool:
    """Whether lower-cased JSON holds any of the words above: one Aho-Corasick pass for the
    plain words (a third of the time of one regular expression for them all, whose search
    tries a branch at every letter of theirs), then ``token``."""
    return bool(_WORDS.find_matches_as_indexes(low)) or _TOKEN.search(low) is not None


def sanitize(value: Any, limit: int, data: bytes | None = None) -> tuple[Any, bytes]:
    """Redacted, then bounded to ``limit`` bytes of JSON: the value and that JSON.
    ``data``: the value's JSON if already at hand (the request's body, the answer's)."""
    if data is None or data.find(b"\\u") != -1:  # (not `in`: bytes.__contains__ tries an int first, raising)
        # JSON escapes (``"\\u0073k-..."``, ``"api\\u005fkey"``) would hide a secret from the search
        # below: it reads the JSON as orjson writes it, which escapes nothing it need not.
        data = orjson.dumps(value, default=str)
    if not maybe_secret(data.lower()):
        if len(data) <= limit:
            return value, data
        return bound(value, limit)
    return bound(redact(value), limit)
