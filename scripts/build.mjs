// Bundles the extension, the engine process and the CLI with esbuild, and puts sql.js's wasm
// beside them; the chat panel's browser code is its own bundle (dist/webview/chat.js) with the
// codicon font beside it. `--production` minifies; `--watch` rebuilds on change. Types are checked by
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
  // The retrieval scan's second thread, started by the engine and the CLI from beside them.
  { entryPoints: ['src/core/retrieval/retrievalWorker.ts'], outfile: 'dist/retrievalWorker.js' },
];

// The webview runs in a browser iframe under a strict CSP: one classic script (iife), no Node.
const webviewBuilds = [
  {
    entryPoints: ['src/webview/chat/main.ts'],
    outfile: 'dist/webview/chat.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    tsconfig: 'tsconfig.webview.json',
  },
  { entryPoints: ['src/webview/memory/main.ts'], outfile: 'dist/webview/memory.js', platform: 'browser', format: 'iife', target: 'es2022', tsconfig: 'tsconfig.webview.json' },
];

fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
fs.copyFileSync(path.join(root, 'node_modules/sql.js/dist/sql-wasm.wasm'), path.join(root, 'dist/sql-wasm.wasm'));
const codicons = path.join(root, 'dist/webview/codicons');
fs.mkdirSync(codicons, { recursive: true });
for (const file of ['codicon.css', 'codicon.ttf']) {
  fs.copyFileSync(path.join(root, 'node_modules/@vscode/codicons/dist', file), path.join(codicons, file));
}

const allBuilds = [...builds.map((build) => ({ ...common, ...build })), ...webviewBuilds.map((build) => ({ ...common, ...build }))];

if (watch) {
  for (const build of allBuilds) {
    const context = await esbuild.context(build);
    await context.watch();
  }
  console.log('esbuild: watching for changes');
} else {
  await Promise.all(allBuilds.map((build) => esbuild.build(build)));
  fs.chmodSync(path.join(root, 'dist/cli.js'), 0o755);
}
