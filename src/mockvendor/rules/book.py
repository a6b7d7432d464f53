"""The rule book: global rules, rules per test id and cassettes, and the one question the
request path asks it, :meth:`RuleBook.pick` (which rule answers this request, if any).

Order: the request's test id's rules, then its cassette (replay, or record), then the
global rules; within a list the first match wins. Global rules are indexed (a recorded
fingerprint, or a whole word the last user message must hold), so a thousand rules cost
little on a request that none of them matches. State (use counts, the n-th request of a
test id) is this process's: replicas do not share it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from ..errors import InvalidRequest
from ..http import JSON_BODY
from .answer import RuleEngine
from .cassette import Cassette, fingerprint_of, replay
from .spec import Match, Rule, TextMatch, glob_any, parse_rule

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from ..tracking.record import Record
    from ..types import GenerateRequest

MAX_TEST_IDS = 50_000


class View:
    """The request as rules see it, computed lazily (most rules look at one or two fields)."""

    __slots__ = ("vendor", "route", "req", "request", "n", "test_id", "_user", "_system", "_fp")

    def __init__(self, vendor: str, route: str, req: GenerateRequest, request: Request | None, n: int,
                 test_id: str) -> None:
        self.vendor, self.route, self.req, self.request, self.n, self.test_id = vendor, route, req, request, n, test_id
        self._user: str | None = None
        self._system: str | None = None
        self._fp: tuple[dict[str, Any], str] | None = None

    @property
    def user(self) -> str:
        if self._user is None:
            self._user = self.req.last_user_text()
        return self._user

    @property
    def system(self) -> str:
        if self._system is None:
            self._system = "\n".join(m.content for m in self.req.messages if m.role == "system")
        return self._system

    def texts(self) -> Iterable[str]:
        if self.req.prompt is not None:
            yield self.req.prompt
        for m in self.req.messages:
            yield m.content

    def fingerprint(self) -> tuple[dict[str, Any], str]:
        if self._fp is None:
            self._fp = fingerprint_of(self.vendor, self.route, self.req)
        return self._fp

    def header(self, name: str) -> str | None:
        return None if self.request is None else self.request.headers.get(name)


@dataclass(slots=True)
class Hit:
    """A matched rule, with its regex captures, for the request it matched."""

    rule: Rule | None
    view: View
    groups: list[str] = field(default_factory=list)
    named: dict[str, str] = field(default_factory=dict)
    record: Cassette | None = None  # the cassette records this request: the vendor answers it

    @property
    def name(self) -> str:
        return self.rule.name if self.rule is not None else "record"

    @property
    def raw(self) -> dict[str, Any] | None:
        return self.rule.answer.raw if self.rule is not None else None

    @property
    def fault(self) -> Any:
        return self.rule.answer.fault if self.rule is not None else None

    def lookup(self, key: str) -> Any:
        """A template value: ``{{1}}`` (a regex group), ``{{name}}`` (a named group) or a request field."""
        if key.isdigit():
            i = int(key)
            return self.groups[i - 1] if 0 < i <= len(self.groups) else None
        if key in self.named:
            return self.named[key]
        v = self.view
        fields = {"model": v.req.model, "vendor": v.vendor, "route": v.route, "user": v.user, "system": v.system,
                  "test_id": v.test_id, "n": v.n}
        return fields.get(key)

    def engine(self, inner: Any, sleep: Any) -> Any:
        """The engine answering this request (``inner`` when the rule changes nothing)."""
        assert self.rule is not None
        a = self.rule.answer
        if not a.fixed and a.stream is None:
            return inner
        seed = f"{self.rule.name}|{self.view.n}|{self.view.user}"
        return RuleEngine(inner, a, self.lookup, seed, sleep)


class RuleSet:
    """An ordered list of rules with an index for quick rejection."""

    def __init__(self, rules: list[Rule] | None = None) -> None:
        self.rules: list[Rule] = []
        self._indexed = False
        self._always: list[int] = []
        self._by_word: dict[str, list[int]] = {}
        self._by_fp: dict[str, list[int]] = {}
        self._by_user: dict[str, list[int]] = {}
        for r in rules or []:
            self.add(r)

    def __len__(self) -> int:
        return len(self.rules)

    def add(self, rule: Rule, first: bool = False) -> None:
        names = {r.name for r in self.rules}
        if rule.name in names:
            raise InvalidRequest(f"A rule named {rule.name!r} exists already; delete it first or use another name.")
        if first:
            self.rules.insert(0, rule)
        else:
            self.rules.append(rule)
        self._indexed = False

    def remove(self, name: str) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.name != name]
        self._indexed = False
        return len(self.rules) != before

    def _index(self) -> None:
        """Each rule under one key a request must have for it to match: its fingerprint, the
        exact last user message, or the rarest whole word of it; else it is always checked."""
        self._always, self._by_word, self._by_fp, self._by_user = [], {}, {}, {}
        words = [r.match.user.key_words() if r.match.user is not None else [] for r in self.rules]
        freq: dict[str, int] = {}
        for ws in words:
            for w in set(ws):
                freq[w] = freq.get(w, 0) + 1
        for i, r in enumerate(self.rules):
            m = r.match
            if m.fingerprint is not None:
                self._by_fp.setdefault(m.fingerprint, []).append(i)
            elif m.user is not None and m.user.kind == "equals" and not m.user.ignore_case:
                self._by_user.setdefault(m.user.value, []).append(i)
            elif words[i]:
                self._by_word.setdefault(min(words[i], key=lambda w: (freq[w], -len(w))), []).append(i)
            else:
                self._always.append(i)
        self._indexed = True

    def candidates(self, view: View) -> Iterable[int]:
        if not self._indexed:
            self._index()
        if not self._by_word and not self._by_fp and not self._by_user:
            return self._always
        found: set[int] = set(self._always)
        if self._by_user:
            found.update(self._by_user.get(view.user, ()))
        if self._by_word:
            by_word = self._by_word
            for w in set(_words(view.user)):
                hit = by_word.get(w)
                if hit:
                    found.update(hit)
        if self._by_fp:
            found.update(self._by_fp.get(view.fingerprint()[1], ()))
        return sorted(found) if len(found) > 1 else found

    def pick(self, view: View, book: RuleBook, seq_memo: dict[str, int]) -> Hit | None:
        rules = self.rules
        for i in self.candidates(view):
            rule = rules[i]
            if rule.exhausted():
                continue
            hit = _check(rule, view, book, seq_memo)
            if hit is not None:
                rule.used += 1
                return hit
        return None


def _words(text: str) -> list[str]:
    from .spec import _WORDS

    return _WORDS.findall(text.casefold())


def _check(rule: Rule, view: View, book: RuleBook, seq_memo: dict[str, int]) -> Hit | None:
    m: Match = rule.match
    req = view.req
    if m.vendor is not None and view.vendor not in m.vendor:
        return None
    if m.route is not None and not glob_any(m.route, view.route):
        return None
    if m.model is not None and not glob_any(m.model, req.model):
        return None
    if m.nth is not None and view.n not in m.nth:
        return None
    if m.structured is not None and (getattr(req, "response_format", None) is not None) != m.structured:
        return None
    if m.tools is not None:
        offered = {t.name for t in req.tools}
        if isinstance(m.tools, bool):
            if bool(offered) != m.tools:
                return None
        elif not offered.issuperset(m.tools):
            return None
    if m.fingerprint is not None and view.fingerprint()[1] != m.fingerprint:
        return None
    hit = Hit(rule, view)
    if m.headers is not None:
        for name, tm in m.headers.items():
            value = view.header(name)
            if value is None or not _text(tm, value, hit):
                return None
    if m.tool_result is not None:
        results = [msg.content for msg in req.messages if msg.role == "tool"]
        if isinstance(m.tool_result, bool):
            if bool(results) != m.tool_result:
                return None
        elif not results or not _text(m.tool_result, results[-1], hit):
            return None
    if m.user is not None and not _text(m.user, view.user, hit):
        return None
    if m.system is not None and not _text(m.system, view.system, hit):
        return None
    if m.message is not None and not any(_text(m.message, t, hit) for t in view.texts()):
        return None
    if m.seq is not None:
        key = rule.doc_key()
        if key not in seq_memo:
            seq_memo[key] = book.seq_counts.get(key, 0)
            book.seq_counts[key] = seq_memo[key] + 1
        if seq_memo[key] != m.seq:
            return None
    return hit


def _text(tm: TextMatch, text: str, hit: Hit) -> bool:
    found = tm.find(text)
    if found is False:
        return False
    if found is not True:
        hit.groups.extend(g or "" for g in found.groups())
        hit.named.update({k: v for k, v in found.groupdict().items() if v is not None})
    return True


class RuleBook:
    """Every rule and cassette of one app (see the module docstring)."""

    def __init__(self, rules: list[Rule] | None = None, cassette: Cassette | None = None) -> None:
        self.global_rules = RuleSet(rules)
        self.by_test: dict[str, RuleSet] = {}
        self.cassettes: dict[str, Cassette] = {}
        self.cassette = cassette  # the session's (MOCKVENDOR_CASSETTE), for requests without their own
        self.counts: dict[str, int] = {}
        self.seq_counts: dict[str, int] = {}
        self._client: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    @property
    def active(self) -> bool:
        return bool(self.global_rules.rules or self.by_test or self.cassettes or self.cassette)

    # -- changes ----------------------------------------------------------------------------
    def rule_set(self, test_id: str | None) -> RuleSet:
        if test_id is None:
            return self.global_rules
        found = self.by_test.get(test_id)
        if found is None:
            if len(self.by_test) >= MAX_TEST_IDS:
                raise InvalidRequest(f"At most {MAX_TEST_IDS} test ids may hold rules at once.")
            found = self.by_test[test_id] = RuleSet()
        return found

    def add(self, docs: list[Any], test_id: str | None = None, *, first: bool = False) -> list[Rule]:
        """Parse and add rules (all or none); a 400 naming the bad one."""
        parsed = []
        for i, doc in enumerate(docs):
            rule = parse_rule(doc, f"rules[{i}]", default_name="-")
            rule.test_id = test_id if test_id is not None else rule.test_id
            parsed.append(rule)
        for rule in parsed:
            target = self.rule_set(rule.test_id)
            if rule.name == "-":  # rule-1, rule-2, ... in each list
                taken = {r.name for r in target.rules}
                n = len(taken) + 1
                while f"rule-{n}" in taken:
                    n += 1
                rule.name = f"rule-{n}"
            target.add(rule, first=first)
        return parsed

    def clear(self, test_id: str | None = None) -> None:
        """Drop the rules (and counters) of one test id, or every global rule."""
        if test_id is None:
            self.global_rules = RuleSet()
            self.seq_counts.clear()
            return
        self.by_test.pop(test_id, None)
        self.counts.pop(test_id, None)

    def all_rules(self) -> list[Rule]:
        out = [r for rs in self.by_test.values() for r in rs.rules]
        return out + self.global_rules.rules

    # -- the request path's question ------------------------------------------------------------
    def pick(self, vendor: str, request: Request | None, req: GenerateRequest, rec: Record) -> Hit | None:
        """The rule (or cassette) that answers this request, or None. Replay in ``none`` mode
        raises a 400 naming the closest recording when nothing matches."""
        test_id = rec.test_id or ""
        n = 0
        if test_id:
            n = self.counts.get(test_id, 0) + 1
            if n == 1 and len(self.counts) >= MAX_TEST_IDS:
                self.counts.pop(next(iter(self.counts)))
            self.counts[test_id] = n
        if not self.active:
            return None
        view = View(vendor, rec.route, req, request, n, test_id)
        memo: dict[str, int] = {}
        own = self.by_test.get(test_id) if test_id else None
        if own is not None:
            hit = own.pick(view, self, memo)
            if hit is not None:
                return hit
        cassette = self.cassettes.get(test_id) if test_id else None
        cassette = cassette or self.cassette
        if cassette is not None:
            hit = self._from_cassette(cassette, view, memo)
            if hit is not None:
                return hit
        if self.global_rules.rules:
            return self.global_rules.pick(view, self, memo)
        return None

    def _from_cassette(self, cassette: Cassette, view: View, memo: dict[str, int]) -> Hit | None:
        if cassette.replays:
            fixture = cassette.find(view.fingerprint()[1])
            if fixture is not None:
                fixture.used += 1
                return Hit(fixture, view)
        if cassette.records:
            return Hit(None, view, record=cassette)
        raise InvalidRequest(cassette.miss_message(view.fingerprint()[0]))

    # -- record and replay -------------------------------------------------------------------
    async def record(self, hit: Hit, request: Request, arrival: float | None = None) -> Response:
        """Pass the request to the vendor and keep its answer in the hit's cassette."""
        assert hit.record is not None
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=10.0))
        body = request.scope.get("state", {}).get(JSON_BODY)
        return await hit.record.record(self._client, hit.view.vendor, request, body, hit.view.fingerprint(), arrival)

    def replay(self, hit: Hit, sleep: Any) -> Response:
        """A recorded answer, byte for byte, with its cassette's timing."""
        assert hit.raw is not None
        cassette = self.cassettes.get(hit.view.test_id) or self.cassette
        realtime = cassette.realtime if cassette is not None else True
        return replay(hit.raw, realtime, sleep)
