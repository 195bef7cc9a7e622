/**
 * Where a command prints: its data lines on stdout, everything for the person (warnings, the one-line
 * failure, summaries) on stderr. Each command takes one (tests pass test/unit/cli/support.ts's
 * captureIo); the entry point (index.ts) hands in the process's own streams. Its own file so that a
 * command depends on this, not on the entry point that loads it.
 */
export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}
