"""The vendors' public model names, out of the box: what each vendor publishes about them
(context window, most output tokens, whether it reasons), and a family rule per vendor so
that a name released next month (``gpt-5.7``, ``claude-opus-5-1``, ``gemini-3.5-flash``)
is answered too, with the figures of its nearest published relative.

Every name here is answered by the embedded model (``Settings.catalog_model``); the
figures are what the name advertises (listings, context-window checks, max-token checks).
The config file can add names (``[models.<name>]``), remove them (``remove_models``), or
turn the family rule off (``model_families = false``, strict mode).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

VENDORS = ("openai", "anthropic", "google", "cohere", "mistral", "bedrock", "ollama")


@dataclass(frozen=True, slots=True)
class Card:
    """What a vendor publishes about one model id.

    ``kind``: ``chat``, ``completion`` (legacy ``/v1/completions`` models) or ``embedding``.
    ``context_window``: prompt and answer together, in tokens; ``max_output``: the most the
    answer may take (the request's ``max_tokens`` above it is the vendor's 400)."""

    id: str
    vendor: str
    context_window: int
    max_output: int
    kind: str = "chat"
    reasoning: bool = False
    alias_of: str | None = None  # the snapshot a moving alias points at
    derived_from: str | None = None  # the published card a family-rule name takes its figures from

    @property
    def owner(self) -> str:
        return {"openai": "system", "anthropic": "anthropic", "google": "google", "cohere": "cohere",
                "mistral": "mistralai", "bedrock": "aws", "ollama": "library"}[self.vendor]


def _family(vendor: str, kind: str, window: int, out: int, names: str, *, reasoning: bool = False,
             aliases: dict[str, str] | None = None) -> list[Card]:
    cards = [Card(n, vendor, window, out, kind, reasoning) for n in names.split()]
    cards += [Card(a, vendor, window, out, kind, reasoning, alias_of=t) for a, t in (aliases or {}).items()]
    return cards


def _ollama(kind: str, window: int, names: str) -> list[Card]:
    """Ollama's tags: ``name:latest`` with the bare name as its alias; an answer may fill the window."""
    out = 1 if kind == "embedding" else window
    tags = [n if ":" in n else n + ":latest" for n in names.split()]
    return _family("ollama", kind, window, out, " ".join(tags),
                   aliases={t.removesuffix(":latest"): t for t in tags if t.endswith(":latest")})


