// ESLint for the web app (make lint runs it): the recommended rules, and no name read before its
// declaration (a `const` used above it is undefined in the bundle, as GRAVITIES once was).
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["src/**/*.js", "*.js"],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      "no-use-before-define": ["error", { functions: false, classes: true, variables: true }],
      // `const { left_out: _left_out, ...rest } = value` drops a field on purpose.
      "no-unused-vars": ["error", { varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
];
