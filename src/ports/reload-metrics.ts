/**
 * What a rules reload counts (src/app/rules-reload.ts); src/adapters/prom-reload-metrics.ts is the real
 * adapter. Kept beside the other ports so that the adapter depends on ports only (STYLE.md).
 */
export type ReloadResult =
  /** New rules in effect (perhaps with restart-only changes left out). */
  | 'applied'
  /** The file says what the rules in effect already say. */
  | 'unchanged'
  /** Only restart-only settings changed: nothing applied. */
  | 'restart-needed'
  /** The file does not validate (or cannot be read): refused, the old rules stay. */
  | 'invalid';

export interface ReloadMetrics {
  rulesReload(result: ReloadResult): void;
}
