import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

// sql.js is loaded once per process and only when a store is first opened (its init costs
// 8-24 ms and 688 KB of wasm). The wasm file ships beside the bundle (dist/sql-wasm.wasm); in
// unit tests it comes from node_modules.
let loading: Promise<SqlJsStatic> | undefined;

export function defaultWasmPath(): string {
  const besideBundle = path.join(__dirname, 'sql-wasm.wasm');
  if (fs.existsSync(besideBundle)) {
    return besideBundle;
  }
  return require.resolve('sql.js/dist/sql-wasm.wasm');
}

export function loadSqlJs(wasmPath: string = defaultWasmPath()): Promise<SqlJsStatic> {
  loading ??= initSqlJs({ locateFile: () => wasmPath }).catch((error: unknown) => {
    loading = undefined;
    throw new Error(`could not load SQLite (sql.js) from ${wasmPath}: ${error instanceof Error ? error.message : String(error)}`);
  });
  return loading;
}
