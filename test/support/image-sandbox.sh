#!/usr/bin/env bash
# Runs a command the way a container runtime runs our image under k8s/app/deployment.yaml, without a
# container engine: in a private mount namespace (unshare, as root), chrooted into a root filesystem
# that is read-only everywhere except /tmp, as a non-root uid:gid with no capabilities and
# no_new_privs. Used by test/integration/image.test.ts.
#
# The root holds the machine's /usr, /etc and /lib* (read-only, standing in for the base image's), the
# project's Node 24 as /usr/local/bin/node (where node:24-slim has it), /dev, /proc, an empty
# /home/<user>, and on top the image's own files.
#
#   SANDBOX_IMAGE=<dir>      the image's files: each top-level entry is mounted read-only at /<entry>
#   SANDBOX_NODE=<file>      the node binary
#   SANDBOX_USER=<uid:gid>   numeric, as the Dockerfile's USER
#   SANDBOX_WORKDIR=<path>   as the Dockerfile's WORKDIR
#   SANDBOX_TMP=<dir>        mounted read-write at /tmp (the Deployment's emptyDir)
#   SANDBOX_ROOT=<dir>       an empty directory to build the root in (a tmpfs, in the namespace only)
#   SANDBOX_MOUNTS=<lines>   optional "host-path:container-path" lines, mounted read-only (ConfigMaps)
#   SANDBOX_ENV=<lines>      the container's whole environment, KEY=value lines
#   image-sandbox.sh COMMAND [ARG...]
# Prints "image-sandbox: pid N" on stderr; SIGTERM to that pid is passed on to the command, whose exit
# code becomes this script's.
set -euo pipefail

fail() { echo "image-sandbox: $*" >&2; exit 125; }

if [[ "${SANDBOX_INSIDE:-}" != 1 ]]; then
  [[ $(id -u) == 0 ]] || fail "needs root (a mount namespace and chroot), like CI here"
  command -v unshare >/dev/null || fail "unshare not found (Debian: apt-get install util-linux)"
  command -v setpriv >/dev/null || fail "setpriv not found (Debian: apt-get install util-linux)"
  exec unshare --mount --propagation private --fork env SANDBOX_INSIDE=1 bash "$0" "$@"
fi

for v in SANDBOX_IMAGE SANDBOX_NODE SANDBOX_USER SANDBOX_WORKDIR SANDBOX_TMP SANDBOX_ROOT; do
  [[ -n "${!v:-}" ]] || fail "$v is not set"
done
[[ "$SANDBOX_USER" =~ ^([0-9]+):([0-9]+)$ ]] || fail "SANDBOX_USER must be numeric uid:gid, got $SANDBOX_USER"
uid=${BASH_REMATCH[1]} gid=${BASH_REMATCH[2]}

ro_bind() { # host-path container-path
  mount --rbind "$1" "$2"
  mount -o remount,bind,ro "$2"
}

# A tmpfs in this namespace only: nothing below is visible to, or left on, the machine.
mount -t tmpfs -o size=16m,mode=755 image-root "$SANDBOX_ROOT"
root=$SANDBOX_ROOT/fs skel=$SANDBOX_ROOT/skel
mkdir -m 755 "$root" "$skel"
mkdir "$root/usr" && ro_bind /usr "$root/usr"
# /etc is the machine's plus empty directories where SANDBOX_MOUNTS go (an overlay of two read-only
# layers is read-only itself).
mkdir "$skel/etc" "$root/etc"
while IFS=: read -r host target; do
  [[ "$target" == /etc/* ]] && mkdir -p "$skel$target"
done <<<"${SANDBOX_MOUNTS:-}"
mount -t overlay image-etc -o "lowerdir=$skel/etc:/etc" "$root/etc"
for dir in bin sbin lib lib32 lib64 libx32; do
  if [[ -L "/$dir" ]]; then ln -s "$(readlink "/$dir")" "$root/$dir"
  elif [[ -d "/$dir" ]]; then mkdir "$root/$dir" && ro_bind "/$dir" "$root/$dir"; fi
done
mount -t tmpfs -o size=1m,mode=755 image-usr-local "$root/usr/local"
mkdir -p "$root/usr/local/bin" && touch "$root/usr/local/bin/node"
ro_bind "$SANDBOX_NODE" "$root/usr/local/bin/node"
mount -o remount,ro "$root/usr/local"
mkdir "$root/dev" "$root/proc" "$root/tmp" "$root/home"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount --bind "$SANDBOX_TMP" "$root/tmp"
mkdir -p "$root/home/node" && chown "$uid:$gid" "$root/home/node"
for entry in "$SANDBOX_IMAGE"/*; do
  name=$(basename "$entry")
  mkdir -p "$root/$name" && ro_bind "$entry" "$root/$name"
done
while IFS=: read -r host target; do
  [[ -n "$host" ]] || continue
  [[ -d "$root$target" ]] || mkdir -p "$root$target"
  ro_bind "$host" "$root$target"
done <<<"${SANDBOX_MOUNTS:-}"
mount -o remount,ro "$SANDBOX_ROOT"

env_args=()
while IFS= read -r line; do [[ -n "$line" ]] && env_args+=("$line"); done <<<"${SANDBOX_ENV:-}"

chroot "$root" /usr/bin/setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs \
  --inh-caps=-all --bounding-set=-all \
  /usr/bin/env -i -C "$SANDBOX_WORKDIR" "${env_args[@]}" "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT
echo "image-sandbox: pid $$" >&2
set +e
wait "$child"
code=$?
while kill -0 "$child" 2>/dev/null; do
  wait "$child"
  code=$?
done
exit "$code"
