#!/usr/bin/env python3
"""Print the public API of a crate, one item a line, from rustdoc's JSON.

Usage: scripts/public-api.py target/doc/xo_sdk.json > api.txt

The JSON comes from
    RUSTC_BOOTSTRAP=1 cargo rustdoc -p xo-sdk --lib -- -Z unstable-options --output-format json
(see scripts/public-api.sh, which also compares the result with the committed
snapshot api/xo-sdk.public-api.txt).

What is listed, each line starting with the item's kind:

* every public item reachable from the crate root (mod, struct, enum, union,
  trait, fn, const, static, type alias, macro, ...), at its public path;
* public struct fields with their types, enum variants with their fields;
* methods and associated consts/types of inherent impls, the items of traits;
* trait impls of the listed types, and impls of the crate's traits for other
  types (`impl Trait for Type`), with their associated types. Blanket impls
  (`impl<T> From<T> for T` and the like), auto-trait impls (`Send`, `Sync`,
  ...), other compiler-synthesized impls and the `StructuralPartialEq`
  marker of `#[derive(PartialEq)]` are left out, so that the list only
  changes when the crate's own code does.

An item reachable at several paths (`pub use` re-exports) is listed in full at
one path, its canonical one, and as a `use ALIAS = CANONICAL` line at every
other path. The canonical path is where the item is defined if that module is
public; otherwise the shortest path not through a `prelude` module (then
alphabetical order breaks ties). Types in signatures name
crate items by their canonical path and foreign items by the path rustdoc
records for them (where they are defined, e.g. `alloc::string::String`).

Constant values and discriminant expressions are not shown (only types), and
neither are docs, spans or ids: the output is sorted and deterministic. An
item kind this script does not know is printed with its kind name.

Python 3.11, standard library only.
"""

from __future__ import annotations

import json
import sys

# The rustdoc JSON format versions this script was written against. Other
# versions are tried all the same (the parts read here rarely change), with a
# warning on stderr.
KNOWN_FORMAT_VERSIONS = {57}

# Trait impls left out: compiler-internal markers that `#[derive(PartialEq)]`
# adds next to the `PartialEq` impl (already listed).
SKIPPED_TRAITS = {"core::marker::StructuralPartialEq"}


def die(msg: str) -> None:
    print(f"public-api.py: {msg}", file=sys.stderr)
    sys.exit(2)


def only_key(obj):
    """The variant name and payload of a serde externally-tagged enum value."""
    if isinstance(obj, str):
        return obj, None
    if isinstance(obj, dict) and len(obj) == 1:
        k = next(iter(obj))
        return k, obj[k]
    return None, obj


