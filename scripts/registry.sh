#!/usr/bin/env bash
# A Confluent-compatible schema registry for the Avro path, without Docker: Apicurio Registry (a
# Quarkus app from Maven Central, in-memory storage) on 127.0.0.1:8081. Its Confluent API is at
# http://127.0.0.1:8081/apis/ccompat/v7 (the `host` for @kafkajs/confluent-schema-registry).
#
#   scripts/registry.sh up        start it unless it already answers; wait until the API answers
#   scripts/registry.sh down      stop the one we started (pid file), and check it is gone
#   scripts/registry.sh status    one line; exit 1 when it does not answer
#   scripts/registry.sh url       print the Confluent-compatible base URL
#
#   LISTING_NOTIFIER_CACHE      downloads      default ~/.cache/listing-notifier
#   LISTING_NOTIFIER_STACK_DIR  pid and logs   default ~/.local/state/listing-notifier
#   LISTING_NOTIFIER_M2_REPO    optional Maven local repository (default: Maven's own ~/.m2)
#   REGISTRY_JAVA               a java >= 21 to run it with (default: the newest found)
#
# Version: Apicurio publishes no 3.1.x app archive on Maven Central (its metadata lists 3.0.9, 3.3.2,
# 3.3.3), and 3.0.9's parent pom is not there, so Maven cannot resolve it. 3.3.3 resolves; its classes
# are Java 21 (class file 65), so it needs a JDK >= 21 (Java 17 fails with UnsupportedClassVersionError).
set -euo pipefail

APICURIO_VERSION=3.3.3
REGISTRY_PORT=8081
MANAGEMENT_PORT=9081
MAVEN_DEPENDENCY_PLUGIN_VERSION=3.8.1
STATE="${LISTING_NOTIFIER_STACK_DIR:-$HOME/.local/state/listing-notifier}"
CACHE="${LISTING_NOTIFIER_CACHE:-$HOME/.cache/listing-notifier}"
APP_DIR="$CACHE/apicurio-registry-$APICURIO_VERSION"
LOGS="$STATE/logs"
PID_FILE="$STATE/run/registry.pid"
BASE_URL="http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"

say() { printf '[registry] %s\n' "$*"; }
die() {
  printf '[registry] ERROR: %s\n' "$*" >&2
  exit 1
}
ERR_PREFIX='[registry]'
# shellcheck source=stack/errors.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack/errors.sh"

answers() { curl -sf -o /dev/null --max-time 2 "$BASE_URL/subjects"; }
port_busy() { # ss's output read whole: `ss | grep -q` can fail with SIGPIPE under pipefail
  local listening
  listening="$(ss -ltnH "sport = :$REGISTRY_PORT" 2>/dev/null)" || true
  [[ -n "$listening" ]]
}
read_pid() { [[ -f "$PID_FILE" ]] && head -n1 "$PID_FILE" || true; }
pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

java_major() { # java binary -> major version, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'
}

