#!/usr/bin/env bash
# Install a local xo-server from a snapshot of the public vatesfr/xen-orchestra
# repository, for recording the real REST API (see README.md).
#   XO_GIT_DIR=<bare git dir of the snapshot> [XO_REAL=$HOME/xo-real] install.sh
# Needs node 20, yarn 1, redis-server, libfuse2 (see README.md). The source
# stays under $XO_REAL/src; nothing of it belongs in this repository.
set -euo pipefail
: "${XO_GIT_DIR:?set XO_GIT_DIR to the git directory of the snapshot}"
XO_REAL="${XO_REAL:-$HOME/xo-real}"
src="$XO_REAL/src"

mkdir -p "$src"
git --git-dir="$XO_GIT_DIR" archive --format=tar HEAD | tar -x -C "$src"
cd "$src"

# Keep only xo-server and the workspace packages it needs, so that yarn does
# not install the web UIs and their tooling; print them in build order.
python3 - > "$XO_REAL/build-order.txt" <<'PY'
import json, os, shutil

root = json.load(open("package.json"))
if not os.path.exists("package.json.orig"):
    shutil.copy("package.json", "package.json.orig")
    orig = root
else:
    orig = json.load(open("package.json.orig"))

pkgs = {}
for group in ("@vates", "@xen-orchestra", "packages"):
    for d in sorted(os.listdir(group)):
        f = os.path.join(group, d, "package.json")
        if os.path.exists(f):
            pj = json.load(open(f))
            pkgs[pj["name"]] = (os.path.join(group, d), pj)

def deps(pj):
    out = {}
    for k in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        out.update(pj.get(k) or {})
    return [n for n in out if n in pkgs]

order, seen = [], set()
def visit(name):
    if name in seen:
        return
    seen.add(name)
    d, pj = pkgs[name]
    for n in deps(pj):
        visit(n)
    if (pj.get("scripts") or {}).get("build"):
        order.append(d)
visit("xo-server")

keep = sorted({pkgs[n][0] for n in seen} | {"@xen-orchestra/babel-config"})
orig["workspaces"] = keep
orig["devDependencies"] = {"@babel/core": orig["devDependencies"]["@babel/core"]}
(orig.get("scripts") or {}).pop("prepare", None)
orig.pop("lint-staged", None)
json.dump(orig, open("package.json", "w"), indent=2)
print("\n".join(order))
PY

yarn install --ignore-engines --non-interactive --network-timeout 600000
# xo-server's babel config asks git for the commit, hence GIT_DIR.
while read -r dir; do
  echo "== build $dir"
  (cd "$dir" && GIT_DIR="$XO_GIT_DIR" yarn run build)
done < "$XO_REAL/build-order.txt"
echo "installed in $src; start it with scripts/xo-real/start.sh"
