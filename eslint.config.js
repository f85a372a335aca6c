// Flat config: typescript-eslint's recommended rules over src, test and bench.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'certs/dev/', 'demo-out/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // The README's plain-JavaScript examples run on Node.js as they are.
  {
    files: ['examples/**/*.mjs'],
    languageOptions: { globals: Object.fromEntries(['process', 'console', 'Buffer', 'fetch', 'FormData', 'Blob'].map((name) => [name, 'readonly'])) },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
