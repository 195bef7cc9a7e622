#!/usr/bin/env bash
# The real stack without Docker: a private PostgreSQL cluster (wal_level=logical), a private MariaDB
# (ROW binlog, full row images), a single-node KRaft Kafka broker and a distributed Kafka Connect
# worker running the Debezium Postgres and MariaDB connectors.
#
#   scripts/stack.sh up            start what is not running, register the connector, wait for RUNNING
#   scripts/stack.sh replica-identity default|full|show|setup|measure-wal ...   (scripts/stack/replica-identity.sh)
#   scripts/stack.sh preflight     check the prerequisites and that no other stack holds the ports (starts nothing)
#   scripts/stack.sh down          stop everything we started (checked with pgrep afterwards)
#   scripts/stack.sh status        one line per component; exit 1 when something is not healthy
#   scripts/stack.sh logs [name] [-f]   postgres | mariadb | kafka | connect | initdb | mvn-kafka | ... (tail, or follow)
#   scripts/stack.sh reset         down, then delete the state directory (downloads are kept)
#   scripts/stack.sh restart kafka stop and start the broker only (end-to-end tests), wait for the connector
#
# Kafka has two client listeners: PLAINTEXT on $KAFKA_PORT (Connect, most tests) and SASL_SSL on
# $KAFKA_SASL_SSL_PORT (PLAIN, SCRAM-SHA-256/512), with a throw-away CA, the broker's keystore, a client
# certificate and the SASL user's password made by openssl under <state>/tls when missing.
#
# One stack per machine: state lives outside the repository so every clone shares it.
#   LISTING_NOTIFIER_STACK_DIR  state (data, pids, logs)  default ~/.local/state/listing-notifier
#   LISTING_NOTIFIER_CACHE      resolved jars and plugin  default ~/.cache/listing-notifier
#   LISTING_NOTIFIER_M2_REPO    optional Maven local repository (default: Maven's own ~/.m2)
#   MONOLITH_DB_PASSWORD        the debezium role's password   default debezium (local development)
#   MONOLITH_MARIADB_PASSWORD   the MariaDB debezium user's password   default debezium (local development)
# Versions and ports: scripts/stack/versions.env. Debezium's database-side settings: debezium/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_FILES="$ROOT/scripts/stack"
# shellcheck source=stack/versions.env
source "$STACK_FILES/versions.env"

STATE="${LISTING_NOTIFIER_STACK_DIR:-$HOME/.local/state/listing-notifier}"
CACHE="${LISTING_NOTIFIER_CACHE:-$HOME/.cache/listing-notifier}"
LOGS="$STATE/logs"
RUN="$STATE/run"
PGDATA="$STATE/pg"
KAFKA_DATA="$STATE/kafka/data"
TLS_DIR="$STATE/tls"
SASL_USER=listing_notifier
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
PLUGIN_PATH="$CACHE/debezium-$DEBEZIUM_VERSION/plugins"
CONNECTOR_FILE="$ROOT/debezium/connector.json"
CONNECTOR_NAME="$(sed -n 's/^  "name": "\(.*\)",$/\1/p' "$CONNECTOR_FILE")"
CONNECT_URL="http://127.0.0.1:$CONNECT_PORT"
PG_SUPERUSER_PASSWORD=postgres
# The shared store (pace, delivery ledger, thread anchors): the machine's Redis when one answers on
# REDIS_PORT, else a redis-server of our own (state in $STATE/redis).
REDIS_PORT="${REDIS_PORT:-6379}"
# kafka-topics (org.apache.kafka.tools.TopicCommand) lives in kafka-tools, kept apart from the broker's
# libs so that resolving it never touches the jars of a running broker.
KAFKA_TOOLS="$CACHE/kafka-$KAFKA_VERSION/tools"
LISTINGS_TOPIC="$(jq -r '.config["topic.prefix"]' "$CONNECTOR_FILE").public.listings"
TOPIC_PARTITIONS="$(jq -r '.config["topic.creation.default.partitions"] // "1"' "$CONNECTOR_FILE")"
export MONOLITH_DB_PASSWORD="${MONOLITH_DB_PASSWORD:-debezium}"

say() { printf '[stack] %s\n' "$*"; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

# The log that tells more about a failure in function $1 (the step that failed).
log_of() {
  case "$1" in
  resolve_artifacts) printf '%s' "$LOGS/mvn-kafka.log and $LOGS/mvn-debezium.log" ;;
  resolve_mariadb_plugin) printf '%s' "$LOGS/mvn-debezium-mariadb.log" ;;
  resolve_kafka_tools) printf '%s' "$LOGS/mvn-kafka-tools.log" ;;
  pg_* | psql_su | grant_pg_traverse) printf '%s' "$LOGS/postgres.log" ;;
  mariadb_* | grant_mariadb_traverse) printf '%s' "$LOGS/mariadb.log" ;;
  kafka_up | kafka_ready | scram_user* | tls_material) printf '%s' "$LOGS/kafka.log" ;;
  topic_* | kafka_topics) printf '%s' "$LOGS/kafka-topics.log" ;;
  redis_*) printf '%s' "$LOGS/redis.log" ;;
  connect_* | connector_* | register_*) printf '%s' "$LOGS/connect.log" ;;
  *) printf '%s' "$LOGS (npm run stack -- logs)" ;;
  esac
}

