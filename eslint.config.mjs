// Lint: type-aware rules for TypeScript (no floating promises, no any), plain rules for the
// build and test scripts, and layer boundaries: src/core and src/shared never import vscode;
// src/webview (browser code, its own tsconfig) imports neither vscode, Node nor the extension.
import tseslint from 'typescript-eslint';

const layerRule = {
  'no-restricted-imports': [
    'error',
    {
      paths: [{ name: 'vscode', message: 'src/core and src/shared are the engine: no vscode imports (the extension layer adapts them).' }],
      patterns: [{ group: ['**/extension/**', '**/webview/**'], message: 'the engine must not depend on the extension or webview layers.' }],
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
  { files: ['src/core/**/*.ts', 'src/shared/**/*.ts'], rules: layerRule },
  { files: ['src/webview/**/*.ts'], rules: webviewLayerRule },
  {
    files: ['**/*.mjs'],
    extends: [tseslint.configs.recommended],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: { eqeqeq: ['error', 'always'], curly: ['error', 'all'] },
  },
);
