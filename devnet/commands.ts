/**
 * The commands the devnet runs as child processes, all with the Node.js running the devnet (so a
 * system `node` of another version on the PATH does not matter): the Hardhat CLI and the `veilnet` CLI.
 */
import { realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the devnet runs its commands there). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A command line: the executable and its arguments. */
export interface CommandLine {
  command: string;
  args: string[];
}

/** `hardhat <args>` (the CLI script run by this Node.js). */
export function hardhat(...args: string[]): CommandLine {
  const cli = realpathSync(path.join(projectRoot, "node_modules", ".bin", "hardhat"));
  return { command: process.execPath, args: [cli, ...args] };
}

/** `veilnet <args>` (bin/veilnet.mjs run by this Node.js). */
export function veilnet(...args: string[]): CommandLine {
  return { command: process.execPath, args: [path.join(projectRoot, "bin", "veilnet.mjs"), ...args] };
}
