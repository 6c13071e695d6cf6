#!/usr/bin/env python3
"""Record real HTTP exchanges with a local xo-server into a JSONL corpus.

Usage:
  python3 scripts/xo-real/record.py --url http://127.0.0.1:18080 \
      --user admin@admin.net --password admin --out conformance/real/corpus.jsonl \
      [--restart-cmd 'scripts/xo-real/restart.sh --no-wait']

Meant for a freshly reset server (scripts/xo-real/reset.sh). The requests are
sent in a fixed order; ids and timestamps in the answers vary between runs.
Authentication tokens are replaced by <token-N> placeholders, passwords sent in
bodies by <password>; the Basic auth header is never recorded.
Python 3.11 standard library only.
"""

import argparse
import base64
import datetime
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

API = "/rest/v0"
MAX_BODY = 64 * 1024
HANG_TIMEOUT = 3.0  # seconds: client timeout for requests that may never answer
FAKE_UUID = "00000000-0000-4000-8000-000000000000"
FAKE_TASK = "0corpus0unknown"

# The SDK's tools (name, method, path below /rest/v0), as printed by
# `cargo run -p xo-codegen -- tools dadl/xen-orchestra.dadl --overlay ...errata.yaml
#  --overlay ...sdk.yaml`. Every request tagged with a tool is checked against it.
TOOLS_TABLE = """
    ping GET /ping
    get_dashboard GET /dashboard
    get_gui_routes GET /gui-routes
    get_mcp_status GET /mcp/status
    list_users GET /users
    get_user GET /users/{id}
    create_user POST /users
    update_user PATCH /users/{id}
    delete_user DELETE /users/{id}
    list_user_groups GET /users/{id}/groups
    list_user_tasks GET /users/{id}/tasks
    list_user_acl_privileges GET /users/{id}/acl-privileges
    list_auth_tokens GET /users/{id}/authentication_tokens
    create_auth_token POST /users/{id}/authentication_tokens
    list_groups GET /groups
    get_group GET /groups/{id}
    create_group POST /groups
    update_group PATCH /groups/{id}
    delete_group DELETE /groups/{id}
    add_user_to_group PUT /groups/{id}/users/{userId}
    remove_user_from_group DELETE /groups/{id}/users/{userId}
    list_group_users GET /groups/{id}/users
    list_group_tasks GET /groups/{id}/tasks
    list_group_acl_roles GET /groups/{id}/acl-roles
    list_acl_roles GET /acl-roles
    get_acl_role GET /acl-roles/{id}
    create_acl_role POST /acl-roles
    update_acl_role PATCH /acl-roles/{id}
    delete_acl_role DELETE /acl-roles/{id}
    copy_acl_role POST /acl-roles/{id}/actions/copy
    list_acl_role_privileges GET /acl-roles/{id}/privileges
    list_acl_role_users GET /acl-roles/{id}/users
    list_acl_role_groups GET /acl-roles/{id}/groups
    attach_acl_role_to_group PUT /acl-roles/{id}/groups/{groupId}
    detach_acl_role_from_group DELETE /acl-roles/{id}/groups/{groupId}
    attach_acl_role_to_user PUT /acl-roles/{id}/users/{userId}
    detach_acl_role_from_user DELETE /acl-roles/{id}/users/{userId}
    list_acl_privileges GET /acl-privileges
    get_acl_privilege GET /acl-privileges/{id}
    create_acl_privilege POST /acl-privileges
    update_acl_privilege PATCH /acl-privileges/{id}
    delete_acl_privilege DELETE /acl-privileges/{id}
    list_vms GET /vms
    get_vm GET /vms/{uuid}
    update_vm PATCH /vms/{uuid}
    delete_vm DELETE /vms/{uuid}
    start_vm POST /vms/{uuid}/actions/start
    clean_shutdown_vm POST /vms/{uuid}/actions/clean_shutdown
    hard_shutdown_vm POST /vms/{uuid}/actions/hard_shutdown
    clean_reboot_vm POST /vms/{uuid}/actions/clean_reboot
    hard_reboot_vm POST /vms/{uuid}/actions/hard_reboot
    pause_vm POST /vms/{uuid}/actions/pause
    unpause_vm POST /vms/{uuid}/actions/unpause
    suspend_vm POST /vms/{uuid}/actions/suspend
    resume_vm POST /vms/{uuid}/actions/resume
    snapshot_vm POST /vms/{uuid}/actions/snapshot
    revert_vm_to_snapshot POST /vms/{uuid}/actions/revert_snapshot
    clone_vm POST /vms/{uuid}/actions/clone
    migrate_vm POST /vms/{uuid}/actions/migrate
    import_vm_xva POST /pools/{pool_id}/vms
    get_vm_stats GET /vms/{uuid}/stats
    add_vm_data_source PUT /vms/{uuid}/stats/data_source/{data_source}
    delete_vm_data_source DELETE /vms/{uuid}/stats/data_source/{data_source}
    add_vm_tag PUT /vms/{uuid}/tags/{tag}
    remove_vm_tag DELETE /vms/{uuid}/tags/{tag}
    list_vm_vdis GET /vms/{uuid}/vdis
    list_vm_alarms GET /vms/{uuid}/alarms
    list_vm_messages GET /vms/{uuid}/messages
    list_vm_tasks GET /vms/{uuid}/tasks
    list_vm_backup_jobs GET /vms/{uuid}/backup-jobs
    get_vm_dashboard GET /vms/{uuid}/dashboard
    list_vm_snapshots GET /vm-snapshots
    get_vm_snapshot GET /vm-snapshots/{uuid}
    delete_vm_snapshot DELETE /vm-snapshots/{uuid}
    export_vm_snapshot GET /vm-snapshots/{uuid}.{format}
    list_vm_snapshot_vdis GET /vm-snapshots/{uuid}/vdis
    list_vm_snapshot_alarms GET /vm-snapshots/{uuid}/alarms
    list_vm_snapshot_messages GET /vm-snapshots/{uuid}/messages
    list_vm_snapshot_tasks GET /vm-snapshots/{uuid}/tasks
    add_vm_snapshot_tag PUT /vm-snapshots/{uuid}/tags/{tag}
    remove_vm_snapshot_tag DELETE /vm-snapshots/{uuid}/tags/{tag}
    list_vm_templates GET /vm-templates
    get_vm_template GET /vm-templates/{uuid}
    delete_vm_template DELETE /vm-templates/{uuid}
    export_vm_template GET /vm-templates/{uuid}.{format}
    list_vm_template_vdis GET /vm-templates/{uuid}/vdis
    list_vm_template_alarms GET /vm-templates/{uuid}/alarms
    list_vm_template_messages GET /vm-templates/{uuid}/messages
    list_vm_template_tasks GET /vm-templates/{uuid}/tasks
    add_vm_template_tag PUT /vm-templates/{uuid}/tags/{tag}
    remove_vm_template_tag DELETE /vm-templates/{uuid}/tags/{tag}
    list_vm_controllers GET /vm-controllers
    get_vm_controller GET /vm-controllers/{uuid}
    list_vm_controller_alarms GET /vm-controllers/{uuid}/alarms
    list_vm_controller_vdis GET /vm-controllers/{uuid}/vdis
    list_vm_controller_messages GET /vm-controllers/{uuid}/messages
    list_vm_controller_tasks GET /vm-controllers/{uuid}/tasks
    add_vm_controller_tag PUT /vm-controllers/{uuid}/tags/{tag}
    remove_vm_controller_tag DELETE /vm-controllers/{uuid}/tags/{tag}
    list_hosts GET /hosts
    get_host GET /hosts/{uuid}
    get_host_stats GET /hosts/{uuid}/stats
    get_host_audit_log GET /hosts/{uuid}/audit.txt
    get_host_logs GET /hosts/{uuid}/logs.tgz
    list_host_alarms GET /hosts/{uuid}/alarms
    get_host_smt GET /hosts/{uuid}/smt
    list_host_missing_patches GET /hosts/{uuid}/missing_patches
    list_host_messages GET /hosts/{uuid}/messages
    list_host_tasks GET /hosts/{uuid}/tasks
    add_host_tag PUT /hosts/{uuid}/tags/{tag}
    remove_host_tag DELETE /hosts/{uuid}/tags/{tag}
    management_reconfigure_host POST /hosts/{uuid}/actions/management_reconfigure
    disable_host POST /hosts/{uuid}/actions/disable
    enable_host POST /hosts/{uuid}/actions/enable
    start_host POST /hosts/{uuid}/actions/start
    clean_shutdown_host POST /hosts/{uuid}/actions/clean_shutdown
    clean_reboot_host POST /hosts/{uuid}/actions/clean_reboot
    smart_reboot_host POST /hosts/{uuid}/actions/smart_reboot
    restart_toolstack_host POST /hosts/{uuid}/actions/restart_toolstack
    emergency_shutdown_host POST /hosts/{uuid}/actions/emergency_shutdown
    detach_host POST /hosts/{uuid}/actions/detach
    forget_host POST /hosts/{uuid}/actions/forget
    list_pools GET /pools
    get_pool GET /pools/{uuid}
    get_pool_stats GET /pools/{uuid}/stats
    get_pool_dashboard GET /pools/{uuid}/dashboard
    list_pool_alarms GET /pools/{uuid}/alarms
    list_pool_missing_patches GET /pools/{uuid}/missing_patches
    list_pool_messages GET /pools/{uuid}/messages
    list_pool_tasks GET /pools/{uuid}/tasks
    add_pool_tag PUT /pools/{uuid}/tags/{tag}
    remove_pool_tag DELETE /pools/{uuid}/tags/{tag}
    create_vm POST /pools/{pool_id}/actions/create_vm
    emergency_shutdown_pool POST /pools/{pool_id}/actions/emergency_shutdown
    rolling_reboot_pool POST /pools/{pool_id}/actions/rolling_reboot
    rolling_update_pool POST /pools/{pool_id}/actions/rolling_update
    add_host_to_pool POST /pools/{pool_id}/actions/add_host
    create_pool_network POST /pools/{pool_id}/actions/create_network
    create_bonded_network POST /pools/{pool_id}/actions/create_bonded_network
    create_internal_network POST /pools/{pool_id}/actions/create_internal_network
    management_reconfigure_pool POST /pools/{pool_id}/actions/management_reconfigure
    list_srs GET /srs
    get_sr GET /srs/{uuid}
    create_sr POST /srs
    delete_sr DELETE /srs/{uuid}
    list_sr_alarms GET /srs/{uuid}/alarms
    list_sr_messages GET /srs/{uuid}/messages
    list_sr_tasks GET /srs/{uuid}/tasks
    add_sr_tag PUT /srs/{uuid}/tags/{tag}
    remove_sr_tag DELETE /srs/{uuid}/tags/{tag}
    scan_sr POST /srs/{uuid}/actions/scan
    forget_sr POST /srs/{uuid}/actions/forget
    reclaim_space_sr POST /srs/{uuid}/actions/reclaim_space
    list_vdis GET /vdis
    get_vdi GET /vdis/{uuid}
    create_vdi POST /vdis
    update_vdi PATCH /vdis/{uuid}
    delete_vdi DELETE /vdis/{uuid}
    list_vdi_alarms GET /vdis/{uuid}/alarms
    list_vdi_messages GET /vdis/{uuid}/messages
    list_vdi_tasks GET /vdis/{uuid}/tasks
    add_vdi_tag PUT /vdis/{uuid}/tags/{tag}
    remove_vdi_tag DELETE /vdis/{uuid}/tags/{tag}
    migrate_vdi POST /vdis/{uuid}/actions/migrate
    import_vdi_to_sr POST /srs/{sr_uuid}/vdis
    list_vdi_snapshots GET /vdi-snapshots
    get_vdi_snapshot GET /vdi-snapshots/{uuid}
    delete_vdi_snapshot DELETE /vdi-snapshots/{uuid}
    export_vdi_snapshot GET /vdi-snapshots/{uuid}.{format}
    list_vdi_snapshot_alarms GET /vdi-snapshots/{uuid}/alarms
    list_vdi_snapshot_messages GET /vdi-snapshots/{uuid}/messages
    list_vdi_snapshot_tasks GET /vdi-snapshots/{uuid}/tasks
    add_vdi_snapshot_tag PUT /vdi-snapshots/{uuid}/tags/{tag}
    remove_vdi_snapshot_tag DELETE /vdi-snapshots/{uuid}/tags/{tag}
    list_vbds GET /vbds
    get_vbd GET /vbds/{uuid}
    create_vbd POST /vbds
    delete_vbd DELETE /vbds/{uuid}
    list_vbd_alarms GET /vbds/{uuid}/alarms
    list_vbd_messages GET /vbds/{uuid}/messages
    list_vbd_tasks GET /vbds/{uuid}/tasks
    connect_vbd POST /vbds/{uuid}/actions/connect
    disconnect_vbd POST /vbds/{uuid}/actions/disconnect
    list_networks GET /networks
    get_network GET /networks/{uuid}
    delete_network DELETE /networks/{uuid}
    list_network_alarms GET /networks/{uuid}/alarms
    list_network_messages GET /networks/{uuid}/messages
    list_network_tasks GET /networks/{uuid}/tasks
    add_network_tag PUT /networks/{uuid}/tags/{tag}
    remove_network_tag DELETE /networks/{uuid}/tags/{tag}
    list_vifs GET /vifs
    get_vif GET /vifs/{uuid}
    create_vif POST /vifs
    update_vif PATCH /vifs/{uuid}
    delete_vif DELETE /vifs/{uuid}
    connect_vif POST /vifs/{uuid}/actions/connect
    disconnect_vif POST /vifs/{uuid}/actions/disconnect
    list_vif_alarms GET /vifs/{uuid}/alarms
    list_vif_messages GET /vifs/{uuid}/messages
    list_vif_tasks GET /vifs/{uuid}/tasks
    add_network_traffic_rule POST /plugins/sdn-controller/networks/{uuid}/actions/add_traffic_rule
    delete_network_traffic_rule POST /plugins/sdn-controller/networks/{uuid}/actions/delete_traffic_rule
    update_network_traffic_rule POST /plugins/sdn-controller/networks/{uuid}/actions/update_traffic_rule
    add_vif_traffic_rule POST /plugins/sdn-controller/vifs/{uuid}/actions/add_traffic_rule
    delete_vif_traffic_rule POST /plugins/sdn-controller/vifs/{uuid}/actions/delete_traffic_rule
    update_vif_traffic_rule POST /plugins/sdn-controller/vifs/{uuid}/actions/update_traffic_rule
    list_pifs GET /pifs
    get_pif GET /pifs/{uuid}
    list_pif_alarms GET /pifs/{uuid}/alarms
    list_pif_messages GET /pifs/{uuid}/messages
    list_pif_tasks GET /pifs/{uuid}/tasks
    list_pbds GET /pbds
    get_pbd GET /pbds/{uuid}
    plug_pbd POST /pbds/{uuid}/actions/plug
    unplug_pbd POST /pbds/{uuid}/actions/unplug
    list_pcis GET /pcis
    get_pci GET /pcis/{uuid}
    list_pgpus GET /pgpus
    get_pgpu GET /pgpus/{uuid}
    list_sms GET /sms
    get_sm GET /sms/{uuid}
    list_tasks GET /tasks
    get_task GET /tasks/{id}
    delete_task DELETE /tasks/{id}
    delete_tasks DELETE /tasks
    abort_task POST /tasks/{id}/actions/abort
    list_messages GET /messages
    get_message GET /messages/{uuid}
    list_alarms GET /alarms
    get_alarm GET /alarms/{uuid}
    open_events_stream GET /events
    add_event_subscription POST /events/{id}/subscriptions
    remove_event_subscription DELETE /events/{id}/subscriptions/{subscriptionId}
    list_backups GET /backup-archives
    get_backup GET /backup-archives/{id}
    list_backup_jobs GET /backup-jobs
    get_backup_job GET /backup-jobs/{id}
    list_backup_logs GET /backup-logs
    get_backup_log GET /backup-logs/{id}
    list_restore_logs GET /restore-logs
    get_restore_log GET /restore-logs/{id}
    list_backup_repositories GET /backup-repositories
    get_backup_repository GET /backup-repositories/{id}
    create_backup_repository POST /backup-repositories
    update_backup_repository PATCH /backup-repositories/{id}
    forget_backup_repository POST /backup-repositories/{id}/actions/forget
    get_backup_repository_health GET /backup-repositories/{id}/health
    benchmark_backup_repository POST /backup-repositories/{id}/actions/benchmark
    list_schedules GET /schedules
    get_schedule GET /schedules/{id}
    run_schedule POST /schedules/{id}/actions/run
    list_proxies GET /proxies
    get_proxy GET /proxies/{id}
    list_servers GET /servers
    get_server GET /servers/{id}
    add_server POST /servers
    delete_server DELETE /servers/{id}
    connect_server POST /servers/{id}/actions/connect
    disconnect_server POST /servers/{id}/actions/disconnect
    list_server_tasks GET /servers/{id}/tasks
    copy_vm POST /vms/{uuid}/actions/clone
    export_vm GET /vms/{uuid}.{format}
    scan_host_pifs POST /hosts/{uuid}/actions/scan_pifs
    export_vdi GET /vdis/{uuid}.{format}
    import_vdi PUT /vdis/{uuid}.{format}
    get_openapi_spec GET /docs/swagger.json
"""

