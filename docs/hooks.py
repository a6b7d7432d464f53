"""MkDocs hook: the two reference pages, generated at build time from the code itself.

- ``reference/configuration.md`` from ``mockvendor.settings`` (every ``Settings`` field, its
  default, the environment variable and config-file key that set it, the comment beside it);
- ``reference/http-api.md`` from the server's own OpenAPI document (every path and operation,
  parameters, request body fields, responses).

Nothing here is written by hand about a field or a route, so the pages cannot go stale; a
setting or a route that cannot be documented fails the build (``mkdocs build --strict``).
"""

from __future__ import annotations

import ast
import dataclasses
import io
import re
import tempfile
import tokenize
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

CONFIG_PAGE = "reference/configuration.md"
API_PAGE = "reference/http-api.md"
MAX_DEPTH = 6  # nesting shown for request/response bodies; deeper objects are summarised
GENERATED = "<!-- Generated at build time by docs/hooks.py; edit the code, not this page. -->\n\n"
# Wide tables: the reference pages give the site's navigation column to the content.
FRONT_MATTER = "---\nhide:\n  - navigation\n---\n\n"


def on_files(files: Files, config: Any) -> Files:
    files.append(File.generated(config, CONFIG_PAGE, content=configuration_page()))
    files.append(File.generated(config, API_PAGE, content=http_api_page()))
    return files


# ---- shared helpers --------------------------------------------------------------------

def cell(text: Any) -> str:
    """Text made safe for one Markdown table cell."""
    s = " ".join(str(text).split())
    return s.replace("|", "\\|")


def code(value: str) -> str:
    """Inline code for any text (backticks inside get a longer fence)."""
    fence = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


# ---- configuration reference -----------------------------------------------------------

def field_comments(source: str, class_name: str) -> dict[str, str]:
    """The comments of each field of a dataclass: the comment on its line, and the block of
    comment lines just above it (which introduces that field and the ones after it)."""
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    lines = source.splitlines()
    out: dict[str, str] = {}
    for node in cls.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        parts = []
        above, n = [], node.lineno - 1
        while n >= 1 and lines[n - 1].strip().startswith("#"):
            above.insert(0, comments.get(n, ""))
            n -= 1
        if above:
            parts.append(" ".join(above))
        end = node.end_lineno or node.lineno
        if end in comments and not lines[end - 1].strip().startswith("#"):
            parts.append(comments[end])
        out[node.target.id] = " ".join(sentence(p) for p in parts if p)
    return out


