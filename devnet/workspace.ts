/**
 * The devnet's directory (DEVNET_DIR, default `<repo>/.devnet`):
 *
 *   devnet.pid        the devnet using this directory (one at a time)
 *   logs/<name>.log   output of each child process of the latest start
 *   run/              data of a devnet on its own L1 (wiped at each start: the chain is new)
 *   l1-<chainId>-<h>/ data of a devnet on an L1_RPC_URL chain, kept across starts (h: hash of the
 *                     deployment block, so a restarted chain gets a new directory)
 *
 * A data directory holds the enclave state files, the L2 data of the nodes, the Ignition journal of a
 * started L1, and `devnet.json` (what the devnet runs: URLs, ports, queue prefix, addresses; no keys).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { acquirePidLock } from "../platform/pid-lock.js";
import { projectRoot } from "./commands.js";

/** Another devnet runs with the same directory. */
export class DevnetBusyError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `another devnet (pid ${pid}) uses ${dir}: stop it first, or set DEVNET_DIR to another directory ` +
        `(and L1_PORT / L2_RPC_PORT to other ports)`,
    );
    this.name = "DevnetBusyError";
  }
}

/** `dir`, else $DEVNET_DIR, else `<repo>/.devnet` (absolute). */
export function devnetDir(dir?: string): string {
  const chosen = dir ?? process.env.DEVNET_DIR;
  return chosen !== undefined && chosen !== "" ? path.resolve(chosen) : path.join(projectRoot, ".devnet");
}

/**
 * Marks `dir` as used by this process; throws DevnetBusyError when a live process holds it. Returns
 * the release function (removes the mark if it is still ours).
 */
export function lockDevnetDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  return acquirePidLock(path.join(dir, "devnet.pid"), (holder) => new DevnetBusyError(dir, holder.pid));
}

/** An empty directory `dir` (whatever was there is deleted). */
export function freshDir(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The data directory of a devnet on an external L1 for a deployment (kept across starts). */
export function externalDataDir(root: string, chainId: bigint, deploymentBlockHash: string): string {
  return path.join(root, `l1-${chainId}-${deploymentBlockHash.slice(2, 10)}`);
}

/** Reads `<dataDir>/devnet.json` (undefined when absent or unreadable). */
export function readRunFile<T>(dataDir: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dataDir, "devnet.json"), "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Writes `<dataDir>/devnet.json` (bigints as decimal strings). */
export function writeRunFile(dataDir: string, info: unknown): string {
  const file = path.join(dataDir, "devnet.json");
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(info, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`);
  return file;
}
