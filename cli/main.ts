/**
 * `veilnet`: runs the off-chain workers and manages their dead-letter queues.
 *
 *   veilnet worker <name>          run one worker
 *   veilnet workers                run every worker in one process
 *   veilnet redrive <queue>        move the dead-lettered jobs of a queue back to it
 *   veilnet dead-letters <queue>   list the dead-lettered jobs of a queue with their reasons
 *   veilnet enclave init           create the genesis enclave's state file and register it on L1
 *   veilnet enclave join           have a new enclave get the network secret from the attested ones
 *   veilnet decrypt --rollup <h>   decrypt a rollup whose epoch key is revealed on L1, list its transactions
 *   veilnet gateway                run the gateway: JSON-RPC for wallets in front of an enclave node
 *   veilnet withdraw --tx <h>      prove and finalize your own withdrawal on L1 (no relayer needed)
 *   veilnet signer                 run the remote share signer (EIP-3030 API, slashing protection)
 *   veilnet slashing-protection export|import   the signer's record in the EIP-3076-shaped interchange
 *
 * Settings come from the environment, optionally layered over a JSON file (`--config` or
 * VEILNET_CONFIG) whose keys are the same names; `<command> --help` lists them.
 *
 * Exit codes: 0 success, 1 runtime failure (Redis/L1 unreachable, …), 2 usage or configuration error.
 */
import { readFileSync } from "node:fs";

import { Command, CommanderError } from "commander";
import { Queue } from "bullmq";

import { ConfigError, commonConfigSchema, configSource, parseConfig } from "../platform/config.js";
import { type DeadLetter, QueueNames, deadLetterQueueName, redrive } from "../platform/queues.js";
import { RedisUnavailableError, connectRedis } from "../platform/redis.js";
import {
  type SettingDoc,
  type WorkerEntry,
  type WorkerRegistry,
  commonSettings,
  describeSchema,
} from "../platform/settings.js";
import { queueSettings, runWorkers, runtimeConfigSchema } from "../platform/runtime.js";
import { enclaveCommandConfigSchema, runEnclaveInit, runEnclaveJoin } from "./enclave-commands.js";
import { decryptCommandConfigSchema, runDecrypt } from "./decrypt/index.js";
import {
  keysConfigSchema,
  keysRegisterConfigSchema,
  runKeysApprove,
  runKeysRegister,
  runKeysSplit,
} from "./keys/index.js";
import { type WithdrawCommandOptions, runWithdraw, withdrawCommandConfigSchema } from "./withdraw.js";
import { slashingProtectionCommandSchema } from "../signer/config.js";

/** Settings the queue administration commands read (no L1 needed). */
const queueAdminSchema = commonConfigSchema.pick({
  REDIS_URL: true,
  QUEUE_PREFIX: true,
  JOB_ATTEMPTS: true,
  JOB_BACKOFF_MS: true,
  LOG_LEVEL: true,
});

function formatSettings(title: string, docs: readonly SettingDoc[]): string {
  if (docs.length === 0) return "";
  const width = Math.max(...docs.map((d) => d.name.length)) + 2;
  const lines = docs.map((d) => {
    const notes = [d.required ? "required" : undefined, d.default !== undefined ? `default: ${d.default}` : undefined]
      .filter((n) => n !== undefined)
      .join(", ");
    return `  ${d.name.padEnd(width)}${d.description}${notes === "" ? "" : ` (${notes})`}`;
  });
  return `\n${title}:\n${lines.join("\n")}\n`;
}

const SETTINGS_NOTE =
  "\nSettings are environment variables, or keys of the JSON file given with --config (or VEILNET_CONFIG);\n" +
  "the environment wins over the file.\n";

const runtimeSettings = () => describeSchema(runtimeConfigSchema).filter((d) => !d.name.startsWith("VEILNET_TEST"));

