#!/usr/bin/env python3
"""Longest functions of the generator and the runtime (issue: no function
over LIMIT lines).

A function's length counts the lines from its `fn` line to its closing
brace, comments and blank lines included (what a reader scrolls through).
Braces inside string and char literals and comments are ignored; a `fn`
without a body (a trait method's signature) is not counted.

    scripts/fn-length.py [--limit N] [--top K] [PATH ...]

PATHs default to the generator's and the runtime's sources. Exits 1 when a
function is longer than the limit (default 150), after listing the K
longest (default 10).
"""
import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_PATHS = ["xo-codegen/src", "xo-sdk/runtime", "xo-sdk/xo"]
FN = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:(?:async|const|unsafe|extern\s+\"C\")\s+)*fn\s+(\w+)")
LITERALS = re.compile(r'r#+".*?"#+|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])\'|//.*')


def functions(path):
    lines = path.read_text().split("\n")
    i = 0
    while i < len(lines):
        m = FN.match(lines[i])
        if not m:
            i += 1
            continue
        depth, opened, j = 0, False, i
        while j < len(lines):
            code = LITERALS.sub('""', lines[j])
            for ch in code:
                if ch == "{":
                    depth, opened = depth + 1, True
                elif ch == "}":
                    depth -= 1
                elif ch == ";" and not opened:
                    break
            else:
                if opened and depth == 0:
                    break
                j += 1
                continue
            break  # a `;` before any `{`: a signature without a body
        if opened:
            yield (j - i + 1, m.group(1), path, i + 1)
        i += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=150)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("paths", nargs="*")
    args = ap.parse_args()
    found = []
    for p in args.paths or DEFAULT_PATHS:
        p = ROOT / p
        for f in sorted(p.rglob("*.rs")) if p.is_dir() else [p]:
            found.extend(functions(f))
    found.sort(key=lambda t: -t[0])
    for n, name, f, line in found[: args.top]:
        print(f"{n:5} lines  {name}  {f.relative_to(ROOT)}:{line}")
    over = [t for t in found if t[0] > args.limit]
    print(f"{len(found)} functions; longest {found[0][0] if found else 0} lines; "
          f"{len(over)} over {args.limit}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
