"""Rules: answers a test can name in advance (match -> answer, first match wins), and
record/replay cassettes in the same format. See :mod:`.spec` for the vocabulary,
:mod:`.book` for the order, :mod:`.cassette` for record and replay."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .book import Hit, RuleBook, RuleSet
from .cassette import Cassette
from .imports import read_document, rule_docs
from .spec import Rule, parse_rule

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["Cassette", "Hit", "Rule", "RuleBook", "RuleSet", "build_book", "load_rules", "parse_rule"]


def load_rules(path: str) -> list[Rule]:
    """The rules a file holds (ours, a cassette, aimock fixtures or mockllm responses)."""
    docs = rule_docs(read_document(path), Path(path).name)
    return [parse_rule(d, f"{Path(path).name}: rules[{i}]", default_name=f"{Path(path).stem}-{i + 1}")
            for i, d in enumerate(docs)]


def build_book(settings: Settings) -> RuleBook:
    """The app's rule book: ``rules`` (a file) and the session's cassette, from the settings."""
    rules = load_rules(settings.rules) if settings.rules else []
    cassette = None
    if settings.cassette:
        exists = Path(settings.cassette).is_file()
        fixtures = load_rules(settings.cassette) if exists else []
        cassette = session_cassette(settings, fixtures)
    return RuleBook(rules, cassette)


def session_cassette(settings: Settings, fixtures: list[Rule]) -> Cassette:
    return Cassette(
        fixtures, settings.record_mode, timing=settings.replay_timing, upstream=settings.record_upstream,
        path=settings.cassette, name=Path(settings.cassette).name,
        redact_headers=tuple(h.strip() for h in settings.record_redact_headers.split(",") if h.strip()),
    )