TOOLS = {}
for _line in TOOLS_TABLE.strip().splitlines():
    _name, _method, _path = _line.split()
    TOOLS[_name] = (_method, _path)


def tool_path(tool, **params):
    """Fill a tool's path template, checking every placeholder is given."""
    method, template = TOOLS[tool]

    def sub(m):
        key = m.group(1)
        if key not in params:
            raise KeyError(f"{tool}: missing path parameter {key}")
        return urllib.parse.quote(str(params[key]), safe="")

    return method, API + re.sub(r"\{(\w+)\}", sub, template)


def now_ms():
    return time.monotonic() * 1000.0


class Recorder:
    def __init__(self, url, user, password, verbose=True):
        u = urllib.parse.urlsplit(url)
        self.host = u.hostname
        self.port = u.port or 80
        self.user = user
        self.password = password
        self.token = None  # admin token (cookie)
        self.exchanges = []
        self.secrets = {}  # real token -> placeholder
        self.passwords = set()
        self.scenario = None
        self.verbose = verbose
        self.lock = threading.Lock()

    # ---- secrets -------------------------------------------------------
    def register_token(self, value):
        if isinstance(value, str) and value and value not in self.secrets:
            self.secrets[value] = f"<token-{len(self.secrets) + 1}>"

    def scan_tokens(self, value):
        """Learn tokens from answers: {token: {id}} and token objects (whose id is the secret)."""
        if isinstance(value, dict):
            tok = value.get("token")
            if isinstance(tok, dict):
                self.register_token(tok.get("id"))
            elif isinstance(tok, str):
                self.register_token(tok)
            if "user_id" in value and "expiration" in value and "id" in value:
                self.register_token(value["id"])
            for v in value.values():
                self.scan_tokens(v)
        elif isinstance(value, list):
            for v in value:
                self.scan_tokens(v)

    # ---- low level -----------------------------------------------------
    def _headers(self, auth, token, content_type, basic):
        h = {"Accept": "*/*"}
        if auth == "token":
            h["Cookie"] = f"authenticationToken={token or self.token}"
        elif auth == "bad-token":
            h["Cookie"] = "authenticationToken=not-a-valid-token"
        elif auth == "basic":
            user, pw = basic or (self.user, self.password)
            cred = base64.b64encode(f"{user}:{pw}".encode()).decode()
            h["Authorization"] = f"Basic {cred}"
        if content_type:
            h["Content-Type"] = content_type
        return h

    def _new_exchange(self, tool, method, path, query, auth, content_type, body):
        if tool is not None:
            tm, tp = TOOLS[tool]
            assert tm == method, (tool, method)
        ex = {
            "seq": len(self.exchanges) + 1,
            "scenario": self.scenario,
            "tool": tool,
            "request": {
                "method": method,
                "path": path,
                "query": query,
                "auth": auth,
                "content_type": content_type,
                "body": body,
            },
            "response": None,
        }
        self.exchanges.append(ex)
        return ex

    def _fill(self, ex, status, headers, raw, elapsed, note=None, timeout=None):
        ctype = headers.get("Content-Type") if headers else None
        location = headers.get("Location") if headers else None
        resp = {
            "status": status,
            "content_type": ctype,
            "location": location,
            "json": None,
            "text": None,
            "elapsed_ms": int(round(elapsed)),
        }
        if raw:
            truncated = len(raw) > MAX_BODY
            parsed = None
            is_json = False
            if not truncated and ctype and "json" in ctype and "ndjson" not in ctype:
                try:
                    parsed = json.loads(raw.decode("utf-8"))
                    is_json = True
                except ValueError:
                    pass
            if is_json:
                resp["json"] = parsed
                self.scan_tokens(parsed)
            else:
                text = raw[:MAX_BODY].decode("utf-8", errors="replace")
                resp["text"] = text
                if truncated:
                    resp["truncated"] = True
                # ndjson lines may carry tokens too
                for line in text.splitlines():
                    try:
                        self.scan_tokens(json.loads(line))
                    except ValueError:
                        pass
        if timeout is not None:
            resp["timeout_ms"] = int(timeout * 1000)
        if note:
            resp["note"] = note
        ex["response"] = resp
        if self.verbose:
            r = ex["request"]
            q = "?" + r["query"] if r["query"] else ""
            print(f"{ex['seq']:4} {ex['scenario']:<14} {r['method']:<6} {r['path']}{q} -> {status}",
                  file=sys.stderr)

    def request(self, method, path, query="", auth="token", body=None, tool=None, *,
                token=None, basic=None, raw=None, content_type=None, timeout=15.0, note=None):
        """One exchange: send, read the whole answer (or time out), record it."""
        if body is not None:
            content_type = content_type or "application/json"
            payload = json.dumps(body).encode()
        else:
            payload = raw
        ex = self._new_exchange(tool, method, path, query, auth, content_type, body)
        target = path + ("?" + query if query else "")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        t0 = now_ms()
        try:
            conn.request(method, target, body=payload,
                         headers=self._headers(auth, token, content_type, basic))
            resp = conn.getresponse()
            data = resp.read()
            headers = resp.headers
            self._fill(ex, resp.status, headers, data, now_ms() - t0, note=note)
        except (socket.timeout, TimeoutError):
            self._fill(ex, None, None, None, now_ms() - t0, timeout=timeout,
                       note=note or f"no answer within {timeout:g} s")
        finally:
            conn.close()
        return Answer(ex)

    def call(self, tool, query="", auth="token", body=None, **kw):
        params = {k: kw.pop(k) for k in list(kw) if k not in REQUEST_KW}
        method, path = tool_path(tool, **params)
        return self.request(method, path, query, auth, body, tool, **kw)

    def stream(self, tool, path, query="", auth="token", token=None):
        s = Stream(self, tool, path, query, auth, token)
        s.start()
        return s

    # ---- quiet helpers (not recorded) ----------------------------------
    def quiet(self, method, path, query="", body=None, timeout=15.0):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            h = self._headers("token", None, "application/json" if body is not None else None, None)
            conn.request(method, path + ("?" + query if query else ""), body=payload, headers=h)
            r = conn.getresponse()
            data = r.read()
            try:
                return r.status, json.loads(data) if data else None
            except ValueError:
                return r.status, data.decode("utf-8", "replace")
        finally:
            conn.close()

    def wait_task(self, task_id, limit=30.0):
        """Poll a task (unrecorded) until it is no longer pending."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            st, t = self.quiet("GET", f"{API}/tasks/{task_id}")
            if st == 200 and isinstance(t, dict) and t.get("status") != "pending":
                return t
            time.sleep(0.1)
        return None

    # ---- output --------------------------------------------------------
    def redact(self, text, extra):
        for real, ph in self.secrets.items():
            text = text.replace(real, ph)
        for pw in self.passwords:
            text = text.replace(json.dumps(pw)[1:-1], "<password>")
        for real, ph in extra:
            if real:
                text = text.replace(real, ph)
        return text


REQUEST_KW = {"token", "basic", "raw", "content_type", "timeout", "note"}


class Answer:
    def __init__(self, ex):
        self.ex = ex
        r = ex["response"]
        self.status = r["status"]
        self.json = r["json"]
        self.text = r["text"]
        self.location = r["location"]

    def id(self):
        if isinstance(self.json, dict) and "id" in self.json:
            return self.json["id"]
        return None

    def task_id(self):
        """The task id from an async action's answer (Location: /rest/v0/tasks/<id>)."""
        loc = self.location or ""
        m = re.search(r"/tasks/([^/?]+)", loc)
        if m:
            return m.group(1)
        if isinstance(self.json, dict):
            for key in ("id", "taskId"):
                if key in self.json:
                    return self.json[key]
        return None


