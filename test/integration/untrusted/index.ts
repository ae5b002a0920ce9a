// The Workspace Trust suites' entry: scripts/run-integration.mjs runs them in a second
// code-server with Workspace Trust on and the workspace untrusted.
import { runSuitesIn } from '../index';

export function run(): Promise<void> {
  return runSuitesIn(__dirname);
}
