#!/usr/bin/env python3
"""Static conformance check: generated operations against XO's OpenAPI spec.

Inputs (both JSON, nothing else is read):
  IR      the operation IR printed by `xo-codegen ir <dadl> --overlay <overlay>`
  SPEC    XO's official swagger.json (@xen-orchestra/rest-api, fetched at test
          time by scripts/fetch-spec.sh; AGPL-3.0, never committed)

For every operation of the IR it checks that the request the SDK builds is one
XO accepts: the method and path exist (placeholders compared by position, a
literal such as `.xva` must be an allowed value of the spec placeholder), each
query parameter exists with a compatible type, body fields exist in the
request schema (XO's tsoa validation rejects unknown fields with 422), fields
the spec requires are required, the fields can be sent together (union
schemas), raw bodies and binary responses match the spec's content types,
deprecated routes are marked, and the protocol defaults hold (no paging, XO's
error body shape, no blanket Content-Type header).

Output (stdout):
  conformance: N/M operations pass
  FAIL <tool> <METHOD> <path>: <reason>          one per failure
  EXCLUDED <tool>: <reason>                      not counted in M
  spec operations without a method: K            then one line each
  deprecated spec operations without a method: D then one line each
Warnings that are not failures (optional spec fields the SDK does not expose,
fields the SDK requires although XO does not) go to stderr with --warnings.

With --models, the declared models (IR `types`) are then compared with the
spec's component schemas field by field (see "models" below), and every typed
result (IR `result`, from DADL `returns`) with its operation's answer:
  models: N/M fields match the official schemas
  DELIBERATE <Type>.<field>: <difference> -- <reason>   kept on purpose
  OMITTED <Type>.<field>: <reason>                      spec field left out
  UNMIRRORED <Type>: <reason>                           no spec schema for it
  FAIL model <Type>.<field>: <difference>               unexplained: fails
  models: K integer fields where the spec says number
  returns: R/Q operations answering a modelled schema return that model
  FAIL returns <tool> <METHOD> <path>: <reason>

Exit status: 0 when every operation passes and every non-deprecated spec
operation has a method (and, with --models, every model difference is
explained and every result matches), 1 otherwise, 2 on bad input.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
JSON_CT = "application/json"
MAX_VARIANTS = 512

# XO error bodies are {"error": <message>, "data"?: <details>} (see
# ERRATA.md); XO's own code, when sent, is data.code: these are what the
# IR's error policy must extract.
EXPECTED_MESSAGE_PATH = "$.error"
EXPECTED_CODE_PATH = "$.data.code"


# --------------------------------------------------------------------------
# spec helpers


class Spec:
    def __init__(self, doc: dict):
        self.doc = doc
        self.schemas = doc.get("components", {}).get("schemas", {})
        servers = doc.get("servers") or []
        self.base_path = servers[0].get("url", "") if servers else ""
        self.ops: list[SpecOp] = []
        for path, item in doc.get("paths", {}).items():
            common = item.get("parameters", [])
            for method, op in item.items():
                if method not in HTTP_METHODS:
                    continue
                params = [self.resolve(p) for p in common + op.get("parameters", [])]
                self.ops.append(SpecOp(method.upper(), path, op, params, self))

    def resolve(self, node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/components/schemas/"):
                if ref.startswith("#/"):
                    target = self.doc
                    for part in ref[2:].split("/"):
                        target = target[part]
                    node = target
                    continue
                raise ValueError(f"unsupported $ref {ref}")
            node = self.schemas[ref.rsplit("/", 1)[1]]
            seen += 1
            if seen > 64:
                raise ValueError(f"$ref loop at {ref}")
        return node


@dataclass
class SpecOp:
    method: str
    path: str
    op: dict
    params: list
    spec: Spec
    regex: re.Pattern = field(init=False)
    names: list = field(init=False)

    def __post_init__(self):
        self.names = []
        pattern = ""
        pos = 0
        for m in re.finditer(r"\{([^}]+)\}", self.path):
            pattern += re.escape(self.path[pos : m.start()])
            self.names.append(m.group(1))
            pattern += f"(?P<p{len(self.names) - 1}>[^/]+?)"
            pos = m.end()
        pattern += re.escape(self.path[pos:])
        self.regex = re.compile(pattern)

    @property
    def op_id(self) -> str:
        return self.op.get("operationId", "?")

    @property
    def deprecated(self) -> bool:
        return bool(self.op.get("deprecated"))

    def param(self, location: str, name: str):
        for p in self.params:
            if p.get("in") == location and p.get("name") == name:
                return p
        return None

    def query_params(self) -> dict:
        return {p["name"]: p for p in self.params if p.get("in") == "query"}

    def success_content_types(self) -> set[str]:
        out = set()
        for code, resp in self.op.get("responses", {}).items():
            if str(code).startswith("2"):
                resp = self.spec.resolve(resp)
                out.update((resp.get("content") or {}).keys())
        return out


# --------------------------------------------------------------------------
# schema analysis


@dataclass
class Variant:
    props: dict
    required: set
    open: bool  # accepts fields beyond props


def schema_variants(spec: Spec, schema) -> list[Variant]:
    """Flatten an object schema into the alternatives XO accepts."""
    schema = spec.resolve(schema)
    if not isinstance(schema, dict):
        return [Variant({}, set(), True)]
    if "allOf" in schema:
        parts = [schema_variants(spec, s) for s in schema["allOf"]]
        out = []
        for combo in itertools.product(*parts):
            props, req, is_open = {}, set(), all(v.open for v in combo)
            for v in combo:
                props.update(v.props)
                req |= v.required
            out.append(Variant(props, req, is_open))
            if len(out) > MAX_VARIANTS:
                break
        return out
    for key in ("anyOf", "oneOf"):
        if key in schema:
            out = []
            for s in schema[key]:
                out.extend(schema_variants(spec, s))
            return out[:MAX_VARIANTS]
    props = dict(schema.get("properties") or {})
    addl = schema.get("additionalProperties")
    is_open = addl not in (None, False)
    if not props and addl is None and schema.get("type") not in (None, "object"):
        # not an object at all (e.g. a binary string): no fields
        return [Variant({}, set(), False)]
    if not props and addl is None and "type" not in schema:
        is_open = True  # {}: anything
    return [Variant(props, set(schema.get("required") or []), is_open)]


def enum_type(values) -> str | None:
    kinds = set()
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            kinds.add("boolean")
        elif isinstance(v, int | float):
            kinds.add("number")
        elif isinstance(v, str):
            kinds.add("string")
        else:
            kinds.add("object")
    return kinds.pop() if len(kinds) == 1 else None


def describe(spec: Spec, schema) -> str:
    schema = spec.resolve(schema)
    if not isinstance(schema, dict) or not schema:
        return "any"
    for key, sep in (("anyOf", "|"), ("oneOf", "|"), ("allOf", "&")):
        if key in schema:
            return sep.join(describe(spec, s) for s in schema[key])
    t = schema.get("type") or (enum_type(schema["enum"]) if "enum" in schema else None)
    if t == "array":
        return f"array<{describe(spec, schema.get('items', {}))}>"
    return t or ("object" if "properties" in schema else "any")


def type_compatible(spec: Spec, ir_type: str, schema, location: str) -> bool:
    """Can a value of IR type `ir_type` satisfy `schema`?"""
    schema = spec.resolve(schema)
    if not isinstance(schema, dict) or not schema:
        return True
    if "allOf" in schema:
        return all(type_compatible(spec, ir_type, s, location) for s in schema["allOf"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return any(type_compatible(spec, ir_type, s, location) for s in schema[key])
    t = schema.get("type")
    if t is None and "enum" in schema:
        t = enum_type(schema["enum"])
    if t is None:
        t = "object" if "properties" in schema or "additionalProperties" in schema else None
    if t is None:
        return True
    if ir_type == "file_url":
        ir_type = "string"
    if t == "string":
        return ir_type == "string"
    if t == "number":
        return ir_type in ("integer", "number")
    if t == "integer":
        return ir_type == "integer"
    if t == "boolean":
        return ir_type == "boolean"
    if t == "array":
        if ir_type == "array":
            return True
        # one value of a query array is sent as a single key: XO (tsoa)
        # reads it as a one-element array
        if location == "query":
            return type_compatible(spec, ir_type, schema.get("items", {}), location)
        return False
    if t == "object":
        return ir_type == "object"
    return False


def narrowed_to_enum(spec: Spec, ir_type: str, schema):
    """If `schema` is a union whose only branches an `ir_type` value can
    satisfy are fixed enums while another branch is open (e.g. `string[] |
    '*'` for a string), return those enum values: the parameter can then only
    carry them, never the general form."""
    schema = spec.resolve(schema)
    if not isinstance(schema, dict):
        return None
    branches = schema.get("anyOf") or schema.get("oneOf")
    if not branches:
        return None
    fitting = [spec.resolve(b) for b in branches if type_compatible(spec, ir_type, b, "body")]
    if not fitting or len(fitting) == len(branches):
        return None
    if all(isinstance(b, dict) and "enum" in b for b in fitting):
        return [v for b in fitting for v in b["enum"]]
    return None


def enum_values(spec: Spec, schema):
    schema = spec.resolve(schema)
    if isinstance(schema, dict) and "enum" in schema:
        return schema["enum"]
    return None


# --------------------------------------------------------------------------
# path matching

SENTINEL = "\x00"


def ir_path_pattern(path: str) -> tuple[str, list[str]]:
    names = []

    def sub(m):
        names.append(m.group(1))
        return f"{SENTINEL}{len(names) - 1}{SENTINEL}"

    return re.sub(r"\{([^}]+)\}", sub, path), names


def match_path(spec: Spec, sop: SpecOp, ir_path: str):
    """Return (binding, literals) if the IR path instantiates the spec path.

    binding: spec placeholder -> IR placeholder; literals: spec placeholder ->
    fixed text (e.g. format -> "xva"). None if it does not match.
    """
    text, names = ir_path_pattern(ir_path)
    m = sop.regex.fullmatch(text)
    if not m:
        return None
    binding, literals = {}, {}
    for i, spec_name in enumerate(sop.names):
        value = m.group(f"p{i}")
        single = re.fullmatch(f"{SENTINEL}(\\d+){SENTINEL}", value)
        if single:
            binding[spec_name] = names[int(single.group(1))]
        elif SENTINEL in value:
            return None
        else:
            literals[spec_name] = value
    # every IR placeholder must be bound exactly once
    if sorted(binding.values()) != sorted(names):
        return None
    for spec_name, value in literals.items():
        p = sop.param("path", spec_name)
        schema = spec.resolve(p.get("schema", {})) if p else {}
        allowed = schema.get("enum") if isinstance(schema, dict) else None
        if allowed is not None and value not in allowed:
            return None
    return binding, literals


# --------------------------------------------------------------------------
# the check


@dataclass
class Result:
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def fail(self, msg: str):
        self.failures.append(msg)

    def warn(self, msg: str):
        self.warnings.append(msg)


def find_spec_op(spec: Spec, ir_op: dict):
    """The spec operation of an IR operation: `(sop, binding)` with the
    spec's path-param names mapped to the IR's, or `(None, other methods on
    the path)` when none has its method and path."""
    method = ir_op["http_method"].upper()
    candidates = []
    other_methods = set()
    for sop in spec.ops:
        got = match_path(spec, sop, ir_op["path"])
        if got is None:
            continue
        if sop.method == method:
            candidates.append((len(got[1]), sop, got))
        else:
            other_methods.add(sop.method)
    if not candidates:
        return None, other_methods
    candidates.sort(key=lambda c: c[0])
    _, sop, (binding, _literals) = candidates[0]
    return sop, binding


def check_operation(spec: Spec, ir_op: dict, tools: set[str]) -> tuple[Result, SpecOp | None]:
    r = Result()
    method = ir_op["http_method"].upper()
    path = ir_op["path"]

    sop, binding = find_spec_op(spec, ir_op)
    if sop is None:
        if binding:
            r.fail(f"no {method} on this path in the spec (it has {', '.join(sorted(binding))})")
        else:
            r.fail("path not in the spec")
        return r, None
    where = f"spec {sop.op_id} {sop.method} {sop.path}"

    params = ir_op.get("params", [])
    by_loc: dict[str, list[dict]] = {}
    for p in params:
        by_loc.setdefault(p["in"], []).append(p)

    # path params: names may differ, types must fit
    ir_path_params = {p["name"]: p for p in by_loc.get("path", [])}
    _, placeholders = ir_path_pattern(path)
    for name in placeholders:
        if name not in ir_path_params:
            r.fail(f"path placeholder {{{name}}} has no path param")
    for name in ir_path_params:
        if name not in placeholders:
            r.fail(f"path param `{name}` does not appear in the path")
    for spec_name, ir_name in binding.items():
        sp = sop.param("path", spec_name)
        ip = ir_path_params.get(ir_name)
        if sp and ip and not type_compatible(spec, ip["type"], sp.get("schema", {}), "path"):
            r.fail(f"path param `{ir_name}` is {ip['type']}, {where} has {describe(spec, sp.get('schema'))}")

    # query params
    spec_query = sop.query_params()
    for p in by_loc.get("query", []):
        sp = spec_query.get(p["name"])
        if sp is None:
            r.fail(f"query param `{p['name']}` is not accepted by XO ({where} has "
                   f"{', '.join(sorted(spec_query)) or 'no query params'}); XO ignores it")
            continue
        if not type_compatible(spec, p["type"], sp.get("schema", {}), "query"):
            r.fail(f"query param `{p['name']}` is {p['type']}, {where} has {describe(spec, sp.get('schema'))}")
            continue
        check_value_constraints(spec, where, "query param", p, sp.get("schema", {}), r)
    ir_query = {p["name"]: p for p in by_loc.get("query", [])}
    for name, sp in spec_query.items():
        if sp.get("required") and not (name in ir_query and ir_query[name].get("required")):
            r.fail(f"query param `{name}` is required by XO but {'optional' if name in ir_query else 'missing'}")
        elif name not in ir_query:
            r.warn(f"optional query param `{name}` of {where} not exposed")
        elif ir_query[name].get("required") and not sp.get("required"):
            r.warn(f"query param `{name}` is required by the SDK but optional in {where}")

    # header params
    for p in by_loc.get("header", []):
        if sop.param("header", p["name"]) is None:
            r.fail(f"header param `{p['name']}` is not in {where}")

    # request body
    body_kind = (ir_op.get("request_body") or {}).get("kind", "none")
    body_params = by_loc.get("body", [])
    rb = spec.resolve(sop.op.get("requestBody")) if sop.op.get("requestBody") else None
    rb_content = (rb or {}).get("content") or {}
    rb_types = set(rb_content)
    if body_kind == "raw":
        ct = ir_op["request_body"].get("content_type")
        if not rb_types:
            r.fail(f"raw {ct} body, but {where} takes no request body")
        elif ct not in rb_types:
            r.fail(f"raw {ct} body, but {where} takes {', '.join(sorted(rb_types))}")
        if body_params:
            r.fail(f"raw body with JSON body params {', '.join(p['name'] for p in body_params)}")
    else:
        raw_types = {t for t in rb_types if t != JSON_CT and not t.endswith("+json")}
        if raw_types and JSON_CT not in rb_types:
            r.fail(f"{where} takes a raw {', '.join(sorted(raw_types))} body; the tool sends "
                   f"{'a JSON body' if body_kind == 'json' else 'no body'}")
        elif body_kind == "json" or body_params:
            if JSON_CT not in rb_types:
                r.fail(f"body params {', '.join(p['name'] for p in body_params)} but {where} "
                       f"takes no JSON body (XO ignores them)")
            else:
                check_body(spec, sop, where, body_params, rb_content[JSON_CT].get("schema", {}), r)
        elif rb and rb.get("required") and JSON_CT in rb_types:
            r.fail(f"{where} requires a JSON request body; the tool sends none")

    # response
    resp = ir_op.get("response") or {"kind": "json"}
    kind = resp.get("kind", "json")
    cts = sop.success_content_types()
    non_json = {t for t in cts if t != JSON_CT and not t.endswith("+json")}
    if kind == "json":
        if cts and not (cts - non_json):
            r.fail(f"JSON response, but {where} answers {', '.join(sorted(cts))}: declare a binary response")
    elif kind == "binary":
        if cts and not non_json:
            r.fail(f"binary response, but {where} answers only {', '.join(sorted(cts))}")
        declared = resp.get("content_type")
        if declared and non_json and declared not in non_json:
            r.fail(f"binary response declared {declared}, {where} answers {', '.join(sorted(non_json))}")
    elif kind == "streaming":
        if cts and not non_json and JSON_CT in cts and "ndjson" not in sop.query_params():
            r.fail(f"streaming response, but {where} answers {', '.join(sorted(cts))}")

    # deprecation
    if sop.deprecated and ir_op.get("deprecated") is None:
        r.fail(f"{where} is deprecated: set `deprecated` and `replaced_by`")
    rep = ir_op.get("replaced_by")
    if rep and rep not in tools:
        r.fail(f"replaced_by `{rep}` is not an operation")

    # protocol defaults
    pag = ir_op.get("pagination")
    if pag:
        r.fail(f"pagination `{pag.get('strategy')}` (limit_default {pag.get('limit_default')}): "
               f"XO has no offset/page/cursor paging; a default limit truncates results")
    errors = ir_op.get("errors") or {}
    if errors.get("message_path") != EXPECTED_MESSAGE_PATH:
        r.fail(f"error message_path {errors.get('message_path')!r}: XO error bodies are "
               f"{{error, data}}, expected {EXPECTED_MESSAGE_PATH!r}")
    if errors.get("code_path") not in (None, EXPECTED_CODE_PATH):
        r.fail(f"error code_path {errors.get('code_path')!r}: XO's code is data.code, expected "
               f"{EXPECTED_CODE_PATH!r} or none")
    for k, _v in ir_op.get("default_headers") or []:
        if k.lower() == "content-type":
            r.fail("default header Content-Type on every request (the runtime sets it per body kind)")
    return r, sop


def check_body(spec: Spec, sop: SpecOp, where: str, body_params: list[dict], schema, r: Result):
    variants = schema_variants(spec, schema)
    fields = {p["name"]: p for p in body_params}
    required = {n for n, p in fields.items() if p.get("required")}
    all_props: dict[str, list] = {}
    for v in variants:
        for k, s in v.props.items():
            all_props.setdefault(k, []).append(s)
    any_open = any(v.open for v in variants)

    unknown = [n for n in fields if n not in all_props and not any_open]
    for n in unknown:
        known = ", ".join(sorted(all_props)) or "none"
        r.fail(f"body field `{n}` is not in the request schema of {where} (XO answers 422); "
               f"known fields: {known}")

    always_required = set.intersection(*(v.required for v in variants)) if variants else set()
    for n in sorted(always_required):
        if n not in fields:
            r.fail(f"body field `{n}` is required by {where} but missing")
        elif n not in required:
            r.fail(f"body field `{n}` is required by {where} but optional")

    for n, p in fields.items():
        schemas = all_props.get(n)
        if not schemas:
            continue
        fitting = [s for s in schemas if type_compatible(spec, p["type"], s, "body")]
        if not fitting:
            r.fail(f"body field `{n}` is {p['type']}, {where} has "
                   f"{' or '.join(sorted({describe(spec, s) for s in schemas}))}")
            continue
        check_value_constraints(spec, where, "body field", p, fitting[0], r)

    if unknown:
        return
    known_fields = set(fields)

    def accepts(v: Variant, names: set) -> bool:
        return v.open or names <= set(v.props)

    # the smallest call (required fields only) must fit some variant
    if not any(accepts(v, required) and v.required <= required for v in variants):
        r.fail(f"a call with only the required body fields ({', '.join(sorted(required)) or 'none'}) "
               f"matches no request-schema variant of {where}")
    # every field must be sendable together with the others
    if not any(accepts(v, known_fields) for v in variants):
        r.fail(f"body fields {', '.join(sorted(known_fields))} cannot all be sent together: "
               f"no request-schema variant of {where} has them all (XO answers 422); split the tool")

    for n in sorted(required - always_required):
        r.warn(f"body field `{n}` is required by the SDK but optional in {where}")
    missing_optional = sorted(set(all_props) - known_fields - always_required)
    if missing_optional:
        r.warn(f"optional body fields of {where} not exposed: {', '.join(missing_optional)}")


def check_value_constraints(spec: Spec, where: str, what: str, p: dict, schema, r: Result):
    """Value-level checks a type match does not cover."""
    narrowed = narrowed_to_enum(spec, p["type"], schema)
    if narrowed is not None:
        r.fail(f"{what} `{p['name']}` is {p['type']}, which can only carry {narrowed!r} here; "
               f"the general form in {where} is {describe(spec, schema)}")
    allowed = enum_values(spec, schema)
    default = p.get("default")
    if allowed is not None and default is not None and default not in allowed:
        r.fail(f"{what} `{p['name']}` documents default {default!r}, not one of {allowed!r} in {where}")


# --------------------------------------------------------------------------
# models: the DADL `types` (IR `types`) against the spec's component schemas
#
# Each declared type mirrors one or more spec schemas (MODEL_MIRRORS; a
# collection item type mirrors both the single-object schema and the
# `WithHref_Partial_*` item schema, so `href` is a spec field). Nested types
# are compared where a mirrored schema reaches them. A field matches when it
# is in both and a value valid for the spec decodes into the declared type:
#   - `integer` matches spec `number` (TypeScript has one number type; the
#     declared integers are sizes, counts and timestamps) and is counted;
#   - an enum must contain every value the spec lists (its `Unknown(String)`
#     variant takes values added later);
#   - a struct matches an object schema, and a union of objects (its fields
#     are compared with the fields of every branch); a map matches an object
#     whose named and additional property values all fit the map's values;
#   - untyped JSON (`serde_json::Value`) matches only a spec schema that is
#     untyped too (`{}`, a union, an object of unknown shape).
# A difference inside a type alias (e.g. `StatSeries`) is reported once, for
# the alias, with the fields that use it.

# declared type -> spec schemas it mirrors (component names, or JSON pointers
# for inline schemas).
MODEL_MIRRORS: dict[str, tuple[str, ...]] = {
    "Vm": ("Unbrand_XoVm_", "WithHref_Partial_Unbrand_XoVm___"),
    "VmTemplate": ("Unbrand_XoVmTemplate_", "WithHref_Partial_Unbrand_XoVmTemplate___"),
    "VmSnapshot": ("Unbrand_XoVmSnapshot_", "WithHref_Partial_Unbrand_XoVmSnapshot___"),
    "VmController": ("Unbrand_XoVmController_", "WithHref_Partial_Unbrand_XoVmController___"),
    "Host": ("Unbrand_XoHost_", "WithHref_Partial_Unbrand_XoHost___"),
    "HostSmt": ("#/paths/~1hosts~1{id}~1smt/get/responses/200/content/application~1json/schema",),
    "MissingPatch": ("XcpPatches", "XsPatches"),
    "Pool": ("Unbrand_XoPool_", "WithHref_Partial_Unbrand_XoPool___"),
    "Sr": ("Unbrand_XoSr_", "WithHref_Partial_Unbrand_XoSr___"),
    "Vdi": ("Unbrand_XoVdi_", "WithHref_Partial_Unbrand_XoVdi___"),
    "VdiSnapshot": ("Unbrand_XoVdiSnapshot_", "WithHref_Partial_Unbrand_XoVdiSnapshot___"),
    "Vbd": ("Unbrand_XoVbd_", "WithHref_Partial_Unbrand_XoVbd___"),
    "Pbd": ("Unbrand_XoPbd_", "WithHref_Partial_Unbrand_XoPbd___"),
    "Sm": ("Unbrand_XoSm_", "WithHref_Partial_Unbrand_XoSm___"),
    "Vif": ("UnbrandedXoVif", "WithHref_Partial_UnbrandedXoVif__"),
    "Pif": ("UnbrandedXoPif", "WithHref_Partial_UnbrandedXoPif__"),
    "Network": ("Unbrand_XoNetwork_", "WithHref_Partial_Unbrand_XoNetwork___"),
    "Pci": ("Unbrand_XoPci_", "WithHref_Partial_Unbrand_XoPci___"),
    "Pgpu": ("Unbrand_XoPgpu_", "WithHref_Partial_Unbrand_XoPgpu___"),
    "Task": ("Unbrand_XoTask_", "XoTask", "WithHref_Partial_Unbrand_XoTask___"),
    "User": ("Unbrand_XoUser_", "WithHref_Partial_Unbrand_XoUser___"),
    "Group": ("Unbrand_XoGroup_", "WithHref_Partial_Unbrand_XoGroup___"),
    "AclRole": ("Unbrand_XoAclRole_", "WithHref_Partial_Unbrand_XoAclRole___"),
    "AclPrivilege": ("Unbrand_AnyPrivilege_", "WithHref_Partial_Unbrand_AnyPrivilege___"),
    "AuthenticationToken": ("Unbrand_XoAuthenticationToken_",),
    "Message": ("UnbrandedXoMessage", "WithHref_Partial_UnbrandedXoMessage__"),
    "Alarm": ("UnbrandedXoAlarm", "WithHref_Partial_UnbrandedXoAlarm__"),
    "Schedule": ("Unbrand_XoSchedule_", "WithHref_Partial_Unbrand_XoSchedule___"),
    "BackupJob": ("UnbrandAnyXoBackupJob", "WithHref_Partial_UnbrandAnyXoBackupJob__"),
    "BackupLog": ("Unbrand_XoBackupLog_", "WithHref_Partial_Unbrand_XoBackupLog___"),
    "RestoreLog": ("Unbrand_XoRestoreLog_", "WithHref_Partial_Unbrand_XoRestoreLog___"),
    "BackupRepository": ("Unbrand_XoBackupRepository_", "WithHref_Partial_Unbrand_XoBackupRepository___"),
    "BackupRepositoryHealth": ("ReturnType_XoApp-at-pingRemote_",),
    "BackupArchive": ("Unbrand_XoVmBackupArchive_", "WithHref_Partial_Unbrand_XoVmBackupArchive___"),
    "Server": ("Unbrand_XoServer_", "WithHref_Partial_Unbrand_XoServer___"),
    "Proxy": ("Unbrand_XoProxy_", "WithHref_Partial_Unbrand_XoProxy___"),
    "Ping": ("PingResponse",),
    "GuiRoutes": ("XoGuiRoutes",),
    "McpStatus": ("McpStatus",),
    "Dashboard": ("XoaDashboard",),
    "VmDashboard": ("UnbrandedVmDashboard",),
    "PoolDashboard": ("PoolDashboard",),
    "VmStats": ("XapiVmStats",),
    "HostStats": ("XapiHostStats",),
    "PoolStats": ("XapiPoolStats",),
}

# Differences kept on purpose: `Type.field` (or an alias name) -> reason.
MODEL_DELIBERATE: dict[str, str] = {
    "StatSeries": "xo-codegen types a `[number, \"null\"]` item as f64, which rejects the nulls "
                  "XO sends for missing samples; the items stay untyped (number or null)",
    "Vm.videoram": "xo-server copies `platform.videoram` as is: a string such as \"8\" when set, "
                   "the number 4 by default (xapi-objects-to-xo); an integer field would reject the string",
    "VmTemplate.videoram": "as Vm.videoram",
    "VmSnapshot.videoram": "as Vm.videoram",
    "VmController.videoram": "as Vm.videoram",
    "BackupJobSettings.exportRetention": "per-schedule VM/mirror setting; the spec renders the "
                                         "schedule settings as `{}` (@vates/types XoVmBackupJobScheduleSettings has it)",
    "BackupJobSettings.copyRetention": "per-schedule VM setting, lost by the spec (see exportRetention)",
    "BackupJobSettings.snapshotRetention": "per-schedule VM setting, lost by the spec (see exportRetention)",
    "BackupJobSettings.fullInterval": "per-schedule VM setting, lost by the spec (see exportRetention)",
    "BackupJobSettings.healthCheckSr": "per-schedule VM/mirror setting, lost by the spec (see exportRetention)",
    "BackupJobSettings.healthCheckVmsWithTags": "per-schedule VM/mirror setting, lost by the spec (see exportRetention)",
}

# Spec fields left out on purpose: `Type.field` -> reason.
MODEL_OMITTED: dict[str, str] = {}

# Declared types no spec schema describes: type -> reason.
MODEL_UNMIRRORED: dict[str, str] = {
    "AuthenticationTokenUse": "value of the spec's Record_string._timestamp-number__, whose schema "
                              "has no value type (@vates/types: Record<string, {timestamp: number}>)",
}


@dataclass
class ModelTables:
    mirrors: dict = field(default_factory=lambda: MODEL_MIRRORS)
    deliberate: dict = field(default_factory=lambda: MODEL_DELIBERATE)
    omitted: dict = field(default_factory=lambda: MODEL_OMITTED)
    unmirrored: dict = field(default_factory=lambda: MODEL_UNMIRRORED)


def spec_pointer(spec: Spec, ref: str):
    """A component name or a `#/...` JSON pointer into the spec."""
    if not ref.startswith("#/"):
        return spec.schemas[ref]
    node = spec.doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


EMPTY_OBJECT = {"kind": "object", "props": {}, "addl": None}


def norm(spec: Spec, schema) -> dict:
    """A spec schema reduced to one of: any, union, array, object, or a
    primitive (string/number/integer/boolean/null, maybe with `enum`)."""
    s = spec.resolve(schema)
    if not isinstance(s, dict) or s is True:
        return {"kind": "any"}
    for key in ("anyOf", "oneOf"):
        if key in s:
            branches = []
            for b in s[key]:
                nb = norm(spec, b)
                branches.extend(nb["branches"] if nb["kind"] == "union" else [nb])
            return {"kind": "union", "branches": branches}
    if "allOf" in s:
        parts = [norm(spec, p) for p in s["allOf"]]
        prims = [p for p in parts if p["kind"] not in ("object", "any", "union")]
        if prims:  # a branded primitive: `string & {…}`
            return prims[0]
        # an intersection of objects, distributed over the unions among them
        alternatives = []
        for p in parts:
            if p["kind"] == "union":
                alternatives.append([b for b in p["branches"] if b["kind"] == "object"] or [EMPTY_OBJECT])
            else:
                alternatives.append([p if p["kind"] == "object" else EMPTY_OBJECT])
        merged = []
        for combo in itertools.islice(itertools.product(*alternatives), MAX_VARIANTS):
            props, addl = {}, None
            for p in combo:
                props.update(p["props"])
                addl = addl if addl is not None else p["addl"]
            merged.append({"kind": "object", "props": props, "addl": addl})
        return merged[0] if len(merged) == 1 else {"kind": "union", "branches": merged}
    t = s.get("type")
    if t is None and "enum" in s:
        t = enum_type(s["enum"])
    if t is None and ("properties" in s or "additionalProperties" in s):
        t = "object"
    if t is None:
        return {"kind": "any"}
    if t == "array":
        return {"kind": "array", "items": s.get("items", {})}
    if t == "object":
        return {"kind": "object", "props": dict(s.get("properties") or {}),
                "addl": s.get("additionalProperties")}
    out = {"kind": t, "nullable": bool(s.get("nullable"))}
    if "enum" in s:
        out["enum"] = [v for v in s["enum"] if v is not None]
    return out


def shape_text(spec: Spec, n: dict) -> str:
    k = n["kind"]
    if k == "union":
        return "|".join(shape_text(spec, b) for b in n["branches"])
    if k == "array":
        return f"array<{shape_text(spec, norm(spec, n['items']))}>"
    if k == "object":
        return "object" if n["props"] else "map"
    return f"{k}|null" if n.get("nullable") else k


def typeref_text(t: dict) -> str:
    k = t["kind"]
    if k in ("array", "map"):
        return f"{k}<{typeref_text(t['of'])}>"
    if k == "named":
        return t["of"]
    return {"value": "untyped JSON"}.get(k, k)


class ModelCheck:
    def __init__(self, spec: Spec, ir: dict, tables: ModelTables):
        self.spec = spec
        self.tables = tables
        self.types = {t["name"]: t for t in ir.get("types", [])}
        self.ops = ir.get("operations", [])
        self.reached: set[str] = set()
        self.site_keys: set[tuple] = set()
        self.queue: list[tuple[str, dict]] = []
        # (type, wire field) -> spec occurrences / issues [(owner alias or None, text)]
        self.spec_fields: dict[str, dict[str, int]] = {}
        self.issues: dict[tuple[str, str], list[tuple[str | None, str]]] = {}
        self.integer_refinements: set[tuple[str, str]] = set()
        self.top_issues: list[str] = []
        self.current: tuple[str, str] | None = None

    # -- comparison of one declared type expression with one spec schema
    def compare(self, ours: dict, schema) -> list[tuple[str | None, str]]:
        """Issues (owning alias or None, text); empty when a value valid for
        `schema` decodes into `ours`."""
        return self.cmp(ours, norm(self.spec, schema))

    def cmp(self, ours: dict, n: dict) -> list[tuple[str | None, str]]:
        k = ours["kind"]
        td = None
        if k == "named":
            name = ours["of"]
            self.reached.add(name)
            td = self.types.get(name)
            if td is None:
                return [(None, f"unknown type {name}")]
            if td["kind"] == "alias":
                return [(owner or name, text) for owner, text in self.cmp(td["ty"], n)]
            if td["kind"] == "id":
                # An id type (x-id) is a string on the wire.
                k, td = "string", None
        if k == "href":
            # A typed reference (x-href) is a string on the wire.
            k = "string"
        if n["kind"] == "any":
            return []
        if n["kind"] == "union":
            if k == "value":
                return []
            out = []
            for b in n["branches"]:
                if b["kind"] == "null":
                    continue
                for issue in self.cmp(ours, b):
                    if issue not in out:
                        out.append(issue)
            return out
        have = shape_text(self.spec, n)
        mismatch = [(None, f"spec {have}, declared {typeref_text(ours)}")]
        if td is not None and td["kind"] == "enum":
            if n["kind"] != "string":
                return mismatch
            known = {wire for wire, _ in td["variants"]}
            missing = [v for v in n.get("enum", []) if v not in known]
            if missing:
                return [(None, f"spec values {', '.join(map(str, missing))} missing from enum {td['name']}")]
            return []
        if td is not None:  # struct
            if n["kind"] != "object":
                return mismatch
            self.add_site(td["name"], n)
            return []
        if k == "value":
            if n["kind"] == "object" and not n["props"]:
                return []
            return mismatch
        if k in ("string", "boolean"):
            return [] if n["kind"] == k else mismatch
        if k in ("number", "integer"):
            if k == "integer" and n["kind"] == "number" and self.current:
                self.integer_refinements.add(self.current)
            return [] if n["kind"] in ("number", "integer") else mismatch
        if k == "array":
            if n["kind"] != "array":
                return mismatch
            return [(o, t if o else f"items: {t}") for o, t in self.compare(ours["of"], n["items"])]
        if k == "map":
            if n["kind"] != "object":
                return mismatch
            out = []
            for name, p in n["props"].items():
                out += [(o, t if o else f"{name!r}: {t}") for o, t in self.compare(ours["of"], p)]
            if isinstance(n["addl"], dict) and n["addl"]:
                out += [(o, t if o else f"values: {t}") for o, t in self.compare(ours["of"], n["addl"])]
            return out
        return mismatch

    def add_site(self, struct: str, n: dict):
        key = (struct, json.dumps(n, sort_keys=True, default=str))
        if key in self.site_keys:
            return
        self.site_keys.add(key)
        self.queue.append((struct, n))

    def run(self):
        t = self.tables
        for name, refs in t.mirrors.items():
            if name not in self.types:
                self.top_issues.append(f"{name}: in the mirror table but not declared")
                continue
            for ref in refs:
                try:
                    schema = spec_pointer(self.spec, ref)
                except (KeyError, TypeError):
                    self.top_issues.append(f"{name}: spec schema {ref} not found")
                    continue
                self.current = None
                for _owner, text in self.compare({"kind": "named", "of": name}, schema):
                    self.top_issues.append(f"{name} vs {ref}: {text}")
        self.compare_param_enums()
        while self.queue:
            struct, n = self.queue.pop(0)
            td = self.types[struct]
            ours = {f["wire"]: f for f in td["fields"]}
            counts = self.spec_fields.setdefault(struct, {})
            for wire, p in n["props"].items():
                counts[wire] = counts.get(wire, 0) + 1
                if wire in ours:
                    self.current = (struct, wire)
                    got = self.issues.setdefault((struct, wire), [])
                    for issue in self.compare(ours[wire]["ty"], p):
                        if issue not in got:
                            got.append(issue)
            self.current = None

    def compare_param_enums(self):
        """A parameter typed by a string enum (`x-type`) can send only the
        enum's values: each must be one the spec's parameter accepts, and
        every value the spec lists must be a variant."""
        for op in self.ops:
            for p in op.get("params", []):
                vt = p.get("value_type") or {}
                if vt.get("kind") == "array":
                    vt = vt.get("of") or {}
                td = self.types.get(vt.get("of", "")) if vt.get("kind") == "named" else None
                if td is None or td["kind"] != "enum":
                    continue
                sop, binding = find_spec_op(self.spec, op)
                if sop is None:
                    continue  # reported by the operation check
                name = next((s for s, i in binding.items() if i == p["name"]), p["name"])
                sp = sop.param(p["in"], name) if p["in"] != "body" else None
                if sp is None:
                    continue  # body fields are compared with the request schema
                schema = sp.get("schema", {})
                self.current = None
                where = f"{op['tool']} param `{p['name']}` ({td['name']})"
                for _owner, text in self.compare(vt, schema):
                    self.top_issues.append(f"{where}: {text}")
                allowed = enum_values(self.spec, schema)
                if allowed is not None:
                    extra = [w for w, _v in td["variants"] if w not in allowed]
                    if extra:
                        self.top_issues.append(
                            f"{where}: sends {', '.join(extra)}, which {sop.op_id} does not accept")

    def report(self) -> tuple[list[str], bool]:
        t = self.tables
        fails: list[str] = []
        listed: list[str] = []
        used: set[str] = set()
        matched = total = 0
        by_alias: dict[tuple[str, str], list[str]] = {}

        def explain(key: str, diff: str):
            if key in t.deliberate:
                used.add(key)
                listed.append(f"DELIBERATE {key}: {diff} -- {t.deliberate[key]}")
            else:
                fails.append(f"FAIL model {key}: {diff}")

        for struct, counts in self.spec_fields.items():
            ours = [f["wire"] for f in self.types[struct]["fields"]]
            for wire in ours + [w for w in counts if w not in ours]:
                total += 1
                key = f"{struct}.{wire}"
                if wire not in counts:
                    explain(key, "not in the spec")
                elif wire not in ours:
                    if key in t.omitted:
                        used.add(key)
                        listed.append(f"OMITTED {key}: {t.omitted[key]}")
                    else:
                        fails.append(f"FAIL model {key}: in the spec, not declared")
                else:
                    issues = self.issues.get((struct, wire), [])
                    if not issues:
                        matched += 1
                        continue
                    for owner, text in issues:
                        if owner:
                            by_alias.setdefault((owner, text), []).append(key)
                    own = [text for owner, text in issues if not owner]
                    if own:
                        explain(key, "; ".join(own))
        for (alias, text), keys in by_alias.items():
            shown = ", ".join(keys[:3]) + (", ..." if len(keys) > 3 else "")
            where = f"{alias} ({len(keys)} field{'s' if len(keys) != 1 else ''}: {shown})"
            if alias in t.deliberate:
                used.add(alias)
                listed.append(f"DELIBERATE {where}: {text} -- {t.deliberate[alias]}")
            else:
                fails.append(f"FAIL model {where}: {text}")
        fails += [f"FAIL model {issue}" for issue in self.top_issues]
        for name, td in self.types.items():
            if td["kind"] == "id":
                # An id type (x-id) is a string on the wire, compared wherever a
                # model field uses it; one that only names a parameter or a
                # created object (EventSubscriptionId) has no schema of its own.
                continue
            compared = name in self.spec_fields if td["kind"] == "struct" else name in self.reached
            if name in t.unmirrored:
                if compared:
                    fails.append(f"FAIL model {name}: listed as unmirrored but compared (remove the entry)")
                else:
                    used.add(name)
                    listed.append(f"UNMIRRORED {name}: {t.unmirrored[name]}")
            elif not compared:
                fails.append(f"FAIL model {name}: not compared with any spec schema "
                             f"(mirror it in MODEL_MIRRORS or reach it from a mirrored type)")
        for key in [*t.deliberate, *t.omitted, *t.unmirrored]:
            if key not in used:
                fails.append(f"FAIL model table: `{key}` matches no difference (remove it)")
        lines = [f"models: {matched}/{total} fields match the official schemas", *listed, *fails,
                 f"models: {len(self.integer_refinements)} integer fields where the spec says number "
                 f"(sizes, counts, timestamps: TypeScript has one number type)"]
        return lines, not fails

    def schema_parts(self, schema):
        """`schema` and every schema it stands for: its `$ref` targets and
        its anyOf/oneOf/allOf branches, recursively."""
        stack = [schema] if schema is not None else []
        while stack:
            s = stack.pop()
            if not isinstance(s, dict):
                continue
            yield s
            if "$ref" in s and s["$ref"].startswith("#/components/schemas/"):
                stack.append(self.spec.schemas.get(s["$ref"].rsplit("/", 1)[1]))
            for key in ("anyOf", "oneOf", "allOf"):
                stack.extend(s.get(key) or [])

    # -- `returns`: the typed result of an operation mirrors its spec answer
    def check_returns(self, tools: set[str]) -> tuple[list[str], bool]:
        mirrored_by: dict[int, set[str]] = {}
        for name, refs in self.tables.mirrors.items():
            for ref in refs:
                try:
                    mirrored_by.setdefault(id(spec_pointer(self.spec, ref)), set()).add(name)
                except (KeyError, TypeError):
                    pass  # reported by run()
        lines, fails, typed, answering, by_kind = [], [], 0, 0, 0
        untyped_ok: list[str] = []
        for o in self.ops:
            _, sop = check_operation(self.spec, o, tools)
            if sop is None:
                continue
            # Collections, actions, creates and empty answers (x-kind) type
            # their answer by its shape, not by `returns` alone: their
            # `returns` is the item, the task's result or the new id, which
            # the spec's answer of the call itself does not show.
            if (o.get("kind") or {}).get("kind", "plain") != "plain":
                by_kind += 1
                continue
            ok_resp = next((self.spec.resolve(r) for c, r in sop.op.get("responses", {}).items()
                            if str(c).startswith("2")), None)
            schema = ((ok_resp or {}).get("content") or {}).get(JSON_CT, {}).get("schema")
            top = list(self.schema_parts(schema))
            names = {n for part in top for n in mirrored_by.get(id(part), set())}
            result = o.get("result")
            if result and result.get("kind") == "array" and result["of"].get("kind") == "named":
                # A plain list of models: its items are what is mirrored.
                result = result["of"]
                # The item schemas of the array (or of each array branch).
                items = [part["items"] for part in top if isinstance(part.get("items"), dict)]
                names |= {n for item in items for part in self.schema_parts(item)
                          for n in mirrored_by.get(id(part), set())}
            declared = result["of"] if result and result.get("kind") == "named" else None
            justified = isinstance(o.get("returns"), dict) and o["returns"].get("description")
            if result and result.get("kind") == "value" and justified:
                untyped_ok.append(f"returns: {o['tool']} untyped on purpose: {justified}")
                continue
            if result and result.get("kind") in ("string", "integer", "number", "boolean"):
                spec_type = norm(self.spec, schema)["kind"] if schema is not None else None
                if spec_type == result["kind"]:
                    continue
            where = f"{o['tool']} {o['http_method']} {o['path']}"
            if names:
                answering += 1
            if declared:
                if declared in names:
                    typed += 1
                else:
                    fails.append(f"FAIL returns {where}: declared {declared}, spec {sop.op_id} answers "
                                 f"{', '.join(sorted(names)) or 'a schema no declared type mirrors'}")
            elif result:
                fails.append(f"FAIL returns {where}: result {typeref_text(result)} is not a declared model")
            elif names:
                fails.append(f"FAIL returns {where}: no `returns`; spec {sop.op_id} answers "
                             f"{' or '.join(sorted(names))}")
        lines.append(f"returns: {typed}/{answering} operations answering a modelled schema return that model")
        lines.append(f"returns: {by_kind} operations typed by their x-kind (collection, action, create, empty)")
        lines.extend(untyped_ok)
        return lines + fails, not fails


def check_models(spec: Spec, ir: dict, tables: ModelTables | None = None) -> tuple[list[str], bool]:
    mc = ModelCheck(spec, ir, tables or ModelTables())
    if not mc.types:
        return ["models: FAIL the IR declares no types"], False
    mc.run()
    lines, ok = mc.report()
    tools = {o["tool"] for o in ir.get("operations", [])}
    rlines, rok = mc.check_returns(tools)
    return lines + rlines, ok and rok


def load_excluded(path: Path | None) -> dict[str, str]:
    out = {}
    if path is None:
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        tool, _, reason = line.partition(":")
        out[tool.strip()] = reason.strip()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ir", type=Path, help="IR JSON from `xo-codegen ir` ('-' for stdin)")
    ap.add_argument("spec", type=Path, help="XO swagger.json")
    ap.add_argument("--excluded", type=Path, default=Path(__file__).with_name("excluded.txt"),
                    help="file of `tool: reason` lines not checked (default: %(default)s)")
    ap.add_argument("--warnings", action="store_true", help="print warnings to stderr")
    ap.add_argument("--allow-uncovered", action="store_true",
                    help="list spec operations without a method but do not fail on them "
                         "(for DADL files of older XO releases)")
    ap.add_argument("--models", action="store_true",
                    help="also compare the declared types (IR `types`) with the spec's component "
                         "schemas, and each typed result with its operation's answer")
    args = ap.parse_args(argv)

    try:
        ir_text = sys.stdin.read() if str(args.ir) == "-" else args.ir.read_text(encoding="utf-8")
        ir = json.loads(ir_text)
        spec = Spec(json.loads(args.spec.read_text(encoding="utf-8")))
        excluded = load_excluded(args.excluded if args.excluded.exists() else None)
    except (OSError, ValueError, KeyError) as e:
        print(f"static_check: bad input: {e}", file=sys.stderr)
        return 2

    ops = ir.get("operations", [])
    tools = {op["tool"] for op in ops}
    fail_lines, excl_lines, warn_lines = [], [], []
    passed = counted = 0
    covered: set[int] = set()
    api_failures = []
    if ir.get("base_path", "") != spec.base_path:
        api_failures.append(f"FAIL * base_path {ir.get('base_path')!r}: the spec's server url is {spec.base_path!r}")

    for op in ops:
        tool = op["tool"]
        if tool in excluded:
            excl_lines.append(f"EXCLUDED {tool}: {excluded[tool]}")
            # an exclusion must not hide an operation the spec does describe
            res, sop = check_operation(spec, op, tools)
            if sop is not None:
                fail_lines.append(f"FAIL {tool} {op['http_method']} {op['path']}: excluded, but the spec "
                                  f"has it ({sop.op_id}); remove it from the exclusion list")
            continue
        counted += 1
        res, sop = check_operation(spec, op, tools)
        if sop is not None:
            covered.add(id(sop))
        for f in res.failures:
            fail_lines.append(f"FAIL {tool} {op['http_method']} {op['path']}: {f}")
        for w in res.warnings:
            warn_lines.append(f"WARN {tool} {op['http_method']} {op['path']}: {w}")
        if not res.failures:
            passed += 1

    uncovered = [s for s in spec.ops if id(s) not in covered and not s.deprecated]
    uncovered_dep = [s for s in spec.ops if id(s) not in covered and s.deprecated]

    print(f"conformance: {passed}/{counted} operations pass")
    for line in api_failures + fail_lines + excl_lines:
        print(line)
    print(f"spec operations without a method: {len(uncovered)}")
    for s in uncovered:
        print(f"MISSING {s.method} {s.path} ({s.op_id})")
    print(f"deprecated spec operations without a method (not required): {len(uncovered_dep)}")
    for s in uncovered_dep:
        print(f"DEPRECATED {s.method} {s.path} ({s.op_id})")
    if args.warnings:
        for line in warn_lines:
            print(line, file=sys.stderr)
    ok = passed == counted and not fail_lines and not api_failures and (args.allow_uncovered or not uncovered)
    if args.models:
        model_lines, models_ok = check_models(spec, ir)
        for line in model_lines:
            print(line)
        ok = ok and models_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
