// Lint rules that catch what hurts a daemon: floating promises (lost errors), import cycles, and
// layering violations (nothing outside client/fuse may import fuse-native).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/proto-gen/**', '.fst-local/**', 'bin/**', 'scripts/**', 'bench/**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'no-restricted-imports': ['error', { paths: [{ name: 'fuse-native', message: 'only src/client/fuse may import fuse-native' }] }],
    },
  },
  {
    files: ['src/client/fuse/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
