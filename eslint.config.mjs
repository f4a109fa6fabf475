// Lint rules that catch what hurts a daemon: floating promises (lost errors) and layering
// violations (nothing outside client/fuse may load the native FUSE binding). Import cycles are checked by
// scripts/check-import-cycles.mjs (eslint-plugin-import cannot resolve `.js` specifiers to `.ts`
// without a resolver whose native bindings break `npm ci`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/proto-gen/**', '.fst-local/**', 'bin/**', 'scripts/**', 'bench/**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/client/fuse/binding.js'], message: 'only src/client/fuse loads the native FUSE binding' }] }],
    },
  },
  {
    // The binding's own test mounts a toy filesystem straight on it.
    files: ['src/client/fuse/**/*.ts', 'test/fuse/fuse-binding.test.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