def sentence(text: str) -> str:
    """A comment as a sentence: a capital first letter and a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def env_names(settings_module: Any) -> dict[str, list[str]]:
    """Which environment variables set which field, found by trying them on fresh Settings:
    ``MOCKVENDOR_<FIELD>`` for every field, plus every variable-like name the module mentions
    (``OPENAI_API_KEY``, ``PORT``, ...) and ``MOCKVENDOR_<word>`` for the words it compares keys
    with (``MOCKVENDOR_FAULTS``). What ``apply_env`` accepts is the truth, not this list."""
    Settings = settings_module.Settings
    source = Path(settings_module.__file__).read_text(encoding="utf-8")
    consts = {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    candidates = {f"MOCKVENDOR_{f.name.upper()}" for f in dataclasses.fields(Settings)}
    candidates |= {c for c in consts if re.fullmatch(r"[A-Z][A-Z0-9_]{2,}", c) and not c.endswith("_")}
    candidates |= {f"MOCKVENDOR_{c.upper()}" for c in consts if re.fullmatch(r"[a-z][a-z0-9_]*", c)}
    found: dict[str, list[str]] = {}
    for name in sorted(candidates):
        for value in ("3", "7", "off", "true", "a,b", "x"):
            s = Settings.from_env(env={}, dotenv=None)
            before = {f.name: repr(getattr(s, f.name)) for f in dataclasses.fields(s)}
            try:
                s.apply_env({name: value})
            except (ValueError, TypeError):
                continue
            changed = [f.name for f in dataclasses.fields(s) if repr(getattr(s, f.name)) != before[f.name]]
            # A per-vendor fault knob (MOCKVENDOR_<KNOB>) changes ``faults``: listed with the knobs.
            if len(changed) == 1 and changed[0] != "faults":
                found.setdefault(changed[0], []).append(name)
                break
    for names in found.values():  # MOCKVENDOR_<FIELD> first, then the aliases
        names.sort(key=lambda n: (not n.startswith("MOCKVENDOR_"), len(n), n))
    return found


def toml_keys(settings_module: Any) -> set[str]:
    """The fields a config file may set as top-level keys (what ``apply_toml`` accepts)."""
    Settings = settings_module.Settings
    ok = set()
    for f in dataclasses.fields(Settings):
        s = Settings.from_env(env={}, dotenv=None)
        if f.name in ("faults", "models"):
            continue
        try:
            s.apply_toml({f.name: getattr(s, f.name)})
        except (ValueError, TypeError):
            continue
        ok.add(f.name)
    return ok


def knob_env_works(mod: Any, knob: str) -> bool:
    """Whether ``MOCKVENDOR_<KNOB>`` changes that knob for every vendor."""
    for value in ("3", "7", "0.5", "x"):
        s = mod.Settings.from_env(env={}, dotenv=None)
        before = [getattr(fc, knob) for fc in s.faults.values()]
        try:
            s.apply_env({f"MOCKVENDOR_{knob.upper()}": value})
        except (ValueError, TypeError):
            continue
        after = [getattr(fc, knob) for fc in s.faults.values()]
        if all(a != b for a, b in zip(after, before, strict=True)):
            return True
    return False


def show_default(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return code(str(value).lower())
    if isinstance(value, str):
        return code(value) if value else "empty"
    if isinstance(value, list):
        return code(",".join(map(str, value))) if value else "empty"
    if isinstance(value, dict):
        return ", ".join(code(k) for k in value) or "empty"
    return code(repr(value))


def type_name(f: dataclasses.Field[Any]) -> str:
    t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return t.replace("dict[str, FaultConfig]", "per vendor").replace("dict[str, ModelSpec]", "per model name")


def configuration_page() -> str:
    from mockvendor import settings as mod
    from mockvendor.faults.config import KNOB_HELP

    source = Path(mod.__file__).read_text(encoding="utf-8")
    comments = field_comments(source, "Settings")
    envs = env_names(mod)
    tomls = toml_keys(mod)
    defaults = mod.Settings.from_env(env={}, dotenv=None)
    out = [
        FRONT_MATTER,
        "# Configuration reference\n\n",
        GENERATED,
        "Every field of `mockvendor.settings.Settings`, the one object `create_app` is given. "
        "Settings are read, in rising priority, from the defaults, the TOML config file named by "
        "`MOCKVENDOR_CONFIG`, a `.env` file in the working directory, and the environment "
        "(see [Configuration](../configuration.md)). Boolean variables take `1`, `true`, `yes` or `on`; "
        "list variables are comma-separated. In the config file each field is a top-level key of its own "
        "name, except where the notes say otherwise.\n\n",
        "## Settings\n\n",
        "| field | type | default | environment | notes |\n",
        "|---|---|---|---|---|\n",
    ]
    for f in dataclasses.fields(mod.Settings):
        env = ", ".join(code(n) for n in envs.get(f.name, [])) or "-"
        notes = comments.get(f.name, "")
        if f.name == "faults":
            env = "`MOCKVENDOR_<KNOB>`, `MOCKVENDOR_<VENDOR>_<KNOB>`"
            notes = "Fault knobs per vendor ([below](#fault-knobs)); config file: `[faults.<vendor>]`. " + notes
        elif f.name == "models":
            notes = ("Model names and their engines; config file: `[models.<name>]` "
                     "(`engine = ...` and its options). " + notes)
        elif f.name not in tomls:
            notes = f"{notes} Not settable in the config file.".strip()
        out.append(
            f"| {code(f.name)} | {cell(type_name(f))} | {cell(show_default(getattr(defaults, f.name)))} "
            f"| {env} | {cell(notes)} |\n"
        )
    out.append(f"| - | path | none | {code('MOCKVENDOR_CONFIG')} | The TOML config file to read. |\n")

    vendors = ", ".join(code(v.upper()) for v in mod.VENDOR_NAMES)
    out += [
        "\n## Fault knobs\n\n",
        "Each vendor has its own set (`mockvendor.settings.FaultConfig`). "
        f"`MOCKVENDOR_<KNOB>` sets a knob for every vendor, `MOCKVENDOR_<VENDOR>_<KNOB>` for one ({vendors}); "
        "in the config file `[faults.<vendor>]`; at runtime `PATCH /admin/faults` "
        "(see [Fault lab](../fault-lab.md)).\n\n",
        "| knob | type | default | vendors that differ | environment (all vendors) | meaning |\n",
        "|---|---|---|---|---|---|\n",
    ]
    base = mod.FaultConfig()
    for f in dataclasses.fields(mod.FaultConfig):
        if not knob_env_works(mod, f.name):
            raise RuntimeError(f"MOCKVENDOR_{f.name.upper()} does not set the fault knob {f.name}: fix docs/hooks.py")
        differ = ", ".join(
            f"{v}: {show_default(getattr(fc, f.name))}"
            for v, fc in mod.DEFAULT_FAULTS.items()
            if getattr(fc, f.name) != getattr(base, f.name)
        )
        out.append(
            f"| {code(f.name)} | {cell(type_name(f))} | {cell(show_default(getattr(base, f.name)))} | "
            f"{cell(differ) or '-'} | {code('MOCKVENDOR_' + f.name.upper())} | {cell(KNOB_HELP.get(f.name, ''))} |\n"
        )
    return "".join(out)


# ---- HTTP API reference ----------------------------------------------------------------

def openapi() -> dict[str, Any]:
    """The document the server serves at ``/openapi.json``, built without loading a model."""
    from mockvendor import Settings
    from mockvendor.app import create_app, openapi_document

    settings = Settings.from_env(env={}, dotenv=None)
    settings.data_dir = tempfile.mkdtemp(prefix="mockvendor-docs-")
    settings.request_log = "memory"
    return openapi_document(create_app(settings).ctx)


class Schemas:
    """Resolves ``$ref``s (``#/components/schemas/...``, or any local JSON pointer)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, schema: Any, seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], tuple[str, ...]]:
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            if ref in seen or not ref.startswith("#/"):
                return {"description": f"(see {ref.rsplit('/', 1)[-1]})"}, seen
            seen = (*seen, ref)
            target: Any = self.doc
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            extra = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **extra}
        return (schema if isinstance(schema, dict) else {}), seen

    def type_of(self, schema: Any, seen: tuple[str, ...] = ()) -> str:
        s, seen = self.resolve(schema, seen)
        if "const" in s:
            return f"const {code(repr_json(s['const']))}"
        for key in ("oneOf", "anyOf"):
            if key in s:
                return " or ".join(dict.fromkeys(self.type_of(o, seen) for o in s[key]))
        if "allOf" in s:
            return " and ".join(dict.fromkeys(self.type_of(o, seen) for o in s["allOf"]))
        t = s.get("type")
        if isinstance(t, list):
            return " or ".join(t)
        if t == "array":
            return f"array of {self.type_of(s.get('items', {}), seen)}"
        if t:
            return str(t)
        if "properties" in s:
            return "object"
        return "any"

    def constraints(self, s: dict[str, Any], seen: tuple[str, ...] = ()) -> str:
        own = self.own_constraints(s)
        # A nullable or union field carries its bounds on its variants (``anyOf: [{...}, null]``).
        variants = []
        for key in ("oneOf", "anyOf"):
            for v in s.get(key, []):
                vs, _ = self.resolve(v, seen)
                c = self.own_constraints(vs)
                if c and c not in variants:
                    variants.append(c)
        return "; ".join(p for p in (own, " or ".join(variants)) if p)

    def own_constraints(self, s: dict[str, Any]) -> str:
        parts = []
        if "enum" in s:
            parts.append("one of " + ", ".join(code(repr_json(v)) for v in s["enum"]))
        for key, label in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
            if key in s and not isinstance(s[key], bool):
                parts.append(f"{label} {s[key]}")
        for key, label in (("minLength", "min length"), ("maxLength", "max length"), ("minItems", "min items"),
                           ("maxItems", "max items"), ("pattern", "pattern"), ("format", "format")):
            if key in s:
                parts.append(f"{label} {code(str(s[key]))}")
        if "default" in s:
            parts.append(f"default {code(repr_json(s['default']))}")
        if "examples" in s and s["examples"]:
            parts.append(f"e.g. {code(repr_json(s['examples'][0]))}")
        return "; ".join(parts)

    def rows(self, schema: Any, prefix: str = "", depth: int = 0,
             seen: tuple[str, ...] = ()) -> list[tuple[str, str, bool, str, str]]:
        """(name, type, required, constraints, description) for each field, nested fields as
        dotted names (``messages[].role``), down to ``MAX_DEPTH``."""
        s, seen = self.resolve(schema, seen)
        out: list[tuple[str, str, bool, str, str]] = []
        if depth >= MAX_DEPTH:
            return out
        required = set(s.get("required", []))
        props = dict(s.get("properties", {}))
        for key in ("allOf",):
            for sub in s.get(key, []):
                sub_s, _ = self.resolve(sub, seen)
                props.update(sub_s.get("properties", {}))
                required |= set(sub_s.get("required", []))
        for name, prop in props.items():
            p, pseen = self.resolve(prop, seen)
            full = f"{prefix}{name}"
            out.append((full, self.type_of(p, pseen), name in required, self.constraints(p, pseen),
                        p.get("description", "")))
            out += self.nested(p, full, depth + 1, pseen)
        return out

    def nested(self, s: dict[str, Any], name: str, depth: int,
               seen: tuple[str, ...]) -> list[tuple[str, str, bool, str, str]]:
        """The fields inside an object, an array's items, or each object variant of a union."""
        out = []
        if "properties" in s or "allOf" in s:
            out += self.rows(s, name + ".", depth, seen)
        if s.get("type") == "array" or "items" in s:
            items, iseen = self.resolve(s.get("items", {}), seen)
            out += self.nested(items, name + "[]", depth, iseen)
        variants = []
        for key in ("oneOf", "anyOf"):
            for variant in s.get(key, []):
                v, vseen = self.resolve(variant, seen)
                rows = self.nested(v, name, depth, vseen)
                if rows:
                    variants.append(rows)
        return out + merge_variants(variants)


