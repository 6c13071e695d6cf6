#!/usr/bin/env bash
# Print a fresh admin token for the local xo-server as shell exports.
# The POST to users/me answers 307 to users/<id>; curl -L follows it.
set -euo pipefail
url="${XO_URL:-http://127.0.0.1:18080}"
token=$(curl -sfL -u "${XO_USER:-admin@admin.net}:${XO_PASSWORD:-admin}" \
  -H 'content-type: application/json' -d '{"description":"xo-sdk local","expiresIn":"1 day"}' \
  "$url/rest/v0/users/me/authentication_tokens" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"]["id"])')
echo "export XO_URL=$url XO_TOKEN=$token"
