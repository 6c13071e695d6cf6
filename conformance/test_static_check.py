#!/usr/bin/env python3
"""Self-test of static_check.py against a synthetic spec (fixtures/).

  python3 -m unittest discover -s conformance -p 'test_*.py'

Each case starts from an IR that passes and breaks one thing.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import tempfile
import unittest
from pathlib import Path

import static_check

HERE = Path(__file__).parent
SPEC = HERE / "fixtures" / "widgets-spec.json"
MODELS_SPEC = HERE / "fixtures" / "models-spec.json"

ERRORS = {
    "message_path": "$.error",
    "code_path": "$.data.code",
    "retry_on": [429, 502, 503, 504],
    "terminal": [400, 401, 403, 404, 409, 422],
    "max_retries": 3,
    "backoff": "exponential",
    "initial_delay_ms": 1000,
    "status_map": [],
    "retry_after_header": None,
}


def param(name, ty, loc, required=False, default=None):
    return {"name": name, "rust_name": name, "type": ty, "in": loc,
            "required": required or loc == "path", "description": None, "default": default}


def op(tool, method, path, params=(), body="none", response=None, **extra):
    body_obj = {"kind": body} if isinstance(body, str) else body
    o = {
        "tool": tool, "module": "m", "method_name": tool, "type_name": "T", "spec_name": "S",
        "http_method": method, "path": path, "params": list(params), "request_body": body_obj,
        "response": response or {"kind": "json"}, "access": "read", "description": "", "hints": [],
        "deprecated": None, "replaced_by": None, "depends_on": [], "errors": copy.deepcopy(ERRORS),
        "pagination": None, "idempotency_header": None, "retry_unsafe": False, "default_headers": [],
        "returns": None, "result": None,
    }
    o.update(extra)
    return o


def good_ir():
    return {
        "name": "widgets", "version": None, "description": "", "base_path": "/api/v1",
        "auth": {"kind": "none"}, "resources": [],
        "operations": [
            op("list_widgets", "GET", "/widgets",
               [param("fields", "string", "query"), param("limit", "integer", "query"),
                param("owner", "string", "query")]),
            op("create_widget", "POST", "/widgets",
               [param("name", "string", "body", True), param("binId", "string", "body", True),
                param("size", "integer", "body"), param("kind", "string", "body", default="small")],
               body="json"),
            op("get_widget", "GET", "/widgets/{widget_id}", [param("widget_id", "string", "path")]),
            op("download_widget_bin", "GET", "/widgets/{uuid}.bin", [param("uuid", "string", "path")],
               response={"kind": "binary", "content_type": "application/octet-stream"}),
            op("upload_widget", "PUT", "/widgets/{uuid}.{format}",
               [param("uuid", "string", "path"), param("format", "string", "path")],
               body={"kind": "raw", "content_type": "application/octet-stream"}),
            op("duplicate_widget", "POST", "/widgets/{uuid}/actions/duplicate",
               [param("uuid", "string", "path"), param("fast", "boolean", "body"),
                param("name", "string", "body"), param("sync", "boolean", "query")], body="json"),
            op("add_watcher", "POST", "/widgets/{uuid}/watchers",
               [param("uuid", "string", "path"), param("fields", "array", "body")], body="json"),
            op("list_gadgets", "GET", "/gadgets"),
            op("poke_plugin", "POST", "/plugins/poke"),
        ],
    }


def run(ir, *flags):
    with tempfile.TemporaryDirectory() as d:
        ir_path = Path(d) / "ir.json"
        ir_path.write_text(json.dumps(ir))
        excluded = Path(d) / "excluded.txt"
        excluded.write_text("# test\npoke_plugin: runtime plugin route\n")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = static_check.main([str(ir_path), str(SPEC), "--excluded", str(excluded), *flags])
        return code, out.getvalue().splitlines(), err.getvalue()


def find(ir, tool):
    return next(o for o in ir["operations"] if o["tool"] == tool)


class StaticCheckTest(unittest.TestCase):
    def assertFails(self, ir, *needles):
        code, lines, _ = run(ir)
        self.assertEqual(code, 1, lines)
        fails = [line for line in lines if line.startswith("FAIL")]
        for needle in needles:
            self.assertTrue(any(needle in f for f in fails), f"{needle!r} not in {fails}")
        return lines

    def test_good_ir_passes(self):
        code, lines, _ = run(good_ir())
        self.assertEqual(lines[0], "conformance: 8/8 operations pass")
        self.assertIn("EXCLUDED poke_plugin: runtime plugin route", lines)
        self.assertIn("spec operations without a method: 0", lines)
        self.assertIn("DEPRECATED GET /legacy-widgets (ListLegacyWidgets)", lines)
        self.assertEqual(code, 0, lines)

    def test_unknown_and_renamed_body_fields(self):
        ir = good_ir()
        p = find(ir, "create_widget")["params"]
        p[1]["name"] = "bin"  # binId renamed
        self.assertFails(ir, "body field `bin` is not in the request schema",
                         "body field `binId` is required by spec CreateWidget POST /widgets but missing")

    def test_required_field_marked_optional(self):
        ir = good_ir()
        find(ir, "create_widget")["params"][0]["required"] = False
        self.assertFails(ir, "body field `name` is required by spec CreateWidget POST /widgets but optional")

    def test_body_type_mismatch(self):
        ir = good_ir()
        find(ir, "create_widget")["params"][2]["type"] = "string"
        self.assertFails(ir, "body field `size` is string")

    def test_default_outside_enum(self):
        ir = good_ir()
        find(ir, "create_widget")["params"][3]["default"] = "huge"
        self.assertFails(ir, "documents default 'huge'")

    def test_unknown_query_param_and_type(self):
        ir = good_ir()
        ps = find(ir, "list_widgets")["params"]
        ps.append(param("offset", "integer", "query"))
        ps[0]["type"] = "integer"
        self.assertFails(ir, "query param `offset` is not accepted", "query param `fields` is integer")

    def test_union_fields_that_cannot_go_together(self):
        ir = good_ir()
        find(ir, "duplicate_widget")["params"].append(param("binId", "string", "body"))
        self.assertFails(ir, "cannot all be sent together")

    def test_union_narrowed_to_enum(self):
        ir = good_ir()
        find(ir, "add_watcher")["params"][1]["type"] = "string"
        self.assertFails(ir, "body field `fields` is string, which can only carry ['*']")

    def test_raw_body_required(self):
        ir = good_ir()
        find(ir, "upload_widget")["request_body"] = {"kind": "none"}
        self.assertFails(ir, "takes a raw application/octet-stream body")

    def test_binary_response_required(self):
        ir = good_ir()
        find(ir, "download_widget_bin")["response"] = {"kind": "json"}
        self.assertFails(ir, "declare a binary response")

    def test_path_literal_must_be_allowed(self):
        ir = good_ir()
        find(ir, "download_widget_bin")["path"] = "/widgets/{uuid}.exe"
        self.assertFails(ir, "path not in the spec")

    def test_wrong_method(self):
        ir = good_ir()
        find(ir, "get_widget")["http_method"] = "DELETE"
        self.assertFails(ir, "no DELETE on this path in the spec (it has GET)")

    def test_deprecated_route_must_be_marked(self):
        ir = good_ir()
        ir["operations"].append(op("list_legacy", "GET", "/legacy-widgets"))
        self.assertFails(ir, "is deprecated: set `deprecated` and `replaced_by`")
        find(ir, "list_legacy").update(deprecated="use list_widgets", replaced_by="list_widgets")
        code, lines, _ = run(ir)
        self.assertEqual(code, 0, lines)
        find(ir, "list_legacy")["replaced_by"] = "nope"
        self.assertFails(ir, "replaced_by `nope` is not an operation")

    def test_protocol_defaults(self):
        ir = good_ir()
        o = find(ir, "list_widgets")
        o["pagination"] = {"strategy": "offset", "behavior": "expose", "limit_param": "limit",
                           "limit_default": 100, "max_pages": 10}
        o["errors"]["message_path"] = "$.message"
        o["default_headers"] = [["Content-Type", "application/json"]]
        self.assertFails(ir, "pagination `offset`", "error message_path '$.message'",
                         "default header Content-Type")

    def test_base_path(self):
        ir = good_ir()
        ir["base_path"] = ""
        code, lines, _ = run(ir)
        self.assertEqual(code, 1)
        self.assertTrue(any(line.startswith("FAIL * base_path") for line in lines))

    def test_uncovered_operation(self):
        ir = good_ir()
        ir["operations"] = [o for o in ir["operations"] if o["tool"] != "list_gadgets"]
        code, lines, _ = run(ir)
        self.assertEqual(lines[0], "conformance: 7/7 operations pass")
        self.assertIn("MISSING GET /gadgets (ListGadgets)", lines)
        self.assertEqual(code, 1)
        code, _, _ = run(ir, "--allow-uncovered")
        self.assertEqual(code, 0)

    def test_excluded_operation_that_the_spec_has(self):
        ir = good_ir()
        find(ir, "poke_plugin").update(http_method="GET", path="/gadgets")
        self.assertFails(ir, "excluded, but the spec has it (ListGadgets)")

    def test_warnings_go_to_stderr(self):
        ir = good_ir()
        find(ir, "list_widgets")["params"].pop(1)  # limit no longer exposed
        code, lines, err = run(ir, "--warnings")
        self.assertEqual(code, 0, lines)
        self.assertIn("optional query param `limit`", err)


# --------------------------------------------------------------------------
# models (--models): declared types against component schemas


def field(wire, ty, rust=None):
    return {"wire": wire, "rust": rust or wire.lstrip("$").lower(), "ty": ty, "doc": None}


def named(name):
    return {"kind": "named", "of": name}


def struct(name, *fields):
    return {"kind": "struct", "name": name, "source": name, "doc": None, "fields": list(fields),
            "extra": "unknown_fields"}


S, I, N, V = {"kind": "string"}, {"kind": "integer"}, {"kind": "number"}, {"kind": "value"}


def models_ir():
    return {
        "name": "gadgets", "version": None, "description": "", "base_path": "/api/v1",
        "auth": {"kind": "none"}, "resources": [],
        "operations": [
            op("list_gadgets", "GET", "/gadgets"),
            op("get_gadget", "GET", "/gadgets/{id}", [param("id", "string", "path")],
               result=named("Gadget")),
            op("get_gadget_stats", "GET", "/gadgets/{id}/stats", [param("id", "string", "path")],
               result=named("GadgetStats")),
            op("get_gadget_power", "GET", "/gadgets/{id}/power", [param("id", "string", "path")],
               result=named("GadgetPower")),
        ],
        "types": [
            {"kind": "alias", "name": "Href", "source": "Href", "doc": None, "ty": S},
            {"kind": "enum", "name": "GadgetState", "source": "GadgetState", "doc": None,
             "variants": [["on", "On"], ["off", "Off"]]},
            struct("Gadget",
                   field("href", named("Href")), field("id", S), field("$owner", S), field("size", I),
                   field("ratio", N), field("state", named("GadgetState")),
                   field("tags", {"kind": "array", "of": S}), field("meta", {"kind": "map", "of": S}),
                   field("extra", V), field("parts", {"kind": "array", "of": named("GadgetPart")})),
            struct("GadgetPart", field("name", S), field("weight", N)),
            {"kind": "alias", "name": "Series", "source": "Series", "doc": None,
             "ty": {"kind": "array", "of": V}},
            struct("GadgetStats", field("load", named("Series")), field("temperature", named("Series"))),
            struct("GadgetPower", field("watts", N)),
        ],
    }


def model_tables(**over):
    tables = {
        "mirrors": {
            "Gadget": ("Gadget", "WithHref_Partial_Gadget_"),
            "GadgetStats": ("GadgetStats",),
            "GadgetPower": ("#/paths/~1gadgets~1{id}~1power/get/responses/200/content/application~1json/schema",),
        },
        "deliberate": {"Series": "nullable items stay untyped"},
        "omitted": {},
        "unmirrored": {},
    }
    tables.update(over)
    return static_check.ModelTables(**tables)


def check_models(ir, tables=None):
    spec = static_check.Spec(json.loads(MODELS_SPEC.read_text()))
    return static_check.check_models(spec, ir, tables or model_tables())


def model_type(ir, name):
    return next(t for t in ir["types"] if t["name"] == name)


class ModelCheckTest(unittest.TestCase):
    def assertModelFails(self, ir, *needles, tables=None):
        lines, ok = check_models(ir, tables)
        self.assertFalse(ok, lines)
        fails = [line for line in lines if line.startswith("FAIL")]
        for needle in needles:
            self.assertTrue(any(needle in f for f in fails), f"{needle!r} not in {fails}")
        return lines

    def test_good_models_pass(self):
        lines, ok = check_models(models_ir())
        self.assertTrue(ok, lines)
        # 10 Gadget + 2 GadgetPart (reached through `parts`, both union
        # branches) + 2 GadgetStats + 1 GadgetPower fields; the two series
        # differ through the alias, reported once.
        self.assertEqual(lines[0], "models: 13/15 fields match the official schemas")
        self.assertTrue(any(line.startswith("DELIBERATE Series (2 fields: GadgetStats.load, "
                                            "GadgetStats.temperature): items: spec number|null, "
                                            "declared untyped JSON") for line in lines), lines)
        self.assertIn("models: 1 integer fields where the spec says number "
                      "(sizes, counts, timestamps: TypeScript has one number type)", lines)
        self.assertIn("returns: 3/3 operations answering a modelled schema return that model", lines)

    def test_type_mismatch(self):
        ir = models_ir()
        model_type(ir, "Gadget")["fields"][3]["ty"] = S  # size
        self.assertModelFails(ir, "FAIL model Gadget.size: spec number, declared string")

    def test_untyped_json_where_the_spec_is_typed(self):
        ir = models_ir()
        model_type(ir, "Gadget")["fields"][6]["ty"] = V  # tags
        self.assertModelFails(ir, "FAIL model Gadget.tags: spec array<string>, declared untyped JSON")

    def test_enum_missing_a_spec_value(self):
        ir = models_ir()
        model_type(ir, "GadgetState")["variants"].pop()
        self.assertModelFails(ir, "FAIL model Gadget.state: spec values off missing from enum GadgetState")

    def test_parameter_enum_against_the_spec(self):
        def with_export(variants):
            ir = models_ir()
            ir["types"].append({"kind": "enum", "name": "ArchiveFormat", "source": "ArchiveFormat",
                                "doc": None, "variants": variants})
            fmt = param("format", "string", "path")
            fmt["value_type"] = named("ArchiveFormat")
            ir["operations"].append(op("export_gadget", "GET", "/gadgets/{id}.{format}",
                                       [param("id", "string", "path"), fmt],
                                       response={"kind": "binary"}))
            return ir
        lines, ok = check_models(with_export([["tar", "Tar"], ["zip", "Zip"]]))
        self.assertTrue(ok, lines)
        self.assertModelFails(with_export([["tar", "Tar"], ["rar", "Rar"]]),
                              "FAIL model export_gadget param `format` (ArchiveFormat): "
                              "spec values zip missing from enum ArchiveFormat",
                              "FAIL model export_gadget param `format` (ArchiveFormat): "
                              "sends rar, which ExportGadget does not accept")

    def test_spec_field_not_declared(self):
        ir = models_ir()
        model_type(ir, "GadgetPart")["fields"].pop()  # weight, only in one union branch
        self.assertModelFails(ir, "FAIL model GadgetPart.weight: in the spec, not declared")
        lines, ok = check_models(ir, model_tables(omitted={"GadgetPart.weight": "not needed"}))
        self.assertTrue(ok, lines)
        self.assertIn("OMITTED GadgetPart.weight: not needed", lines)

    def test_field_not_in_the_spec(self):
        ir = models_ir()
        model_type(ir, "Gadget")["fields"].append(field("colour", S))
        self.assertModelFails(ir, "FAIL model Gadget.colour: not in the spec")
        tables = model_tables(deliberate={"Series": "x", "Gadget.colour": "sent by newer servers"})
        lines, ok = check_models(ir, tables)
        self.assertTrue(ok, lines)
        self.assertIn("DELIBERATE Gadget.colour: not in the spec -- sent by newer servers", lines)

    def test_href_of_a_union_item_schema_is_a_spec_field(self):
        # WithHref_Partial_Gadget_ is allOf[anyOf[...], {href}]: href belongs
        # to every branch.
        ir = models_ir()
        model_type(ir, "Gadget")["fields"].pop(0)
        self.assertModelFails(ir, "FAIL model Gadget.href: in the spec, not declared")

    def test_alias_difference_not_explained(self):
        self.assertModelFails(models_ir(), "FAIL model Series (2 fields",
                              tables=model_tables(deliberate={}))

    def test_stale_table_entry(self):
        tables = model_tables(deliberate={"Series": "x", "Gadget.id": "no longer differs"})
        self.assertModelFails(models_ir(), "FAIL model table: `Gadget.id` matches no difference",
                              tables=tables)

    def test_type_compared_with_nothing(self):
        ir = models_ir()
        ir["types"].append(struct("Orphan", field("a", S)))
        self.assertModelFails(ir, "FAIL model Orphan: not compared with any spec schema")
        lines, ok = check_models(ir, model_tables(unmirrored={"Orphan": "no schema"}))
        self.assertTrue(ok, lines)
        self.assertIn("UNMIRRORED Orphan: no schema", lines)

    def test_mirror_of_a_missing_schema(self):
        tables = model_tables(mirrors={**model_tables().mirrors, "GadgetPower": ("NoSuchSchema",)})
        self.assertModelFails(models_ir(), "FAIL model GadgetPower: spec schema NoSuchSchema not found",
                              tables=tables)

    def test_returns_missing_or_wrong(self):
        ir = models_ir()
        find(ir, "get_gadget")["result"] = None
        find(ir, "get_gadget_stats")["result"] = named("Gadget")
        self.assertModelFails(ir, "FAIL returns get_gadget GET /gadgets/{id}: no `returns`; spec GetGadget "
                                  "answers Gadget",
                              "FAIL returns get_gadget_stats GET /gadgets/{id}/stats: declared Gadget, "
                              "spec GetGadgetStats answers GadgetStats")

    def test_main_with_models_flag(self):
        ir = models_ir()
        tables = model_tables()
        saved = {k: getattr(static_check, f"MODEL_{k.upper()}") for k in
                 ("mirrors", "deliberate", "omitted", "unmirrored")}
        try:
            for k in saved:
                setattr(static_check, f"MODEL_{k.upper()}", getattr(tables, k))
            with tempfile.TemporaryDirectory() as d:
                ir_path = Path(d) / "ir.json"
                ir_path.write_text(json.dumps(ir))
                out = io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                    code = static_check.main([str(ir_path), str(MODELS_SPEC), "--models",
                                              "--allow-uncovered", "--excluded", str(Path(d) / "none")])
            lines = out.getvalue().splitlines()
            self.assertEqual(lines[0], "conformance: 4/4 operations pass")
            self.assertIn("models: 13/15 fields match the official schemas", lines)
            self.assertEqual(code, 0, lines)
        finally:
            for k, v in saved.items():
                setattr(static_check, f"MODEL_{k.upper()}", v)


if __name__ == "__main__":
    unittest.main()
