#!/usr/bin/env bash
# The fault matrix in one command: bench/faults.ts against a stack of its own, so that restarting the
# broker and cutting connections touch nobody else's. A network namespace gives that stack its own
# loopback (the stack's ports are free in it whatever runs on the machine), a fresh state directory
# under /tmp, and the machine's download cache (jars already resolved: the namespace has no network).
#
#   sudo bash bench/faults.sh            all scenarios (about 10 minutes)
#   BENCH_FAULTS=sigkill,kafka-cut sudo bash bench/faults.sh
#
# Needs root, iproute2 (ip netns), iptables (the Kafka cut) and a stack that came up once on this
# machine (`npm run stack -- up`: the cache it filled is reused here).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ERR_PREFIX='[faults]'
# shellcheck source=../scripts/stack/errors.sh
source "$ROOT/scripts/stack/errors.sh"
say() { printf '[faults] %s\n' "$*"; }
((EUID == 0)) || { say "needs root (ip netns, iptables, the child service as another user)"; exit 2; }
for tool in ip iptables redis-server redis-cli; do
  command -v "$tool" >/dev/null || { say "missing prerequisite: $tool (apt-get install iproute2 iptables redis-server)"; exit 2; }
done

ns="ln-faults-$$"
work="$(mktemp -d /tmp/ln-faults.XXXXXX)"
chmod 755 "$work"
export LISTING_NOTIFIER_STACK_DIR="$work/state"
finish() {
  local status=$?
  ip netns exec "$ns" bash "$ROOT/scripts/stack.sh" down >/dev/null 2>&1 || say "stack down failed: see $work"
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf -- "$work"
  exit "$status"
}
trap finish EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
say "network namespace $ns, stack state $LISTING_NOTIFIER_STACK_DIR"
ip netns exec "$ns" bash "$ROOT/scripts/stack.sh" up
cd "$ROOT"
ip netns exec "$ns" env BENCH_FAULTS_OWN_STACK=1 "$ROOT/node_modules/.bin/node" bench/faults.ts