# Newest first within each vendor: a family-rule name that ties between relatives takes the newest.
CARDS: list[Card] = [
    # -- OpenAI (platform.openai.com/docs/models) ------------------------------------------------
    *_family("openai", "chat", 400_000, 128_000,
             "gpt-5.1-2025-11-13 gpt-5.1-codex gpt-5-2025-08-07 gpt-5-mini-2025-08-07 gpt-5-nano-2025-08-07 "
             "gpt-5-codex gpt-5-pro-2025-10-06", reasoning=True,
             aliases={"gpt-5.1": "gpt-5.1-2025-11-13", "gpt-5": "gpt-5-2025-08-07",
                      "gpt-5-mini": "gpt-5-mini-2025-08-07", "gpt-5-nano": "gpt-5-nano-2025-08-07",
                      "gpt-5-pro": "gpt-5-pro-2025-10-06"}),
    *_family("openai", "chat", 128_000, 16_384, "gpt-5.1-chat-latest gpt-5-chat-latest"),
    *_family("openai", "chat", 1_047_576, 32_768,
             "gpt-4.1-2025-04-14 gpt-4.1-mini-2025-04-14 gpt-4.1-nano-2025-04-14",
             aliases={"gpt-4.1": "gpt-4.1-2025-04-14", "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
                      "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14"}),
    *_family("openai", "chat", 200_000, 100_000,
             "o4-mini-2025-04-16 o3-2025-04-16 o3-pro-2025-06-10 o3-mini-2025-01-31 o1-2024-12-17 "
             "o1-pro-2025-03-19", reasoning=True,
             aliases={"o4-mini": "o4-mini-2025-04-16", "o3": "o3-2025-04-16", "o3-pro": "o3-pro-2025-06-10",
                      "o3-mini": "o3-mini-2025-01-31", "o1": "o1-2024-12-17", "o1-pro": "o1-pro-2025-03-19"}),
    *_family("openai", "chat", 128_000, 65_536, "o1-mini-2024-09-12", reasoning=True,
             aliases={"o1-mini": "o1-mini-2024-09-12"}),
    *_family("openai", "chat", 128_000, 16_384,
             "gpt-4o-2024-11-20 gpt-4o-2024-08-06 gpt-4o-mini-2024-07-18 chatgpt-4o-latest "
             "gpt-4o-search-preview gpt-4o-mini-search-preview",
             aliases={"gpt-4o": "gpt-4o-2024-08-06", "gpt-4o-mini": "gpt-4o-mini-2024-07-18"}),
    *_family("openai", "chat", 128_000, 4_096, "gpt-4o-2024-05-13 gpt-4-turbo-2024-04-09",
             aliases={"gpt-4-turbo": "gpt-4-turbo-2024-04-09"}),
    *_family("openai", "chat", 8_192, 8_192, "gpt-4-0613", aliases={"gpt-4": "gpt-4-0613"}),
    *_family("openai", "chat", 16_385, 4_096, "gpt-3.5-turbo-0125 gpt-3.5-turbo-1106",
             aliases={"gpt-3.5-turbo": "gpt-3.5-turbo-0125"}),
    *_family("openai", "completion", 4_096, 4_096, "gpt-3.5-turbo-instruct gpt-3.5-turbo-instruct-0914"),
    *_family("openai", "completion", 16_384, 16_384, "davinci-002 babbage-002"),
    *_family("openai", "embedding", 8_191, 1, "text-embedding-3-large text-embedding-3-small text-embedding-ada-002"),
    # -- Anthropic (docs.anthropic.com/en/docs/about-claude/models) ---------------------------------
    *_family("anthropic", "chat", 200_000, 64_000,
             "claude-opus-4-5-20251101 claude-haiku-4-5-20251001 claude-sonnet-4-5-20250929 "
             "claude-sonnet-4-20250514 claude-3-7-sonnet-20250219", reasoning=True,
             aliases={"claude-opus-4-5": "claude-opus-4-5-20251101",
                      "claude-haiku-4-5": "claude-haiku-4-5-20251001",
                      "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
                      "claude-sonnet-4-0": "claude-sonnet-4-20250514",
                      "claude-3-7-sonnet-latest": "claude-3-7-sonnet-20250219"}),
    *_family("anthropic", "chat", 200_000, 32_000, "claude-opus-4-1-20250805 claude-opus-4-20250514", reasoning=True,
             aliases={"claude-opus-4-1": "claude-opus-4-1-20250805", "claude-opus-4-0": "claude-opus-4-20250514"}),
    *_family("anthropic", "chat", 200_000, 8_192,
             "claude-3-5-sonnet-20241022 claude-3-5-sonnet-20240620 claude-3-5-haiku-20241022",
             aliases={"claude-3-5-sonnet-latest": "claude-3-5-sonnet-20241022",
                      "claude-3-5-haiku-latest": "claude-3-5-haiku-20241022"}),
    *_family("anthropic", "chat", 200_000, 4_096, "claude-3-opus-20240229 claude-3-haiku-20240307",
             aliases={"claude-3-opus-latest": "claude-3-opus-20240229"}),
    # -- Google (ai.google.dev/gemini-api/docs/models) ----------------------------------------------
    *_family("google", "chat", 1_048_576, 65_536,
             "gemini-3-pro-preview gemini-2.5-pro gemini-2.5-flash gemini-2.5-flash-lite "
             "gemini-2.5-flash-preview-09-2025 gemini-2.5-flash-lite-preview-09-2025", reasoning=True,
             aliases={"gemini-pro-latest": "gemini-2.5-pro", "gemini-flash-latest": "gemini-2.5-flash",
                      "gemini-flash-lite-latest": "gemini-2.5-flash-lite"}),
    *_family("google", "chat", 1_048_576, 8_192, "gemini-2.0-flash-001 gemini-2.0-flash-lite-001",
             aliases={"gemini-2.0-flash": "gemini-2.0-flash-001",
                      "gemini-2.0-flash-lite": "gemini-2.0-flash-lite-001"}),
    *_family("google", "chat", 2_097_152, 8_192, "gemini-1.5-pro-002",
             aliases={"gemini-1.5-pro": "gemini-1.5-pro-002"}),
    *_family("google", "chat", 1_048_576, 8_192, "gemini-1.5-flash-002 gemini-1.5-flash-8b-001",
             aliases={"gemini-1.5-flash": "gemini-1.5-flash-002", "gemini-1.5-flash-8b": "gemini-1.5-flash-8b-001"}),
    *_family("google", "embedding", 2_048, 1, "gemini-embedding-001 text-embedding-004 embedding-001"),
    # -- Cohere (docs.cohere.com/docs/models) --------------------------------------------------------
    *_family("cohere", "chat", 256_000, 32_000, "command-a-reasoning-08-2025", reasoning=True),
    *_family("cohere", "chat", 256_000, 8_000, "command-a-03-2025"),
    *_family("cohere", "chat", 128_000, 8_000, "command-a-vision-07-2025"),
    *_family("cohere", "chat", 128_000, 4_000,
             "command-r7b-12-2024 command-r-plus-08-2024 command-r-08-2024 command-r-plus-04-2024 command-r-03-2024",
             aliases={"command-r-plus": "command-r-plus-04-2024", "command-r": "command-r-03-2024"}),
    *_family("cohere", "embedding", 128_000, 1, "embed-v4.0"),
    *_family("cohere", "embedding", 512, 1, "embed-english-v3.0 embed-multilingual-v3.0 embed-english-light-v3.0 "
             "embed-multilingual-light-v3.0"),
    # -- Mistral (docs.mistral.ai/getting-started/models): no separate output limit -----------------
    *_family("mistral", "chat", 131_072, 131_072,
             "mistral-large-2411 mistral-medium-2508 mistral-small-2506 open-mistral-nemo-2407 ministral-8b-2410 "
             "ministral-3b-2410 pixtral-large-2411",
             aliases={"mistral-large-latest": "mistral-large-2411", "mistral-medium-latest": "mistral-medium-2508",
                      "mistral-small-latest": "mistral-small-2506", "open-mistral-nemo": "open-mistral-nemo-2407",
                      "ministral-8b-latest": "ministral-8b-2410", "ministral-3b-latest": "ministral-3b-2410",
                      "pixtral-large-latest": "pixtral-large-2411"}),
    *_family("mistral", "chat", 131_072, 131_072, "magistral-medium-2509 magistral-small-2509", reasoning=True,
             aliases={"magistral-medium-latest": "magistral-medium-2509",
                      "magistral-small-latest": "magistral-small-2509"}),
    *_family("mistral", "chat", 256_000, 256_000, "codestral-2508", aliases={"codestral-latest": "codestral-2508"}),
    *_family("mistral", "embedding", 8_192, 1, "mistral-embed codestral-embed"),
    # -- Amazon Bedrock (docs.aws.amazon.com/bedrock/latest/userguide/models-supported.html) --------
    # Anthropic's models on Bedrock (anthropic.claude-...-v1:0) take the figures of Anthropic's own
    # card by the family rule; these are the other providers' ids.
    *_family("bedrock", "chat", 300_000, 10_000, "amazon.nova-pro-v1:0 amazon.nova-lite-v1:0"),
    *_family("bedrock", "chat", 128_000, 10_000, "amazon.nova-micro-v1:0"),
    *_family("bedrock", "chat", 128_000, 2_048, "meta.llama3-1-70b-instruct-v1:0 meta.llama3-1-8b-instruct-v1:0"),
    *_family("bedrock", "chat", 8_192, 2_048, "meta.llama3-70b-instruct-v1:0 meta.llama3-8b-instruct-v1:0"),
    *_family("bedrock", "chat", 32_000, 8_192, "mistral.mistral-large-2402-v1:0"),
    # -- Ollama (ollama.com/library; an id is name:tag, the bare name is its :latest) --------------
    *_ollama("chat", 131_072, "llama3.2 llama3.1 gemma3 gpt-oss deepseek-r1 phi3.5"),
    *_ollama("chat", 40_960, "qwen3"),
    *_ollama("chat", 32_768, "qwen2.5 qwen2.5-coder mistral"),
    *_ollama("chat", 16_384, "phi4"),
    *_ollama("chat", 8_192, "llama3"),
    *_ollama("embedding", 8_192, "nomic-embed-text"),
    *_ollama("embedding", 512, "mxbai-embed-large all-minilm"),
    # Sizes after the :latest tags, so that another tag of a name takes its :latest's figures.
    *_ollama("chat", 131_072, "llama3.2:1b"),
    *_ollama("chat", 32_768, "qwen2.5:0.5b"),
    *_ollama("chat", 8_192, "smollm2:135m smollm2:360m"),
]

