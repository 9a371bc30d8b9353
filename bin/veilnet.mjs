#!/usr/bin/env node
// `veilnet` command: runs the TypeScript sources directly with tsx (no build step), so `npx veilnet …`
// works in the repository. See workers/cli.ts for the commands.
import { register } from "tsx/esm/api";

register();
await import("../workers/cli.ts");
