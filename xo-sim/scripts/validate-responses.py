#!/usr/bin/env python3
"""Check xo-sim's responses against XO's official OpenAPI document.

Starts nothing: point it at a running simulator.

    scripts/validate-responses.py SWAGGER_JSON BASE_URL TOKEN

For every GET operation of the document it substitutes path parameters with
ids taken from the simulator, requests the route (collections with
fields=*), and validates 200 JSON bodies against the documented response
schema (OpenAPI 3.0 converted to JSON Schema: `nullable`). Prints one line
per violation and a closing 'N passed, N failed' line. Needs `jsonschema`.
"""
import json
import sys
import urllib.request
import urllib.error

import jsonschema


def convert(node):
    if isinstance(node, dict):
        out = {k: convert(v) for k, v in node.items() if k not in ("example", "examples")}
        if out.pop("nullable", False):
            if "type" in out:
                out["type"] = [out["type"], "null"]
            elif "enum" in out:
                out["enum"] = list(out["enum"]) + [None]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
        if out.get("format") in ("double", "float", "int32", "int64", "byte", "date-time"):
            out.pop("format")
        return out
    if isinstance(node, list):
        return [convert(v) for v in node]
    return node


def get(base, token, path):
    req = urllib.request.Request(base + path, headers={"Cookie": f"authenticationToken={token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def main():
    spec_path, base, token = sys.argv[1], sys.argv[2].rstrip("/") + "/rest/v0", sys.argv[3]
    spec = json.load(open(spec_path))
    comps = convert(spec["components"]["schemas"])

    def first(coll, flt=None):
        q = "?fields=id" + (f"&filter={flt}" if flt else "")
        st, _, body = get(base, token, f"/{coll}{q}")
        items = json.loads(body) if st == 200 else []
        return items[0]["id"] if items else "missing"

    ids = {}
    passed = failed = 0
    for path, ops in spec["paths"].items():
        op = ops.get("get")
        if not op or path in ("/events", "/docs/swagger.json"):
            continue
        if path.endswith(("audit.txt", "logs.tgz", ".{format}")) or "{data_source}" in path:
            continue
        segs = path.strip("/").split("/")
        coll = segs[0]
        if coll in ("backup", "restore"):
            sub = {"jobs/vm": ("backup-jobs", "type:backup"), "jobs/metadata": ("backup-jobs", "type:metadataBackup"),
                   "jobs/mirror": ("backup-jobs", "type:mirrorBackup"), "logs": (coll + "-logs", None)}
            key = "/".join(segs[1:3]) if segs[1] == "jobs" else segs[1]
            coll, flt = sub[key]
        else:
            flt = {"vms": "power_state:Running"}.get(coll)
        if "{id}" in path:
            k = (coll, flt)
            if k not in ids:
                ids[k] = first(coll, flt)
            real = path.replace("{id}", urllib.request.quote(ids[k], safe=""))
        else:
            real = path
        params = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        if "fields" in params:
            real += "?fields=*"
        st, ct, body = get(base, token, real)
        if st != 200:
            print(f"FAIL {path}: status {st} {body[:200]!r}")
            failed += 1
            continue
        schema = op["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            passed += 1
            continue
        root = dict(convert(schema))
        root["components"] = {"schemas": comps}
        try:
            value = json.loads(body)
        except ValueError:
            print(f"FAIL {path}: not JSON ({ct})")
            failed += 1
            continue
        errors = list(jsonschema.Draft7Validator(root).iter_errors(value))
        if errors:
            failed += 1
            best = sorted(errors, key=lambda e: len(list(e.absolute_path)))
            for e in best[:3]:
                loc = "/".join(str(p) for p in e.absolute_path)
                print(f"FAIL {path} at {loc}: {e.message[:300]}")
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