Row = tuple[str, str, bool, str, str]


def merge_variants(variants: list[list[Row]]) -> list[Row]:
    """The fields of a union's object variants, each listed once: its types and constraints
    joined, required only if every variant requires it."""
    merged: dict[str, list[Row]] = {}
    for rows in variants:
        for row in rows:
            merged.setdefault(row[0], []).append(row)
    out = []
    for name, rows in merged.items():
        types = " or ".join(dict.fromkeys(r[1] for r in rows))
        cons = " or ".join(dict.fromkeys(r[3] for r in rows if r[3]))
        desc = next((r[4] for r in rows if r[4]), "")
        required = len(rows) == len(variants) and all(r[2] for r in rows)
        out.append((name, types, required, cons, desc))
    return out


def repr_json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def slug(method: str, path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-")


def field_table(rows: list[tuple[str, str, bool, str, str]]) -> list[str]:
    out = ["| field | type | required | constraints | description |\n", "|---|---|---|---|---|\n"]
    for name, typ, req, cons, desc in rows:
        out.append(f"| {code(name)} | {cell(typ)} | {'yes' if req else ''} | {cell(cons)} | {cell(desc)} |\n")
    return out


def response_fields(schemas: Schemas, responses: dict[str, Any]) -> list[str]:
    """The fields of the first successful JSON answer, folded away (``??? note``)."""
    for status, resp in responses.items():
        if not str(status).startswith("2"):
            continue
        resp, rseen = schemas.resolve(resp)
        for ctype, media in resp.get("content", {}).items():
            if "json" not in ctype:
                continue
            rows = schemas.rows(media.get("schema", {}), seen=rseen)
            if rows:
                table = field_table(rows)
                return [f'??? note "{status} response body fields ({ctype})"\n\n',
                        *("    " + line for line in table), "\n"]
    return []


def http_api_page() -> str:
    doc = openapi()
    schemas = Schemas(doc)
    operations = [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]

    def param_key(p: dict[str, Any]) -> str:
        p, _ = schemas.resolve(p)
        return f"{p.get('in')}:{p.get('name')}"

    # Parameters every operation takes (the fault lab's headers) are shown once.
    common: dict[str, dict[str, Any]] = {}
    if operations:
        first = {param_key(p): schemas.resolve(p)[0] for p in operations[0][2].get("parameters", [])}
        keys = set(first)
        for _, _, op in operations[1:]:
            keys &= {param_key(p) for p in op.get("parameters", [])}
        common = {k: v for k, v in first.items() if k in keys}

    def param_rows(params: list[dict[str, Any]]) -> list[str]:
        out = ["| name | in | type | required | constraints | description |\n", "|---|---|---|---|---|---|\n"]
        for raw in params:
            p, seen = schemas.resolve(raw)
            s, sseen = schemas.resolve(p.get("schema", {}), seen)
            out.append(
                f"| {code(p.get('name', ''))} | {p.get('in', '')} | {cell(schemas.type_of(s, sseen))} | "
                f"{'yes' if p.get('required') else ''} | {cell(schemas.constraints(s, sseen))} | "
                f"{cell(p.get('description', ''))} |\n"
            )
        return out

    info = doc.get("info", {})
    out = [
        FRONT_MATTER,
        "# HTTP API reference\n\n",
        GENERATED,
        f"The routes of {info.get('title', 'the server')} {info.get('version', '')}, from the OpenAPI "
        f"{doc.get('openapi', '')} document the server itself serves at `GET /openapi.json` (the same "
        "document the chat page, the API docs page at `/request-viewer` and the fuzzer read). "
        f"{len(doc['paths'])} paths, {len(operations)} operations.\n\n",
        "## Operations\n\n",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, method, op in operations:
        by_tag.setdefault((op.get("tags") or ["Other"])[0], []).append((path, method, op))
    for tag, ops in by_tag.items():
        out.append(f"- **{tag}**: " + ", ".join(
            f"[{code(method.upper() + ' ' + path)}](#{slug(method, path)})" for path, method, _ in ops) + "\n")
    if common:
        out += ["\n## Parameters of every operation\n\n",
                "Every operation below also takes these (the [fault lab](../fault-lab.md)'s headers).\n\n"]
        out += param_rows(list(common.values()))

    for tag, ops in by_tag.items():
        out.append(f"\n## {tag}\n")
        for path, method, op in ops:
            out.append(f"\n### {method.upper()} {path} {{#{slug(method, path)}}}\n\n")
            if op.get("summary"):
                out.append(f"{op['summary']}\n\n")
            description = op.get("description", "")
            if op.get("summary") and description.startswith(op["summary"]):
                description = description[len(op["summary"]):].strip()
            if description:
                out.append(f"{description}\n\n")
            if op.get("operationId"):
                out.append(f"Operation id: {code(op['operationId'])}.\n\n")
            own = [p for p in op.get("parameters", []) if param_key(p) not in common]
            if own:
                out.append("**Parameters**\n\n")
                out += param_rows(own)
                out.append("\n")
            body = op.get("requestBody")
            if body:
                body, bseen = schemas.resolve(body)
                for ctype, media in body.get("content", {}).items():
                    req = " (required)" if body.get("required") else ""
                    out.append(f"**Request body** {code(ctype)}{req}\n\n")
                    if body.get("description"):
                        out.append(f"{body['description']}\n\n")
                    rows = schemas.rows(media.get("schema", {}), seen=bseen)
                    if rows:
                        out += field_table(rows)
                        out.append("\n")
                    else:
                        out.append(f"Type: {cell(schemas.type_of(media.get('schema', {}), bseen))}.\n\n")
            responses = op.get("responses", {})
            if responses:
                out += ["**Responses**\n\n", "| status | content | description | fields |\n",
                        "|---|---|---|---|\n"]
                rows: dict[tuple[str, str, str], list[str]] = {}  # same answer, several statuses: one row
                for status, resp in responses.items():
                    resp, rseen = schemas.resolve(resp)
                    content = resp.get("content", {})
                    fields = ""
                    for media in content.values():
                        s, _ = schemas.resolve(media.get("schema", {}), rseen)
                        if s.get("properties"):
                            fields = ", ".join(code(f) for f in s["properties"])
                            break
                    key = (", ".join(code(c) for c in content) or "-", cell(resp.get("description", "")), fields)
                    rows.setdefault(key, []).append(code(str(status)))
                for (ctypes, desc, fields), statuses in rows.items():
                    out.append(f"| {' '.join(statuses)} | {ctypes} | {desc} | {fields} |\n")
                out.append("\n")
                out += response_fields(schemas, responses)
    return "".join(out)
