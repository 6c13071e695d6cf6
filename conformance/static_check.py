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

Exit status: 0 when every operation passes and every non-deprecated spec
operation has a method, 1 otherwise, 2 on bad input.

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
# ERRATA.md); these are what the IR's error policy must extract.
EXPECTED_MESSAGE_PATH = "$.error"
EXPECTED_CODE_PATH = "$.data"


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


def check_operation(spec: Spec, ir_op: dict, tools: set[str]) -> tuple[Result, SpecOp | None]:
    r = Result()
    method = ir_op["http_method"].upper()
    path = ir_op["path"]

    candidates = []
    other_methods = set()
    for sop in spec.ops:
        got = match_path(spec, sop, path)
        if got is None:
            continue
        if sop.method == method:
            candidates.append((len(got[1]), sop, got))
        else:
            other_methods.add(sop.method)
    if not candidates:
        if other_methods:
            r.fail(f"no {method} on this path in the spec (it has {', '.join(sorted(other_methods))})")
        else:
            r.fail("path not in the spec")
        return r, None
    candidates.sort(key=lambda c: c[0])
    _, sop, (binding, _literals) = candidates[0]
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
        r.fail(f"error code_path {errors.get('code_path')!r}: XO has no code field, expected "
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
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
