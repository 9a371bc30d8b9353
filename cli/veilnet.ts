/** The `veilnet` command (bin/veilnet.mjs): the CLI of cli/main.ts with the built-in workers. */
import { runCli } from "./main.js";
import { WORKERS } from "./workers.js";

process.exit(await runCli(process.argv, WORKERS));
