#!/usr/bin/env node
// `veilnet` command: runs the TypeScript sources directly with tsx (no build step), so `npx veilnet …`
// works in the repository. The sources import TypeChain's factories, which only a contract compile
// generates: a fresh clone (or changed contracts) is compiled first. See cli/main.ts for the commands.
import { register } from "tsx/esm/api";

import { ensureBuilt } from "../scripts/ensure-built.mjs";

if (!ensureBuilt()) process.exit(1);
register();
await import("../cli/veilnet.ts");
