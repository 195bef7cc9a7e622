# shellcheck shell=bash
# Sourced by scripts/stack.sh (it uses its helpers: say, die, wait_for, mvn_q, port checks, pid files,
# connect_up, stop_pid, and the variables STATE, LOGS, RUN, PLUGIN_PATH, CONNECT_URL, ROOT, ...).
# The MariaDB source: a private mariadbd (the machine's server on 3306 has log_bin off, and turning it
# on there would need a restart of a server others use) with what Debezium's binlog connectors need:
# log_bin, binlog_format=ROW, binlog_row_image=FULL, a server_id (see debezium/README.md).

MARIADB_DIR="$STATE/mariadb"
MARIADB_DATA="$MARIADB_DIR/data"
MARIADB_SOCKET="$MARIADB_DIR/mariadbd.sock"
MARIADB_CNF="$MARIADB_DIR/my.cnf"
MARIADB_CONNECTOR_FILE="$ROOT/debezium/mariadb/connector.json"
MARIADB_CONNECTOR_NAME="$(jq -r '.name' "$MARIADB_CONNECTOR_FILE")"
MARIADB_CONNECTOR_CLASS="$(jq -r '.config["connector.class"]' "$MARIADB_CONNECTOR_FILE")"
MARIADB_PLUGIN_MARK="$PLUGIN_PATH/.mariadb-$DEBEZIUM_MARIADB_VERSION.complete"
# The account tests and scripts/capture-fixtures.ts write with (the monolith's own role, all on `monolith`).
MARIADB_APP_PASSWORD=monolith
MARIADB_URL="mysql://monolith:$MARIADB_APP_PASSWORD@127.0.0.1:$MARIADB_PORT/monolith"
export MONOLITH_MARIADB_PASSWORD="${MONOLITH_MARIADB_PASSWORD:-debezium}"
# mariadbd, like PostgreSQL, is run as its own OS user when we are root.
MARIADB_OS_USER=mysql

