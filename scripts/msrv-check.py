#!/usr/bin/env python3
"""The minimum supported Rust version, checked as far as a machine with
only recent toolchains allows (no 1.85 toolchain can be installed here):

1. every package in the lock file (dependencies of every member, dev ones
   included) declares a `rust-version` at or below ours, or none;
2. no syntax newer than our MSRV in our sources: let chains (`if let ..
   && let ..`, Rust 1.88);
3. std APIs newer than our MSRV are caught by clippy's `incompatible_msrv`
   lint, which reads `rust-version` and runs (as an error) in
   scripts/check.sh.

Exits 1 on a finding.
"""
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def version(s):
    return tuple(int(x) for x in s.split(".")[:3]) + (0,) * (3 - len(s.split(".")[:3]))


def main():
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1"], cwd=ROOT))
    members = set(meta["workspace_members"])
    ours = {p["rust_version"] for p in meta["packages"] if p["id"] in members}
    if len(ours) != 1 or None in ours:
        print(f"members disagree on rust-version: {ours}")
        return 1
    msrv = ours.pop()
    findings = []
    deps = [p for p in meta["packages"] if p["id"] not in members]
    for p in deps:
        rv = p.get("rust_version")
        if rv and version(rv) > version(msrv):
            findings.append(f"{p['name']} {p['version']} needs Rust {rv}")
    let_chain = re.compile(r"\b(if|while)\s+let\b[^{;]*&&\s*let\b")
    sources = 0
    for d in ["xo-sdk", "xo-codegen", "xo-sim", "xo-prism", "xo-cli", "build.rs"]:
        base = ROOT / d
        for f in ([base] if base.is_file() else base.rglob("*.rs")):
            sources += 1
            for n, line in enumerate(f.read_text().splitlines(), 1):
                if let_chain.search(line):
                    findings.append(f"{f.relative_to(ROOT)}:{n}: let chain (Rust 1.88)")
    print(f"MSRV {msrv}: {len(deps)} dependency packages checked, {sources} source files; "
          f"{len(findings)} findings")
    for f in findings:
        print("  " + f)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