# The java to run Apicurio with: $REGISTRY_JAVA, else the newest JDK >= 21 on PATH or in /usr/lib/jvm.
find_java() {
  if [[ -n "${REGISTRY_JAVA:-}" ]]; then
    local v
    v="$(java_major "$REGISTRY_JAVA")"
    [[ "$v" =~ ^[0-9]+$ ]] && ((v >= 21)) || die "REGISTRY_JAVA=$REGISTRY_JAVA is java ${v:-?}; Apicurio $APICURIO_VERSION needs >= 21"
    printf '%s' "$REGISTRY_JAVA"
    return
  fi
  local best="" best_v=0 candidate v
  for candidate in "$(command -v java 2>/dev/null || true)" /usr/lib/jvm/*/bin/java; do
    [[ -x "$candidate" ]] || continue
    v="$(java_major "$candidate")"
    if [[ "$v" =~ ^[0-9]+$ ]] && ((v >= 21 && v > best_v)); then
      best="$candidate" best_v="$v"
    fi
  done
  [[ -n "$best" ]] || die "no java >= 21 found (PATH, /usr/lib/jvm): Apicurio Registry $APICURIO_VERSION needs one; set REGISTRY_JAVA"
  printf '%s' "$best"
}

resolve() {
  [[ -f "$APP_DIR/.complete" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found: install Maven (Debian: apt-get install maven); it fetches Apicurio from Maven Central"
  local coords="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" tmp args=(-q -B)
  [[ -n "${LISTING_NOTIFIER_M2_REPO:-}" ]] && args+=("-Dmaven.repo.local=$LISTING_NOTIFIER_M2_REPO")
  say "resolving $coords from Maven Central (about 160 MB, once)"
  tmp="$(mktemp -d)"
  # dependency:copy wants a project; an empty one will do.
  printf '%s\n' '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>' \
    '<groupId>local</groupId><artifactId>registry-fetch</artifactId><version>1</version><packaging>pom</packaging></project>' \
    >"$tmp/pom.xml"
  if ! mvn "${args[@]}" -f "$tmp/pom.xml" "org.apache.maven.plugins:maven-dependency-plugin:$MAVEN_DEPENDENCY_PLUGIN_VERSION:copy" \
    -Dartifact="$coords" -DoutputDirectory="$tmp/out" >"$LOGS/mvn-registry.log" 2>&1; then
    tail -n 20 "$LOGS/mvn-registry.log" >&2
    rm -rf "$tmp"
    die "could not resolve $coords from Maven Central (full log: $LOGS/mvn-registry.log)"
  fi
  rm -rf "$APP_DIR" && mkdir -p "$APP_DIR"
  tar -xzf "$tmp"/out/*.tar.gz -C "$APP_DIR"
  rm -rf "$tmp"
  [[ -f "$APP_DIR/quarkus-run.jar" ]] || die "the archive has no quarkus-run.jar (layout changed?): see $APP_DIR"
  touch "$APP_DIR/.complete"
}

up() {
  mkdir -p "$LOGS" "$(dirname "$PID_FILE")"
  local pid
  pid="$(read_pid)"
  if answers; then
    if pid_alive "$pid"; then
      say "already running (pid $pid): $BASE_URL"
    else
      say "a registry already answers at $BASE_URL (not started by this script); using it"
    fi
    return 0
  fi
  if pid_alive "$pid"; then
    say "pid $pid is alive but does not answer yet; waiting"
  else
    port_busy && die "port $REGISTRY_PORT is taken by another process ($(ss -ltnpH "sport = :$REGISTRY_PORT" | head -n1)); free it"
    command -v curl >/dev/null || die "curl not found (apt-get install curl)"
    resolve
    local java
    java="$(find_java)" || exit 1 # find_java said why
    say "starting Apicurio Registry $APICURIO_VERSION with $java on 127.0.0.1:$REGISTRY_PORT (log: $LOGS/registry.log)"
    # In-memory storage (the default). The management interface (health, metrics) listens on
    # 0.0.0.0:9000 unless told otherwise: keep it on loopback, on its own port.
    setsid nohup "$java" -Xms128m -Xmx512m -XX:+UseSerialGC \
      -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
      -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$MANAGEMENT_PORT" \
      -jar "$APP_DIR/quarkus-run.jar" >"$LOGS/registry.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PID_FILE"
  fi
  local deadline=$((SECONDS + 120))
  until answers; do
    if ! pid_alive "$pid"; then
      tail -n 30 "$LOGS/registry.log" >&2
      die "Apicurio Registry exited during startup (log: $LOGS/registry.log)"
    fi
    ((SECONDS < deadline)) || die "Apicurio Registry did not answer within 120 s (log: $LOGS/registry.log)"
    sleep 0.5
  done
  say "ready: $BASE_URL"
}

down() {
  local pid
  pid="$(read_pid)"
  if ! pid_alive "$pid"; then
    rm -f "$PID_FILE"
    say "not running (no live pid file)"
    return 0
  fi
  say "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if pid_alive "$pid"; then
    say "did not stop within 30 s, killing pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  say "stopped"
}

status() {
  if answers; then
    say "up: $BASE_URL (pid $(read_pid || echo '?'))"
  else
    say "down"
    return 1
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status || exit 1 ;; # down is an answer, not an error
  url) printf '%s\n' "$BASE_URL" ;;
  *)
    echo "usage: scripts/registry.sh up|down|status|url" >&2
    exit 2
    ;;
esac
