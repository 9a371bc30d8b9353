/**
 * A Hardhat node (EDR behind HTTP JSON-RPC) in a child process, for tests whose code under test talks
 * to the L1 by URL (workers, other processes, RPC fault proxies). `connect()` gives a Hardhat
 * connection to it, so the usual fixture (`deployVeilnet`) deploys there.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { network } from "hardhat";

import type { Connection } from "./veilnet.js";
import { freePort } from "../devnet/ports.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface L1Node {
  url: string;
  port: number;
  process: ChildProcess;
  /** A Hardhat connection to this node (ethers, ignition, networkHelpers). */
  connect(): Promise<Connection>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (the devnet's own). */
export { freePort };

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(body.error.message);
  return body.result;
}

/** Starts `hardhat node` on a free port and waits until it answers (up to `timeoutMs`). */
export async function startL1Node(timeoutMs = 60_000): Promise<L1Node> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(path.join(root, "node_modules", ".bin", "hardhat"), ["node", "--port", String(port)], {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited with ${child.exitCode}: ${stderr}`);
    try {
      await rpc(url, "eth_chainId");
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`hardhat node did not answer on ${url} within ${timeoutMs} ms: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url,
    port,
    process: child,
    connect: () => network.create({ network: "localhost", override: { url } }) as Promise<Connection>,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
