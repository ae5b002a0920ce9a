// Bundles the extension, the engine process and the CLI with esbuild, and puts sql.js's wasm
// beside them. `--production` minifies; `--watch` rebuilds on change. Types are checked by
// `npm run typecheck` (esbuild does not type-check).
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

const builds = [
  { entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  // The wasm path is resolved at run time (beside the bundle); only unit tests use node_modules.
  { entryPoints: ['src/server/main.ts'], outfile: 'dist/server.js', external: ['sql.js/dist/sql-wasm.wasm'] },
  { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', external: ['sql.js/dist/sql-wasm.wasm'], banner: { js: '#!/usr/bin/env node' } },
];

fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
fs.copyFileSync(path.join(root, 'node_modules/sql.js/dist/sql-wasm.wasm'), path.join(root, 'dist/sql-wasm.wasm'));

if (watch) {
  for (const build of builds) {
    const context = await esbuild.context({ ...common, ...build });
    await context.watch();
  }
  console.log('esbuild: watching for changes');
} else {
  await Promise.all(builds.map((build) => esbuild.build({ ...common, ...build })));
  fs.chmodSync(path.join(root, 'dist/cli.js'), 0o755);
}
