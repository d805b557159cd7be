import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'bench/out/'] },
  // The web console's front end (console/src, Preact + TSX) runs in the browser.
  { files: ['console/src/**/*.{ts,tsx}'], languageOptions: { globals: { ...globals.browser } } },
  // Browser scripts of the test site.
  { files: ['test/fixtures/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
);
