#!/usr/bin/env bash
# Rotates a Knify API key and writes its new secret where the operator says: the script behind the
# monthly cron line of Knify's authentication guide ("0 0 1 * * /usr/local/bin/rotate-knify-keys.sh").
#
#   rotate-knify-keys.sh --key-id key_… [--grace-seconds N] [--out FILE|-] [--via api|cli]
#
# Every option can also come from the environment, so the cron line needs no arguments:
#   KNIFY_KEY_ID                 the key to rotate (required)
#   KNIFY_ROTATE_GRACE_SECONDS   how long the previous secret keeps working (default 86400, at most 604800)
#   KNIFY_KEY_FILE               where the new secret goes: a file (written 0600, replaced atomically) or "-"
#                                for stdout (default "-")
#   KNIFY_ROTATE_VIA             "api" (default when ADMIN_API_KEY is set) or "cli"
#   api: ADMIN_API_KEY (an admin:all key's current secret) and KNIFY_BASE_URL (default https://api.knify.io)
#   cli: knify-server on this machine, on the server's store (KNIFY_DATA_DIR / KNIFY_DATABASE);
#        KNIFY_SERVER_BIN names the command (default: knify-server on PATH, else this repository's)
#
# The new secret is never printed to stderr or a log, never put in a command line (ps), and never written
# to a file anyone but the owner can read. Status goes to stderr without it. Exit 0 on success, 1 when the
# rotation failed (nothing changed), 2 on bad usage, 3 when the key was rotated but the secret could not
# be written (the previous secret still works for the grace period: rotate again once fixed).
set -euo pipefail
set +x # a trace would print the secret
umask 077

usage() {
  sed -n '5,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "See the header of $0 for the environment variables." >&2
  exit 2
}

key_id="${KNIFY_KEY_ID:-}"
grace="${KNIFY_ROTATE_GRACE_SECONDS:-86400}"
out="${KNIFY_KEY_FILE:--}"
via="${KNIFY_ROTATE_VIA:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --key-id) key_id="${2:-}"; shift 2 ;;
    --grace-seconds) grace="${2:-}"; shift 2 ;;
    --out) out="${2:-}"; shift 2 ;;
    --via) via="${2:-}"; shift 2 ;;
    -h | --help) usage ;;
    *) echo "rotate-knify-keys: unknown argument $1" >&2; usage ;;
  esac
done
if [ -z "$via" ]; then
  if [ -n "${ADMIN_API_KEY:-}" ]; then via=api; else via=cli; fi
fi

[[ "$key_id" =~ ^key_[A-Za-z0-9]{1,64}$ ]] || { echo "rotate-knify-keys: --key-id (or KNIFY_KEY_ID) must be a key id like key_xyz789" >&2; exit 2; }
[[ "$grace" =~ ^[0-9]{1,6}$ ]] && [ "$grace" -le 604800 ] || { echo "rotate-knify-keys: --grace-seconds must be a whole number from 0 to 604800" >&2; exit 2; }
[ -n "$out" ] || { echo "rotate-knify-keys: --out needs a file or -" >&2; exit 2; }
case "$via" in api | cli) ;; *) echo "rotate-knify-keys: --via must be api or cli" >&2; exit 2 ;; esac

# Make sure the secret can be written before the key is rotated: a rotation whose secret is lost helps no one.
tmp=""
cleanup() { if [ -n "$tmp" ]; then rm -f -- "$tmp"; fi; }
trap cleanup EXIT
if [ "$out" != "-" ]; then
  dir="$(dirname -- "$out")"
  tmp="$(mktemp "$dir/.rotate-knify-key.XXXXXX")" || { echo "rotate-knify-keys: cannot write in $dir" >&2; exit 1; }
  chmod 600 -- "$tmp"
fi

# The response holds the secret: it stays in this shell's memory and reaches python3 through a pipe.
if [ "$via" = api ]; then
  [ -n "${ADMIN_API_KEY:-}" ] || { echo "rotate-knify-keys: --via api needs ADMIN_API_KEY" >&2; exit 2; }
  base="${KNIFY_BASE_URL:-https://api.knify.io}"
  # The admin key goes to curl on stdin (-H @-), not on its command line, where ps would show it.
  response="$(printf 'Authorization: Bearer %s\n' "$ADMIN_API_KEY" | curl -sS -X POST "${base%/}/keys/$key_id/rotate" \
    -H @- -H "Content-Type: application/json" \
    --data "{\"grace_period_seconds\": $grace}" -w '\n%{http_code}')" || { echo "rotate-knify-keys: could not reach $base" >&2; exit 1; }
  status="${response##*$'\n'}"
  response="${response%$'\n'*}"
  if [ "${status:0:1}" != 2 ]; then
    # A problem+json body names what went wrong and never carries a secret.
    detail="$(printf '%s' "$response" | python3 -c 'import json,sys
try:
    p = json.load(sys.stdin)
    print("%s: %s" % (p.get("code"), p.get("detail")))
except Exception:
    print("the response was not a Knify problem")' 2>/dev/null || true)"
    echo "rotate-knify-keys: rotating $key_id failed with HTTP $status ($detail)" >&2
    exit 1
  fi
else
  if [ -n "${KNIFY_SERVER_BIN:-}" ]; then
    read -r -a bin <<<"$KNIFY_SERVER_BIN"
  elif command -v knify-server >/dev/null; then
    bin=(knify-server)
  else
    bin=(node "$(dirname -- "$0")/../server/bin/knify-server.mjs")
  fi
  response="$("${bin[@]}" keys rotate "$key_id" --grace-seconds "$grace")" || { echo "rotate-knify-keys: knify-server keys rotate $key_id failed" >&2; exit 1; }
fi

# Two lines: the secret, then a status line without it.
parsed="$(printf '%s' "$response" | python3 -c 'import json,sys
r = json.load(sys.stdin)
print(r["api_key"])
print("rotated %s: new secret %s...; the previous one works until %s" % (r["key_id"], r["prefix"], r["previous_secret_expires_at"]))')" || { echo "rotate-knify-keys: unexpected response; the key may have been rotated, check GET /keys/$key_id" >&2; exit 3; }
secret="${parsed%%$'\n'*}"
summary="${parsed#*$'\n'}"

if [ "$out" = "-" ]; then
  printf '%s\n' "$secret"
else
  { printf '%s\n' "$secret" >"$tmp" && mv -f -- "$tmp" "$out"; } || { echo "rotate-knify-keys: $key_id was rotated but $out could not be written; rotate again once it can" >&2; exit 3; }
  tmp=""
fi
if [ "$out" = "-" ]; then where=stdout; else where="$out"; fi
echo "rotate-knify-keys: $summary (secret written to $where)" >&2
