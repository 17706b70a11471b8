import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";

/**
 * Folders depend one way: errors <- ipvs (pure) <- config <- ssh (transport) <- db <- live
 * <- directors <- trpc <- UI, and db <- auth <- trpc. Each entry lists what a folder may NOT
 * import; a lower folder gets what it needs injected (the pool's TrustStore).
 */
const SERVER = (folders) => `^@/server/(${folders.join("|")})(/|$)`;
const UP = "imports upward: see the layering in README.md (Architecture); inject what is needed";
const layers = [
  { files: ["server/errors.ts"], regex: "^@/server/", message: "errors.ts is the bottom layer" },
  {
    files: ["server/ipvs/**"],
    regex: SERVER(["config", "ssh", "db", "live", "directors", "auth", "trpc"]),
  },
  {
    files: ["server/config/**"],
    regex: SERVER(["ssh", "db", "live", "directors", "auth", "trpc"]),
  },
  { files: ["server/ssh/**"], regex: SERVER(["db", "live", "directors", "auth", "trpc"]) },
  { files: ["server/db/**"], regex: SERVER(["live", "directors", "auth", "trpc"]) },
  { files: ["server/auth/**"], regex: SERVER(["live", "directors", "trpc"]) },
  { files: ["server/live/**"], regex: SERVER(["directors", "auth", "trpc"]) },
  { files: ["server/directors/**"], regex: SERVER(["auth", "trpc"]) },
  // The metrics read the pollers and the database (sources.ts) and are fed by the live and
  // auth layers (registry.ts): nothing above them.
  { files: ["server/metrics/**"], regex: SERVER(["directors", "auth", "trpc"]) },
];
const IO_MODULES = [
  "node:fs",
  "node:fs/promises",
  "node:child_process",
  "node:net",
  "ssh2",
  "better-sqlite3",
];

export default tseslint.config(
  {
    ignores: [
      ".next/**",
      "dist/**",
      "node_modules/**",
      ".lab/**",
      "next-env.d.ts",
      "test-results/**",
      "playwright-report/**",
      "e2e/artifacts/**",
      "e2e/.tmp/**",
      "*.config.js",
      "*.config.mjs",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // The project does not use React Compiler; this rule only warns that it would skip
      // memoizing components that use TanStack Virtual.
      "react-hooks/incompatible-library": "off",
      // Async SSH code: a forgotten await or a promise passed where void is expected loses errors.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  ...layers.map(({ files, regex, message }) => ({
    files,
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex, message: message ?? UP },
            { regex: "^@/(components|app)(/|$)", message: "the server never imports the UI" },
            { regex: "^\\.\\./", message: "import another folder as @/server/<folder>/..." },
          ],
        },
      ],
    },
  })),
  {
    // Pure means no I/O: parsers and planners get text and return values.
    files: ["server/ipvs/**"],
    ignores: ["server/ipvs/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: IO_MODULES.map((name) => ({ name, message: "server/ipvs is pure: no I/O" })),
          patterns: [
            {
              regex: SERVER(["config", "ssh", "db", "live", "directors", "auth", "trpc"]),
              message: UP,
            },
            { regex: "^@/(components|app)(/|$)", message: "the server never imports the UI" },
            { regex: "^\\.\\./", message: "import another folder as @/server/<folder>/..." },
          ],
        },
      ],
    },
  },
  {
    files: ["server/trpc/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^@/(components|app)(/|$)", message: "the server never imports the UI" },
          ],
        },
      ],
    },
  },
  {
    // The browser gets types from the server, and values only from the pure core. Its tests
    // are not shipped: they may check the UI against the server's side (director-push).
    files: ["components/**"],
    ignores: ["components/**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^@/server/(?!ipvs/|errors$)",
              allowTypeImports: true,
              message:
                "the UI imports server types only (values only from server/ipvs and server/errors)",
            },
          ],
        },
      ],
    },
  },
);
