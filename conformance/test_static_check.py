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

ERRORS = {
    "message_path": "$.error",
    "code_path": "$.data",
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
        "returns": None,
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


if __name__ == "__main__":
    unittest.main()
