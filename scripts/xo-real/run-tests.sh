#!/usr/bin/env bash
# The SDK's own tests and examples against a real xo-server, as far as a
# server without a hypervisor allows.
#
#   XO_REAL_URL=http://127.0.0.1:18080 XO_REAL_TOKEN=<admin token> scripts/xo-real/run-tests.sh
#   XO_REAL_URL=… XO_REAL_USER=admin@admin.net XO_REAL_PASSWORD=admin scripts/xo-real/run-tests.sh
#
# Options:
#   --server-version TEXT  what to print as the server's version (default:
#                          XO_REAL_VERSION, else the header of
#                          conformance/real/corpus.jsonl)
#   --tests-only / --examples-only
#
# With a user and a password it mints a one-hour admin token first (POST
# /rest/v0/users/me/authentication_tokens with Basic auth; XO answers 307 to
# /users/<id>/…, which curl follows keeping the POST).
#
# (a) tests/real_server.rs: `cargo test --test real_server -- --ignored
#     --test-threads=1` with XO_REAL_URL / XO_REAL_TOKEN.
# (b) the examples of EXAMPLES below marked `run`, each with XO_URL / XO_TOKEN
#     (what `Client::from_env` reads) and the arguments given there; the
#     objects they need (users, a `file://` directory) are made first and
#     everything they leave is removed at the end.
#
# Last lines:
#   real xo-server: N passed, M skipped (needs a hypervisor)
#   real xo-server: F failed: …            (only if something failed; exit 1)
# N counts the passed tests and examples; M the examples (and test suites of
# HYPERVISOR_SUITES) that need a hypervisor.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

server_version="${XO_REAL_VERSION:-}"
run_tests=1
run_examples=1
while [ $# -gt 0 ]; do
    case "$1" in
        --server-version) server_version="${2:?--server-version needs a value}"; shift 2 ;;
        --tests-only) run_examples=0; shift ;;
        --examples-only) run_tests=0; shift ;;
        -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

# ---------------------------------------------------------------------------
# Which examples need a hypervisor.
#
# name | run/skip | arguments, separated by `;` | why
# Arguments may use @REPO_NAME@, @REPO_URL@, @USER1@, @USER2@, @GROUP@,
# @ROLE@: objects this script makes (or names) for the run. (XO's built-in
# roles are templates, which XO refuses to attach to a user or a group: 403
# "role is a template"; so group_based_access gets a role made here.)
EXAMPLES=$(cat <<'TABLE'
list_running_vms|run||lists the VMs XO filters as running: a typed (empty) answer, no hypervisor needed
inventory_report|run||streams the VMs and lists hosts and pools: typed empty collections
health_snapshot|run||alarms and the dashboard: XO's own aggregates
register_nfs_backup_repository|run|@REPO_NAME@;@REPO_URL@|creates a backup repository; a file:// one in a fresh directory is XO's own storage
validate_backup_repository|run|@REPO_NAME@|health check and benchmark task of that file:// repository
rbac_read_only_operator|run|@USER1@|ACL role and privileges attached to a user (made by this script)
group_based_access|run|@GROUP@;@ROLE@;@USER1@;@USER2@|group, members and role (users and role made by this script)
watch_events|run|50;3|opens the SSE stream and subscribes to VMs for 3 s; without a hypervisor no VM changes, so it sees 0 events
live_inventory|run|1;3|a live store of the VMs: without a hypervisor there are none and nothing changes, so it counts 0 VMs and stops after 3 s
keep_running|run|critical;1;3;--yes|a live store of the VMs tagged `critical`: there are none, so it starts nothing and stops after 3 s (without --yes it refuses a real XO)
quickstart|skip||rescans an SR: needs a storage repository, i.e. a pool
create_and_start_vm|skip||creates a VM from a template of a pool and boots it
provision_vm_from_template|skip||creates a VM from a template and boots it
attach_disk_to_running_vm|skip||creates a VDI on an SR and hot-plugs it into a running VM
host_maintenance|skip||disables and enables a host (evacuating its VMs)
maintenance_mode_across_reboot|skip||disables, shuts down, powers on and enables a host
reboot_host_with_pinned_vms|skip||smart-reboots a host
host_stats_last_hour|skip||reads a host's RRD statistics
rolling_pool_update|skip||rolling update of a pool
lock_down_vif|skip||reconfigures a VM's VIF
export_vm|skip||exports a VM (XVA)
import_vdi|skip||imports a disk image into an SR
run_backup_schedule|skip||runs a backup job's schedule; backup jobs back up VMs and the REST API cannot create one
add_pool_server|skip||registers a pool master and connects to its XAPI; without one the connect fails (tests/real_server.rs covers add, failed connect, delete)
TABLE
)

