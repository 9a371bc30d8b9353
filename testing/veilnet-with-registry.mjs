#!/usr/bin/env node
// The `veilnet` CLI with stand-in workers, for the runtime tests: the registry is the `workers` export
// of the module named by TESTING_WORKER_REGISTRY (testing/dummy-services.ts or a test's own file).
// Production code has no such hook: bin/veilnet.mjs always runs the built-in workers.
import { pathToFileURL } from "node:url";

import { register } from "tsx/esm/api";

register();
const file = process.env.TESTING_WORKER_REGISTRY;
if (file === undefined || file === "") throw new Error("TESTING_WORKER_REGISTRY names no registry module");
const { runCli } = await import("../cli/main.ts");
const { workers } = await import(pathToFileURL(file).href);
if (workers === undefined) throw new Error(`TESTING_WORKER_REGISTRY: ${file} exports no \`workers\``);
process.exit(await runCli(process.argv, workers));
