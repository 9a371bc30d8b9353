/**
 * `npm run devnet`'s settings: command-line flags and environment variables turned into DevnetOptions,
 * with the help text that lists them.
 */
import type { DevnetOptions } from "./index.js";

/** A bad flag or environment variable; the message names it. */
export class DevnetSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DevnetSettingError";
  }
}

/** The settings as parsed from the command line and the environment. */
export interface DevnetSettings {
  help: boolean;
  /** Echo every line of the child processes (prefixed with their name). */
  verbose: boolean;
  options: DevnetOptions;
}

export const DEVNET_HELP = `Usage: npm run devnet [-- --validator] [-- --committee <n> [--threshold-key]] [-- --verbose]

Starts a whole local Veilnet and keeps it up until Ctrl-C:
  1. L1: a Hardhat node on L1_PORT (a block every second), or the L1 at L1_RPC_URL
  2. the Veilnet contracts, deployed with \`npx hardhat deploy --network localhost\`
     (challenge period 60 s; on an L1_RPC_URL chain a live deployment is reused)
  3. Redis at REDIS_URL; if none answers on this machine, a redis-server is started (in memory)
  4. the sequencer enclave and the network secret (\`veilnet enclave init\`)
  5. the workers (\`veilnet workers\`: event-subscriber, secret-responder, withdrawal-processor); the
     secret-responder asks the sequencer's enclave host interface (a free loopback port)
  6. the sequencer enclave node (\`veilnet node\`) with a plain L2 JSON-RPC (chain 4417) on L2_RPC_PORT;
     with --committee n: n operator nodes (\`veilnet node --operator\`) deciding every batch with QBFT
     over libp2p on loopback, operator 1 on L2_RPC_PORT (operators 2…n join by secret requests and are
     granted the sequencer role through the timelock)
  7. the gateway (\`veilnet gateway\`) on GATEWAY_PORT: wallets join at http://127.0.0.1:<GATEWAY_PORT>/
     and use the RPC URL with their token (viewing keys, private events, subscriptions)
  8. with --validator: a validator enclave node (\`veilnet node --validator\`) that joins through an
     on-chain secret request and serves a read-only L2 JSON-RPC on L2_RPC_PORT + 1
  9. dev accounts #0-#4 funded with 100 ETH each on L2 by L1 deposits (Bridge.depositNative, paid by #0)
Then it prints the URLs, contract addresses and dev accounts. Ctrl-C stops everything in reverse order.

Options:
  --validator   also run a validator enclave node (same as DEVNET_VALIDATOR=1)
  --committee <n>
                sequence with a committee of n operators: 4, 7, 10 or 13 (same as DEVNET_COMMITTEE=n;
                default 1: one sequencer)
  --threshold-key
                with --committee: deal the committee a threshold BLS12-381 key (a dealer split, each
                share sealed to its operator's enclave), register it on L1 with every enclave's
                approval, and sign rollups with it (same as DEVNET_THRESHOLD_KEY=1)
  --verbose     echo the output of every process, prefixed with its name
  -h, --help    this help

Environment:
  L1_RPC_URL        use this L1 instead of starting one (e.g. an \`npx hardhat node\` that runs)
  L1_PORT           port of the L1 node to start (default 8545)
  L2_RPC_PORT       port of the sequencer's L2 JSON-RPC (default 8645; a validator uses the next one)
  GATEWAY_PORT      port of the gateway: web page, /v1 API, JSON-RPC over HTTP and WebSocket (default 8745)
  REDIS_URL         Redis to use (default redis://127.0.0.1:6379)
  DEVNET_VALIDATOR  1 to also run a validator enclave node
  DEVNET_COMMITTEE  committee size (4, 7, 10 or 13; default 1)
  DEVNET_THRESHOLD_KEY  1 to sign the committee's rollups with a threshold key (as --threshold-key)
  DEVNET_DIR        directory of the logs and data (default .devnet): logs in <DEVNET_DIR>/logs/<name>.log

The dev accounts are Hardhat's public test accounts: never use their keys on a real network.
`;

function port(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n <= 0 || n > 65535) {
    throw new DevnetSettingError(`${name} must be a TCP port (1-65535), got "${value}"`);
  }
  return n;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = (env[name] ?? "").trim().toLowerCase();
  if (value === "" || value === "0" || value === "false" || value === "no") return false;
  if (value === "1" || value === "true" || value === "yes") return true;
  throw new DevnetSettingError(`${name} must be 1 or 0, got "${env[name]}"`);
}

function url(env: NodeJS.ProcessEnv, name: string, protocols: readonly string[]): string | undefined {
  const value = env[name];
  if (value === undefined || value === "") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new DevnetSettingError(`${name} must be a URL, got "${value}"`);
  }
  if (!protocols.includes(parsed.protocol.replace(/:$/, ""))) {
    throw new DevnetSettingError(
      `${name} must start with ${protocols.map((p) => `${p}://`).join(" or ")}, got "${value}"`,
    );
  }
  return value;
}

/** A committee size: 1 (one sequencer), 4, 7, 10 or 13. */
function committeeSize(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === "") return name === "--committee" ? invalidSize(name, value) : undefined;
  const n = Number(value);
  if (![1, 4, 7, 10, 13].includes(n)) return invalidSize(name, value);
  return n;
}

function invalidSize(name: string, value: string | undefined): never {
  throw new DevnetSettingError(
    `${name} must be a committee size, 1, 4, 7, 10 or 13 (n = 3f + 1), got "${value ?? ""}"`,
  );
}

/** Parses the command-line arguments (after the script name) and the environment. */
export function parseDevnetSettings(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DevnetSettings {
  let help = false;
  let verbose = false;
  let validator = flag(env, "DEVNET_VALIDATOR");
  let committee = committeeSize("DEVNET_COMMITTEE", env.DEVNET_COMMITTEE);
  let thresholdKey = flag(env, "DEVNET_THRESHOLD_KEY");
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "-h" || arg === "--help") help = true;
    else if (arg === "--verbose") verbose = true;
    else if (arg === "--validator") validator = true;
    else if (arg === "--threshold-key") thresholdKey = true;
    else if (arg === "--committee" || arg.startsWith("--committee=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      committee = committeeSize("--committee", value ?? "");
    } else throw new DevnetSettingError(`unknown option "${arg}" (see --help)`);
  }
  const l1RpcUrl = url(env, "L1_RPC_URL", ["http", "https"]);
  const l1Port = port(env, "L1_PORT");
  if (l1RpcUrl !== undefined && l1Port !== undefined) {
    throw new DevnetSettingError("set L1_RPC_URL (use that L1) or L1_PORT (start one on that port), not both");
  }
  const options: DevnetOptions = {
    l1RpcUrl,
    l1Port,
    l2RpcPort: port(env, "L2_RPC_PORT"),
    redisUrl: url(env, "REDIS_URL", ["redis", "rediss"]),
    validator,
    dir: env.DEVNET_DIR === "" ? undefined : env.DEVNET_DIR,
  };
  if (committee !== undefined && committee > 1) options.committee = committee;
  if (thresholdKey) {
    if (options.committee === undefined)
      throw new DevnetSettingError("--threshold-key needs --committee <n> (4, 7, 10 or 13)");
    options.thresholdKey = true;
  }
  const gatewayPort = port(env, "GATEWAY_PORT");
  if (gatewayPort !== undefined) options.gatewayPort = gatewayPort;
  return { help, verbose, options };
}
