# shellcheck shell=bash
# Sourced by scripts/stack.sh and scripts/registry.sh: no failure path ends the script without a word.
# Under `set -e` a failing command (a pipeline under pipefail, a command substitution in an
# assignment) ends the script silently; this ERR trap prints, in one line, the failing command, its
# line, the function it ran in and the log to read, then exits with the command's status.
#
#   ERR_PREFIX   what the line starts with (default "[stack]")
#   log_of NAME  optional function: the log that tells more about a failure in function NAME
#
# errtrace hands the trap to functions and command substitutions; a subshell only passes its status
# up, and the parent reports the line (so each failure is told once).
on_error() {
  local status="$1" line="$2" command="$3" where="${4:-main}" log="${LOGS:-the logs}"
  ((BASH_SUBSHELL == 0)) || exit "$status"
  if declare -F log_of >/dev/null; then log="$(log_of "$where")"; fi
  printf '%s ERROR: line %s (%s): `%s` exited %s; see %s\n' "${ERR_PREFIX:-[stack]}" "$line" "$where" \
    "$command" "$status" "$log" >&2
  exit "$status"
}
set -o errtrace
trap 'on_error $? $LINENO "$BASH_COMMAND" "${FUNCNAME[0]:-main}"' ERR
