/**
 * The layers of Veilnet and the one direction of their imports (docs/architecture.md, "Layers"):
 *
 *   protocol  →  nothing of ours (shared formats and rules, pure)
 *   deploy    →  protocol
 *   platform  →  protocol, deploy/deployment-file (config, logs, metrics, HTTP, Redis, queues,
 *                the service runtime, TxSender: Veilnet's op-service)
 *   enclave, workers, gateway, signer  →  platform, protocol (never each other)
 *   cli, devnet, tasks, scripts  →  every production layer (composition roots)
 *   bench, test  →  anything production, and testing/ (never each other)
 *   testing   →  anything production (the shared test library)
 *
 * TypeChain's output (types/) is generated from contracts/ and may be imported by any layer but
 * protocol. `npm run lint:deps` checks this file; it runs in `npm run lint` and CI.
 */
const PRODUCTION = "^(protocol|deploy|platform|enclave|workers|gateway|signer|cli|devnet|tasks|scripts)/";
const APPS = ["enclave", "workers", "gateway", "signer"];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle of imports: break it with a smaller module or by passing the dependency in.",
      from: { pathNot: "^(node_modules|types)/" },
      to: { circular: true },
    },
    {
      name: "protocol-is-pure",
      severity: "error",
      comment: "protocol/ is the shared vocabulary: it imports nothing of ours, not even TypeChain's output.",
      from: { path: "^protocol/" },
      to: {
        path: "^(deploy|platform|enclave|workers|gateway|signer|cli|devnet|tasks|scripts|testing|test|bench|types)/",
      },
    },
    {
      name: "deploy-below-platform",
      severity: "error",
      comment: "deploy/ knows the contracts and protocol/, nothing that runs them.",
      from: { path: "^deploy/" },
      to: { path: "^(platform|enclave|workers|gateway|signer|cli|devnet|tasks|scripts|testing|test|bench)/" },
    },
    {
      name: "platform-below-apps",
      severity: "error",
      comment: "platform/ is shared by every app: it imports protocol/ and deploy's deployment reader only.",
      from: { path: "^platform/" },
      to: {
        path: "^(deploy|enclave|workers|gateway|signer|cli|devnet|tasks|scripts|testing|test|bench)/",
        pathNot: "^deploy/deployment-file\\.ts$",
      },
    },
    ...APPS.map((app) => ({
      name: `${app}-is-an-app`,
      severity: "error",
      comment: `${app}/ imports platform/ and protocol/, never another app nor a composition root.`,
      from: { path: `^${app}/` },
      to: {
        path: `^(${APPS.filter((a) => a !== app).join("|")}|cli|devnet|tasks|scripts|testing|test|bench)/`,
      },
    })),
    {
      name: "production-never-imports-tests",
      severity: "error",
      comment: "Production code imports no test code: the testing library, tests and benches sit above it.",
      from: { path: PRODUCTION },
      to: { path: "^(testing|test|bench)/" },
    },
    {
      name: "testing-is-a-library",
      severity: "error",
      comment: "testing/ is shared by tests and benches: it imports neither.",
      from: { path: "^testing/" },
      to: { path: "^(test|bench)/" },
    },
    {
      name: "bench-and-test-apart",
      severity: "error",
      comment: "Benches and tests share code through testing/, not each other's files.",
      from: { path: "^bench/" },
      to: { path: "^test/" },
    },
    {
      name: "test-and-bench-apart",
      severity: "error",
      comment: "Benches and tests share code through testing/, not each other's files.",
      from: { path: "^test/" },
      to: { path: "^bench/" },
    },
  ],
  options: {
    doNotFollow: { path: "^(node_modules|types)/" },
    exclude: { path: "^(node_modules|artifacts|cache|dist|coverage)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
      extensions: [".ts", ".mts", ".js", ".mjs", ".json"],
    },
  },
};