/** Help text listing the settings of the workers `entries` (their own settings are asked from their modules). */
async function workersHelp(entries: readonly (readonly [string, WorkerEntry])[]): Promise<string> {
  const parts = [SETTINGS_NOTE, formatSettings("Common settings", [...commonSettings(), ...runtimeSettings()])];
  for (const [name, entry] of entries) {
    const docs = await entry.settings();
    parts.push(docs.length === 0 ? `\n${name}: no settings of its own\n` : formatSettings(`${name}`, docs));
  }
  return parts.join("");
}

/** Help text of `veilnet node`: the common settings and each role's own. */
async function nodeHelp(): Promise<string> {
  const { NODE_ROLES } = await import("./nodes.js");
  return (
    SETTINGS_NOTE +
    formatSettings("Common settings", [...commonSettings(), ...runtimeSettings()]) +
    formatSettings("Sequencer", await nodeRole(NODE_ROLES, "sequencer").settings()) +
    formatSettings(
      "Validator (joining also reads SIGNER_PRIVATE_KEY and ATTESTATION_SERVICE_KEY)",
      await nodeRole(NODE_ROLES, "validator").settings(),
    ) +
    formatSettings(
      "Committee operator (--operator: the sequencer's settings and these; joining as a validator's)",
      await nodeRole(NODE_ROLES, "operator").settings(),
    ) +
    formatSettings("Exporter (--exporter: read-only, no enclave)", await nodeRole(NODE_ROLES, "exporter").settings())
  );
}

/** The role `name` of `roles` (cli/nodes.ts), or an error naming the missing role. */
function nodeRole(roles: WorkerRegistry, name: string): WorkerEntry {
  const role = roles[name];
  if (role === undefined) throw new Error(`cli/nodes.ts defines no node role "${name}"`);
  return role;
}

/** Help text of `veilnet gateway`: the settings it reads (no Redis). */
async function gatewayHelp(): Promise<string> {
  const { gatewayCommonConfigSchema, gatewayConfigSchema, gatewayRuntimeConfigSchema } =
    await import("../gateway/config.js");
  return (
    SETTINGS_NOTE +
    formatSettings("Common settings", [
      ...describeSchema(gatewayCommonConfigSchema),
      ...describeSchema(gatewayRuntimeConfigSchema),
    ]) +
    formatSettings("Gateway", describeSchema(gatewayConfigSchema))
  );
}

/** Help text of `veilnet signer`: the settings it reads (no Redis, no L1). */
async function signerHelp(): Promise<string> {
  const { signerCommonConfigSchema, signerConfigSchema, signerRuntimeConfigSchema } =
    await import("../signer/config.js");
  return (
    "\nThe API (EIP-3030 at Web3Signer's paths): GET /upcheck, GET /api/v1/eth2/publicKeys, POST\n" +
    "/api/v1/eth2/sign/{publicKey}; every path but /upcheck needs `Authorization: Bearer <SIGNER_AUTH_TOKEN>`.\n" +
    'See docs/distributed-key.md, "Slashing protection and the remote signer".\n' +
    SETTINGS_NOTE +
    formatSettings("Common settings", [
      ...describeSchema(signerCommonConfigSchema),
      ...describeSchema(signerRuntimeConfigSchema),
    ]) +
    formatSettings("Signer", describeSchema(signerConfigSchema))
  );
}

function usageError(message: string): never {
  throw new CommanderError(2, "veilnet.usage", message);
}

const queueNames: readonly string[] = Object.values(QueueNames);

function checkQueue(queue: string): void {
  if (!queueNames.includes(queue)) {
    usageError(`error: unknown queue "${queue}": valid queues are ${queueNames.join(", ")}`);
  }
}

/** Config and a checked Redis for the queue commands; exits 2 / 1 with one line on failure. */
async function queueAdmin(configFile: string | undefined) {
  const config = parseConfig(queueAdminSchema, configSource(process.env, configFile ?? process.env.VEILNET_CONFIG));
  const redis = await connectRedis(config.REDIS_URL);
  await redis.quit();
  return queueSettings(config);
}