class Api:
    def __init__(self, krate: dict):
        self.k = krate
        self.index: dict = krate["index"]
        self.paths: dict = krate.get("paths", {})
        self.crate_id = self.item(krate["root"]).get("crate_id", 0)
        # id -> set of public paths (tuples of segments)
        self.public_paths: dict[str, set[tuple[str, ...]]] = {}
        self.canonical: dict[str, tuple[str, ...]] = {}
        self.lines: list[tuple[tuple, int, str]] = []

    # ---------------------------------------------------------------- lookup

    def item(self, id_):
        return self.index.get(str(id_))

    @staticmethod
    def kind(item) -> str:
        k, _ = only_key(item.get("inner"))
        return k or "unknown"

    @staticmethod
    def inner(item):
        _, v = only_key(item.get("inner"))
        return v

    def path_of_id(self, id_, fallback: str) -> str:
        """How a type or trait referred to by id is written in the listing."""
        if id_ is not None:
            key = str(id_)
            if key in self.canonical:
                return "::".join(self.canonical[key])
            summary = self.paths.get(key)
            if summary and summary.get("path"):
                return "::".join(summary["path"])
        return fallback

    # ---------------------------------------------------------- reachability

    def walk(self, visit):
        """Call visit(id, path, via_use) for every public item reachable from
        the root, following modules, `pub use` and glob re-exports."""
        root = self.item(self.k["root"])
        root_name = root.get("name") or "crate"
        seen: set[tuple[str, tuple[str, ...]]] = set()

        def module_items(mod_item):
            m = self.inner(mod_item) or {}
            return m.get("items", []) if isinstance(m, dict) else []

        def go_module(mod_id, path, stack):
            for cid in module_items(self.item(mod_id)):
                child = self.item(cid)
                if child is None:
                    continue
                go_item(cid, child, path, stack)

        def go_item(cid, child, path, stack):
            k = self.kind(child)
            if k == "impl":
                return
            if k == "use":
                u = self.inner(child)
                if child.get("visibility") != "public":
                    return
                target_id = u.get("id")
                target = self.item(target_id) if target_id is not None else None
                if u.get("is_glob"):
                    if target is None:
                        visit(None, path + ("*",), {"use": u})
                        return
                    if str(target_id) in stack:
                        return
                    tk = self.kind(target)
                    if tk == "module":
                        go_module(target_id, path, stack | {str(target_id)})
                    elif tk == "enum":
                        # `pub use Enum::*`: the variants, named by their enum.
                        for vid in (self.inner(target) or {}).get("variants", []):
                            v = self.item(vid)
                            if v is not None:
                                vname = v.get("name") or "?"
                                visit(None, path + (vname,), {"variant": (str(target_id), vname)})
                    return
                name = u.get("name")
                new_path = path + (name,)
                if target is None:
                    # Re-export of a foreign item (or of a primitive).
                    visit(None, new_path, {"use": u})
                    return
                emit_at(target_id, target, new_path, stack)
                return
            if child.get("visibility") != "public":
                return
            name = child.get("name")
            if name is None:
                return
            emit_at(cid, child, path + (name,), stack)

        def emit_at(cid, child, path, stack):
            key = (str(cid), path)
            if key in seen:
                return
            seen.add(key)
            descend = visit(str(cid), path, None)
            if descend is not False and self.kind(child) == "module" and str(cid) not in stack:
                go_module(cid, path, stack | {str(cid)})

        visit(str(self.k["root"]), (root_name,), None)
        go_module(self.k["root"], (root_name,), {str(self.k["root"])})

    def compute_canonical(self):
        def visit(id_, path, _use):
            if id_ is not None:
                self.public_paths.setdefault(id_, set()).add(path)

        self.walk(visit)
        for id_, ps in self.public_paths.items():
            summary = self.paths.get(id_) or {}
            home = tuple(summary.get("path") or ())

            def rank(p, home=home):
                # Where it is defined, if that is public; else not through a
                # prelude; then the shortest path; then alphabetical.
                return (p != home, "prelude" in p[:-1], len(p), p)

            self.canonical[id_] = min(ps, key=rank)

    # ------------------------------------------------------------- rendering

    def ty(self, t) -> str:
        if t is None:
            return "()"
        k, v = only_key(t)
        if k == "resolved_path":
            return self.path(v)
        if k == "generic":
            return v
        if k == "primitive":
            return v
        if k == "tuple":
            if len(v) == 1:
                return f"({self.ty(v[0])},)"
            return "(" + ", ".join(self.ty(x) for x in v) + ")"
        if k == "slice":
            return f"[{self.ty(v)}]"
        if k == "array":
            return f"[{self.ty(v.get('type'))}; {v.get('len')}]"
        if k == "pat":
            return f"{self.ty(v.get('type'))} is _"
        if k == "borrowed_ref":
            lt = v.get("lifetime")
            s = "&"
            if lt:
                s += lt + " "
            if v.get("is_mutable"):
                s += "mut "
            return s + self.ty_prec(v.get("type"))
        if k == "raw_pointer":
            return ("*mut " if v.get("is_mutable") else "*const ") + self.ty_prec(v.get("type"))
        if k == "impl_trait":
            return "impl " + self.bounds(v)
        if k == "dyn_trait":
            parts = [self.poly_trait(p) for p in v.get("traits", [])]
            if v.get("lifetime"):
                parts.append(v["lifetime"])
            return "dyn " + " + ".join(parts)
        if k == "function_pointer":
            return self.fn_pointer(v)
        if k == "qualified_path":
            self_ty = self.ty(v.get("self_type"))
            tr = v.get("trait")
            name = v.get("name", "?") + self.generic_args(v.get("args"))
            if tr is None:
                return f"{self_ty}::{name}"
            tp = self.path(tr)
            if not tp:
                return f"{self_ty}::{name}"
            return f"<{self_ty} as {tp}>::{name}"
        if k == "infer":
            return "_"
        return f"<{k}>"

    def ty_prec(self, t) -> str:
        """A type behind & or *: parenthesize `dyn A + B` / `impl A + B`."""
        s = self.ty(t)
        k, v = only_key(t)
        if k in ("dyn_trait", "impl_trait") and " + " in s:
            return f"({s})"
        return s

    def path(self, p) -> str:
        if p is None:
            return "?"
        base = self.path_of_id(p.get("id"), p.get("path", "?"))
        return base + self.generic_args(p.get("args"))

    def generic_args(self, a) -> str:
        if not a:
            return ""
        k, v = only_key(a)
        if k == "angle_bracketed":
            parts = [self.generic_arg(x) for x in v.get("args", [])]
            parts += [self.constraint(c) for c in v.get("constraints", [])]
            return "<" + ", ".join(parts) + ">" if parts else ""
        if k == "parenthesized":
            s = "(" + ", ".join(self.ty(x) for x in v.get("inputs", [])) + ")"
            if v.get("output") is not None:
                s += " -> " + self.ty(v["output"])
            return s
        if k == "return_type_notation":
            return "(..)"
        return f"<{k}>"

    def generic_arg(self, a) -> str:
        k, v = only_key(a)
        if k == "lifetime":
            return v
        if k == "type":
            return self.ty(v)
        if k == "const":
            return "{ " + (v.get("expr") or "_") + " }" if isinstance(v, dict) else str(v)
        if k == "infer":
            return "_"
        return f"<{k}>"

    def constraint(self, c) -> str:
        name = c.get("name", "?") + self.generic_args(c.get("args"))
        k, v = only_key(c.get("binding"))
        if k == "equality":
            return f"{name} = {self.term(v)}"
        if k == "constraint":
            return f"{name}: {self.bounds(v)}"
        return f"{name} <{k}>"

    def term(self, t) -> str:
        k, v = only_key(t)
        if k == "type":
            return self.ty(v)
        if k == "constant":
            return v.get("expr", "_") if isinstance(v, dict) else str(v)
        return f"<{k}>"

    def bounds(self, bs) -> str:
        return " + ".join(self.bound(b) for b in bs or [])

    def bound(self, b) -> str:
        k, v = only_key(b)
        if k == "trait_bound":
            s = self.hrtb(v.get("generic_params"))
            mod = v.get("modifier")
            if mod == "maybe":
                s += "?"
            elif mod == "maybe_const":
                s += "[const] "
            return s + self.path(v.get("trait"))
        if k == "outlives":
            return v
        if k == "use":
            args = []
            for a in v:
                ak, av = only_key(a)
                args.append(av if isinstance(av, str) else str(a))
            return "use<" + ", ".join(args) + ">"
        return f"<{k}>"

    def poly_trait(self, p) -> str:
        return self.hrtb(p.get("generic_params")) + self.path(p.get("trait"))

    def hrtb(self, params) -> str:
        if not params:
            return ""
        return "for<" + ", ".join(self.generic_param(p) for p in params) + "> "

    def generic_param(self, p) -> str:
        name = p.get("name", "?")
        k, v = only_key(p.get("kind"))
        if k == "lifetime":
            out = v.get("outlives") or []
            return name + (": " + " + ".join(out) if out else "")
        if k == "type":
            s = name
            if v.get("bounds"):
                s += ": " + self.bounds(v["bounds"])
            if v.get("default") is not None:
                s += " = " + self.ty(v["default"])
            return s
        if k == "const":
            s = f"const {name}: {self.ty(v.get('type'))}"
            if v.get("default") is not None:
                s += " = " + str(v["default"])
            return s
        return f"{name} <{k}>"

    def generics(self, g) -> str:
        """`<...>` of the declared (not synthetic `impl Trait`) parameters."""
        if not g:
            return ""
        params = []
        for p in g.get("params", []):
            k, v = only_key(p.get("kind"))
            if k == "type" and v.get("is_synthetic"):
                continue
            params.append(self.generic_param(p))
        return "<" + ", ".join(params) + ">" if params else ""

    def where_clause(self, g) -> str:
        if not g or not g.get("where_predicates"):
            return ""
        preds = []
        for w in g["where_predicates"]:
            k, v = only_key(w)
            if k == "bound_predicate":
                preds.append(
                    self.hrtb(v.get("generic_params"))
                    + self.ty(v.get("type"))
                    + ": "
                    + self.bounds(v.get("bounds"))
                )
            elif k == "lifetime_predicate":
                preds.append(v.get("lifetime", "?") + ": " + " + ".join(v.get("outlives") or []))
            elif k == "eq_predicate":
                preds.append(self.ty(v.get("lhs")) + " = " + self.term(v.get("rhs")))
            else:
                preds.append(f"<{k}>")
        return " where " + ", ".join(preds)

    def header(self, h) -> str:
        if not h:
            return ""
        s = ""
        if h.get("is_const"):
            s += "const "
        if h.get("is_async"):
            s += "async "
        if h.get("is_unsafe"):
            s += "unsafe "
        abi = h.get("abi", "Rust")
        if abi != "Rust":
            k, v = only_key(abi)
            if k == "Other":
                s += f'extern "{v}" '
            elif k is not None:
                name = k if k != "SysV64" else "sysv64"
                name = name.lower() if name not in ("C",) else "C"
                if isinstance(v, dict) and v.get("unwind"):
                    name += "-unwind"
                s += f'extern "{name}" '
        return s

    def params(self, sig) -> str:
        out = []
        for name, t in sig.get("inputs", []):
            if name == "self":
                k, v = only_key(t)
                if k == "generic" and v == "Self":
                    out.append("self")
                    continue
                if k == "borrowed_ref" and only_key(v.get("type")) == ("generic", "Self"):
                    s = "&"
                    if v.get("lifetime"):
                        s += v["lifetime"] + " "
                    if v.get("is_mutable"):
                        s += "mut "
                    out.append(s + "self")
                    continue
            out.append(f"{name}: {self.ty(t)}")
        if sig.get("is_c_variadic"):
            out.append("...")
        return "(" + ", ".join(out) + ")"

    def fn_pointer(self, f) -> str:
        s = self.hrtb(f.get("generic_params")) + self.header(f.get("header")) + "fn"
        sig = f.get("sig", {})
        s += "(" + ", ".join(
            (f"{n}: " if n and n != "_" else "") + self.ty(t) for n, t in sig.get("inputs", [])
        )
        if sig.get("is_c_variadic"):
            s += ", ..."
        s += ")"
        if sig.get("output") is not None:
            s += " -> " + self.ty(sig["output"])
        return s

    def fn_sig(self, f) -> str:
        sig = f.get("sig", {})
        s = self.generics(f.get("generics")) + self.params(sig)
        if sig.get("output") is not None:
            s += " -> " + self.ty(sig["output"])
        return s + self.where_clause(f.get("generics"))

    # -------------------------------------------------------------- emitting

    def add(self, path: tuple[str, ...], rank: int, line: str):
        self.lines.append((path, rank, line))

    @staticmethod
    def p(path) -> str:
        return "::".join(path)

    def attrs_prefix(self, item) -> str:
        for a in item.get("attrs", []):
            k, _ = only_key(a)
            if k == "non_exhaustive" or a == "#[non_exhaustive]":
                return "#[non_exhaustive] "
        return ""

    def deprecated(self, item) -> str:
        return " #[deprecated]" if item.get("deprecation") else ""

    def emit(self):
        self.impl_owners: dict[str, set[tuple[str, ...]]] = {}

        def visit(id_, path, use):
            if id_ is None and "variant" in use:
                enum_id, vname = use["variant"]
                enum_path = self.path_of_id(enum_id, "?")
                self.add(path, 0, f"use {self.p(path)} = variant {enum_path}::{vname}")
                return
            if id_ is None:
                u = use["use"]
                src = u.get("source", "?")
                target = u.get("id")
                if target is not None:
                    src = self.path_of_id(target, src)
                if u.get("is_glob"):
                    self.add(path[:-1], 1, f"use {self.p(path)} = {src}::*")
                else:
                    self.add(path, 0, f"use {self.p(path)} = {src}")
                return
            item = self.item(id_)
            canon = self.canonical.get(id_, path)
            if path != canon:
                # A re-export: one line; the item (and a module's contents)
                # is listed at its canonical path.
                self.add(path, 0, f"use {self.p(path)} = {self.kind_label(item)} {self.p(canon)}")
                return False
            self.emit_item(id_, item, path)
            return True

        self.walk(visit)
        for impl_id in sorted(self.impl_owners, key=int):
            owner = min(self.impl_owners[impl_id], key=lambda p: (len(p), p))
            line = self.impl_line(self.item(impl_id))
            if line is not None:
                self.add(owner, 1, line)

    def kind_label(self, item) -> str:
        k = self.kind(item)
        return {
            "module": "mod",
            "function": "fn",
            "constant": "const",
            "type_alias": "type",
            "struct_field": "field",
            "assoc_const": "assoc const",
            "assoc_type": "assoc type",
            "proc_macro": "proc macro",
        }.get(k, k)

    def emit_item(self, id_, item, path):
        k = self.kind(item)
        v = self.inner(item)
        P = self.p(path)
        pre = self.attrs_prefix(item)
        dep = self.deprecated(item)
        if k == "module":
            label = "crate" if (v or {}).get("is_crate") else "mod"
            self.add(path, 0, f"{label} {P}{dep}")
        elif k == "struct":
            g = v.get("generics")
            sk, sv = only_key(v.get("kind"))
            line = f"{pre}struct {P}{self.generics(g)}"
            if sk == "tuple":
                fields = []
                for fid in sv:
                    fi = self.item(fid) if fid is not None else None
                    fields.append(self.ty(self.inner(fi)) if fi is not None else "_")
                line += "(" + ", ".join(fields) + ")"
                for fid in sv:
                    fi = self.item(fid) if fid is not None else None
                    if fi is not None:
                        self.emit_field(fi, path)
            elif sk == "plain":
                for fid in sv.get("fields", []):
                    fi = self.item(fid)
                    if fi is not None:
                        self.emit_field(fi, path)
            elif sk == "unit":
                pass
            line += self.where_clause(g)
            self.add(path, 0, line + dep)
            self.collect_impls(v.get("impls", []), path)
        elif k == "union":
            g = v.get("generics")
            self.add(path, 0, f"{pre}union {P}{self.generics(g)}{self.where_clause(g)}{dep}")
            for fid in v.get("fields", []):
                fi = self.item(fid)
                if fi is not None:
                    self.emit_field(fi, path)
            self.collect_impls(v.get("impls", []), path)
        elif k == "enum":
            g = v.get("generics")
            self.add(path, 0, f"{pre}enum {P}{self.generics(g)}{self.where_clause(g)}{dep}")
            for vid in v.get("variants", []):
                vi = self.item(vid)
                if vi is not None:
                    self.emit_variant(vi, path + (vi.get("name") or "?",))
            self.collect_impls(v.get("impls", []), path)
        elif k == "variant":
            # Reached through a glob re-export of an enum's variants.
            self.emit_variant(item, path)
        elif k == "trait":
            g = v.get("generics")
            line = "unsafe " if v.get("is_unsafe") else ""
            line += "auto " if v.get("is_auto") else ""
            line += f"trait {P}{self.generics(g)}"
            if v.get("bounds"):
                line += ": " + self.bounds(v["bounds"])
            line += self.where_clause(g)
            self.add(path, 0, line + dep)
            for iid in v.get("items", []):
                ii = self.item(iid)
                if ii is not None:
                    self.emit_assoc(ii, path + (ii.get("name") or "?",), in_trait=True)
            for impl_id in v.get("implementations", []):
                self.impl_owners.setdefault(str(impl_id), set()).add(path)
        elif k == "trait_alias":
            g = v.get("generics")
            self.add(path, 0, f"trait {P}{self.generics(g)} = {self.bounds(v.get('params'))}{self.where_clause(g)}{dep}")
        elif k == "function":
            self.add(path, 0, f"{self.header(v.get('header'))}fn {P}{self.fn_sig(v)}{dep}")
        elif k == "constant":
            self.add(path, 0, f"const {P}: {self.ty(v.get('type'))}{dep}")
        elif k == "static":
            mut = "mut " if v.get("is_mutable") else ""
            uns = "unsafe " if v.get("is_unsafe") else ""
            self.add(path, 0, f"{uns}static {mut}{P}: {self.ty(v.get('type'))}{dep}")
        elif k == "type_alias":
            g = v.get("generics")
            self.add(path, 0, f"type {P}{self.generics(g)} = {self.ty(v.get('type'))}{self.where_clause(g)}{dep}")
        elif k == "macro":
            self.add(path, 0, f"macro {P}!{dep}")
        elif k == "proc_macro":
            mk = (v or {}).get("kind", "bang")
            if mk == "derive":
                self.add(path, 0, f"proc macro #[derive({P})]{dep}")
            elif mk == "attr":
                self.add(path, 0, f"proc macro #[{P}]{dep}")
            else:
                self.add(path, 0, f"proc macro {P}!{dep}")
        elif k == "extern_crate":
            self.add(path, 0, f"extern crate {P} = {(v or {}).get('name', '?')}")
        elif k in ("assoc_const", "assoc_type"):
            self.emit_assoc(item, path, in_trait=False)
        elif k == "struct_field":
            self.emit_field(item, path[:-1])
        else:
            # Unknown to this script: the kind name keeps the line meaningful.
            self.add(path, 0, f"{k} {P}{dep}")

    def emit_field(self, fi, owner):
        name = fi.get("name") or "?"
        self.add(owner + (name,), 0, f"field {self.p(owner + (name,))}: {self.ty(self.inner(fi))}{self.deprecated(fi)}")

    def emit_variant(self, vi, path):
        v = self.inner(vi) or {}
        vk, vv = only_key(v.get("kind"))
        line = f"{self.attrs_prefix(vi)}variant {self.p(path)}"
        if vk == "tuple":
            parts = []
            for fid in vv:
                fi = self.item(fid) if fid is not None else None
                parts.append(self.ty(self.inner(fi)) if fi is not None else "_")
            line += "(" + ", ".join(parts) + ")"
        elif vk == "struct":
            parts = []
            for fid in vv.get("fields", []):
                fi = self.item(fid)
                if fi is not None:
                    parts.append(f"{fi.get('name')}: {self.ty(self.inner(fi))}")
            if vv.get("has_stripped_fields"):
                parts.append("..")
            line += " { " + ", ".join(parts) + " }" if parts else " {}"
        self.add(path, 0, line + self.deprecated(vi))

    def emit_assoc(self, ii, path, in_trait: bool, impl_ctx: str = ""):
        k = self.kind(ii)
        v = self.inner(ii) or {}
        P = self.p(path)
        dep = self.deprecated(ii)
        if k == "function":
            line = f"{self.header(v.get('header'))}method {P}{self.fn_sig(v)}"
            if in_trait and v.get("has_body"):
                line += " (provided)"
        elif k == "assoc_const":
            line = f"assoc const {P}: {self.ty(v.get('type'))}"
            if in_trait and v.get("value") is not None:
                line += " (provided)"
        elif k == "assoc_type":
            g = v.get("generics")
            line = f"assoc type {P}{self.generics(g)}"
            if v.get("bounds"):
                line += ": " + self.bounds(v["bounds"])
            if v.get("type") is not None:
                line += " = " + self.ty(v["type"])
            line += self.where_clause(g)
        else:
            line = f"{k} {P}"
        self.add(path, 0, line + impl_ctx + dep)

    def collect_impls(self, impl_ids, owner):
        for impl_id in impl_ids:
            im_item = self.item(impl_id)
            if im_item is None:
                continue
            im = self.inner(im_item) or {}
            if im.get("is_synthetic") or im.get("blanket_impl") is not None:
                continue
            if im.get("trait") is None:
                g = im.get("generics") or {}
                ctx = ""
                if g.get("params") or g.get("where_predicates"):
                    ctx = f"  [in impl{self.generics(g)} {self.ty(im.get('for'))}{self.where_clause(g)}]"
                for iid in im.get("items", []):
                    ii = self.item(iid)
                    if ii is None or ii.get("visibility") != "public":
                        continue
                    self.emit_assoc(ii, owner + (ii.get("name") or "?",), in_trait=False, impl_ctx=ctx)
            else:
                self.impl_owners.setdefault(str(impl_id), set()).add(owner)

    def impl_line(self, im_item):
        if im_item is None:
            return None
        im = self.inner(im_item) or {}
        if im.get("is_synthetic") or im.get("blanket_impl") is not None:
            return None
        if im.get("trait") is None:
            return None
        if self.path_of_id(im["trait"].get("id"), im["trait"].get("path", "")) in SKIPPED_TRAITS:
            return None
        g = im.get("generics")
        s = "unsafe impl" if im.get("is_unsafe") else "impl"
        s += self.generics(g) + " "
        if im.get("is_negative"):
            s += "!"
        s += self.path(im.get("trait")) + " for " + self.ty(im.get("for"))
        s += self.where_clause(g)
        assoc = []
        for iid in im.get("items", []):
            ii = self.item(iid)
            if ii is None:
                continue
            k = self.kind(ii)
            v = self.inner(ii) or {}
            if k == "assoc_type":
                assoc.append(f"type {ii.get('name')}{self.generics(v.get('generics'))} = {self.ty(v.get('type'))}")
            elif k == "assoc_const":
                assoc.append(f"const {ii.get('name')}: {self.ty(v.get('type'))}")
        if assoc:
            s += " { " + "; ".join(sorted(assoc)) + " }"
        return s

    def render(self) -> list[str]:
        self.compute_canonical()
        self.emit()
        out = []
        seen = set()
        for path, rank, line in sorted(self.lines):
            if line in seen:
                continue
            seen.add(line)
            out.append(line)
        return out


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    try:
        with open(argv[1], encoding="utf-8") as f:
            krate = json.load(f)
    except (OSError, ValueError) as e:
        die(f"cannot read {argv[1]}: {e}")
    fv = krate.get("format_version")
    if fv is None or "index" not in krate or "root" not in krate:
        die(f"{argv[1]} is not rustdoc JSON")
    if fv not in KNOWN_FORMAT_VERSIONS:
        print(
            f"public-api.py: warning: rustdoc JSON format_version {fv}, written for "
            f"{sorted(KNOWN_FORMAT_VERSIONS)}; check the listing",
            file=sys.stderr,
        )
    for line in Api(krate).render():
        print(line)


if __name__ == "__main__":
    main(sys.argv)
