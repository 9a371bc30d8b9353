/**
 * The devnet's L1: a `hardhat node` (Hardhat's EDR chain behind JSON-RPC) started as a child, mining a
 * block every second on top of automine, or an L1 that already runs (L1_RPC_URL).
 */
import { hardhat, projectRoot } from "./commands.js";
import { assertPortFree } from "./ports.js";
import { type ManagedProcess, type Supervisor, jsonRpc } from "./processes.js";

/** The L1 at L1_RPC_URL does not answer JSON-RPC. */
export class L1UnavailableError extends Error {
  constructor(url: string, cause: string) {
    super(`the L1 at ${url} does not answer JSON-RPC (${cause}): start it, or unset L1_RPC_URL to start one`);
    this.name = "L1UnavailableError";
  }
}

export interface StartL1Options {
  /** Use this L1 instead of starting one. */
  url?: string;
  /** Port of the L1 node to start (default 8545). */
  port?: number;
  supervisor: Supervisor;
  /** Interval mining of a started node, ms (default 1000; 0: automine only). */
  blockIntervalMs?: number;
  /** How long the L1 gets to answer, ms (default 60 000 for a started node, 10 000 for L1_RPC_URL). */
  timeoutMs?: number;
}

export interface DevnetL1 {
  url: string;
  chainId: bigint;
  /** True for L1_RPC_URL (the devnet did not start it and does not stop it). */
  external: boolean;
  /** The node's process, when the devnet started it. */
  process?: ManagedProcess;
  /** Interval mining of a started node, ms. */
  blockIntervalMs?: number;
}

async function chainIdAt(url: string): Promise<bigint> {
  return BigInt((await jsonRpc(url, "eth_chainId")) as string);
}

/** Starts (or connects to) the L1 and waits until it answers JSON-RPC. */
export async function startL1(options: StartL1Options): Promise<DevnetL1> {
  if (options.url !== undefined && options.url !== "") {
    const url = options.url;
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      try {
        return { url, chainId: await chainIdAt(url), external: true };
      } catch (e) {
        if (Date.now() > deadline) throw new L1UnavailableError(url, (e as Error).message);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  const port = options.port ?? 8545;
  await assertPortFree(port, "the L1 node", "L1_PORT");
  const url = `http://127.0.0.1:${port}`;
  const { command, args } = hardhat("node", "--port", String(port));
  const node = options.supervisor.spawn("l1", command, args, { env: process.env, cwd: projectRoot });
  await options.supervisor.waitHealthy(node, { kind: "json-rpc", url }, options.timeoutMs ?? 60_000);
  const blockIntervalMs = options.blockIntervalMs ?? 1000;
  if (blockIntervalMs > 0) {
    // A block every interval on top of automine: time moves on an idle chain (challenge periods end)
    // and confirmation depths are reached without traffic.
    await jsonRpc(url, "evm_setIntervalMining", [blockIntervalMs]);
  }
  return { url, chainId: await chainIdAt(url), external: false, process: node, blockIntervalMs };
}