class Stream:
    """A request whose answer is a long-lived stream (SSE, watch): the
    reader runs in a thread; close() ends it and records what arrived."""

    def __init__(self, rec, tool, path, query, auth, token):
        self.rec = rec
        self.ex = rec._new_exchange(tool, "GET", path, query, auth, None, None)
        self.target = path + ("?" + query if query else "")
        self.headers_h = rec._headers(auth, token, None, None)
        self.conn = http.client.HTTPConnection(rec.host, rec.port, timeout=None)
        self.sent = threading.Event()
        self.got_headers = threading.Event()
        self.cond = threading.Condition()
        self.buf = b""
        self.status = None
        self.headers = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = None
        self.t_headers = None

    def start(self):
        self.t0 = now_ms()
        self.thread.start()
        self.sent.wait(5)

    def _run(self):
        try:
            self.conn.request("GET", self.target, headers=self.headers_h)
            self.sent.set()
            resp = self.conn.getresponse()
            self.status, self.headers = resp.status, resp.headers
            self.t_headers = now_ms()
            self.got_headers.set()
            while True:
                chunk = resp.read1(65536)
                if not chunk:
                    break
                with self.cond:
                    self.buf += chunk
                    self.cond.notify_all()
        except Exception:  # closed by close(), or the server went away
            pass
        finally:
            self.sent.set()
            with self.cond:
                self.cond.notify_all()

    def wait_for(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self.buf):
                left = deadline - time.monotonic()
                if left <= 0 or not self.thread.is_alive():
                    return predicate(self.buf)
                self.cond.wait(left)
            return True

    def close(self, note=None, timeout=None):
        try:
            if self.conn.sock is not None:
                self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(5)
        self.conn.close()
        elapsed = now_ms() - self.t0
        if self.status is None:
            self.rec._fill(self.ex, None, None, None, elapsed, note=note, timeout=timeout)
        else:
            self.rec._fill(self.ex, self.status, self.headers, self.buf, elapsed, note=note)
        return self


