// Makes sure the compiled contracts and their TypeChain types exist and are newer than contracts/,
// compiling with `hardhat build` when they are not. The off-chain code imports TypeChain's factories,
// which only a compile generates, so every entry point that runs TypeScript from a fresh clone
// (`npx veilnet`, `npm run devnet`, `npm run demo`) calls this first.
//
//   node scripts/ensure-built.mjs        as a command (exit code 1 when the compile fails)
//   import { ensureBuilt } from "…"      from a launcher
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const typechainIndex = path.join(root, "types", "ethers-contracts", "index.ts");

/** The newest modification time of the Solidity sources and the Hardhat config. */
function newestSourceMtime() {
  let newest = statSync(path.join(root, "hardhat.config.ts")).mtimeMs;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".sol")) newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  walk(path.join(root, "contracts"));
  return newest;
}

/** Why a compile is needed, or undefined when the artifacts are current. */
export function buildReason() {
  if (!existsSync(typechainIndex)) return "the TypeChain types are missing (first run after a clone)";
  // Every build rewrites TypeChain's output, so its index is as new as the last compile.
  if (statSync(typechainIndex).mtimeMs < newestSourceMtime()) return "contracts/ changed since the last compile";
  return undefined;
}

/**
 * Compiles when {@link buildReason} says so, printing one line to stderr (never stdout, which may carry
 * a command's JSON). Returns true when the artifacts are current afterwards.
 */
export function ensureBuilt() {
  const reason = buildReason();
  if (reason === undefined) return true;
  process.stderr.write(`veilnet: compiling the contracts first: ${reason}\n`);
  const hardhat = path.join(root, "node_modules", "hardhat", "dist", "src", "cli.js");
  if (!existsSync(hardhat)) {
    process.stderr.write("veilnet: Hardhat is not installed here: run `npm ci` first\n");
    return false;
  }
  const result = spawnSync(process.execPath, [hardhat, "build", "--quiet"], {
    cwd: root,
    stdio: ["ignore", process.stderr, process.stderr],
  });
  if (result.status !== 0) {
    process.stderr.write(`veilnet: \`npx hardhat build\` failed (exit code ${result.status ?? result.signal})\n`);
    return false;
  }
  return true;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(ensureBuilt() ? 0 : 1);
}
