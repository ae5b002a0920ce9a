// Lint: type-aware rules for TypeScript (no floating promises, no any), plain rules for the
// build and test scripts, and layer boundaries (below); src/webview (browser code, its own
// tsconfig) imports neither vscode, Node nor the extension.
import tseslint from 'typescript-eslint';

// Layer directions (each folder lists what it may not import):
//   core      no vscode; never server, cli, extension or webview
//   shared    no vscode; never server, cli, extension or webview
//   server    no vscode; never extension, webview or cli
//   cli       no vscode; never extension, webview or server
//   extension no sql.js, no Ledger or store internals (it asks the engine); never server or cli
const noVscode = (layer) => ({ name: 'vscode', message: `${layer} runs without VS Code: no vscode imports (the extension layer adapts it).` });
// The MCP SDK's own `server/` and `client/` folders are a package, not our layers.
const never = (layers, layer) => ({ group: [...layers.map((name) => `**/${name}/**`), '!@modelcontextprotocol/sdk/**'], message: `${layer} must not depend on ${layers.join(', ')}.` });

const coreLayerRule = {
  'no-restricted-imports': ['error', { paths: [noVscode('src/core')], patterns: [never(['server', 'cli', 'extension', 'webview'], 'src/core')] }],
};
const sharedLayerRule = {
  'no-restricted-imports': ['error', { paths: [noVscode('src/shared')], patterns: [never(['server', 'cli', 'extension', 'webview'], 'src/shared')] }],
};
const serverLayerRule = {
  'no-restricted-imports': ['error', { paths: [noVscode('src/server')], patterns: [never(['extension', 'webview', 'cli'], 'src/server')] }],
};
const cliLayerRule = {
  'no-restricted-imports': ['error', { paths: [noVscode('src/cli')], patterns: [never(['extension', 'webview', 'server'], 'src/cli')] }],
};
const extensionLayerRule = {
  '@typescript-eslint/no-restricted-imports': [
    'error',
    {
      paths: [{ name: 'sql.js', message: 'sql.js runs in the engine process only: ask the engine (src/shared/engineProtocol.ts).' }],
      patterns: [
        { group: ['**/core/ledger', '**/core/store/**', '**/core/log/journal*', '**/core/log/storeLock'], allowTypeImports: true, message: 'the store runs in the engine process only: ask the engine (src/shared/engineProtocol.ts); types are fine.' },
        never(['server', 'cli'], 'src/extension'),
      ],
    },
  ],
};

const webviewLayerRule = {
  'no-restricted-imports': [
    'error',
    {
      paths: [{ name: 'vscode', message: 'src/webview runs in a browser iframe: talk to the extension with messages (src/shared/chatPanelMessages.ts).' }],
      patterns: [
        { group: ['node:*'], message: 'src/webview runs in a browser: no Node modules.' },
        { group: ['**/extension/**', '**/server/**', '**/cli/**'], message: 'src/webview may import only src/shared and types from src/core.' },
      ],
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test-results/**', '.vscode-test/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { project: ['./tsconfig.json', './tsconfig.webview.json'], tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      eqeqeq: ['error', 'always'],
      curly: ['error', 'all'],
    },
  },
  { files: ['src/core/**/*.ts'], rules: coreLayerRule },
  { files: ['src/shared/**/*.ts'], rules: sharedLayerRule },
  { files: ['src/server/**/*.ts'], rules: serverLayerRule },
  { files: ['src/cli/**/*.ts'], rules: cliLayerRule },
  { files: ['src/extension/**/*.ts'], rules: extensionLayerRule },
  { files: ['src/webview/**/*.ts'], rules: webviewLayerRule },
  {
    files: ['**/*.mjs'],
    extends: [tseslint.configs.recommended],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: { eqeqeq: ['error', 'always'], curly: ['error', 'all'] },
  },
);
