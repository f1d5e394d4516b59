// @ts-check
import withNuxt from './.nuxt/eslint.config.mjs'

export default withNuxt({
  ignores: ['server/db/migrations/**'],
}, {
  files: ['test/**/*.ts'],
  rules: { '@typescript-eslint/no-explicit-any': 'off' },
})
