// Lint rules for every package. Each non-default rule says why it is here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.flotilla/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      // Node 24 globals used by the plain-JS scripts (TypeScript checks the rest itself).
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'Buffer',
          'URL',
          'fetch',
          'performance',
          'AbortController',
          'AbortSignal',
          'WebSocket',
          'TextEncoder',
          'TextDecoder',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
        ].map((g) => [g, 'readonly']),
      ),
    },
    rules: {
      // `any` in our code hides schema drift; types come from schemas instead.
      '@typescript-eslint/no-explicit-any': 'error',
      // Unused arguments named `_x` are deliberate (handler signatures).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Type-only imports keep runtime graphs small (the agent must not load the hub).
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
);