# Integration test suites of tests/ that would need a hypervisor against a
# real server. None: tests/real_server.rs is the suite written for a real
# server; every other suite (collections, tasks_events, transfers,
# examples_run, real_answers, real_defects, sim_fidelity, runtime_*, …)
# runs against xo-sim, recorded answers or local fake servers by
# construction and reads no XO_REAL_URL, so it is neither run nor skipped
# here (`cargo test --workspace` runs it).
HYPERVISOR_SUITES=()

# ---------------------------------------------------------------------------
# Credentials and version

if [ -z "${XO_REAL_URL:-}" ]; then
    echo "XO_REAL_URL is not set (e.g. http://127.0.0.1:18080)" >&2
    exit 2
fi
base="${XO_REAL_URL%/}"
base="${base%/rest/v0}"

if [ -z "${XO_REAL_TOKEN:-}" ]; then
    if [ -z "${XO_REAL_USER:-}" ] || [ -z "${XO_REAL_PASSWORD:-}" ]; then
        echo "set XO_REAL_TOKEN, or XO_REAL_USER and XO_REAL_PASSWORD" >&2
        exit 2
    fi
    answer=$(curl -sfL --post301 --post302 --post303 \
        -u "$XO_REAL_USER:$XO_REAL_PASSWORD" \
        -H 'content-type: application/json' \
        -d '{"description":"xo-sdk run-tests.sh","expiresIn":"1 hour"}' \
        "$base/rest/v0/users/me/authentication_tokens") || {
        echo "cannot mint a token at $base with XO_REAL_USER/XO_REAL_PASSWORD" >&2
        exit 2
    }
    XO_REAL_TOKEN=$(printf '%s' "$answer" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"]["id"])') || {
        echo "unexpected answer minting a token" >&2
        exit 2
    }
fi
export XO_REAL_URL="$base" XO_REAL_TOKEN