# A name a vendor would use. Names are lower case with digits, dots, dashes (and ':' or '@' in
# some dated ids); anything else is nobody's model and keeps the vendor's 404.
_FAMILIES = {
    "openai": re.compile(r"(?:gpt-\d|gpt-oss-|chatgpt-|o\d|text-embedding-(?:3|ada)|davinci-|babbage-|codex-)"
                         r"[a-z0-9.\-]*"),
    "anthropic": re.compile(r"claude-[a-z0-9.\-]+"),
    "google": re.compile(r"(?:gemini-|gemma-|text-embedding-\d{3}|embedding-\d{3})[a-z0-9.\-]*"),
    "cohere": re.compile(r"(?:command|embed|c4ai-aya|aya)-[a-z0-9.\-]+"),
    "mistral": re.compile(r"(?:mistral|open-mistral|open-mixtral|ministral|magistral|codestral|devstral|pixtral|"
                          r"voxtral)-[a-z0-9.\-]+"),
    # [cross-region profile.]provider.model[-vN[:M]]: us.anthropic.claude-sonnet-4-20250514-v1:0
    "bedrock": re.compile(r"(?:(?:us|eu|apac|jp|au|ca|us-gov|global)\.)?(?:anthropic|amazon|meta|mistral|cohere|ai21"
                          r"|deepseek|openai|qwen|writer)\.[a-z0-9][a-z0-9.\-]*(?::[0-9a-z]+){0,2}"),
    # Ollama's library names, with an optional tag (sizes and quantisations: ``qwen2.5:7b-instruct-q4_K_M``).
    "ollama": re.compile(r"(?:llama\d|codellama|tinyllama|qwen\d?|mistral|mixtral|gemma\d|phi\d|deepseek-|smollm\d?|"
                         r"granite\d|gpt-oss|olmo\d|llava|starcoder\d?|command-r|nomic-embed-|mxbai-embed-|all-minilm|"
                         r"snowflake-arctic-embed|bge-)[a-z0-9.\-]*(?::[A-Za-z0-9._\-]+)?"),
}
_BEDROCK_PROFILE = re.compile(r"(?:us|eu|apac|jp|au|ca|us-gov|global)\.(?=[a-z0-9]+\.)")
_BEDROCK_VERSION = re.compile(r"-v\d+(?::\d+)?(?::[0-9a-z]+)?$")