# ---------------------------------------------------------------------------
# scenarios

LIST_TOOLS = [
    "list_users", "list_groups", "list_acl_roles", "list_acl_privileges", "list_vms",
    "list_vm_snapshots", "list_vm_templates", "list_vm_controllers", "list_hosts", "list_pools",
    "list_srs", "list_vdis", "list_vdi_snapshots", "list_vbds", "list_networks", "list_vifs",
    "list_pifs", "list_pbds", "list_pcis", "list_pgpus", "list_sms", "list_tasks",
    "list_messages", "list_alarms", "list_backups", "list_backup_jobs", "list_backup_logs",
    "list_restore_logs", "list_backup_repositories", "list_schedules", "list_proxies",
    "list_servers",
]
MARKDOWN_TOOLS = ["list_users", "list_vms", "list_hosts", "list_pools", "list_srs", "list_servers",
                  "list_backup_repositories", "list_tasks", "list_alarms"]


def follow(rec, ans, tool, method, body=None, auth="token", **kw):
    """Repeat a request at the Location of a 307 (same method and body)."""
    loc = ans.location
    path, _, query = loc.partition("?")
    return rec.request(method, path, query, auth, body, tool, **kw)


def scenario_auth(rec, ctx):
    rec.scenario = "auth"
    body = {"description": "xo-sdk corpus", "expiresIn": "1 day"}
    a = rec.call("create_auth_token", id="me", auth="basic", body=body)
    assert a.status == 307, a.status
    ctx["admin_id"] = re.search(r"/users/([^/]+)/", a.location).group(1)
    b = follow(rec, a, "create_auth_token", "POST", body=body, auth="basic")
    assert b.status == 201, b.status
    rec.token = b.json["token"]["id"]
    rec.register_token(rec.token)
    rec.call("list_users", auth="basic")
    rec.call("list_users", auth="basic", basic=(rec.user, "wrong-password"),
             note="Basic auth with a wrong password")
    for tool, params in [("list_users", {}), ("list_vms", {}), ("list_tasks", {}),
                         ("get_dashboard", {}), ("ping", {}), ("get_user", {"id": ctx["admin_id"]}),
                         ("list_backup_repositories", {})]:
        rec.call(tool, auth="none", **params)
        rec.call(tool, auth="bad-token", **params)
    rec.call("create_group", auth="none", body={"name": "corpus-unauthenticated"})
    rec.call("create_group", auth="bad-token", body={"name": "corpus-unauthenticated"})
    rec.call("delete_tasks", auth="bad-token")
    rec.call("create_auth_token", id=ctx["admin_id"],
             body={"description": "xo-sdk corpus", "expiresIn": 1000},
             note="expiresIn below one minute")
    # a token valid one minute, used again at the end of the run (scenario_expired)
    e = rec.call("create_auth_token", id=ctx["admin_id"],
                 body={"description": "xo-sdk corpus, expires in 1 minute", "expiresIn": "1 minute"})
    ctx["short_token"] = e.json["token"]["id"]
    ctx["short_token_t"] = time.monotonic()
    rec.call("list_users", note=f"with {rec.secrets.get(ctx['short_token'])} before it expires",
             token=ctx["short_token"])


def scenario_expired(rec, ctx):
    rec.scenario = "auth"
    left = ctx["short_token_t"] + 62 - time.monotonic()
    if left > 0:
        time.sleep(left)
    tok = ctx["short_token"]
    rec.call("list_users", note=f"with {rec.secrets.get(tok)}, over a minute after its creation (expiresIn 1 minute)",
             token=tok)


def scenario_meta(rec, ctx):
    rec.scenario = "meta"
    rec.call("ping")
    rec.call("get_gui_routes")
    rec.call("get_mcp_status")
    rec.call("get_dashboard")
    rec.call("get_dashboard", query="ndjson=true")
    rec.request("GET", API, tool=None, note="API root, not an SDK operation")
    rec.request("GET", API + "/", tool=None)
    rec.call("get_openapi_spec", note="kept to 64 KiB")
    rec.request("GET", API + "/no-such-collection", tool=None)
    rec.request("GET", API + "/users", query="limit=notanumber", tool="list_users")
    rec.request("GET", API + "/users", query="filter=%28", tool="list_users",
                note="unbalanced complex-matcher filter")


