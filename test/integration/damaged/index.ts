// The damaged-store suite's entry: scripts/run-integration.mjs runs it in a third code-server
// whose store it damaged first (a flipped byte in a record, store.json deleted).
import { runSuitesIn } from '../index';

export function run(): Promise<void> {
  return runSuitesIn(__dirname);
}
