// ESLint: typescript-eslint's `strict` rules (bugs, unsafe patterns) plus the import-boundary rule that
// encodes DESIGN.md's arrows. Purely stylistic rules are left to Prettier (.prettierrc.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Import boundaries, with eslint's own `no-restricted-imports` (no plugin: the rules are a handful of
// path patterns per folder, and a violation names the rule it breaks).
const COLLECTOR_INTERNALS = {
  group: ['**/collector/**', '!**/collector/source'],
  message: 'extension/ and webview/ never import collector internals: share it through protocol/ or client/.',
};
const COLLECTOR_RULES = [
  {
    group: ['**/extension/**', '**/webview/**', '!**/webview/html'],
    message: 'the collector never imports a client (it serves the dashboard page from webview/html).',
  },
  { group: ['**/client/**', '!**/client/backoff'], message: 'the collector uses only client/backoff from the client core.' },
];
// Each block sets the whole rule for its files; a later matching block replaces an earlier one.
const boundary = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.vscode-test/**', 'test-artifacts/**', 'test/fakes/**/*.c', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      // Bugs worth catching.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-constant-binary-expression': 'error',
      'no-template-curly-in-string': 'error',
      // A `let` read in a closure before its one assignment (main.ts's collector) must stay a `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // House style (DESIGN.md): no default exports.
      'no-restricted-exports': ['error', { restrictDefaultExports: { direct: true, named: true, defaultFrom: true, namedFrom: true, namespaceFrom: true } }],
      // Off, with reasons:
      // - non-null assertions: used after a check the compiler cannot follow (map.has → map.get!); strict TS already guards the rest.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // - `void expr` marks a deliberately unawaited promise (house idiom); the rule would forbid it.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // - empty functions are explicit no-op callbacks (`() => {}` listeners, close()).
      '@typescript-eslint/no-empty-function': 'off',
      // - extraneous classes: namespaces of static helpers are rare and intentional.
      '@typescript-eslint/no-extraneous-class': 'off',
      // - dynamic delete is how maps keyed by series are pruned.
      '@typescript-eslint/no-dynamic-delete': 'off',
      // - `this` aliasing appears in test helpers that patch prototypes.
      '@typescript-eslint/no-this-alias': 'off',
      // - invalid void type: `Promise<void> | void` is the Source.close() contract.
      '@typescript-eslint/no-invalid-void-type': 'off',
    },
  },
  // protocol/ imports nothing of ours.
  boundary(
    ['protocol/**/*.ts'],
    [
      {
        group: ['**/collector/**', '**/client/**', '**/extension/**', '**/webview/**', '**/remote/**', '**/test/**'],
        message: 'protocol/ imports nothing of ours.',
      },
      { group: ['node:*', 'vscode', 'ws'], message: 'protocol/ has no Node, DOM or vscode dependency.' },
    ],
  ),
  // client/ imports only protocol/ (and no Node or vscode).
  boundary(
    ['client/**/*.ts'],
    [
      { group: ['**/collector/**', '**/extension/**', '**/webview/**', '**/remote/**', '**/test/**'], message: 'client/ imports only protocol/.' },
      { group: ['node:*', 'vscode', 'ws', 'lit', 'lit/*'], message: 'client/ has no Node, DOM or vscode dependency.' },
    ],
  ),
  // The collector never imports a client; of the client core it uses only the one backoff.
  boundary(['collector/**/*.ts'], COLLECTOR_RULES),
  // Sources never import server, alerts, history or export (a later block replaces the rule: repeat the collector's).
  boundary(
    ['collector/sources/**/*.ts'],
    [
      ...COLLECTOR_RULES,
      {
        group: ['**/server/**', '**/alerts/**', '**/history/**', '**/export/**'],
        message: 'sources never import server/alerts/history/export: they only sample.',
      },
    ],
  ),
  // remote/ (the SSH launcher) serves the CLI and the extension: it imports neither.
  boundary(
    ['remote/**/*.ts'],
    [
      {
        group: ['**/extension/**', '**/webview/**', '**/collector/**', '!**/collector/source'],
        message: 'remote/ is used by the collector CLI and the extension; it imports neither.',
      },
      { group: ['**/client/**', '!**/client/backoff'], message: 'remote/ uses only client/backoff.' },
    ],
  ),
  // The extension never imports collector internals or the webview's code.
  boundary(
    ['extension/**/*.ts'],
    [
      COLLECTOR_INTERNALS,
      { group: ['**/webview/**', '!**/webview/html'], message: 'the extension never imports the webview (only its page template webview/html).' },
    ],
  ),
  // The webview never imports the extension or collector internals, and nothing of Node.
  boundary(
    ['webview/**/*.ts'],
    [
      COLLECTOR_INTERNALS,
      { group: ['**/extension/**', '**/remote/**'], message: 'the webview never imports the extension.' },
      { group: ['node:*', 'vscode', 'ws'], message: 'the webview runs in a browser.' },
    ],
  ),
  // Tests and benchmarks may reach anywhere, and use what test code needs.
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-unused-expressions': 'off' },
  },
  // Benchmarks load the built bundles with require().
  { files: ['bench/**/*.ts'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