resolve_mariadb_plugin() {
  [[ -f "$MARIADB_PLUGIN_MARK" ]] && return 0
  local plugin="org.apache.maven.plugins:maven-dependency-plugin:$MAVEN_DEPENDENCY_PLUGIN_VERSION"
  local coords="io.debezium:debezium-connector-mariadb:$DEBEZIUM_MARIADB_VERSION:tar.gz:plugin" tmp
  say "resolving $coords from Maven Central"
  tmp="$(mktemp -d)"
  if ! mvn_q -f "$STACK_FILES/kafka-pom.xml" "$plugin:copy" -Dartifact="$coords" -DoutputDirectory="$tmp" \
    >"$LOGS/mvn-debezium-mariadb.log" 2>&1; then
    tail -n 20 "$LOGS/mvn-debezium-mariadb.log" >&2
    rm -rf "$tmp"
    die "could not resolve $coords from Maven Central (is it reachable? full log: $LOGS/mvn-debezium-mariadb.log)"
  fi
  rm -rf "$PLUGIN_PATH/debezium-connector-mariadb"
  tar -xzf "$tmp"/*.tar.gz -C "$PLUGIN_PATH"
  rm -rf "$tmp"
  touch "$MARIADB_PLUGIN_MARK"
}

mariadb_bin() { # the first of the names that exists: mariadbd (10.5+) or mysqld
  local name
  for name in "$@"; do
    if command -v "$name" >/dev/null; then
      command -v "$name"
      return
    fi
    [[ -x "/usr/sbin/$name" ]] && {
      echo "/usr/sbin/$name"
      return
    }
  done
  return 1
}

mariadb_as_server_user() {
  if ((EUID == 0)); then runuser -u "$MARIADB_OS_USER" -- "$@"; else "$@"; fi
}

# The mysql OS user must reach its data below $HOME (root's home is 0700): search (x) permission only.
grant_mariadb_traverse() {
  ((EUID == 0)) || return 0
  local dir="$STATE" dirs=()
  while [[ "$dir" != "/" ]]; do
    dirs=("$dir" "${dirs[@]}")
    dir="$(dirname "$dir")"
  done
  for dir in "${dirs[@]}"; do
    if ! runuser -u "$MARIADB_OS_USER" -- test -x "$dir"; then
      if command -v setfacl >/dev/null; then
        setfacl -m "u:$MARIADB_OS_USER:x" "$dir"
        say "granted the $MARIADB_OS_USER user search permission on $dir (ACL u:$MARIADB_OS_USER:x)"
      else
        chmod o+x "$dir"
        say "granted search permission (o+x, no listing) on $dir so the $MARIADB_OS_USER user can reach its data"
      fi
    fi
  done
}

mariadb_root() { mariadb --no-defaults --protocol=socket --socket="$MARIADB_SOCKET" -uroot "$@"; }
mariadb_ready() { mariadb_root -N -e 'SELECT 1'; }
mariadb_pid() { read_pid "$RUN/mariadb.pid"; }
mariadb_running() { pid_alive "$(mariadb_pid)" && [[ -S "$MARIADB_SOCKET" ]]; }

mariadb_up() {
  MARIADBD="$(mariadb_bin mariadbd mysqld)" || die "mariadbd not found (apt-get install mariadb-server)"
  if mariadb_running; then
    require_port_free_or_ours "$MARIADB_PORT" "$(mariadb_pid)" MariaDB
    say "mariadb: already running (pid $(mariadb_pid), port $MARIADB_PORT)"
  else
    require_port_free_or_ours "$MARIADB_PORT" "" MariaDB
    grant_mariadb_traverse
    mkdir -p "$MARIADB_DATA"
    cat >"$MARIADB_CNF" <<CNF
# listing-notifier stack (scripts/stack.sh): a private MariaDB on loopback, binlog for Debezium.
[mariadbd]
datadir = $MARIADB_DATA
port = $MARIADB_PORT
bind-address = 127.0.0.1
socket = $MARIADB_SOCKET
pid-file = $MARIADB_DIR/mariadbd.pid
log-error = $LOGS/mariadb.log
skip-name-resolve
# What Debezium's MariaDB/MySQL connector needs (debezium/README.md): every row change in the binlog,
# with every column of the row before and after.
server_id = 1
log_bin = mariadb-bin
binlog_format = ROW
binlog_row_image = FULL
binlog_expire_logs_seconds = 172800
# UTC: TIMESTAMP columns and Debezium's ZonedTimestamp agree without a zone table.
default_time_zone = '+00:00'
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
# A small development server.
innodb_buffer_pool_size = 64M
innodb_flush_log_at_trx_commit = 2
sync_binlog = 0
performance_schema = OFF
CNF
    touch "$LOGS/mariadb.log"
    if ((EUID == 0)); then chown -R "$MARIADB_OS_USER:" "$MARIADB_DIR" "$LOGS/mariadb.log"; fi
    if [[ ! -d "$MARIADB_DATA/mysql" ]]; then
      say "mariadb: mariadb-install-db $MARIADB_DATA"
      local install
      install="$(mariadb_bin mariadb-install-db mysql_install_db)" || die "mariadb-install-db not found"
      "$install" --defaults-file="$MARIADB_CNF" --user="$([[ $EUID == 0 ]] && echo "$MARIADB_OS_USER" || id -un)" \
        --auth-root-authentication-method=normal --skip-test-db >"$LOGS/mariadb-install.log" 2>&1 ||
        {
          tail -n 20 "$LOGS/mariadb-install.log" >&2
          die "mariadb-install-db failed (log: $LOGS/mariadb-install.log)"
        }
    fi
    say "mariadb: starting on 127.0.0.1:$MARIADB_PORT"
    local user_arg=()
    ((EUID == 0)) && user_arg=(--user="$MARIADB_OS_USER")
    setsid nohup "$MARIADBD" --defaults-file="$MARIADB_CNF" "${user_arg[@]}" >>"$LOGS/mariadb.log" 2>&1 </dev/null 9>&- &
    echo $! >"$RUN/mariadb.pid"
  fi
  if ! wait_for 60 "mariadb" mariadb_ready; then
    tail -n 20 "$LOGS/mariadb.log" >&2
    die "MariaDB does not accept connections on $MARIADB_SOCKET (log: $LOGS/mariadb.log)"
  fi
  local settings
  settings="$(mariadb_root -N -e "SELECT CONCAT_WS(' ', @@log_bin, @@binlog_format, @@binlog_row_image)")" ||
    die "cannot query MariaDB on $MARIADB_SOCKET as root (log: $LOGS/mariadb.log)"
  [[ "$settings" == "ON ROW FULL" || "$settings" == "1 ROW FULL" ]] ||
    die "MariaDB on $MARIADB_PORT has log_bin/binlog_format/binlog_row_image = $settings; Debezium needs ON ROW FULL (set them in $MARIADB_CNF and restart)"
  mariadb_root -e "CREATE DATABASE IF NOT EXISTS monolith CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    CREATE USER IF NOT EXISTS 'monolith'@'%' IDENTIFIED BY '$MARIADB_APP_PASSWORD';
    GRANT ALL ON monolith.* TO 'monolith'@'%';"
  if [[ "$(mariadb_root -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'monolith' AND table_name = 'listings'")" != 1 ]]; then
    local t0
    t0="$(now)"
    if ! cat "$ROOT/debezium/mariadb/schema.sql" "$ROOT/debezium/mariadb/seed.sql" | mariadb_root monolith; then
      mariadb_root monolith -e 'DROP TABLE IF EXISTS listings' # so that the next `up` loads it again
      die "loading debezium/mariadb/schema.sql + seed.sql failed"
    fi
    say "mariadb: loaded debezium/mariadb/schema.sql + seed.sql ($(mariadb_root -N monolith -e 'SELECT COUNT(*) FROM listings') listings, $(since "$t0"))"
  fi
  {
    # Hex, so that no character of the password needs quoting in SQL.
    printf "SET @debezium_password = CONVERT(UNHEX('%s') USING utf8mb4);\n" "$(printf '%s' "$MONOLITH_MARIADB_PASSWORD" | od -An -v -tx1 | tr -d ' \n')"
    cat "$ROOT/debezium/mariadb/grants.sql"
  } | mariadb_root
}

mariadb_down() {
  local pid
  pid="$(mariadb_pid)"
  if pid_alive "$pid"; then
    say "mariadb: stopping pid $pid"
    mariadb-admin --no-defaults --protocol=socket --socket="$MARIADB_SOCKET" -uroot shutdown 2>/dev/null ||
      kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 60))
    while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$RUN/mariadb.pid"
}

mariadb_status() {
  if mariadb_running && mariadb_ready >/dev/null 2>&1; then
    say "mariadb   RUNNING  pid $(mariadb_pid)  127.0.0.1:$MARIADB_PORT  $(mariadb_root -N -e "SELECT CONCAT('log_bin=', @@log_bin, ' binlog_format=', @@binlog_format, ' binlog_row_image=', @@binlog_row_image)")"
  else
    say "mariadb   DOWN"
    return 1
  fi
}

# A worker started before the MariaDB plugin was unpacked (or by an older stack.sh, without the
# MONOLITH_MARIADB_* environment the connector config names) cannot run the connector: restart it
# once. The Postgres connector resumes from its committed offsets.
connect_require_mariadb_plugin() {
  local pid has_plugin has_env
  pid="$(read_pid "$RUN/connect.pid")"
  has_plugin="$(curl -fsS "$CONNECT_URL/connector-plugins" | jq --arg c "$MARIADB_CONNECTOR_CLASS" 'any(.[]; .class == $c)')" ||
    die "GET $CONNECT_URL/connector-plugins failed: Kafka Connect does not answer (log: $LOGS/connect.log)"
  has_env=false
  if [[ -r "/proc/$pid/environ" ]] && tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^MONOLITH_MARIADB_HOST='; then
    has_env=true
  fi
  [[ "$has_plugin" == true && "$has_env" == true ]] && return 0
  say "connect: restarting the worker once to load the MariaDB connector plugin and its environment"
  stop_pid "$RUN/connect.pid" connect 30
  local deadline=$((SECONDS + 30))
  while port_busy "$CONNECT_PORT" && ((SECONDS < deadline)); do sleep 0.2; done
  connect_up
  curl -fsS "$CONNECT_URL/connector-plugins" | jq -e --arg c "$MARIADB_CONNECTOR_CLASS" 'any(.[]; .class == $c)' >/dev/null ||
    die "Kafka Connect does not list $MARIADB_CONNECTOR_CLASS after a restart (plugin path: $PLUGIN_PATH; log: $LOGS/connect.log)"
}

connector_state_of() { # name -> "<connector state> <task0 state>"
  curl -fsS "$CONNECT_URL/connectors/$1/status" 2>/dev/null |
    jq -r '[.connector.state, (.tasks[0].state // "NONE")] | join(" ")'
}

register_mariadb_connector() {
  local name="$MARIADB_CONNECTOR_NAME" answer code
  answer="$(mktemp)"
  code="$(jq '.config' "$MARIADB_CONNECTOR_FILE" |
    curl -sS -o "$answer" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
      --data-binary @- "$CONNECT_URL/connectors/$name/config")" ||
    die "PUT $CONNECT_URL/connectors/$name/config failed: Kafka Connect does not answer (log: $LOGS/connect.log)"
  if [[ "$code" != 200 && "$code" != 201 ]]; then
    cat "$answer" >&2
    rm -f "$answer"
    die "PUT /connectors/$name/config answered HTTP $code"
  fi
  rm -f "$answer"
  say "connector: $name config registered (HTTP $code)"
  local deadline=$((SECONDS + 120)) state=""
  while ((SECONDS < deadline)); do
    state="$(connector_state_of "$name" || true)"
    if [[ "$state" == "RUNNING RUNNING" ]]; then
      say "connector: $name and its task are RUNNING"
      return
    fi
    if [[ "$state" == *FAILED* ]]; then
      curl -fsS "$CONNECT_URL/connectors/$name/status" | jq -r '.connector.trace // .tasks[0].trace // .' | head -n 30 >&2
      die "connector $name is $state (log: $LOGS/connect.log)"
    fi
    sleep 0.5
  done
  die "connector $name not RUNNING within 120 s (last state: ${state:-unknown})"
}

