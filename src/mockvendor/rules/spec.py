"""The rule vocabulary: what a rule matches and what it answers, parsed from a plain
document (YAML, JSON, the admin API, the pytest plugin) into a :class:`Rule`.

A rule::

    {"name": "refund",                             # optional (rule-<n> otherwise)
     "match": {"vendor": "openai",                 # or a list
               "route": "/v1/chat/*",              # exact or glob
               "model": "gpt-4o*",                 # exact or glob, or a list
               "user": "refund",                   # last user message: a string is "contains",
               "message": {"regex": "order (\\d+)"},  # any message; or {"equals": ...}
               "system": {"contains": "support", "ignore_case": true},
               "tools": ["issue_refund"],          # all offered (true: any tool, false: none)
               "tool_result": "Echo",              # the last tool result (true/false: one exists or not)
               "structured": true,                 # structured output asked (response_format)
               "headers": {"x-tenant": "acme"},   # exact, or a text matcher
               "nth": 2,                           # the n-th request of the test id (1-based), or a list
               "seq": 0,                           # this match's k-th occurrence (0-based)
               "fingerprint": {...}},              # a recorded request (see cassette.py)
     "answer": {"text": "Refund for order {{1}} issued.",   # templated
                "tool_calls": [{"name": "issue_refund", "arguments": {"order": "{{1}}"}}],
                "json": {"ok": true},              # a structured object, answered as JSON text
                "fault": "503", "retry_after_ms": 200,      # any fault of the fault lab
                "stream": {"chunk_size": 4, "ttft_ms": 200, "delay_ms": 20},  # or "chunks": [...]
                "passthrough": true},              # the model answers (with the fault/timing above)
     "times": 2}                                   # used at most twice

``answer`` may be a plain string (the text). First match wins; see :mod:`.book`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidRequest
from ..faults.spec import Fault, parse_fault

MATCH_FIELDS = frozenset({
    "vendor", "route", "model", "user", "message", "system", "tools", "tool_result", "structured", "headers",
    "nth", "seq", "fingerprint",
})
ANSWER_FIELDS = frozenset({
    "text", "tool_calls", "json", "fault", "retry_after_ms", "should_retry", "after_chunks", "delay_ms",
    "stall_ms", "status", "stream", "passthrough", "raw",
})
FAULT_OPTS = ("retry_after_ms", "should_retry", "after_chunks", "delay_ms", "stall_ms", "status")
STREAM_FIELDS = frozenset({"chunk_size", "chunks", "ttft_ms", "delay_ms"})
RULE_FIELDS = frozenset({"name", "match", "answer", "times", "test_id", "source"})
MAX_RULES = 100_000

_TEMPLATE = re.compile(r"\{\{\s*([\w.\-]+)\s*\}\}")
_WORDS = re.compile(r"\w+")


@dataclass(slots=True)
class TextMatch:
    """A text condition: ``contains`` (the default), ``regex`` or ``equals``."""

    kind: str
    value: str
    ignore_case: bool = False
    pattern: re.Pattern[str] | None = None

    def find(self, text: str) -> re.Match[str] | bool:
        """A regex match (for captures), True, or False."""
        if self.pattern is not None:
            return self.pattern.search(text) or False
        if self.ignore_case:
            text = text.casefold()
        if self.kind == "equals":
            return text == self.value
        return self.value in text

    def key_words(self) -> list[str]:
        """Whole words (lowercase) any matching text must hold, for the rule index."""
        if self.pattern is not None:
            return []
        # A word touching the literal's edge may be part of a longer word in the text,
        # unless the literal must equal the whole text.
        return [m.group(0).casefold() for m in _WORDS.finditer(self.value)
                if self.kind == "equals" or (m.start() > 0 and m.end() < len(self.value))]


@dataclass(slots=True)
class Match:
    """Every condition of a rule (None: any)."""

    vendor: frozenset[str] | None = None
    route: list[str] | None = None
    model: list[str] | None = None
    user: TextMatch | None = None
    message: TextMatch | None = None
    system: TextMatch | None = None
    tools: list[str] | bool | None = None
    tool_result: TextMatch | bool | None = None
    structured: bool | None = None
    headers: dict[str, TextMatch] | None = None
    nth: frozenset[int] | None = None
    seq: int | None = None
    fingerprint: str | None = None  # its hash (cassette.fingerprint_hash)
    fingerprint_doc: dict[str, Any] | None = None


@dataclass(slots=True)
class Stream:
    """How a rule's answer is cut and timed: ``chunks`` given, or pieces of ``chunk_size``
    characters (0: words); ``ttft_ms`` before the first, ``delay_ms`` before each other."""

    chunk_size: int = 0
    chunks: list[str] | None = None
    ttft_ms: float = 0.0
    delay_ms: float = 0.0
    delays_ms: list[float] | None = None  # recorded timing, one wait per chunk

    @property
    def timed(self) -> bool:
        return bool(self.ttft_ms or self.delay_ms or self.delays_ms)


@dataclass(slots=True)
class Answer:
    """What a matching request is answered with."""

    text: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    fault: Fault | None = None
    stream: Stream | None = None
    passthrough: bool = False
    raw: dict[str, Any] | None = None  # a recorded HTTP answer (cassette.py)

    @property
    def fixed(self) -> bool:
        """True if the answer's content comes from the rule, not from the model."""
        return not self.passthrough and (self.text is not None or bool(self.tool_calls))


