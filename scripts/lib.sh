# Shared by scripts/test, scripts/run-local and .ci/run. Source it; do not run it.
# Everything it starts is stopped by stop_started (call it from an EXIT trap).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STARTED_PIDS=()
export SAM_CLI_TELEMETRY=0

log() { printf '==> %s\n' "$*" >&2; }

# Creates .venv with the pinned tools of requirements-dev.txt (again when that file changes).
ensure_venv() {
  local stamp="$VENV/.requirements.sha256"
  local want
  want=$(sha256sum "$ROOT/requirements-dev.txt" | cut -d' ' -f1)
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  log "installing Python tools into .venv (about a minute, once)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
  echo "$want" > "$stamp"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() { # port, seconds
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, deadline = int(sys.argv[1]), time.time() + float(sys.argv[2])
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}

# Starts moto's DynamoDB on a free loopback port and points the AWS SDK at it.
start_moto() {
  local port log_file="$1"
  port=$(free_port)
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log_file" 2>&1 &
  STARTED_PIDS+=($!)
  if ! wait_for_port "$port" 20; then
    log "moto did not start; its log:"; cat "$log_file" >&2; return 1
  fi
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
  unset AWS_PROFILE AWS_SESSION_TOKEN
  log "moto DynamoDB on $AWS_ENDPOINT_URL"
}

# Stops everything start_* started: TERM, then KILL whatever is still there after 5 s.
stop_started() {
  local pid i
  [ ${#STARTED_PIDS[@]} -eq 0 ] && return 0
  for pid in "${STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for i in $(seq 1 50); do
    for pid in "${STARTED_PIDS[@]}"; do
      kill -0 "$pid" 2>/dev/null && break
      pid=""
    done
    [ -z "$pid" ] && break
    sleep 0.1
  done
  for pid in "${STARTED_PIDS[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  STARTED_PIDS=()
}