def bedrock_base(name: str) -> str:
    """A Bedrock model id without its cross-region profile: ``us.amazon.nova-lite-v1:0`` ->
    ``amazon.nova-lite-v1:0``."""
    return _BEDROCK_PROFILE.sub("", name, count=1) if _BEDROCK_PROFILE.match(name) else name


def anthropic_name(name: str) -> str | None:
    """Anthropic's own name of a Bedrock Claude id (``anthropic.claude-3-5-sonnet-20240620-v1:0`` ->
    ``claude-3-5-sonnet-20240620``), None for other providers' ids."""
    base = bedrock_base(name)
    if not base.startswith("anthropic."):
        return None
    return _BEDROCK_VERSION.sub("", base.removeprefix("anthropic."))


class Catalog:
    """The cards, less the removed names, with the family rule on or off."""

    def __init__(self, *, enabled: bool = True, families: bool = True, remove: list[str] | tuple[str, ...] = (),
                 cards: list[Card] | None = None) -> None:
        gone = set(remove)
        self.cards: dict[str, Card] = {} if not enabled else {
            c.id: c for c in (cards if cards is not None else CARDS) if c.id not in gone}
        self.families = enabled and families
        self._removed = gone
        self._derived: dict[str, Card | None] = {}

    def names(self, vendor: str | None = None) -> list[str]:
        return [n for n, c in self.cards.items() if vendor is None or c.vendor == vendor]

    def get(self, name: str) -> Card | None:
        """The card for ``name``: published, or derived by its vendor's family rule; None if no vendor
        would use the name (or strict mode is on, or the config removed it)."""
        card = self.cards.get(name)
        if card is not None or not self.families or name in self._removed:
            return card
        if name in self._derived:
            return self._derived[name]
        derived = self._derive(name)
        if len(self._derived) < 4096:  # names are the caller's: the memo stays bounded
            self._derived[name] = derived
        return derived

    def _derive(self, name: str) -> Card | None:
        vendor = next((v for v, rule in _FAMILIES.items() if rule.fullmatch(name)), None)
        if vendor is None:
            return None
        if vendor == "bedrock":
            claude = anthropic_name(name)
            own = self.get(claude) if claude else None
            if own is not None:  # Claude on Bedrock: Anthropic's figures
                return replace(own, id=name, vendor="bedrock", alias_of=None,
                               derived_from=own.derived_from or own.alias_of or own.id)
            name_for_match = bedrock_base(name)
        else:
            name_for_match = name
        best, best_len = None, -1
        for card in self.cards.values():  # newest first: ties keep the newest
            if card.vendor != vendor:
                continue
            n = _common_prefix(card.id, name_for_match)
            if n > best_len:
                best, best_len = card, n
        if best is None:
            return None
        return replace(best, id=name, alias_of=None, derived_from=best.alias_of or best.id)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