@dataclass(slots=True)
class Rule:
    """One match -> answer, with its use limit and use count."""

    name: str
    match: Match
    answer: Answer
    times: int | None = None
    doc: dict[str, Any] = field(default_factory=dict)  # as given (GET /admin/rules shows it)
    used: int = 0
    test_id: str | None = None
    _key: str | None = None

    def doc_key(self) -> str:
        """The rule's match without ``seq``: rules sharing it count their occurrences together."""
        if self._key is None:
            import orjson

            m = {k: v for k, v in (self.doc.get("match") or {}).items() if k != "seq"}
            self._key = orjson.dumps(m, option=orjson.OPT_SORT_KEYS, default=str).decode()
        return self._key

    def exhausted(self) -> bool:
        return self.times is not None and self.used >= self.times

    def to_json(self) -> dict[str, Any]:
        out = {**self.doc, "name": self.name, "used": self.used}
        if self.times is not None:
            out["remaining"] = max(0, self.times - self.used)
        if self.test_id is not None:
            out["test_id"] = self.test_id
        return out


def parse_rule(doc: Any, where: str = "rule", *, default_name: str = "") -> Rule:
    """A Rule from its document; a 400 naming the bad field."""
    if not isinstance(doc, dict):
        raise InvalidRequest(f"{where} must be an object with match and answer.")
    unknown = set(doc) - RULE_FIELDS
    if unknown:
        raise InvalidRequest(f"{where}: unknown field(s) {sorted(unknown)}; valid: {', '.join(sorted(RULE_FIELDS))}.")
    name = doc.get("name") or default_name
    if not isinstance(name, str) or not name or len(name) > 200:
        raise InvalidRequest(f"{where}.name must be a string of 1-200 characters.")
    times = doc.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise InvalidRequest(f"{where}.times must be a positive integer, got {times!r}.")
    test_id = doc.get("test_id")
    if test_id is not None and not isinstance(test_id, str):
        raise InvalidRequest(f"{where}.test_id must be a string.")
    match = parse_match(doc.get("match") or {}, f"{where}.match")
    answer = parse_answer(doc.get("answer", {"passthrough": True}), f"{where}.answer")
    clean = {k: v for k, v in doc.items() if k not in ("name", "test_id")}
    return Rule(name, match, answer, times, clean, test_id=test_id)


