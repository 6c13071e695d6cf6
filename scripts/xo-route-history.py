#!/usr/bin/env python3
"""Which XO release first has each operation's route? Checks `requires` hints.

Reads the route decorators of @xen-orchestra/rest-api (the tsoa controllers,
`@Route('vms')` + `@Get('{id}/stats')`, ...) at a series of release commits
of a local clone of vatesfr/xen-orchestra, then, for every operation of an
IR printed by `xo-codegen ir`, finds the first release whose route set
contains it and compares with the operation's `requires` hint.

  cargo run -q -p xo-codegen -- ir dadl/xen-orchestra.dadl \\
      --overlay dadl/xen-orchestra.errata.yaml > /tmp/ir.json
  scripts/xo-route-history.py --repo ~/src/xen-orchestra /tmp/ir.json

Prints one line per operation (tool, first release, hint) and `MISMATCH`
lines; exits 1 on a mismatch. Routes registered outside the controllers
(/docs/swagger.json, plugin routes) are reported as `not-a-controller`.
Release commits are the "feat: release X.Y.Z" merges; override them with
--release NAME=COMMIT (repeatable). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys

RELEASES = [
    ("6.4.0", "ad85a881dd"),
    ("6.4.1", "7e144234b9"),
    ("6.5.0", "2b887158ba"),
    ("6.6.0", "f3b2ac5983"),
    ("6.7.0", "1a795970f9"),
    ("6.7.1", "40dede9e11"),
]
CONTROLLERS = "@xen-orchestra/rest-api/src"
DECORATOR = re.compile(r"@(Route|Get|Post|Put|Patch|Delete)\(\s*(?:'([^']*)'|\"([^\"]*)\")?\s*\)")


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout


def normalize(method: str, path: str) -> str:
    """METHOD + path with placeholders and file-format suffixes erased."""
    path = re.sub(r"\{[^}]*\}", "{}", path)
    path = re.sub(r"\{\}\.(xva|ova|vhd|raw)$", "{}.{}", path)
    return f"{method.upper()} {path}"


def routes_at(repo: str, commit: str) -> set[str]:
    files = [f for f in git(repo, "ls-tree", "-r", "--name-only", commit, CONTROLLERS).split()
             if f.endswith(".controller.mts")]
    out = set()
    for f in files:
        base = None
        for m in DECORATOR.finditer(git(repo, "show", f"{commit}:{f}")):
            kind, arg = m.group(1), m.group(2) or m.group(3) or ""
            if kind == "Route":
                base = arg
            elif base is not None:
                path = "/" + "/".join(p for p in (base.strip("/"), arg.strip("/")) if p)
                out.add(normalize(kind, path))
    return out


def label(release: str) -> str:
    major_minor = ".".join(release.split(".")[:2])
    return f"XO {major_minor} or later"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ir", help="IR JSON from `xo-codegen ir`")
    ap.add_argument("--repo", required=True, help="local clone of vatesfr/xen-orchestra")
    ap.add_argument("--release", action="append", default=[], metavar="NAME=COMMIT",
                    help="release commits to use instead of the built-in list")
    ap.add_argument("--hint", default="requires", help="hint key to compare (default: requires)")
    args = ap.parse_args(argv)

    releases = [tuple(r.split("=", 1)) for r in args.release] or RELEASES
    with open(args.ir, encoding="utf-8") as fh:
        ir = json.load(fh)
    history = [(name, routes_at(args.repo, commit)) for name, commit in releases]
    head = routes_at(args.repo, "HEAD")
    for (name, routes), (prev_name, prev) in zip(history[1:], history):
        added = sorted(routes - prev)
        print(f"# {prev_name} -> {name}: +{len(added)} routes", file=sys.stderr)

    mismatches = 0
    for op in ir["operations"]:
        key = normalize(op["http_method"], op["path"])
        first = next((name for name, routes in history if key in routes), None)
        if first is None:
            first = "after-" + history[-1][0] if key in head else "not-a-controller"
        hint = dict(op.get("hints") or []).get(args.hint)
        expected = label(first) if first[0].isdigit() else None
        flag = ""
        # a patch release must be named in the hint ("XO 6.7.1 ..."), a
        # minor release is written "XO 6.5 or later"
        patch = first[0].isdigit() and not first.endswith(".0")
        ok = hint is not None and (first in hint if patch else hint == expected)
        if expected is not None and not ok:
            flag = f"  MISMATCH (expected {expected!r})"
            mismatches += 1
        print(f"{op['tool']}\t{first}\t{hint}{flag}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