def scenario_collections(rec, ctx):
    rec.scenario = "collections"
    for tool in LIST_TOOLS:
        rec.call(tool)
        rec.call(tool, query="fields=*")
        rec.call(tool, query="ndjson=true&fields=*")
        if tool in MARKDOWN_TOOLS:
            rec.call(tool, query="markdown=true&fields=*")


def scenario_users(rec, ctx):
    rec.scenario = "users"
    pw = "corpus-alice-password"
    rec.passwords.add(pw)
    a = rec.call("create_user", body={"name": "corpus-alice", "password": pw, "permission": "none"})
    uid = a.id()
    ctx["alice"] = uid
    rec.call("get_user", id=uid)
    rec.call("list_users", query="fields=name,permission,id")
    rec.call("list_users", query="fields=*&filter=name%3Acorpus-alice")
    rec.call("list_users", query="limit=1")
    rec.call("list_users", query="fields=*&ndjson=true")
    rec.call("list_users", query="fields=name,permission&markdown=true")
    rec.call("update_user", id=uid, body={"name": "corpus-alice-renamed"})
    rec.call("update_user", id=uid, body={"permission": "admin"})
    rec.call("update_user", id=uid, body={"permission": "user"}, note="permission is none or admin")
    rec.call("update_user", id=uid, body={"preferences": {"lang": "fr"}},
             note="preferences is typed Record<string, string>")
    rec.call("update_user", id=uid, body={"preferences": {}})
    rec.call("get_user", id=uid)
    rec.call("update_user", id=ctx["admin_id"], body={"permission": "none"},
             note="changing one's own permission")
    rec.call("update_user", id=uid, body={"bogus": 1})
    rec.call("update_user", id=FAKE_UUID, body={"name": "x"})
    rec.call("create_user", body={"name": "corpus-alice-renamed", "password": pw},
             note="a user with this name exists")
    rec.call("create_user", body={"name": "corpus-x", "password": pw, "bogus": 1})
    rec.call("create_user", body={})
    rec.call("create_user", body={"name": "corpus-x", "password": pw, "permission": "superuser"})
    rec.call("get_user", id=FAKE_UUID)
    me = rec.call("get_user", id="me")
    if me.status == 307:
        follow(rec, me, "get_user", "GET")
    rec.call("list_user_groups", id=uid)
    rec.call("list_user_tasks", id=uid)
    rec.call("list_user_acl_privileges", id=uid)
    rec.call("list_user_groups", id=FAKE_UUID)
    rec.call("delete_user", id=uid)
    rec.call("get_user", id=uid)
    rec.call("delete_user", id=uid)


def scenario_groups(rec, ctx):
    rec.scenario = "groups"
    pw = "corpus-bob-password"
    rec.passwords.add(pw)
    ctx["bob_pw"] = pw
    bob = rec.call("create_user", body={"name": "corpus-bob", "password": pw, "permission": "none"}).id()
    ctx["bob"] = bob
    g = rec.call("create_group", body={"name": "corpus-group"})
    gid = g.id()
    rec.call("create_group", body={"name": "corpus-group"}, note="a group with this name exists")
    rec.call("create_group", body={})
    rec.call("create_group", body={"name": "corpus-g2", "bogus": 1})
    rec.call("get_group", id=gid)
    rec.call("list_groups", query="fields=*")
    rec.call("list_groups", query="fields=*&ndjson=true")
    rec.call("list_groups", query="fields=name,users&markdown=true")
    rec.call("update_group", id=gid, body={"name": "corpus-group-renamed"})
    rec.call("update_group", id=gid, body={"bogus": 1})
    rec.call("add_user_to_group", id=gid, userId=bob)
    rec.call("add_user_to_group", id=gid, userId=bob, note="user already in the group")
    rec.call("add_user_to_group", id=gid, userId=FAKE_UUID)
    rec.call("add_user_to_group", id=FAKE_UUID, userId=bob)
    rec.call("get_group", id=gid)
    rec.call("list_group_users", id=gid)
    rec.call("list_group_users", id=gid, query="fields=*")
    rec.call("list_user_groups", id=bob, query="fields=*")
    rec.call("list_group_tasks", id=gid)
    rec.call("list_group_acl_roles", id=gid)
    rec.call("remove_user_from_group", id=gid, userId=bob)
    rec.call("remove_user_from_group", id=gid, userId=bob, note="user no longer in the group")
    rec.call("delete_group", id=gid)
    rec.call("get_group", id=gid)
    rec.call("delete_group", id=gid)
    rec.call("update_group", id=FAKE_UUID, body={"name": "x"})


def scenario_acl(rec, ctx):
    rec.scenario = "acl"
    bob = ctx["bob"]
    rid = rec.call("create_acl_role", body={"name": "corpus-role", "description": "corpus"}).id()
    dup = rec.call("create_acl_role", body={"name": "corpus-role"}, note="a role with this name exists").id()
    rec.call("create_acl_role", body={})
    rec.call("list_acl_roles")
    rec.call("list_acl_roles", query="fields=*")
    rec.call("list_acl_roles", query="fields=*&ndjson=true")
    rec.call("list_acl_roles", query="fields=name,description&markdown=true")
    rec.call("get_acl_role", id=rid)
    rec.call("update_acl_role", id=rid, body={"description": "corpus, updated"})
    rec.call("update_acl_role", id=rid, body={"description": None})
    rec.call("update_acl_role", id=FAKE_UUID, body={"name": "x"})
    p1 = rec.call("create_acl_privilege",
                  body={"roleId": rid, "resource": "vm", "action": "read", "effect": "allow"}).id()
    p2 = rec.call("create_acl_privilege",
                  body={"roleId": rid, "resource": "vm", "action": "start", "effect": "deny",
                        "selector": "name_label:corpus"}).id()
    rec.call("create_acl_privilege",
             body={"roleId": rid, "resource": "vm", "action": "fly", "effect": "allow"})
    rec.call("create_acl_privilege",
             body={"roleId": rid, "resource": "spaceship", "action": "read", "effect": "allow"})
    rec.call("create_acl_privilege",
             body={"roleId": FAKE_UUID, "resource": "vm", "action": "read", "effect": "allow"})
    rec.call("list_acl_privileges")
    rec.call("list_acl_privileges", query="fields=*&filter=resource%3Avm")
    rec.call("list_acl_privileges", query="fields=*&ndjson=true&limit=2")
    rec.call("get_acl_privilege", id=p1)
    rec.call("update_acl_privilege", id=p1, body={"effect": "deny"})
    rec.call("update_acl_privilege", id=p1, body={"action": "fly"})
    rec.call("get_acl_privilege", id=p1)
    rec.call("list_acl_role_privileges", id=rid)
    rec.call("list_acl_role_privileges", id=rid, query="fields=*")
    c = rec.call("copy_acl_role", id=rid, body={"name": "corpus-role-copy"})
    copies = []
    tid = c.task_id()
    if tid:
        t = rec.wait_task(tid)
        rec.call("get_task", id=tid, note="the copy task, once it ended")
        if t and isinstance(t.get("result"), dict) and t["result"].get("id"):
            copies.append(t["result"]["id"])
    c2 = rec.call("copy_acl_role", id=rid, query="sync=true", body={"name": "corpus-role-copy-sync"})
    if c2.id():
        copies.append(c2.id())
    rec.call("copy_acl_role", id=FAKE_UUID, query="sync=true", body={}, timeout=HANG_TIMEOUT)
    rec.call("copy_acl_role", id=FAKE_UUID, body={}, timeout=HANG_TIMEOUT)
    rec.call("attach_acl_role_to_user", id=rid, userId=bob)
    rec.call("attach_acl_role_to_user", id=rid, userId=bob, note="already attached")
    rec.call("attach_acl_role_to_user", id=rid, userId=FAKE_UUID)
    rec.call("list_acl_role_users", id=rid)
    rec.call("list_acl_role_users", id=rid, query="fields=*")
    rec.call("list_user_acl_privileges", id=bob, query="fields=*")
    rec.call("get_user", id=bob)
    rec.call("detach_acl_role_from_user", id=rid, userId=bob)
    rec.call("detach_acl_role_from_user", id=rid, userId=bob, note="no longer attached")
    gid = rec.call("create_group", body={"name": "corpus-acl-group"}).id()
    rec.call("attach_acl_role_to_group", id=rid, groupId=gid)
    rec.call("list_acl_role_groups", id=rid, query="fields=*")
    rec.call("list_group_acl_roles", id=gid, query="fields=*")
    rec.call("detach_acl_role_from_group", id=rid, groupId=gid)
    rec.call("attach_acl_role_to_group", id=rid, groupId=FAKE_UUID)
    rec.call("delete_group", id=gid)
    rec.call("delete_acl_privilege", id=p2)
    rec.call("get_acl_privilege", id=p2)
    rec.call("delete_acl_privilege", id=p2)
    if dup:
        copies.append(dup)
    for cid in copies:
        rec.call("delete_acl_role", id=cid)
    rec.call("delete_acl_role", id=rid)
    rec.call("get_acl_role", id=rid)
    rec.call("get_acl_privilege", id=p1, note="privilege of a deleted role")
    rec.call("delete_acl_role", id=rid)