async function buildProgram(registry: WorkerRegistry, helpFor: Map<string, string>): Promise<Command> {
  const workerNames = Object.keys(registry);
  const workerList = Object.entries(registry)
    .map(([name, entry]) => `  ${name.padEnd(22)}${entry.description}`)
    .join("\n");
  const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
    .version;
  const program = new Command("veilnet")
    .description("Veilnet off-chain workers")
    .version(version)
    .showHelpAfterError("(add --help for usage)")
    .exitOverride();

  program
    .command("worker")
    .description(`Run one worker: ${workerNames.join(", ")}`)
    .argument("<name>", `the worker (${workerNames.join(", ")})`)
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", () => `\nWorkers:\n${workerList}\n${helpFor.get("worker") ?? ""}`)
    .action(async (name: string, opts: { config?: string }) => {
      if (registry[name] === undefined) {
        usageError(`error: unknown worker "${name}": valid workers are ${workerNames.join(", ")}`);
      }
      process.exit(await runWorkers([name], { registry, configFile: opts.config }));
    });

  program
    .command("workers")
    .description(`Run every worker in one process (${workerNames.join(", ")})`)
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", () => helpFor.get("workers") ?? "")
    .action(async (opts: { config?: string }) => {
      process.exit(await runWorkers(workerNames, { registry, configFile: opts.config }));
    });

  const queueHelp =
    `\nQueues: ${queueNames.join(", ")} (dead letters are kept in <queue>-dead).\n` +
    SETTINGS_NOTE +
    formatSettings("Settings", describeSchema(queueAdminSchema));

  program
    .command("redrive")
    .description("Move the dead-lettered jobs of a queue back to it (attempts reset) and print how many")
    .argument("<queue>", "the queue")
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", queueHelp)
    .action(async (queue: string, opts: { config?: string }) => {
      checkQueue(queue);
      const settings = await queueAdmin(opts.config);
      const ids = await redrive(queue, settings);
      process.stdout.write(`re-drove ${ids.length} job(s) from ${deadLetterQueueName(queue)} to ${queue}\n`);
      for (const id of ids) process.stdout.write(`  ${id}\n`);
    });

  program
    .command("dead-letters")
    .description("List the dead-lettered jobs of a queue with the reason each failed")
    .argument("<queue>", "the queue")
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .option("--json", "print them as a JSON array")
    .addHelpText("after", queueHelp)
    .action(async (queue: string, opts: { config?: string; json?: boolean }) => {
      checkQueue(queue);
      const settings = await queueAdmin(opts.config);
      const dead = new Queue<DeadLetter>(deadLetterQueueName(queue), {
        connection: settings.connection,
        prefix: settings.prefix,
      });
      try {
        const jobs = await dead.getJobs(["waiting", "delayed", "paused", "prioritized"], 0, -1, true);
        const letters = jobs.map((j) => j.data);
        if (opts.json === true) {
          process.stdout.write(`${JSON.stringify(letters, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${letters.length} dead-lettered job(s) in ${deadLetterQueueName(queue)}\n`);
        for (const l of letters) {
          process.stdout.write(
            `  ${l.jobId}  ${l.name}  attempts=${l.attemptsMade}  failed=${new Date(l.failedAt).toISOString()}  ${l.failedReason}\n`,
          );
        }
      } finally {
        await dead.close();
      }
    });

  const enclaveHelp =
    "\nThe state file holds the enclave's key and network secret, mode 0600 (a dev stand-in for TEE sealing);\n" +
    "give it to the enclave node (`veilnet node`) as ENCLAVE_STATE_FILE; its secret-responder asks that node.\n" +
    SETTINGS_NOTE +
    formatSettings("Settings", describeSchema(enclaveCommandConfigSchema));

  const enclave = program
    .command("enclave")
    .description("Create an enclave's state file and register it on L1 (genesis) or have it join the network")
    .addHelpText("after", enclaveHelp);

  enclave
    .command("init")
    .description(
      "Genesis: create (or load) the enclave, create the network secret and register it with " +
        "EnclaveRegistry.initializeNetworkSecret (SIGNER_PRIVATE_KEY must hold GENESIS_ROLE: the deployment's initializer)",
    )
    .requiredOption("-s, --state-file <file>", "the enclave state file (created with mode 0600 if missing)")
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", enclaveHelp)
    .action(async (opts: { stateFile: string; config?: string }) => {
      await runEnclaveInit(opts);
    });

  enclave
    .command("join")
    .description(
      "Create (or load) an enclave, request the network secret (requestNetworkSecret, SIGNER_PRIVATE_KEY pays " +
        "and becomes its operator) and wait for an attested enclave to answer",
    )
    .requiredOption("-s, --state-file <file>", "the enclave state file (created with mode 0600 if missing)")
    .option("--bounty <ether>", "bounty paid to the responding enclave's operator, in ether", "0")
    .option("--timeout <seconds>", "how long to wait for an answer", "300")
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", enclaveHelp)
    .action(async (opts: { stateFile: string; config?: string; bounty?: string; timeout?: string }) => {
      await runEnclaveJoin(opts);
    });

  const decryptHelp =
    "\nNeeds only the L1 and the deployment file: a rollup becomes readable once the sequencer's epoch-revealer\n" +
    "has published its revelation epoch's key on L1 (RollupRegistry.revealEpochKey, after revelationPeriod).\n" +
    "Exit codes: 0 decrypted, 1 unknown rollup or key not revealed yet, 2 bad arguments or settings.\n" +
    SETTINGS_NOTE +
    formatSettings("Settings", describeSchema(decryptCommandConfigSchema));

  program
    .command("decrypt")
    .description("Decrypt a rollup whose revelation epoch key is revealed on L1 and list its batches and transactions")
    .requiredOption("--rollup <hash>", "the rollup hash (RollupAdded's rollupHash)")
    .option("--json", "print the rollup as JSON")
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", decryptHelp)
    .action(async (opts: { rollup: string; json?: boolean; config?: string }) => {
      await runDecrypt(opts);
    });

  const keysHelp =
    "\nA committee's threshold key by hand (docs/distributed-key.md): the dealer splits, each operator approves\n" +
    "with its enclave, anyone registers; then every node runs with COMMITTEE_KEY_FILE=<the dealing>.\n" +
    SETTINGS_NOTE;
  const keysSettings = (schema: typeof keysConfigSchema | typeof keysRegisterConfigSchema): string =>
    keysHelp + formatSettings("Settings", describeSchema(schema));
  const keys = program.command("keys").description("A committee's threshold BLS12-381 key: split, approve, register");
  keys
    .command("split")
    .description("Split a key (fresh, or --secret-key-file) into shares sealed to the committee's enclaves")
    .requiredOption("--committee <id>", "the committee's id in the OperatorRegistry")
    .requiredOption(
      "--enclave-key <operator=publicKey>",
      "each member's enclave public key (repeat, or comma-separated), checked against L1",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .requiredOption("-o, --out <file>", "where to write the dealing (mode 0600)")
    .option("--secret-key-file <file>", "an existing key to import (32-byte 0x-hex), as ssv-keys does")
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", keysSettings(keysConfigSchema))
    .action(
      async (opts: {
        committee: string;
        enclaveKey: string[];
        out: string;
        secretKeyFile?: string;
        config?: string;
      }) => {
        await runKeysSplit(opts);
      },
    );
  keys
    .command("approve")
    .description("Open this operator's share in its enclave and print the enclave's approval of the key")
    .requiredOption("--dealing <file>", "the dealing of veilnet keys split")
    .requiredOption("-s, --state-file <file>", "the operator's enclave state file")
    .requiredOption("--operator <id>", "the operator's id")
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", keysSettings(keysConfigSchema))
    .action(async (opts: { dealing: string; stateFile: string; operator: string; config?: string }) => {
      await runKeysApprove(opts);
    });
  keys
    .command("register")
    .description("RollupRegistry.registerCommitteeKey with every member's approval (SIGNER_PRIVATE_KEY pays)")
    .requiredOption("--dealing <file>", "the dealing of veilnet keys split")
    .requiredOption("--approvals <list>", "every member's approval, in member order, comma-separated")
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", keysSettings(keysRegisterConfigSchema))
    .action(async (opts: { dealing: string; approvals: string; config?: string }) => {
      await runKeysRegister(opts);
    });

  program
    .command("withdraw")
    .description(
      "Prove and finalize your own withdrawal on L1 with an L2 RPC (a gateway, signed in with your key) and an L1 key",
    )
    .requiredOption("--gateway <url>", "a Veilnet gateway's URL (the key's account must have sent the withdrawal)")
    .requiredOption("--tx <hash>", "the L2 transaction hash of the withdrawal")
    .option("--wait", "wait for the rollup and the end of its challenge period, then relay")
    .option("--poll-ms <ms>", "with --wait: ms between two looks", "2000")
    .option("--key-file <file>", "file holding the private key (0x hex) instead of SIGNER_PRIVATE_KEY")
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText(
      "after",
      "\nExit codes: 0 relayed, already relayed, or not active yet (when is printed); 1 what is wrong is printed;\n" +
        "2 bad arguments or settings.\n" +
        SETTINGS_NOTE +
        formatSettings("Settings", describeSchema(withdrawCommandConfigSchema)),
    )
    .action(async (opts: WithdrawCommandOptions) => {
      await runWithdraw(opts);
    });

  program
    .command("node")
    .description(
      "Run an enclave node: the sequencer (L2 EVM, batches, L2 JSON-RPC, rollup-producer); with --operator, a " +
        "member of a sequencing committee (batches decided by QBFT over p2p); with --validator, a validator that " +
        "replays every rollup from L1",
    )
    .option("--validator", "run a validator; an enclave without the network secret first joins (as `enclave join`)")
    .option("--exporter", "run the exporter: follow the committee's gossip read-only (metrics and a JSON API)")
    .option(
      "--operator",
      "run a committee member (OPERATOR_ID, COMMITTEE_MEMBERS, P2P_*); an enclave without the secret first joins",
    )
    .option("--bounty <ether>", "validator joining: bounty paid to the responding enclave's operator, in ether", "0")
    .option("--timeout <seconds>", "validator joining: how long to wait for the secret", "300")
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", () => helpFor.get("node") ?? "")
    .action(
      async (opts: {
        validator?: boolean;
        operator?: boolean;
        exporter?: boolean;
        bounty?: string;
        timeout?: string;
        config?: string;
      }) => {
        const { NODE_ROLES } = await import("./nodes.js");
        const roles = (["validator", "operator", "exporter"] as const).filter((r) => opts[r] === true);
        if (roles.length > 1) {
          usageError(`error: --${roles.join(" and --")} are different roles: choose one`);
        }
        if (opts.validator === true || opts.operator === true) {
          const stateFile = process.env.ENCLAVE_STATE_FILE;
          if (stateFile === undefined || stateFile === "")
            throw new ConfigError("config: ENCLAVE_STATE_FILE: Required");
          const { Enclave } = await import("../enclave/secret/enclave.js");
          const { existsSync } = await import("node:fs");
          if (!existsSync(stateFile) || !Enclave.load(stateFile).hasSecret) {
            await runEnclaveJoin({ stateFile, config: opts.config, bounty: opts.bounty, timeout: opts.timeout });
          }
        }
        process.exit(
          await runWorkers([roles[0] ?? "sequencer"], {
            registry: NODE_ROLES,
            configFile: opts.config,
          }),
        );
      },
    );

  program
    .command("gateway")
    .description(
      "Run the gateway: Ethereum JSON-RPC (HTTP and WebSocket) for wallets, viewing keys and subscriptions, in " +
        "front of an enclave node whose RPC key is signed by an enclave attested on L1; web page at /",
    )
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", () => helpFor.get("gateway") ?? "")
    .action(async (opts: { config?: string }) => {
      const { runGateway } = await import("../gateway/main.js");
      process.exit(await runGateway({ configFile: opts.config }));
    });

  program
    .command("signer")
    .description(
      "Run the remote share signer: committee key shares behind the EIP-3030 HTTP API (/upcheck, " +
        "/api/v1/eth2/publicKeys, /api/v1/eth2/sign/{key}), with slashing protection",
    )
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", () => helpFor.get("signer") ?? "")
    .action(async (opts: { config?: string }) => {
      const { runSigner } = await import("../signer/main.js");
      process.exit(await runSigner({ configFile: opts.config }));
    });

  const protectionHelp =
    "\nThe record is SIGNER_DATA_DIR's, bound to SIGNER_CHAIN_ID and SIGNER_ROLLUP_REGISTRY; stop the signer first\n" +
    "(the record is locked while it runs). Format: docs/distributed-key.md.\n" +
    SETTINGS_NOTE +
    formatSettings("Settings", describeSchema(slashingProtectionCommandSchema));
  const protection = program
    .command("slashing-protection")
    .description("Export or import the signer's slashing-protection record (EIP-3076-shaped interchange JSON)")
    .addHelpText("after", protectionHelp);
  protection
    .command("export")
    .description("Print (or write) the record as interchange JSON")
    .option("-o, --out <file>", "write it to this file instead of stdout")
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", protectionHelp)
    .action(async (opts: { out?: string; config?: string }) => {
      const { exportSlashingProtection } = await import("../signer/interchange.js");
      exportSlashingProtection(opts);
    });
  protection
    .command("import")
    .description("Merge an interchange file into the record (refused whole if malformed or conflicting)")
    .requiredOption("-f, --file <file>", "the interchange JSON file")
    .option("-c, --config <file>", "JSON file of settings (keys as the environment variables below)")
    .addHelpText("after", protectionHelp)
    .action(async (opts: { file: string; config?: string }) => {
      const { importSlashingProtection } = await import("../signer/interchange.js");
      importSlashingProtection(opts);
    });

  return program;
}

/**
 * Runs the CLI on `argv` with the workers of `registry`; resolves with the exit code (worker commands
 * exit the process themselves). The `veilnet` command (cli/veilnet.ts) passes the built-in workers.
 */
export async function runCli(argv: readonly string[], registry: WorkerRegistry): Promise<number> {
  try {
    const helpFor = new Map<string, string>();
    const args = argv.slice(2);
    if (args.includes("--help") || args.includes("-h") || args[0] === "help") {
      // Help lists each worker's own settings, which takes loading the worker modules: only then.
      const entries = Object.entries(registry);
      const asked = args[0] === "worker" ? entries.filter(([name]) => name === args[1]) : [];
      helpFor.set("worker", await workersHelp(asked.length > 0 ? asked : entries));
      helpFor.set("workers", await workersHelp(entries));
      if (args[0] === "node") helpFor.set("node", await nodeHelp());
      if (args[0] === "gateway") helpFor.set("gateway", await gatewayHelp());
      if (args[0] === "signer") helpFor.set("signer", await signerHelp());
    }
    const program = await buildProgram(registry, helpFor);
    await program.parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "veilnet.usage") process.stderr.write(`${e.message}\n`);
      // Commander already printed its own errors; help and version end with 0.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    if (e instanceof RedisUnavailableError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