def parse_match(doc: Any, where: str) -> Match:
    if not isinstance(doc, dict):
        raise InvalidRequest(f"{where} must be an object.")
    unknown = set(doc) - MATCH_FIELDS
    if unknown:
        raise InvalidRequest(f"{where}: unknown field(s) {sorted(unknown)}; valid: {', '.join(sorted(MATCH_FIELDS))}.")
    m = Match()
    if "vendor" in doc:
        m.vendor = frozenset(v.lower() for v in _strings(doc["vendor"], f"{where}.vendor"))
    if "route" in doc:
        m.route = _strings(doc["route"], f"{where}.route")
    if "model" in doc:
        m.model = _strings(doc["model"], f"{where}.model")
    for key in ("user", "message", "system"):
        if key in doc:
            setattr(m, key, parse_text(doc[key], f"{where}.{key}"))
    if "tools" in doc:
        t = doc["tools"]
        m.tools = t if isinstance(t, bool) else _strings(t, f"{where}.tools")
    if "tool_result" in doc:
        t = doc["tool_result"]
        m.tool_result = t if isinstance(t, bool) else parse_text(t, f"{where}.tool_result")
    if "structured" in doc:
        if not isinstance(doc["structured"], bool):
            raise InvalidRequest(f"{where}.structured must be true or false.")
        m.structured = doc["structured"]
    if "headers" in doc:
        h = doc["headers"]
        if not isinstance(h, dict) or not h:
            raise InvalidRequest(f"{where}.headers must be an object of header names and values.")
        m.headers = {
            str(k).lower(): parse_text(v if isinstance(v, dict) else {"equals": str(v)}, f"{where}.headers.{k}")
            for k, v in h.items()
        }
    if "nth" in doc:
        ns = doc["nth"] if isinstance(doc["nth"], list) else [doc["nth"]]
        if not ns or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in ns):
            raise InvalidRequest(f"{where}.nth must be a positive integer (1 = the first request) or a list of them.")
        m.nth = frozenset(ns)
    if "seq" in doc:
        s = doc["seq"]
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise InvalidRequest(f"{where}.seq must be an integer from 0.")
        m.seq = s
    if "fingerprint" in doc:
        from .cassette import fingerprint_hash

        if not isinstance(doc["fingerprint"], dict):
            raise InvalidRequest(f"{where}.fingerprint must be an object (a recorded request).")
        m.fingerprint_doc = doc["fingerprint"]
        m.fingerprint = fingerprint_hash(doc["fingerprint"])
    return m


def parse_text(v: Any, where: str) -> TextMatch:
    if isinstance(v, str):
        return TextMatch("contains", v)
    if not isinstance(v, dict):
        raise InvalidRequest(f"{where} must be a string (contained) or an object with contains, regex or equals.")
    kinds = [k for k in ("contains", "regex", "equals") if k in v]
    unknown = set(v) - {"contains", "regex", "equals", "ignore_case"}
    if len(kinds) != 1 or unknown:
        raise InvalidRequest(f"{where} needs exactly one of contains, regex, equals (and optionally ignore_case).")
    kind = kinds[0]
    value = v[kind]
    if not isinstance(value, str):
        raise InvalidRequest(f"{where}.{kind} must be a string.")
    ic = bool(v.get("ignore_case", False))
    if kind == "regex":
        try:
            pattern = re.compile(value, re.IGNORECASE if ic else 0)
        except re.error as e:
            raise InvalidRequest(f"{where}.regex is not a valid regular expression: {e}.") from None
        return TextMatch(kind, value, ic, pattern)
    return TextMatch(kind, value.casefold() if ic else value, ic)