def scenario_tokens(rec, ctx):
    rec.scenario = "tokens"
    admin = ctx["admin_id"]
    body = {"description": "xo-sdk corpus, via token", "expiresIn": "1 hour"}
    a = rec.call("create_auth_token", id="me", body=body)
    t2 = None
    if a.status == 307:
        b = follow(rec, a, "create_auth_token", "POST", body=body)
        t2 = b.json["token"]["id"] if b.status == 201 else None
    d = rec.request("POST", API + "/users/authentication_tokens", body={"description": "xo-sdk corpus, deprecated route"},
                    tool=None, note="deprecated route, not an SDK operation")
    t3 = d.json["token"]["id"] if d.status == 201 else None
    rec.call("create_auth_token", id=admin, body={"client": {"id": "xo-sdk-corpus"}, "description": "with client id"})
    rec.call("create_auth_token", id=admin, body={"bogus": 1})
    rec.call("create_auth_token", id=ctx["bob"], body={"description": "for someone else"})
    rec.call("list_auth_tokens", id=admin)
    rec.call("list_auth_tokens", id=admin, query="limit=1")
    rec.call("list_auth_tokens", id=admin, query="filter=description%3A%22with%20client%20id%22")
    m = rec.call("list_auth_tokens", id="me")
    if m.status == 307:
        follow(rec, m, "list_auth_tokens", "GET")
    rec.call("list_auth_tokens", id=ctx["bob"])
    rec.call("list_auth_tokens", id=FAKE_UUID)
    if t2:
        rec.call("list_users", token=t2, note=f"with {rec.secrets.get(t2)}")
    if t3:
        rec.request("DELETE", f"{API}/users/{admin}/authentication_tokens/{t3}", tool=None,
                    note="no REST route deletes a token (xo-cli/JSON-RPC only)")
        rec.request("DELETE", f"{API}/users/me/authentication_tokens/{t3}", tool=None)


def scenario_nonadmin(rec, ctx):
    rec.scenario = "nonadmin"
    bob, admin = ctx["bob"], ctx["admin_id"]
    basic = ("corpus-bob", ctx["bob_pw"])
    body = {"description": "xo-sdk corpus, non-admin"}
    a = rec.call("create_auth_token", id="me", auth="basic", basic=basic, body=body)
    b = follow(rec, a, "create_auth_token", "POST", body=body, auth="basic", basic=basic)
    tok = b.json["token"]["id"]
    ph = rec.secrets.get(tok)
    n = f"non-admin user (permission none), cookie {ph}"
    rec.call("list_users", token=tok, note=n)
    rec.call("list_users", token=tok, query="fields=*", note=n)
    rec.call("get_user", id=bob, token=tok, note=n)
    rec.call("get_user", id=admin, token=tok, note=n)
    rec.call("update_user", id=bob, token=tok, body={"preferences": {"lang": "en"}}, note=n)
    rec.call("update_user", id=bob, token=tok, body={"permission": "admin"}, note=n)
    rec.call("update_user", id=admin, token=tok, body={"name": "hijack"}, note=n)
    rec.call("delete_user", id=admin, token=tok, note=n)
    rec.call("create_user", token=tok, body={"name": "corpus-mallory", "password": ctx["bob_pw"]}, note=n)
    rec.call("list_groups", token=tok, note=n)
    rec.call("create_group", token=tok, body={"name": "corpus-nonadmin"}, note=n)
    rec.call("list_acl_roles", token=tok, note=n)
    rec.call("create_acl_role", token=tok, body={"name": "corpus-nonadmin"}, note=n)
    rec.call("list_tasks", token=tok, note=n)
    rec.call("delete_tasks", token=tok, note=n)
    rec.call("list_vms", token=tok, note=n)
    rec.call("list_servers", token=tok, note=n)
    rec.call("add_server", token=tok, body={"host": "127.0.0.1:9", "username": "root", "password": ctx["bob_pw"]}, note=n)
    rec.call("list_backup_repositories", token=tok, note=n)
    rec.call("get_dashboard", token=tok, note=n)
    rec.call("list_auth_tokens", id=bob, token=tok, note=n)
    rec.call("list_auth_tokens", id=admin, token=tok, note=n)
    rec.call("ping", token=tok, note=n)
    rec.call("delete_user", id=bob)
    rec.call("list_users", token=tok, note=f"{ph} of a user deleted just before")
    # an admin that deletes itself
    pw = ctx["bob_pw"]
    carol = rec.call("create_user", body={"name": "corpus-carol", "password": pw, "permission": "admin"}).id()
    basic = ("corpus-carol", pw)
    a = rec.call("create_auth_token", id="me", auth="basic", basic=basic, body=body)
    b = follow(rec, a, "create_auth_token", "POST", body=body, auth="basic", basic=basic)
    tok = b.json["token"]["id"]
    ph = rec.secrets.get(tok)
    rec.call("delete_user", id=carol, token=tok, note=f"an admin (cookie {ph}) deleting itself")
    rec.call("list_users", token=tok, note=f"{ph} of a user deleted just before")


def make_repo_dir(path):
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if os.path.isdir(full) and not os.path.islink(full):
            import shutil
            shutil.rmtree(full)
        else:
            os.unlink(full)


def scenario_backup_repositories(rec, ctx):
    rec.scenario = "backup-repositories"
    d = ctx["repo_dir"]
    make_repo_dir(d)
    r = rec.call("create_backup_repository", body={"name": "corpus-repo", "url": f"file://{d}"})
    rid = r.id()
    ctx["repo"] = rid
    rec.call("get_backup_repository", id=rid, note="right after creation")
    rec.call("list_backup_repositories")
    rec.call("list_backup_repositories", query="fields=*")
    rec.call("list_backup_repositories", query="fields=*&ndjson=true")
    rec.call("list_backup_repositories", query="fields=name,url,enabled,error&markdown=true")
    rec.call("get_backup_repository_health", id=rid)
    rec.call("update_backup_repository", id=rid, body={"name": "corpus-repo-renamed"})
    rec.call("update_backup_repository", id=rid, body={"enabled": True})
    rec.call("update_backup_repository", id=rid, body={"bogus": 1})
    rec.call("get_backup_repository", id=rid, note="after update")
    rec.call("benchmark_backup_repository", id=rid, query="sync=true")
    rec.call("get_backup_repository", id=rid, note="after a benchmark")
    rec.call("create_backup_repository", body={})
    bad = rec.call("create_backup_repository", body={"name": "corpus-bad", "url": "nope://x"}).id()
    if bad:
        rec.call("get_backup_repository", id=bad, note="created from url nope://x")
        rec.call("forget_backup_repository", id=bad, query="sync=true")
    rec.call("get_backup_repository", id=FAKE_UUID)
    rec.call("get_backup_repository_health", id=FAKE_UUID)
    rec.call("benchmark_backup_repository", id=FAKE_UUID)
    rec.call("update_backup_repository", id=FAKE_UUID, body={"name": "x"})
    rec.call("forget_backup_repository", id=FAKE_UUID)