api() { # METHOD PATH [JSON BODY]: the answer body on stdout, failure on HTTP >= 400
    local method="$1" path="$2"
    local body=()
    [ $# -ge 3 ] && body=(-d "$3")
    curl -sf -X "$method" -b "authenticationToken=$XO_REAL_TOKEN" \
        -H 'content-type: application/json' "${body[@]}" "$base/rest/v0$path"
}

api GET /ping >/dev/null || {
    echo "xo-server at $base does not answer /rest/v0/ping with that token" >&2
    exit 2
}
if [ -z "$server_version" ]; then
    server_version=$(python3 - <<'EOF'
import json
with open("conformance/real/corpus.jsonl") as f:
    s = json.loads(f.readline())["server"]
print(f"xo-server {s['xo_server']} (commit {s['commit']}; from the header of conformance/real/corpus.jsonl)")
EOF
    )
fi
rest_api=$(api GET /docs/swagger.json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["info"]["version"])' 2>/dev/null) ||
    rest_api="unknown"
echo "real xo-server at $base: $server_version; REST API $rest_api (live, /rest/v0/docs/swagger.json)"

passed=0
skipped=0
failed=()

# ---------------------------------------------------------------------------
# (a) the integration tests

if [ "$run_tests" = 1 ]; then
    echo
    echo "== cargo test --test real_server -- --ignored --test-threads=1"
    log=$(mktemp)
    env -u XO_URL -u XO_TOKEN cargo test --test real_server -- --ignored --test-threads=1 \
        >"$log" 2>&1
    status=$?
    grep -E '^test .* \.\.\. ' "$log"
    ok=$(grep -cE '^test .* \.\.\. ok$' "$log")
    passed=$((passed + ok))
    while read -r name; do
        [ -n "$name" ] && failed+=("test $name")
    done < <(grep -E '^test .* \.\.\. FAILED$' "$log" | sed -E 's/^test (.*) \.\.\. FAILED$/\1/')
    if [ "$status" != 0 ] && ! grep -qE '^test .* \.\.\. FAILED$' "$log"; then
        # It did not get as far as running the tests (a build error, …).
        tail -40 "$log"
        failed+=("cargo test --test real_server (exit $status)")
    elif [ "$status" != 0 ]; then
        sed -n '/^failures:$/,/^test result:/p' "$log" | grep -vE '^\s+[0-9]+: |^\s+at ' | head -80
    fi
    grep -E '^test result:' "$log"
    rm -f "$log"
    for suite in "${HYPERVISOR_SUITES[@]}"; do
        echo "skip test suite $suite (needs a hypervisor)"
        skipped=$((skipped + 1))
    done
fi

# ---------------------------------------------------------------------------
# (b) the examples

made_users=()
made_groups=()
made_roles=()
repo_dir=""
repo_name=""
cleanup() {
    [ "${#made_users[@]}" -gt 0 ] || [ "${#made_groups[@]}" -gt 0 ] ||
        [ "${#made_roles[@]}" -gt 0 ] || [ -n "$repo_dir" ] || return 0
    # The roles the rbac example attached to our users, the groups by their
    # unique name, the repository by its unique name, then the users.
    local ids
    ids=$(api GET '/acl-roles?fields=id,userIds' | python3 -c '
import json, sys
users = set(sys.argv[1:])
for r in json.load(sys.stdin):
    if users & set(r.get("userIds") or []):
        print(r["id"])' "${made_users[@]}")
    for id in $ids "${made_roles[@]}"; do api DELETE "/acl-roles/$id" >/dev/null; done
    for name in "${made_groups[@]}"; do
        ids=$(api GET '/groups?fields=id,name' | python3 -c '
import json, sys
print("\n".join(g["id"] for g in json.load(sys.stdin) if g.get("name") == sys.argv[1]))' "$name")
        for id in $ids; do api DELETE "/groups/$id" >/dev/null; done
    done
    if [ -n "$repo_dir" ]; then
        ids=$(api GET '/backup-repositories?fields=id,name' | python3 -c '
import json, sys
print("\n".join(r["id"] for r in json.load(sys.stdin) if r.get("name") == sys.argv[1]))' "$repo_name")
        for id in $ids; do api POST "/backup-repositories/$id/actions/forget?sync=true" >/dev/null; done
        rm -rf "$repo_dir"
    fi
    for id in "${made_users[@]}"; do api DELETE "/users/$id" >/dev/null; done
    made_users=()
    made_groups=()
    made_roles=()
    repo_dir=""
}
trap cleanup EXIT

if [ "$run_examples" = 1 ]; then
    echo
    echo "== examples (XO_URL=$base)"
    # Every example must be in the table: a new one is a decision to make.
    for file in examples/*.rs; do
        name=$(basename "$file" .rs)
        if ! printf '%s\n' "$EXAMPLES" | grep -q "^$name|"; then
            echo "FAIL example $name: not in the EXAMPLES table of $0"
            failed+=("example $name (unclassified)")
        fi
    done

    stamp="$(date +%s)-$$"
    repo_name="xo-sdk-run-tests-repo-$stamp"
    repo_dir=$(mktemp -d "${TMPDIR:-/tmp}/xo-sdk-run-tests-repo.XXXXXX")
    group_name="xo-sdk-run-tests-group-$stamp"
    made_groups+=("$group_name")
    user_names=()
    for n in 1 2; do
        user_name="xo-sdk-run-tests-user$n-$stamp"
        id=$(api POST /users "{\"name\":\"$user_name\",\"password\":\"pw-$stamp-$RANDOM\",\"permission\":\"none\"}" |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])') || {
            echo "cannot create the example user $user_name" >&2
            failed+=("setup: user $user_name")
            continue
        }
        made_users+=("$id")
        user_names+=("$user_name")
    done

    role_name="xo-sdk-run-tests-role-$stamp"
    if id=$(api POST /acl-roles "{\"name\":\"$role_name\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'); then
        made_roles+=("$id")
    else
        echo "cannot create the example role $role_name" >&2
        failed+=("setup: role $role_name")
    fi

    echo "building the examples…"
    if ! build_log=$(cargo build -q --examples 2>&1); then
        printf '%s\n' "$build_log" | tail -30
        failed+=("cargo build --examples")
    fi

    while IFS='|' read -r name verdict args reason; do
        [ -n "$name" ] || continue
        if [ "$verdict" = skip ]; then
            echo "skip example $name (needs a hypervisor: $reason)"
            skipped=$((skipped + 1))
            continue
        fi
        args="${args//@REPO_NAME@/$repo_name}"
        args="${args//@REPO_URL@/file://$repo_dir}"
        args="${args//@GROUP@/$group_name}"
        args="${args//@ROLE@/$role_name}"
        args="${args//@USER1@/${user_names[0]:-missing-user}}"
        args="${args//@USER2@/${user_names[1]:-missing-user}}"
        argv=()
        [ -n "$args" ] && IFS=';' read -r -a argv <<<"$args"
        out=$(mktemp)
        start=$(date +%s)
        XO_URL="$base" XO_TOKEN="$XO_REAL_TOKEN" timeout 300 \
            cargo run -q --example "$name" -- ${argv[@]+"${argv[@]}"} >"$out" 2>&1
        status=$?
        took=$(($(date +%s) - start))
        if [ "$status" = 0 ]; then
            echo "ok   example $name${argv[*]:+ ${argv[*]}} (${took}s): $reason"
            sed 's/^/       | /' "$out" | head -12
            passed=$((passed + 1))
        else
            echo "FAIL example $name${argv[*]:+ ${argv[*]}} (exit $status, ${took}s)"
            sed 's/^/       | /' "$out" | tail -20
            failed+=("example $name")
        fi
        rm -f "$out"
    done <<<"$EXAMPLES"
    cleanup
fi

# ---------------------------------------------------------------------------

echo
echo "real xo-server: $passed passed, $skipped skipped (needs a hypervisor)"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "real xo-server: ${#failed[@]} failed: $(IFS=,; echo "${failed[*]}" | sed 's/,/, /g')"
    exit 1
fi