def parse_answer(doc: Any, where: str) -> Answer:
    if isinstance(doc, str):
        return Answer(text=doc)
    if not isinstance(doc, dict):
        raise InvalidRequest(f"{where} must be a string (the text) or an object.")
    unknown = set(doc) - ANSWER_FIELDS
    if unknown:
        raise InvalidRequest(f"{where}: unknown field(s) {sorted(unknown)}; valid: {', '.join(sorted(ANSWER_FIELDS))}.")
    a = Answer()
    if "text" in doc:
        if not isinstance(doc["text"], str):
            raise InvalidRequest(f"{where}.text must be a string.")
        a.text = doc["text"]
    if "json" in doc:
        import orjson

        if a.text is not None:
            raise InvalidRequest(f"{where}: give text or json, not both.")
        a.text = orjson.dumps(doc["json"]).decode()
    if "tool_calls" in doc:
        calls = doc["tool_calls"]
        if not isinstance(calls, list) or not calls:
            raise InvalidRequest(f"{where}.tool_calls must be a non-empty list of {{name, arguments}}.")
        for i, c in enumerate(calls):
            if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not c["name"]:
                raise InvalidRequest(f"{where}.tool_calls[{i}] needs a name.")
            args = c.get("arguments", {})
            if isinstance(args, str):  # JSON text, as OpenAI and aimock write it
                import orjson

                try:
                    args = orjson.loads(args)
                except orjson.JSONDecodeError:
                    raise InvalidRequest(f"{where}.tool_calls[{i}].arguments is not JSON.") from None
            if not isinstance(args, dict):
                raise InvalidRequest(f"{where}.tool_calls[{i}].arguments must be an object.")
            a.tool_calls.append({"name": c["name"], "arguments": args, **({"id": c["id"]} if c.get("id") else {})})
    opts = {k: doc[k] for k in FAULT_OPTS if k in doc}
    if "fault" in doc:
        spec = doc["fault"]
        if not isinstance(spec, str | int) or isinstance(spec, bool):
            raise InvalidRequest(f"{where}.fault must be a fault spec such as \"503\" or \"rate-limit\".")
        a.fault = parse_fault(str(spec), opts, where=f"{where}.fault")
    elif opts:
        raise InvalidRequest(f"{where}: {sorted(opts)} only go with a fault.")
    if "stream" in doc:
        a.stream = parse_stream(doc["stream"], f"{where}.stream")
    if "raw" in doc:
        from .cassette import check_raw

        a.raw = check_raw(doc["raw"], f"{where}.raw")
    a.passthrough = bool(doc.get("passthrough", False)) or (a.text is None and not a.tool_calls and a.raw is None)
    return a


def parse_stream(doc: Any, where: str) -> Stream:
    if not isinstance(doc, dict):
        raise InvalidRequest(f"{where} must be an object with chunk_size or chunks, ttft_ms, delay_ms.")
    unknown = set(doc) - STREAM_FIELDS
    if unknown:
        raise InvalidRequest(f"{where}: unknown field(s) {sorted(unknown)}; valid: {', '.join(sorted(STREAM_FIELDS))}.")
    s = Stream()
    for key in ("ttft_ms", "delay_ms"):
        v = doc.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 600_000:
            raise InvalidRequest(f"{where}.{key} must be a number of milliseconds from 0 to 600000.")
        setattr(s, key, float(v))
    size = doc.get("chunk_size", 0)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidRequest(f"{where}.chunk_size must be a non-negative integer (0: words).")
    s.chunk_size = size
    if "chunks" in doc:
        chunks = doc["chunks"]
        if not isinstance(chunks, list) or not all(isinstance(c, str) for c in chunks):
            raise InvalidRequest(f"{where}.chunks must be a list of strings.")
        s.chunks = chunks
    return s


def _strings(v: Any, where: str) -> list[str]:
    items = v if isinstance(v, list) else [v]
    if not items or not all(isinstance(x, str) and x for x in items):
        raise InvalidRequest(f"{where} must be a non-empty string or a list of them.")
    return items


def glob_any(patterns: list[str], value: str) -> bool:
    """``value`` equals one of ``patterns`` or fits one of them as a glob (``gpt-4o*``)."""
    for p in patterns:
        if p == value or (any(c in p for c in "*?[") and fnmatch.fnmatchcase(value, p)):
            return True
    return False


def render_template(text: str, lookup: Callable[[str], Any]) -> str:
    """``{{name}}`` replaced by ``lookup(name)`` (a regex group number or name, or a request
    field); an unknown name is left as written."""
    if "{{" not in text:
        return text

    def sub(m: re.Match[str]) -> str:
        v = lookup(m.group(1))
        return m.group(0) if v is None else str(v)

    return _TEMPLATE.sub(sub, text)


def render_value(value: Any, lookup: Callable[[str], Any]) -> Any:
    """Templates rendered in every string of a JSON value (tool-call arguments)."""
    if isinstance(value, str):
        return render_template(value, lookup)
    if isinstance(value, dict):
        return {k: render_value(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, lookup) for v in value]
    return value