def scenario_tasks(rec, ctx):
    rec.scenario = "tasks"
    repo = ctx["repo"]
    rec.call("list_tasks")
    rec.call("list_tasks", query="fields=*")
    rec.call("list_tasks", query="fields=*&ndjson=true")
    rec.call("list_tasks", query="fields=id,status,properties&markdown=true")
    rec.call("list_tasks", query="fields=*&filter=status%3Asuccess&limit=1")
    rec.call("list_tasks", query="watch=true", note="watch without ndjson")
    # 1. a watch while no task changes
    s = rec.stream("list_tasks", API + "/tasks", "fields=*&ndjson=true&watch=true")
    time.sleep(3.0)
    s.close(note="no status line within 3 s", timeout=3.0)
    # 2. a watch, then something that makes a task, then delete that task
    s = rec.stream("list_tasks", API + "/tasks", "fields=*&ndjson=true&watch=true")
    time.sleep(0.3)
    b = rec.call("benchmark_backup_repository", id=repo, note="triggers the watch opened just before")
    tid = b.task_id()
    s.wait_for(lambda buf: b'"success"' in buf or b'"failure"' in buf, 10)
    if tid:
        rec.call("get_task", id=tid)
        rec.call("get_task", id=tid, query="wait=true", note="task already ended")
        rec.call("delete_task", id=tid, note="while the watch is open")
        s.wait_for(lambda buf: b'"remove"' in buf, 5)
    time.sleep(0.3)
    s.close(note="watch opened, then a benchmark task was created, ended and was deleted; "
                 "the status line came with the first task change")
    b2 = rec.call("benchmark_backup_repository", id=repo)
    tid = b2.task_id()
    if tid:
        rec.call("get_task", id=tid, query="wait=true", note="sent right after the action answered")
    rec.call("get_task", id=FAKE_TASK)
    rec.call("get_task", id=FAKE_TASK, query="wait=true", timeout=HANG_TIMEOUT)
    rec.call("list_tasks", query="fields=*&filter=status%3Asuccess")
    # abort a finished task
    if tid:
        a = rec.call("abort_task", id=tid, note="abort of a finished task")
        at = a.task_id()
        if at and at != tid:
            rec.call("get_task", id=at, note="the abort task, right away")
            rec.wait_task(at)
            rec.call("get_task", id=at, note="the abort task, once it ended")
        a2 = rec.call("abort_task", id=tid, query="sync=true", note="abort of a finished task, sync")
        at2 = a2.task_id()
        if at2 and at2 != tid and a2.status in (201, 202):
            rec.wait_task(at2)
            rec.call("get_task", id=at2, note="the abort task, once it ended")
    rec.call("abort_task", id=FAKE_TASK)
    if tid:
        rec.call("delete_task", id=tid)
        rec.call("get_task", id=tid)
        rec.call("delete_task", id=tid)
    rec.call("delete_task", id=FAKE_TASK)
    rec.call("list_tasks", query="fields=id,status")
    rec.call("delete_tasks")
    rec.call("list_tasks")


def sse_init_id(buf):
    m = re.search(rb"event: init\s*\ndata: (.*)\n", buf)
    if not m:
        return None
    try:
        return json.loads(m.group(1))["id"]
    except (ValueError, KeyError, TypeError):
        return None


def scenario_events(rec, ctx):
    rec.scenario = "events"
    rec.call("open_events_stream", auth="none")
    rec.call("open_events_stream", auth="bad-token")
    s = rec.stream("open_events_stream", API + "/events")
    s.wait_for(lambda buf: sse_init_id(buf) is not None, 3)
    sid = sse_init_id(s.buf) or FAKE_UUID
    rec.call("add_event_subscription", id=sid, body={"collection": "task", "fields": "*"})
    rec.call("add_event_subscription", id=sid, body={"collection": "VM", "fields": ["id", "name_label"]})
    rec.call("add_event_subscription", id=sid, body={"collection": "nope"})
    rec.call("add_event_subscription", id=sid, body={})
    rec.call("add_event_subscription", id=FAKE_UUID, body={"collection": "task"})
    b = rec.call("benchmark_backup_repository", id=ctx["repo"], note="makes task events on the SSE stream")
    s.wait_for(lambda buf: b'"success"' in buf or b'"failure"' in buf, 10)
    if b.task_id():
        rec.call("delete_task", id=b.task_id(), note="makes a remove event on the SSE stream")
        s.wait_for(lambda buf: b"event: remove" in buf, 5)
    time.sleep(0.3)
    rec.call("remove_event_subscription", id=sid, subscriptionId="task")
    rec.call("remove_event_subscription", id=sid, subscriptionId="task", note="already removed")
    rec.call("remove_event_subscription", id=sid, subscriptionId="VM")
    rec.call("remove_event_subscription", id=FAKE_UUID, subscriptionId="VM")
    s.close(note="SSE stream: init frame, then the task events (benchmark, then its deletion) subscribed to")
    # a stream left without subscriptions for 3 s
    s2 = rec.stream("open_events_stream", API + "/events")
    time.sleep(3.0)
    s2.close(note="no subscriptions; first 3 s")


def scenario_servers(rec, ctx):
    rec.scenario = "servers"
    pw = "corpus-server-password"
    rec.passwords.add(pw)
    body = {"host": "127.0.0.1:9", "username": "root", "password": pw,
            "label": "corpus-unreachable", "allowUnauthorized": True}
    a = rec.call("add_server", body=body, note="host 127.0.0.1:9: nothing listens there")
    sid = a.id()
    rec.call("add_server", body=body, note="same host again")
    rec.call("add_server", body={})
    rec.call("add_server", body={**body, "bogus": 1})
    rec.call("list_servers")
    rec.call("list_servers", query="fields=*")
    rec.call("list_servers", query="fields=*&ndjson=true")
    rec.call("list_servers", query="fields=label,host,status,error&markdown=true")
    if sid:
        rec.call("get_server", id=sid)
        rec.call("connect_server", id=sid, query="sync=true", timeout=30)
        c = rec.call("connect_server", id=sid)
        if c.task_id():
            rec.wait_task(c.task_id())
            rec.call("get_task", id=c.task_id(), note="the connect task, once it ended")
        rec.call("get_server", id=sid, note="after failed connects")
        rec.call("disconnect_server", id=sid, query="sync=true")
        d = rec.call("disconnect_server", id=sid)
        if d.task_id():
            rec.wait_task(d.task_id())
            rec.call("get_task", id=d.task_id(), note="the disconnect task, once it ended")
        rec.call("list_server_tasks", id=sid)
        rec.call("list_server_tasks", id=sid, query="fields=id,status,properties")
        rec.call("delete_server", id=sid)
        rec.call("get_server", id=sid)
        rec.call("delete_server", id=sid)
    rec.call("connect_server", id=FAKE_UUID)
    rec.call("disconnect_server", id=FAKE_UUID)
    rec.call("list_server_tasks", id=FAKE_UUID)


