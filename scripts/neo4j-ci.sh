#!/usr/bin/env bash
# Start/stop a local Neo4j 5.26 (embedded launcher in docker/neo4j-local) for CI, no Docker.
#
#   scripts/neo4j-ci.sh start PORT DATADIR [PIDFILE]   # returns once Bolt is ready
#   scripts/neo4j-ci.sh stop  [DATADIR|PIDFILE]        # SIGTERM, wait, SIGKILL after 60 s
#
# PIDFILE defaults to DATADIR.pid (next to DATADIR); `stop` without an argument uses
# $NEO4J_CI_PIDFILE. The launcher's output goes to DATADIR/logs/launcher.log (Neo4j's own
# logs sit beside it). Env: NEO4J_LOCAL_PASSWORD (enables auth; unset = no auth),
# NEO4J_CI_TIMEOUT (seconds to wait for ready after the build, default 180),
# NEO4J_LOCAL_HEAP (default 1g).
set -euo pipefail

launcher="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/docker/neo4j-local/run.sh"

usage() {
    sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^#  *//' >&2
    exit 2
}

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

start() {
    local port="$1" data="$2"
    local pidfile="${3:-${data%/}.pid}" log="$data/logs/launcher.log"
    if [[ -f "$pidfile" ]] && alive "$(cat "$pidfile")"; then
        echo "neo4j-ci: already running (pid $(cat "$pidfile"), $pidfile)" >&2
        exit 1
    fi
    mkdir -p "$data/logs"
    "$launcher" --build-only   # not counted in the timeout: the first build downloads Neo4j
    local args=(--port "$port" --data "$data")
    [[ -n "${NEO4J_LOCAL_PASSWORD:-}" ]] && args+=(--password "$NEO4J_LOCAL_PASSWORD")
    # setsid: the CI shell's job control and Ctrl-C do not reach the server.
    setsid "$launcher" "${args[@]}" >"$log" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$pidfile"
    local deadline=$((SECONDS + ${NEO4J_CI_TIMEOUT:-180}))
    until grep -q '^ready bolt://' "$log"; do
        if ! alive "$pid" || ((SECONDS >= deadline)); then
            echo "neo4j-ci: Neo4j on port $port did not become ready; tail of $log:" >&2
            tail -n 30 "$log" >&2
            stop "$pidfile" >/dev/null 2>&1 || true
            exit 1
        fi
        sleep 0.2
    done
    grep -m1 '^ready bolt://' "$log"
}

stop() {
    local target="${1:-${NEO4J_CI_PIDFILE:-}}"
    [[ -n "$target" ]] || usage
    [[ -d "$target" ]] && target="${target%/}.pid"
    [[ -f "$target" ]] || { echo "neo4j-ci: no pid file $target (not running?)" >&2; return 0; }
    local pid
    pid="$(cat "$target")"
    if alive "$pid"; then
        kill -TERM "$pid"
        local deadline=$((SECONDS + 60))
        while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
        if alive "$pid"; then
            echo "neo4j-ci: pid $pid ignored SIGTERM for 60 s; killing it" >&2
            kill -KILL "$pid"
        fi
    fi
    rm -f "$target"
    echo "stopped"
}

case "${1:-}" in
    start) [[ $# -ge 3 && $# -le 4 ]] || usage; shift; start "$@" ;;
    stop) [[ $# -le 2 ]] || usage; shift; stop "$@" ;;
    *) usage ;;
esac
