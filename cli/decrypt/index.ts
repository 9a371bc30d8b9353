/**
 * `npx veilnet decrypt --rollup <hash> [--json]`: decrypts a rollup whose revelation epoch key is
 * revealed on L1 and lists its batches and transactions. Reads L1_RPC_URL and the deployment
 * (deployments/<chainId>.json) like the other commands; needs no Redis and no key. The commander wiring
 * is in cli/main.ts; the work is in decrypt.ts.
 */
import { z } from "zod";

import { RollupRegistry__factory } from "../../types/ethers-contracts/index.js";
import { connectL1, loadDeployment } from "../../platform/chain.js";
import { ConfigError, commonConfigSchema, configSource, parseConfig } from "../../platform/config.js";
import {
  type DecryptedRollup,
  decryptRollup,
  decryptedRollupJson,
  formatDecryptedRollup,
  isRollupHash,
} from "./decrypt.js";

export * from "./decrypt.js";

/** Settings of `veilnet decrypt`. */
export const decryptCommandConfigSchema = z.object({
  L1_RPC_URL: commonConfigSchema.shape.L1_RPC_URL.describe("L1 JSON-RPC endpoint"),
  VEILNET_DEPLOYMENTS_DIR: commonConfigSchema.shape.VEILNET_DEPLOYMENTS_DIR.describe(
    "Directory of deployments/<chainId>.json",
  ),
});

/** How the command prints its lines (stdout by default). */
export type Print = (line: string) => void;

const stdoutPrint: Print = (line) => process.stdout.write(`${line}\n`);

/**
 * Runs the command: prints the decrypted rollup (text, or JSON with `json`) and returns it. A bad hash or
 * setting is a ConfigError (exit 2); an unknown or unrevealed rollup a DecryptError (exit 1).
 */
export async function runDecrypt(
  opts: { rollup: string; json?: boolean; config?: string },
  print: Print = stdoutPrint,
): Promise<DecryptedRollup> {
  if (!isRollupHash(opts.rollup)) {
    throw new ConfigError(`error: --rollup: "${opts.rollup}" is not a rollup hash (0x + 64 hex digits)`);
  }
  const config = parseConfig(
    decryptCommandConfigSchema,
    configSource(process.env, opts.config ?? process.env.VEILNET_CONFIG),
  );
  const { provider, chainId } = await connectL1(config.L1_RPC_URL);
  try {
    const deployment = loadDeployment(chainId, config.VEILNET_DEPLOYMENTS_DIR);
    const registry = RollupRegistry__factory.connect(deployment.addresses.RollupRegistry, provider);
    const decrypted = await decryptRollup({ provider, registry, fromBlock: deployment.deploymentBlock }, opts.rollup);
    if (opts.json === true) print(JSON.stringify(decryptedRollupJson(decrypted), null, 2));
    else for (const line of formatDecryptedRollup(decrypted)) print(line);
    return decrypted;
  } finally {
    await provider.destroy();
  }
}