def scenario_forget_repositories(rec, ctx):
    rec.scenario = "backup-repositories"
    rid = ctx["repo"]
    f = rec.call("forget_backup_repository", id=rid)
    if f.task_id():
        rec.wait_task(f.task_id())
        rec.call("get_task", id=f.task_id(), note="the forget task, once it ended")
    rec.call("get_backup_repository", id=rid, note="after forget")
    d2 = os.path.join(ctx["repo_dir"], "second")
    os.makedirs(d2, exist_ok=True)
    r2 = rec.call("create_backup_repository", body={"name": "corpus-repo-2", "url": f"file://{d2}"}).id()
    if r2:
        rec.call("forget_backup_repository", id=r2, query="sync=true")
        rec.call("list_backup_repositories")


# Values for path parameters of operations on objects that do not exist.
def fake_params(tool, template):
    params = {}
    for key in re.findall(r"\{(\w+)\}", template):
        if key == "format":
            params[key] = "vhd" if "/vdi" in template else "xva"
        elif key == "tag":
            params[key] = "corpus"
        elif key == "data_source":
            params[key] = "cpu0"
        elif key == "subscriptionId":
            params[key] = "VM"
        elif key == "id" and template.startswith("/tasks"):
            params[key] = FAKE_TASK
        else:
            params[key] = FAKE_UUID
    return params


SKIP_IN_SWEEP = {
    "copy_acl_role",  # recorded in "acl" (never answers on an unknown id)
    "delete_tasks",  # deletes every task; recorded in "tasks"
}
IMPORT_TOOLS = {"import_vm_xva", "import_vdi_to_sr", "import_vdi"}


def scenario_unknown_ids(rec, ctx):
    """Every operation on an object that does not exist (and creations of
    hypervisor objects with an empty body)."""
    rec.scenario = "unknown-ids"
    for tool, (method, template) in TOOLS.items():
        if tool in SKIP_IN_SWEEP:
            continue
        has_param = "{" in template
        if not has_param:
            if method == "POST" and template in ("/srs", "/vdis", "/vbds", "/vifs"):
                rec.call(tool, body={}, timeout=HANG_TIMEOUT)
            continue
        params = fake_params(tool, template)
        kw = {"timeout": HANG_TIMEOUT}
        if tool in IMPORT_TOOLS:
            kw["raw"] = b""
            kw["content_type"] = "application/octet-stream"
        elif method == "PATCH":
            kw["body"] = {"name_label": "corpus"} if "/users" not in template and "/groups" not in template \
                and "/acl-" not in template and "/backup-repositories" not in template else {"name": "corpus"}
        elif method == "POST" and tool in ("add_event_subscription",):
            kw["body"] = {"collection": "VM"}
        elif method == "POST" and "/actions/" not in template:
            kw["body"] = {}
        rec.call(tool, **params, **kw)
    # the same with the bodies they require, naming objects that do not exist
    rec.call("management_reconfigure_host", uuid=FAKE_UUID, body={"pif": FAKE_UUID}, timeout=HANG_TIMEOUT)
    rec.call("create_vdi", body={"srId": FAKE_UUID, "virtual_size": 1048576, "name_label": "corpus"},
             timeout=HANG_TIMEOUT)
    rec.call("create_vbd", body={"VM": FAKE_UUID, "VDI": FAKE_UUID}, timeout=HANG_TIMEOUT)
    rec.call("create_vif", body={"vmId": FAKE_UUID, "networkId": FAKE_UUID}, timeout=HANG_TIMEOUT)
    rec.call("create_sr", body={"hostId": FAKE_UUID, "name_label": "corpus", "SR_type": "ext",
                                "device_config": {"device": "/dev/null"}}, timeout=HANG_TIMEOUT)


def scenario_restart(rec, ctx, cmd):
    """Restart xo-server (data kept) and poll with the existing token every 50 ms until 200."""
    rec.scenario = "restart"
    t_cmd = time.monotonic()
    subprocess.run(cmd, shell=True, check=True)
    refused = 0
    t_first = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        # unrecorded probe for the port, so refused connections are counted, not recorded
        try:
            socket.create_connection((rec.host, rec.port), timeout=1).close()
        except OSError:
            refused += 1
            time.sleep(0.05)
            continue
        note = None
        if t_first is None:
            t_first = time.monotonic()
            note = (f"first answer after restart; {refused} refused connections over "
                    f"{int((t_first - t_cmd) * 1000)} ms before the port opened")
        try:
            a = rec.call("list_users", timeout=10, note=note)
        except (ConnectionError, http.client.HTTPException, OSError):
            rec.exchanges.pop()
            time.sleep(0.05)
            continue
        if a.status == 200:
            a.ex["response"]["note"] = ((a.ex["response"].get("note") or "") +
                                        f" first 200, {int((time.monotonic() - t_first) * 1000)} ms after the first answer").strip()
            return
        time.sleep(0.05)
    raise SystemExit("server did not come back within 120 s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:18080")
    ap.add_argument("--user", default="admin@admin.net")
    ap.add_argument("--password", default="admin")
    ap.add_argument("--out", default="conformance/real/corpus.jsonl")
    ap.add_argument("--repo-dir", default="/tmp/xo-sdk-corpus-repo",
                    help="directory for the file:// backup repositories (emptied first)")
    ap.add_argument("--restart-cmd", default=None,
                    help="shell command that restarts xo-server keeping its data and returns "
                         "without waiting (e.g. 'scripts/xo-real/restart.sh --no-wait'); "
                         "without it the restart scenario is skipped")
    ap.add_argument("--xo-server", default="5.207.2")
    ap.add_argument("--commit", default="9ef53890b8f5")
    ap.add_argument("--rest-api", default="0.37.0")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    rec = Recorder(args.url, args.user, args.password, verbose=not args.quiet)
    ctx = {"repo_dir": args.repo_dir}
    scenario_auth(rec, ctx)
    scenario_meta(rec, ctx)
    scenario_collections(rec, ctx)
    scenario_users(rec, ctx)
    scenario_groups(rec, ctx)
    scenario_acl(rec, ctx)
    scenario_tokens(rec, ctx)
    scenario_nonadmin(rec, ctx)
    scenario_backup_repositories(rec, ctx)
    scenario_tasks(rec, ctx)
    scenario_events(rec, ctx)
    scenario_servers(rec, ctx)
    scenario_forget_repositories(rec, ctx)
    scenario_unknown_ids(rec, ctx)
    scenario_expired(rec, ctx)
    if args.restart_cmd:
        scenario_restart(rec, ctx, args.restart_cmd)

    # machine-specific paths that could appear in error messages
    extra = []
    xo_real = os.environ.get("XO_REAL") or os.path.expanduser("~/xo-real")
    extra.append((xo_real, "$XO_REAL"))
    home = os.path.expanduser("~")
    if home not in ("/", ""):
        extra.append((home + "/", "$HOME/"))

    header = {
        "corpus": "xo-real",
        "server": {"xo_server": args.xo_server, "commit": args.commit, "rest_api": args.rest_api},
        "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "exchanges": len(rec.exchanges),
        "redacted": [
            "authentication token values (the authenticationToken cookie, which is not recorded, "
            "and every token id/string in paths and bodies) -> <token-N>, same token same N",
            "Basic auth credentials (the Authorization header is never recorded; auth: basic)",
            "passwords sent in request bodies -> <password>",
            "the server's install directory and $HOME in answer texts -> $XO_REAL, $HOME",
        ],
    }
    out_dir = os.path.dirname(args.out)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    compact = {"ensure_ascii": False, "separators": (",", ":")}
    lines = [json.dumps(header, **compact)]
    for ex in rec.exchanges:
        lines.append(rec.redact(json.dumps(ex, **compact), extra))
    body = "\n".join(lines) + "\n"
    for real in rec.secrets:
        assert real not in body
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(body)
    print(f"wrote {len(rec.exchanges)} exchanges to {args.out} ({len(body)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
