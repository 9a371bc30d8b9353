// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["node_modules/", "artifacts/", "cache/", "types/", "coverage/", "ignition/deployments/", "dist/"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "off",
      // One ABI source: contract ABIs come from TypeChain (types/ethers-contracts) or the artifacts.
      "no-restricted-syntax": [
        "error",
        {
          selector: "Literal[value=/^(function|event|error) [A-Za-z_$][\\w$]*\\(/]",
          message: "A hand-written ABI fragment: take the ABI from TypeChain's factory (types/ethers-contracts).",
        },
        {
          selector: "TemplateElement[value.raw=/^(function|event|error) [A-Za-z_$][\\w$]*\\(/]",
          message: "A hand-written ABI fragment: take the ABI from TypeChain's factory (types/ethers-contracts).",
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        fetch: "readonly",
        AbortSignal: "readonly",
      },
    },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } },
  },
);