# shellcheck source=stack/errors.sh
source "$STACK_FILES/errors.sh"
now() { printf '%s' "$EPOCHREALTIME"; }
joined() { # the arguments, separated by "; " (one-line reports)
  local out
  printf -v out '%s; ' "$@"
  printf '%s' "${out%; }"
}
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }

# Wait until "$@" succeeds, at most $1 seconds; $2 names what we wait for.
wait_for() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.5
  done
  say "$what: ready"
}

# ---------------------------------------------------------------------------------------- checks

# Every prerequisite of `up`, checked before anything starts; all missing ones are named in one line
# with the Debian package that brings them (the README's prerequisites list the same).
require_tools() {
  local missing=()
  need() { # command, what to install
    command -v "$1" >/dev/null 2>&1 || missing+=("$1 ($2)")
  }
  need java "apt-get install openjdk-17-jdk-headless: Java 17 or later"
  if command -v java >/dev/null 2>&1; then
    local jv
    jv="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')" || true
    [[ "$jv" =~ ^[0-9]+$ ]] && ((jv >= 17)) ||
      missing+=("java >= 17 (found ${jv:-an unreadable version}: apt-get install openjdk-17-jdk-headless)")
  fi
  need mvn "apt-get install maven: it resolves Kafka and Debezium from Maven Central"
  need curl "apt-get install curl"
  need jq "apt-get install jq"
  need ss "apt-get install iproute2"
  need flock "apt-get install util-linux"
  need setsid "apt-get install util-linux"
  need openssl "apt-get install openssl"
  ((EUID == 0)) && need runuser "apt-get install util-linux"
  PG_BIN="/usr/lib/postgresql/$POSTGRES_MAJOR/bin"
  if [[ ! -x "$PG_BIN/initdb" ]]; then
    PG_BIN="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"
  fi
  [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" && -x "$PG_BIN/pg_isready" ]] ||
    missing+=("PostgreSQL $POSTGRES_MAJOR server binaries initdb, pg_ctl, pg_isready (apt-get install postgresql-$POSTGRES_MAJOR)")
  need psql "apt-get install postgresql-client"
  mariadb_bin mariadbd mysqld >/dev/null || missing+=("mariadbd (apt-get install mariadb-server: MariaDB 10.5 or later)")
  mariadb_bin mariadb-install-db mysql_install_db >/dev/null || missing+=("mariadb-install-db (apt-get install mariadb-server)")
  need mariadb "apt-get install mariadb-client"
  need mariadb-admin "apt-get install mariadb-client"
  need redis-cli "apt-get install redis-tools"
  # redis-server only when no Redis answers on REDIS_PORT (the machine's is used when it does).
  if ! redis_ping; then need redis-server "apt-get install redis-server"; fi
  unset -f need
  ((${#missing[@]} == 0)) && return 0
  die "missing prerequisites: $(joined "${missing[@]}")"
}

# The pid listening on 127.0.0.1:$1, or nothing.
# (ss's output is read whole: `ss | grep -q` could fail with SIGPIPE under pipefail.)
port_pid() {
  local listening
  listening="$(ss -ltnpH "sport = :$1" 2>/dev/null)" || true
  [[ "$listening" =~ pid=([0-9]+), ]] && printf '%s' "${BASH_REMATCH[1]}"
  return 0
}
port_busy() {
  local listening
  listening="$(ss -ltnH "sport = :$1" 2>/dev/null)" || true
  [[ -n "$listening" ]]
}

# Fails when the port is taken by anything but pid $2 (our process).
require_port_free_or_ours() {
  local port="$1" ours="${2:-}" name="$3" pid
  port_busy "$port" || return 0
  pid="$(port_pid "$port")"
  if [[ -n "$ours" && "$pid" == "$ours" ]]; then
    return 0
  fi
  die "port $port (for $name) is taken by another process (pid ${pid:-unknown}: $(ps -o args= -p "${pid:-0}" 2>/dev/null | cut -c1-100)); stop it or free the port"
}

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }
read_pid() { [[ -f "$1" ]] && head -n1 "$1" || true; }

# Before `up` starts anything: each of the stack's ports (versions.env) is free or held by a process
# this state directory started. A port held by anything else means another stack (another
# LISTING_NOTIFIER_STACK_DIR, say a CI run beside a developer's stack) or another service: refuse in
# one line instead of mixing with it. Redis is left out: the machine's Redis is meant to be shared.
require_ports_free_or_ours() {
  local ours held=() entry port name pid
  ours=" $(read_pid "$PGDATA/postmaster.pid") $(read_pid "$RUN/mariadb.pid") $(read_pid "$RUN/kafka.pid") $(read_pid "$RUN/connect.pid") "
  for entry in "$POSTGRES_PORT:PostgreSQL" "$MARIADB_PORT:MariaDB" "$KAFKA_PORT:Kafka" \
    "$KAFKA_CONTROLLER_PORT:the Kafka controller" "$KAFKA_SASL_SSL_PORT:Kafka SASL_SSL" "$CONNECT_PORT:Kafka Connect"; do
    port="${entry%%:*}" name="${entry#*:}"
    port_busy "$port" || continue
    pid="$(port_pid "$port")"
    [[ -n "$pid" && "$ours" == *" $pid "* ]] && continue
    local args
    args="$(ps -o args= -p "${pid:-0}" 2>/dev/null)" || args=""
    # The command's name and its last argument (the data directory or properties file, which names
    # the other stack's state directory).
    held+=("$port $name (pid ${pid:-unknown} ${args%% *} ${args##* })")
  done
  ((${#held[@]} == 0)) && return 0
  die "another stack or service holds the ports, not one started from $STATE: $(joined "${held[@]}") (stop it, e.g. LISTING_NOTIFIER_STACK_DIR=<its state> npm run stack -- down, or use its state directory)"
}

# ------------------------------------------------------------------------------------- artifacts

mvn_q() {
  local args=(-q -B)
  if [[ -n "${LISTING_NOTIFIER_M2_REPO:-}" ]]; then
    args+=("-Dmaven.repo.local=$LISTING_NOTIFIER_M2_REPO")
  fi
  mvn "${args[@]}" "$@"
}

resolve_artifacts() {
  local plugin="org.apache.maven.plugins:maven-dependency-plugin:$MAVEN_DEPENDENCY_PLUGIN_VERSION"
  if [[ ! -f "$KAFKA_LIBS/.complete" ]]; then
    say "resolving Kafka $KAFKA_VERSION (broker + Connect) from Maven Central into $KAFKA_LIBS"
    rm -rf "$KAFKA_LIBS" && mkdir -p "$KAFKA_LIBS"
    if ! mvn_q -f "$STACK_FILES/kafka-pom.xml" "$plugin:copy-dependencies" -DincludeScope=runtime \
      -Dkafka.version="$KAFKA_VERSION" -Dslf4j.version="$SLF4J_VERSION" -Dlog4j.version="$LOG4J_VERSION" \
      -DoutputDirectory="$KAFKA_LIBS" >"$LOGS/mvn-kafka.log" 2>&1; then
      tail -n 20 "$LOGS/mvn-kafka.log" >&2
      die "could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION / connect-runtime from Maven Central (is it reachable? full log: $LOGS/mvn-kafka.log)"
    fi
    touch "$KAFKA_LIBS/.complete"
  fi
  if [[ ! -f "$PLUGIN_PATH/.complete" ]]; then
    local coords="io.debezium:debezium-connector-postgres:$DEBEZIUM_VERSION:tar.gz:plugin" tmp
    say "resolving $coords from Maven Central"
    tmp="$(mktemp -d)"
    if ! mvn_q -f "$STACK_FILES/kafka-pom.xml" "$plugin:copy" -Dartifact="$coords" -DoutputDirectory="$tmp" \
      >"$LOGS/mvn-debezium.log" 2>&1; then
      tail -n 20 "$LOGS/mvn-debezium.log" >&2
      rm -rf "$tmp"
      die "could not resolve $coords from Maven Central (is it reachable? full log: $LOGS/mvn-debezium.log)"
    fi
    rm -rf "$PLUGIN_PATH" && mkdir -p "$PLUGIN_PATH"
    tar -xzf "$tmp"/*.tar.gz -C "$PLUGIN_PATH"
    rm -rf "$tmp"
    touch "$PLUGIN_PATH/.complete"
  fi
}

# -------------------------------------------------------------------------------------- postgres

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres OS user.
as_pg() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
psql_su() {
  PGPASSWORD="$PG_SUPERUSER_PASSWORD" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres "$@"
}
pg_running() { [[ -f "$PGDATA/postmaster.pid" ]] && as_pg "$PG_BIN/pg_ctl" status -D "$PGDATA" >/dev/null 2>&1; }
pg_pid() { read_pid "$PGDATA/postmaster.pid"; }
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT"; }

# The postgres user must be able to reach a data directory below $HOME (root's home is 0700):
# grant it search (x) permission only, with an ACL when setfacl exists, else o+x.
grant_pg_traverse() {
  ((EUID == 0)) || return 0
  local dir="$STATE"
  local dirs=()
  while [[ "$dir" != "/" ]]; do
    dirs=("$dir" "${dirs[@]}")
    dir="$(dirname "$dir")"
  done
  for dir in "${dirs[@]}"; do
    if ! runuser -u postgres -- test -x "$dir"; then
      if command -v setfacl >/dev/null; then
        setfacl -m u:postgres:x "$dir"
        say "granted the postgres user search permission on $dir (ACL u:postgres:x)"
      else
        chmod o+x "$dir"
        say "granted search permission (o+x, no listing) on $dir so the postgres user can reach its data"
      fi
    fi
  done
}

pg_up() {
  if pg_running; then
    require_port_free_or_ours "$POSTGRES_PORT" "$(pg_pid)" PostgreSQL
    say "postgres: already running (pid $(pg_pid), port $POSTGRES_PORT)"
  else
    require_port_free_or_ours "$POSTGRES_PORT" "" PostgreSQL
    grant_pg_traverse
    if [[ ! -f "$PGDATA/PG_VERSION" ]]; then
      say "postgres: initdb $PGDATA"
      mkdir -p "$PGDATA"
      ((EUID == 0)) && chown postgres: "$PGDATA"
      chmod 700 "$PGDATA"
      local pwfile
      pwfile="$(mktemp)"
      printf '%s\n' "$PG_SUPERUSER_PASSWORD" >"$pwfile"
      ((EUID == 0)) && chown postgres: "$pwfile"
      as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth-local=peer \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$LOGS/initdb.log" 2>&1 ||
        {
          rm -f "$pwfile"
          cat "$LOGS/initdb.log" >&2
          die "initdb failed"
        }
      rm -f "$pwfile"
      cat >>"$PGDATA/postgresql.conf" <<EOF

# listing-notifier stack (scripts/stack.sh): private cluster on loopback, logical decoding for Debezium.
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = ''
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    fi
    touch "$LOGS/postgres.log"
    ((EUID == 0)) && chown postgres: "$LOGS/postgres.log"
    say "postgres: starting on 127.0.0.1:$POSTGRES_PORT"
    as_pg "$PG_BIN/pg_ctl" start -D "$PGDATA" -l "$LOGS/postgres.log" -w -t 60 >/dev/null 9>&- ||
      {
        tail -n 20 "$LOGS/postgres.log" >&2
        die "PostgreSQL did not start (log: $LOGS/postgres.log)"
      }
  fi
  wait_for 60 "postgres" pg_ready || die "PostgreSQL does not accept connections on $POSTGRES_PORT"
  local wal
  wal="$(psql_su -d postgres -tAc 'SHOW wal_level')" ||
    die "cannot query PostgreSQL on $POSTGRES_PORT as postgres (log: $LOGS/postgres.log)"
  [[ "$wal" == "logical" ]] ||
    die "PostgreSQL on $POSTGRES_PORT has wal_level=$wal; Debezium needs wal_level=logical (set it in $PGDATA/postgresql.conf and restart)"

  if [[ "$(psql_su -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'monolith'")" != "1" ]]; then
    psql_su -d postgres -c 'CREATE DATABASE monolith'
  fi
  if [[ "$(psql_su -d monolith -tAc "SELECT to_regclass('public.listings') IS NOT NULL")" != "t" ]]; then
    local t0
    t0="$(now)"
    psql_su -d monolith -f "$ROOT/debezium/schema.sql" -f "$ROOT/debezium/seed.sql" >/dev/null
    say "postgres: loaded debezium/schema.sql + seed.sql ($(psql_su -d monolith -tAc 'SELECT count(*) FROM listings') listings, $(since "$t0"))"
  fi
  psql_su -d monolith -v debezium_password="$MONOLITH_DB_PASSWORD" -f "$ROOT/debezium/replication.sql" >/dev/null
}

# ----------------------------------------------------------------------------------------- kafka

JAVA_COMMON=(-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$STACK_FILES/log4j2.properties")

render() { # template output (secrets are hex, so they need no escaping)
  local keystore_password="" sasl_password=""
  if [[ -f "$TLS_DIR/.complete" ]]; then
    keystore_password="$(cat "$TLS_DIR/keystore-password")"
    sasl_password="$(cat "$TLS_DIR/sasl-password")"
  fi
  (
    umask 077
    sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" -e "s#@KAFKA_CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
      -e "s#@KAFKA_SASL_SSL_PORT@#$KAFKA_SASL_SSL_PORT#g" -e "s#@TLS_DIR@#$TLS_DIR#g" \
      -e "s#@KEYSTORE_PASSWORD@#$keystore_password#g" -e "s#@SASL_USER@#$SASL_USER#g" \
      -e "s#@SASL_PASSWORD@#$sasl_password#g" \
      -e "s#@KAFKA_DATA@#$KAFKA_DATA#g" -e "s#@CONNECT_PORT@#$CONNECT_PORT#g" \
      -e "s#@PLUGIN_PATH@#$PLUGIN_PATH#g" "$1" >"$2"
  )
}

# The SASL_SSL listener's material (scripts/stack/make-tls.sh: CA, broker keystore, client
# certificate, a CA that trusts nothing here, the SASL user's password), made once, kept with the state.
tls_material() {
  [[ -f "$TLS_DIR/.complete" ]] && return 0
  command -v openssl >/dev/null || die "openssl not found: it makes the SASL_SSL listener's throw-away CA (apt-get install openssl)"
  local t0 log="$LOGS/tls.log"
  t0="$(now)"
  rm -rf "$TLS_DIR"
  mkdir -p "$TLS_DIR"
  chmod 700 "$TLS_DIR"
  sh "$STACK_FILES/make-tls.sh" "$TLS_DIR" "$SASL_USER" >"$log" 2>&1 || {
    tail -n 20 "$log" >&2
    die "making the SASL_SSL listener's CA and keystore with openssl failed (log: $log)"
  }
  touch "$TLS_DIR/.complete"
  say "tls: made a throw-away CA, the broker keystore and a client certificate in $TLS_DIR ($(since "$t0"))"
}

# The SCRAM user lives in the cluster metadata: add it (both hash sizes) once per data directory and
# password, through the PLAINTEXT listener (kafka-configs.sh's class; KRaft takes it over the admin API).
# A new cluster gets them when formatted (no extra JVM); scram_user_marker records which user,
# password and cluster the credentials belong to.
SCRAM_MARKER="$STATE/kafka/scram-user.done"
scram_user_marker() {
  printf '%s %s %s' "$SASL_USER" "$(sha256sum <"$TLS_DIR/sasl-password" | cut -c1-16)" \
    "$(sed -n 's/^cluster.id=//p' "$KAFKA_DATA/meta.properties" 2>/dev/null)"
}
scram_user() {
  local password want
  password="$(cat "$TLS_DIR/sasl-password")"
  want="$(scram_user_marker)"
  [[ -f "$SCRAM_MARKER" && "$(cat "$SCRAM_MARKER")" == "$want" ]] && return 0
  : >"$LOGS/kafka-scram.log"
  local mechanism
  # One mechanism per request: the broker refuses to alter one user's credentials twice in a request.
  for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
    java -cp "$KAFKA_LIBS/*" "${JAVA_COMMON[@]}" kafka.admin.ConfigCommand \
      --bootstrap-server "127.0.0.1:$KAFKA_PORT" --alter --entity-type users --entity-name "$SASL_USER" \
      --add-config "$mechanism=[iterations=8192,password=$password]" >>"$LOGS/kafka-scram.log" 2>&1 || {
      tail -n 20 "$LOGS/kafka-scram.log" >&2
      die "adding the $mechanism credentials of $SASL_USER failed (log: $LOGS/kafka-scram.log)"
    }
  done
  printf '%s\n' "$want" >"$SCRAM_MARKER"
  say "kafka: SCRAM-SHA-256/512 credentials for $SASL_USER added"
}

kafka_ready() {
  grep -q 'Kafka Server started' "$LOGS/kafka.log" && port_busy "$KAFKA_PORT" && port_busy "$KAFKA_SASL_SSL_PORT"
}

kafka_up() {
  local pid
  pid="$(read_pid "$RUN/kafka.pid")"
  if pid_alive "$pid" && port_busy "$KAFKA_PORT"; then
    require_port_free_or_ours "$KAFKA_PORT" "$pid" Kafka
    say "kafka: already running (pid $pid, port $KAFKA_PORT)"
    if ! port_busy "$KAFKA_SASL_SSL_PORT"; then
      # Not restarted on its own: others may be running tests against this broker.
      say "kafka: WARNING: the running broker has no SASL_SSL listener on $KAFKA_SASL_SSL_PORT (started from an older scripts/stack/server.properties); 'scripts/stack.sh restart kafka' adds it"
    else
      scram_user
    fi
    return
  fi
  require_port_free_or_ours "$KAFKA_PORT" "" Kafka
  require_port_free_or_ours "$KAFKA_CONTROLLER_PORT" "" "the Kafka controller"
  require_port_free_or_ours "$KAFKA_SASL_SSL_PORT" "" "Kafka's SASL_SSL listener"
  tls_material
  mkdir -p "$STATE/kafka" "$KAFKA_DATA"
  render "$STACK_FILES/server.properties" "$STATE/kafka/server.properties"
  if [[ ! -f "$KAFKA_DATA/meta.properties" ]]; then
    local id
    id="$(java -cp "$KAFKA_LIBS/*" "${JAVA_COMMON[@]}" kafka.tools.StorageTool random-uuid 2>"$LOGS/kafka-format.log")" ||
      die "kafka.tools.StorageTool random-uuid failed (log: $LOGS/kafka-format.log)"
    id="${id##*$'\n'}"
    local password
    password="$(cat "$TLS_DIR/sasl-password")"
    java -cp "$KAFKA_LIBS/*" "${JAVA_COMMON[@]}" kafka.tools.StorageTool format --standalone -t "$id" \
      --add-scram "SCRAM-SHA-256=[name=$SASL_USER,iterations=8192,password=$password]" \
      --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$password]" \
      -c "$STATE/kafka/server.properties" >"$LOGS/kafka-format.log" 2>&1 ||
      {
        cat "$LOGS/kafka-format.log" >&2
        die "formatting the KRaft storage failed"
      }
    printf '%s\n' "$(scram_user_marker)" >"$SCRAM_MARKER"
    say "kafka: formatted KRaft storage (cluster id $id, SCRAM credentials for $SASL_USER)"
  fi
  say "kafka: starting broker+controller on 127.0.0.1:$KAFKA_PORT"
  : >"$LOGS/kafka.log"
  setsid nohup java -Xms256m -Xmx512m "${JAVA_COMMON[@]}" -cp "$KAFKA_LIBS/*" \
    kafka.Kafka "$STATE/kafka/server.properties" >>"$LOGS/kafka.log" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/kafka.pid"
  if ! wait_for 90 "kafka" kafka_ready; then
    tail -n 30 "$LOGS/kafka.log" >&2
    die "Kafka did not start within 90 s (log: $LOGS/kafka.log)"
  fi
  scram_user
}

# --------------------------------------------------------------------------------------- connect

connect_ready() { curl -fsS "$CONNECT_URL/connectors" >/dev/null; }

connect_up() {
  local pid
  pid="$(read_pid "$RUN/connect.pid")"
  if pid_alive "$pid" && connect_ready; then
    require_port_free_or_ours "$CONNECT_PORT" "$pid" "Kafka Connect"
    say "connect: already running (pid $pid, port $CONNECT_PORT)"
    return
  fi
  if pid_alive "$pid"; then
    say "connect: pid $pid is alive but its REST API does not answer yet"
  else
    require_port_free_or_ours "$CONNECT_PORT" "" "Kafka Connect"
    mkdir -p "$STATE/connect"
    render "$STACK_FILES/worker.properties" "$STATE/connect/worker.properties"
    say "connect: starting distributed worker on 127.0.0.1:$CONNECT_PORT"
    : >"$LOGS/connect.log"
    # The connector config names these as ${env:...} (debezium/connector.json).
    MONOLITH_DB_HOST=127.0.0.1 MONOLITH_DB_PORT="$POSTGRES_PORT" \
      MONOLITH_MARIADB_HOST=127.0.0.1 MONOLITH_MARIADB_PORT="$MARIADB_PORT" CONNECT_KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" \
      setsid nohup java -Xms256m -Xmx768m "${JAVA_COMMON[@]}" -cp "$KAFKA_LIBS/*" \
      org.apache.kafka.connect.cli.ConnectDistributed "$STATE/connect/worker.properties" \
      >>"$LOGS/connect.log" 2>&1 </dev/null 9>&- &
    echo $! >"$RUN/connect.pid"
  fi
  if ! wait_for 120 "connect" connect_ready; then
    tail -n 30 "$LOGS/connect.log" >&2
    die "Kafka Connect REST did not answer within 120 s (log: $LOGS/connect.log)"
  fi
}

connector_state() { # prints "<connector state> <task0 state>"
  curl -fsS "$CONNECT_URL/connectors/$CONNECTOR_NAME/status" 2>/dev/null |
    jq -r '[.connector.state, (.tasks[0].state // "NONE")] | join(" ")'
}

register_connector() {
  local answer code
  answer="$(mktemp)"
  code="$(jq '.config' "$CONNECTOR_FILE" |
    curl -sS -o "$answer" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
      --data-binary @- "$CONNECT_URL/connectors/$CONNECTOR_NAME/config")" ||
    die "PUT $CONNECT_URL/connectors/$CONNECTOR_NAME/config failed: Kafka Connect does not answer (log: $LOGS/connect.log)"
  if [[ "$code" != 200 && "$code" != 201 ]]; then
    cat "$answer" >&2
    rm -f "$answer"
    die "PUT /connectors/$CONNECTOR_NAME/config answered HTTP $code"
  fi
  rm -f "$answer"
  say "connector: $CONNECTOR_NAME config registered (HTTP $code)"
  local deadline=$((SECONDS + 120)) state=""
  while ((SECONDS < deadline)); do
    state="$(connector_state || true)"
    if [[ "$state" == "RUNNING RUNNING" ]]; then
      say "connector: $CONNECTOR_NAME and its task are RUNNING"
      return
    fi
    if [[ "$state" == *FAILED* ]]; then
      curl -fsS "$CONNECT_URL/connectors/$CONNECTOR_NAME/status" | jq -r '.connector.trace // .tasks[0].trace // .' | head -n 30 >&2
      die "connector $CONNECTOR_NAME is $state (log: $LOGS/connect.log)"
    fi
    sleep 0.5
  done
  die "connector $CONNECTOR_NAME not RUNNING within 120 s (last state: ${state:-unknown})"
}


# ----------------------------------------------------------------------------- topic and store

resolve_kafka_tools() {
  [[ -f "$KAFKA_TOOLS/.complete" ]] && return 0
  say "resolving org.apache.kafka:kafka-tools:$KAFKA_VERSION (kafka-topics) from Maven Central"
  mkdir -p "$KAFKA_TOOLS"
  if ! mvn_q -f "$STACK_FILES/kafka-pom.xml" \
    "org.apache.maven.plugins:maven-dependency-plugin:$MAVEN_DEPENDENCY_PLUGIN_VERSION:copy" \
    -Dartifact="org.apache.kafka:kafka-tools:$KAFKA_VERSION" -DoutputDirectory="$KAFKA_TOOLS" \
    >"$LOGS/mvn-kafka-tools.log" 2>&1; then
    tail -n 20 "$LOGS/mvn-kafka-tools.log" >&2
    die "could not resolve org.apache.kafka:kafka-tools:$KAFKA_VERSION (full log: $LOGS/mvn-kafka-tools.log)"
  fi
  touch "$KAFKA_TOOLS/.complete"
}

kafka_topics() {
  java -Xmx128m -cp "$KAFKA_LIBS/*:$KAFKA_TOOLS/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "127.0.0.1:$KAFKA_PORT" "$@"
}

# The partition count of topic $1, or nothing when it does not exist (kafka-topics then exits 1: that
# is the fresh-machine case, so its status is not the function's; the output is read whole, no pipe).
topic_partitions() {
  local described
  described="$(kafka_topics --describe --topic "$1" 2>/dev/null)" || true
  [[ "$described" =~ PartitionCount:[[:space:]]*([0-9]+) ]] && printf '%s' "${BASH_REMATCH[1]}"
  return 0
}

# The listings topic with the partitions debezium/connector.json asks for
# (topic.creation.default.partitions): created with them on a fresh machine (before the connector
# would create it with the broker's default of 1), raised to them where it exists with fewer.
# Raising the count changes which partition a key maps to (murmur2(key) % partitions): records of a
# listing written before and after may sit in different partitions, so per-listing order across the
# change is not guaranteed for records already in the topic. Fine for a dev stack; a production
# topic is created with its final count (k8s/ Strimzi KafkaTopic).
topic_up() {
  resolve_kafka_tools
  local current
  current="$(topic_partitions "$LISTINGS_TOPIC")"
  if [[ -z "$current" ]]; then
    say "topic: creating $LISTINGS_TOPIC with $TOPIC_PARTITIONS partitions"
    kafka_topics --create --if-not-exists --topic "$LISTINGS_TOPIC" --partitions "$TOPIC_PARTITIONS" \
      --replication-factor 1 >>"$LOGS/kafka-topics.log" 2>&1 || die "could not create $LISTINGS_TOPIC (log: $LOGS/kafka-topics.log)"
  elif ((current < TOPIC_PARTITIONS)); then
    say "topic: $LISTINGS_TOPIC has $current partition(s); raising to $TOPIC_PARTITIONS (key -> partition mapping changes)"
    kafka_topics --alter --topic "$LISTINGS_TOPIC" --partitions "$TOPIC_PARTITIONS" >>"$LOGS/kafka-topics.log" 2>&1 ||
      die "could not raise the partitions of $LISTINGS_TOPIC (log: $LOGS/kafka-topics.log)"
  else
    say "topic: $LISTINGS_TOPIC has $current partitions"
  fi
}

redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

# A Redis on REDIS_PORT: the machine's when one answers, else our own redis-server.
redis_up() {
  if redis_ping; then
    say "redis: answering on 127.0.0.1:$REDIS_PORT"
    return
  fi
  command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"
  require_port_free_or_ours "$REDIS_PORT" "$(read_pid "$RUN/redis.pid")" "Redis"
  mkdir -p "$STATE/redis"
  say "redis: starting redis-server on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STATE/redis" --daemonize yes \
    --pidfile "$RUN/redis.pid" --logfile "$LOGS/redis.log" --save 60 1000 >/dev/null 9>&- ||
    die "redis-server did not start (log: $LOGS/redis.log)"
  wait_for 30 "redis" redis_ping || die "redis not answering on $REDIS_PORT (log: $LOGS/redis.log)"
}

# --------------------------------------------------------------------------------------- mariadb
# The MariaDB source (its own mariadbd, the Debezium MariaDB plugin and connector): scripts/stack/mariadb.sh.
# shellcheck source=stack/mariadb.sh
source "$STACK_FILES/mariadb.sh"

# -------------------------------------------------------------------------------------- commands

cmd_up() {
  local t0 t
  t0="$(now)"
  require_tools
  require_ports_free_or_ours
  mkdir -p "$STATE" "$LOGS" "$RUN" "$CACHE"
  t="$(now)"
  resolve_artifacts
  resolve_mariadb_plugin
  local t_artifacts
  t_artifacts="$(since "$t")"
  t="$(now)"
  pg_up
  local t_pg
  t_pg="$(since "$t")"
  t="$(now)"
  mariadb_up
  local t_mariadb
  t_mariadb="$(since "$t")"
  t="$(now)"
  kafka_up
  local t_kafka
  t_kafka="$(since "$t")"
  t="$(now)"
  connect_up
  connect_require_mariadb_plugin
  local t_connect
  t_connect="$(since "$t")"
  t="$(now)"
  topic_up
  redis_up
  register_connector
  register_mariadb_connector
  local t_connector
  t_connector="$(since "$t")"
  cat <<EOF
[stack] up in $(since "$t0") (artifacts $t_artifacts, postgres $t_pg, mariadb $t_mariadb, kafka $t_kafka, connect $t_connect, connector $t_connector)
[stack]   DATABASE_URL=postgres://postgres:$PG_SUPERUSER_PASSWORD@127.0.0.1:$POSTGRES_PORT/monolith
[stack]   KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
[stack]   SASL_SSL: 127.0.0.1:$KAFKA_SASL_SSL_PORT  user $SASL_USER  (CA, password file, client certificate: $TLS_DIR)
[stack]   CONNECT_URL=$CONNECT_URL
[stack]   REDIS_URL=redis://127.0.0.1:$REDIS_PORT
[stack]   topic: $LISTINGS_TOPIC ($TOPIC_PARTITIONS partitions)   state: $STATE   logs: $LOGS
[stack]   MARIADB_URL=$MARIADB_URL
[stack]   topic: $(jq -r '.config["topic.prefix"]' "$MARIADB_CONNECTOR_FILE").monolith.listings
EOF
}

stop_pid() { # pidfile name seconds
  local pid
  pid="$(read_pid "$1")"
  if pid_alive "$pid"; then
    say "$2: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + $3))
    while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    if pid_alive "$pid"; then
      say "$2: did not stop within $3 s, killing pid $pid"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  rm -f "$1"
}

cmd_down() {
  require_tools
  stop_pid "$RUN/connect.pid" connect 30
  stop_pid "$RUN/kafka.pid" kafka 60
  stop_pid "$RUN/redis.pid" redis 10 # only ours: the machine's Redis has no pid file here
  if pg_running; then
    say "postgres: stopping"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t 60 >/dev/null
  fi
  mariadb_down
  # Every process of ours names the state directory on its command line.
  local left
  left="$(pgrep -f -- "$STATE/" || true)"
  if [[ -n "$left" ]]; then
    die "processes still running after down: $(echo "$left" | tr '\n' ' ')"
  fi
  say "down: no process of the stack left ($STATE)"
}

cmd_status() {
  require_tools
  local ok=0 pid state
  if pg_running && pg_ready; then
    say "postgres  RUNNING  pid $(pg_pid)  127.0.0.1:$POSTGRES_PORT  wal_level=$(psql_su -d postgres -tAc 'SHOW wal_level')"
  else
    say "postgres  DOWN"
    ok=1
  fi
  mariadb_status || ok=1
  pid="$(read_pid "$RUN/kafka.pid")"
  if pid_alive "$pid" && port_busy "$KAFKA_PORT"; then
    if port_busy "$KAFKA_SASL_SSL_PORT"; then
      say "kafka     RUNNING  pid $pid  127.0.0.1:$KAFKA_PORT  SASL_SSL 127.0.0.1:$KAFKA_SASL_SSL_PORT"
    else
      say "kafka     RUNNING  pid $pid  127.0.0.1:$KAFKA_PORT  (no SASL_SSL listener: scripts/stack.sh restart kafka)"
    fi
  else
    say "kafka     DOWN"
    ok=1
  fi
  pid="$(read_pid "$RUN/connect.pid")"
  if pid_alive "$pid" && connect_ready; then say "connect   RUNNING  pid $pid  $CONNECT_URL"; else
    say "connect   DOWN"
    ok=1
  fi
  state="$(connector_state || true)"
  say "connector ${state:-ABSENT}  $CONNECTOR_NAME (connector task)"
  [[ "$state" == "RUNNING RUNNING" ]] || ok=1
  state="$(connector_state_of "$MARIADB_CONNECTOR_NAME" || true)"
  say "connector ${state:-ABSENT}  $MARIADB_CONNECTOR_NAME (connector task)"
  [[ "$state" == "RUNNING RUNNING" ]] || ok=1
  if redis_ping; then say "redis     RUNNING  127.0.0.1:$REDIS_PORT"; else
    say "redis     DOWN"
    ok=1
  fi
  return "$ok"
}

cmd_logs() {
  local name="${1:-}" follow="${2:-}"
  if [[ "$name" == "-f" ]]; then
    follow=-f
    name=""
  fi
  if [[ -z "$name" ]]; then
    local f
    for f in "$LOGS"/*.log; do
      [[ -f "$f" ]] || continue
      printf '==> %s <==\n' "$f"
      tail -n 15 "$f"
    done
    return
  fi
  [[ -f "$LOGS/$name.log" ]] || die "no log $LOGS/$name.log (have: $(cd "$LOGS" 2>/dev/null && ls -- *.log | tr '\n' ' '))"
  if [[ "$follow" == "-f" ]]; then tail -n 100 -f "$LOGS/$name.log"; else tail -n 200 "$LOGS/$name.log"; fi
}

cmd_reset() {
  cmd_down
  say "reset: deleting $STATE (the download cache $CACHE is kept)"
  rm -rf -- "$STATE"
}

# One `up`/`down`/`reset` at a time per state directory (two clones' test runs may start together).
# Processes we start get `9>&-` so that they do not keep holding the lock.
lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/stack.lock"
  flock -n 9 && return 0
  say "waiting (at most 600 s) for $STATE/stack.lock, held by: $(lock_holders)"
  flock -w 600 9 || die "$STATE/stack.lock is still held after 600 s by: $(lock_holders)"
}

# The processes that hold the lock file open (a process started without `9>&-` would hold it forever).
lock_holders() {
  local fd holders=""
  for fd in /proc/[0-9]*/fd/*; do
    [[ "$(readlink "$fd" 2>/dev/null)" == "$STATE/stack.lock" ]] || continue
    fd="${fd#/proc/}"
    fd="${fd%%/*}"
    [[ "$fd" == "$$" || "$fd" == "$BASHPID" ]] && continue
    holders+="pid $fd ($(tr '\0' ' ' <"/proc/$fd/cmdline" 2>/dev/null | cut -c1-60)) "
  done
  printf '%s' "${holders:-nobody now}"
}

# ------------------------------------------------------------------ restart (for end-to-end tests)
# Added by the service engineer for the broker-restart test (test/integration/service/broker-restart.test.ts).
#   scripts/stack.sh restart kafka   stop the broker (TERM, as a crash-free restart would), start it again
#                                    on the same data, then wait until the connector and its task run.
cmd_restart() {
  local name="${1:-}"
  [[ "$name" == kafka ]] || die "restart: only 'kafka' can be restarted (got '${name}')"
  require_tools
  local t0
  t0="$(now)"
  stop_pid "$RUN/kafka.pid" kafka 60
  local deadline=$((SECONDS + 30))
  while { port_busy "$KAFKA_PORT" || port_busy "$KAFKA_CONTROLLER_PORT" || port_busy "$KAFKA_SASL_SSL_PORT"; } &&
    ((SECONDS < deadline)); do sleep 0.2; done
  kafka_up
  # Connect and the Debezium task reconnect on their own; a task that gave up meanwhile is restarted.
  local state
  state="$(connector_state || true)"
  if [[ "$state" == *FAILED* ]]; then
    say "connector: $state after the broker restart; restarting it"
    curl -fsS -X POST "$CONNECT_URL/connectors/$CONNECTOR_NAME/restart?includeTasks=true&onlyFailed=true" >/dev/null
  fi
  register_connector
  say "restart kafka: done in $(since "$t0")"
}

case "${1:-}" in
up) lock && cmd_up ;;
replica-identity) shift && exec bash "$STACK_FILES/replica-identity.sh" "$@" ;;
preflight) require_tools && require_ports_free_or_ours && say "preflight: prerequisites found, ports free or ours ($STATE)" ;;
down) lock && cmd_down ;;
status) cmd_status || exit 1 ;; # something down is an answer, not an error
logs) cmd_logs "${2:-}" "${3:-}" ;;
reset) lock && cmd_reset ;;
restart) lock && cmd_restart "${2:-}" ;;
*)
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
