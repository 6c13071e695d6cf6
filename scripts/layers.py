#!/usr/bin/env python3
"""The module graph of the runtime and the XO layer, checked for cycles.

A module is a file or a directory directly under xo-sdk/runtime or
xo-sdk/xo (`runtime/body`, `xo/task`, ...). The two `mod.rs` files are
facades (declarations and `pub use` lines only): a path through a facade,
`crate::runtime::ByteStream`, counts as a use of the module that defines the
item, found from the facade's `pub use` lines.

Edges come from the paths written in the code, tests included:
`use super::x`, `super::x::f()`, `crate::runtime::x`, `crate::xo::x`, and
the crate root's re-exports of the runtime (`crate::Error`). `super` and
`self` are resolved against inline modules (`mod tests { use super::*; }`
is a module's use of itself, not an edge). Paths to generated code
(`crate::types`) and to other crates are outside the graph.

    scripts/layers.py [--quiet]

Prints the modules layer by layer, bottom first (a module's layer is one
above the highest layer it uses), each with what it uses. Exits 1 when
modules use each other in a cycle (each cycle is printed) or when the
runtime uses the XO layer, which sits above it.
"""
import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "xo-sdk"
LAYERS = ["runtime", "xo"]

# Comments, then string and char literals, blanked out before parsing
# (their text may hold `super::` or braces). A lifetime (`'a`) is not a
# char literal: a char literal closes within a character or an escape.
COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
LITERAL = re.compile(r'r(#*)".*?"\1|b?"(?:\\.|[^"\\])*"|b?\'(?:\\.|[^\'\\]|\\u\{[0-9a-fA-F]+\})\'', re.S)
TOKEN = re.compile(r"\bmod\s+(\w+)\s*\{|\buse\b|[{};]|\b(?:crate|super|self)(?:\s*::\s*\w+)+")


def strip(text):
    text = LITERAL.sub('""', text)
    return COMMENT.sub(" ", text)


def use_paths(tree, prefix=()):
    """The paths of a `use` tree (`a::{b, c::{d as e}}` -> a::b, a::c::d)."""
    tree = tree.strip()
    depth, start, parts = 0, 0, []
    brace = tree.find("{")
    if brace < 0:
        head = tree.split(" as ")[0].strip()
        return [prefix + tuple(p.strip() for p in head.split("::") if p.strip())]
    head = tuple(p.strip() for p in tree[:brace].split("::") if p.strip())
    inner = tree[brace + 1 : tree.rfind("}")]
    for i, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    out = []
    for p in parts:
        if p.strip():
            out.extend(use_paths(p, prefix + head))
    return out


def file_module(path):
    """The module path of a source file: ('runtime', 'body'), ('xo',), ..."""
    rel = path.relative_to(SRC).with_suffix("").parts
    if rel[-1] == "mod":
        rel = rel[:-1]
    return tuple(rel)


def scan(path):
    """Every (module path where it is written, absolute path) in a file."""
    text = strip(path.read_text())
    base = file_module(path)
    stack, depth, found = [], 0, []
    pos = 0
    while True:
        m = TOKEN.search(text, pos)
        if not m:
            return found
        tok = m.group(0)
        here = base + tuple(name for name, _ in stack)
        if m.group(1):
            depth += 1
            stack.append((m.group(1), depth))
            pos = m.end()
        elif tok == "{":
            depth += 1
            pos = m.end()
        elif tok == "}":
            if stack and stack[-1][1] == depth:
                stack.pop()
            depth -= 1
            pos = m.end()
        elif tok == ";":
            pos = m.end()
        elif tok == "use":
            end = text.index(";", m.end())
            tree = text[m.end() : end]
            for p in use_paths(tree):
                found.append(resolve(here, p))
            pos = end + 1
        else:
            parts = tuple(p.strip() for p in tok.split("::"))
            found.append(resolve(here, parts))
            pos = m.end()


def resolve(here, parts):
    """An absolute path (crate-relative tuple) or None for other crates."""
    if not parts:
        return None
    if parts[0] == "crate":
        return tuple(parts[1:])
    if parts[0] in ("super", "self"):
        cur = list(here)
        i = 0
        while i < len(parts) and parts[i] in ("super", "self"):
            if parts[i] == "super":
                cur.pop()
            i += 1
        return tuple(cur) + tuple(parts[i:])
    return None  # an external crate, std, or a name in scope


def facade_exports(path):
    """Name -> (module path of the definer) for a facade's `pub use` lines."""
    out = {}
    base = file_module(path)
    text = strip(path.read_text())
    for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", text):
        for p in use_paths(m.group(1)):
            if not p or p[-1] == "*":
                continue
            alias = p[-1]
            alias_m = re.search(r"\b" + re.escape(alias) + r"\s+as\s+(\w+)", m.group(1))
            name = alias_m.group(1) if alias_m else alias
            full = resolve(base, p) if p[0] in ("crate", "super", "self") else base + p
            out[name] = full
    return out


def shortest_cycle(start, members, edges):
    """The shortest path from `start` back to itself inside one component."""
    prev, queue = {}, [start]
    for v in queue:
        for w in sorted(edges[v]):
            if w not in members:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return path[::-1] + [start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return [start]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quiet", action="store_true", help="print only failures")
    args = ap.parse_args()

    modules = set()
    files = {}
    for layer in LAYERS:
        for f in sorted((SRC / layer).rglob("*.rs")):
            mod = file_module(f)
            if len(mod) >= 2:
                key = mod[:2]
                modules.add(key)
                files.setdefault(key, []).append(f)
    facades = {(layer,): facade_exports(SRC / layer / "mod.rs") for layer in LAYERS}
    facades[()] = facade_exports(SRC / "lib.rs")

    def owner(path, seen=0):
        """The graph module a crate path lands in, through facades."""
        if seen > 8 or not path:
            return None
        if path[:2] in modules:
            return path[:2]
        for n in range(min(len(path), 2), -1, -1):
            head = path[:n]
            if head in facades and len(path) > n and path[n] in facades[head]:
                return owner(facades[head][path[n]] + path[n + 1 :], seen + 1)
        return None

    edges = {m: set() for m in modules}
    for mod, fs in files.items():
        for f in fs:
            for path in scan(f):
                target = owner(path) if path is not None else None
                if target and target != mod:
                    edges[mod].add(target)

    name = "/".join
    failures = []
    for m in sorted(modules):
        for t in sorted(edges[m]):
            if m[0] == "runtime" and t[0] == "xo":
                failures.append(f"the runtime uses the XO layer: {name(m)} -> {name(t)}")

    # Tarjan's strongly connected components: any with two modules or more
    # is a cycle.
    index, low, on, stack, sccs, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(modules):
        if v not in index:
            visit(v)
    comp_of = {m: i for i, c in enumerate(sccs) for m in c}
    for c in sccs:
        if len(c) > 1:
            failures.append(
                f"cycle between {', '.join(map(name, c))}; "
                f"the shortest through {name(c[0])}: "
                + " -> ".join(map(name, shortest_cycle(c[0], set(c), edges)))
                + "; its edges: "
                + ", ".join(f"{name(a)} -> {name(b)}" for a in c for b in sorted(edges[a]) if b in c)
            )

    # Layers over the graph of components (acyclic by construction).
    level = {}

    def lvl(i):
        if i not in level:
            level[i] = 0
            deps = {comp_of[t] for m in sccs[i] for t in edges[m]} - {i}
            level[i] = 1 + max((lvl(d) for d in deps), default=-1)
        return level[i]

    if not args.quiet:
        by_level = {}
        for i, c in enumerate(sccs):
            by_level.setdefault(lvl(i), []).extend(c)
        for n in sorted(by_level):
            print(f"layer {n}:")
            for m in sorted(by_level[n]):
                uses = ", ".join(name(t) for t in sorted(edges[m])) or "-"
                print(f"  {name(m):24} uses {uses}")
        count = sum(len(e) for e in edges.values())
        print(f"{len(modules)} modules, {count} edges, {len(by_level)} layers")
    for f in failures:
        print(f"error: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
