/**
 * `npx veilnet withdraw --gateway <gateway URL> --tx <L2 tx hash> [--wait]`: a self-serve withdrawal
 * (platform/withdrawals/self-serve.ts), the `veil:withdraw` Hardhat task's twin for operators without
 * the Hardhat project. The L1 key is SIGNER_PRIVATE_KEY or the file of --key-file (the hex key); the
 * same key is the L2 account that sent the withdrawal, signed in to the gateway with it.
 */
import { readFileSync } from "node:fs";

import { Wallet, isHexString } from "ethers";
import { z } from "zod";

import { connectL1, loadDeployment } from "../platform/chain.js";
import { ConfigError, commonConfigSchema, configSource, parseConfig } from "../platform/config.js";
import { gatewayRpcUrl } from "../platform/withdrawals/gateway-auth.js";
import { L2Nodes } from "../platform/withdrawals/l2-nodes.js";
import { describeWithdrawResult, withdraw } from "../platform/withdrawals/self-serve.js";

export const withdrawCommandConfigSchema = z.object({
  L1_RPC_URL: commonConfigSchema.shape.L1_RPC_URL,
  VEILNET_DEPLOYMENTS_DIR: commonConfigSchema.shape.VEILNET_DEPLOYMENTS_DIR.describe(
    "Directory of deployments/<chainId>.json",
  ),
  SIGNER_PRIVATE_KEY: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "expected a 32-byte private key as 0x hex")
    .optional()
    .describe("The L1 key that relays, and the L2 account that sent the withdrawal (or --key-file)"),
});

export interface WithdrawCommandOptions {
  gateway: string;
  tx: string;
  wait?: boolean;
  pollMs?: string;
  keyFile?: string;
  config?: string;
}

function signingKey(opts: WithdrawCommandOptions, fromEnv: string | undefined): string {
  if (opts.keyFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.keyFile, "utf8").trim();
    } catch (e) {
      throw new ConfigError(`--key-file ${opts.keyFile}: ${(e as Error).message}`);
    }
    if (!isHexString(text, 32))
      throw new ConfigError(`--key-file ${opts.keyFile}: expected a private key as 0x + 64 hex digits`);
    return text;
  }
  if (fromEnv === undefined) throw new ConfigError("config: SIGNER_PRIVATE_KEY: Required (or --key-file)");
  return fromEnv;
}

/** Runs the command; its exit code (0 relayed, already relayed or pending; 1 what is wrong is printed). */
export async function runWithdraw(opts: WithdrawCommandOptions): Promise<void> {
  if (!isHexString(opts.tx, 32))
    throw new ConfigError(`--tx ${opts.tx}: expected an L2 transaction hash (0x + 64 hex digits)`);
  const pollMs = opts.pollMs === undefined ? 2_000 : Number(opts.pollMs);
  if (!Number.isInteger(pollMs) || pollMs < 10) throw new ConfigError(`--poll-ms ${opts.pollMs}: expected ms ≥ 10`);
  const config = parseConfig(
    withdrawCommandConfigSchema,
    configSource(process.env, opts.config ?? process.env.VEILNET_CONFIG),
  );
  const key = signingKey(opts, config.SIGNER_PRIVATE_KEY);
  const { provider, chainId } = await connectL1(config.L1_RPC_URL);
  try {
    const deployment = loadDeployment(chainId, config.VEILNET_DEPLOYMENTS_DIR);
    const wallet = new Wallet(key, provider);
    const url = await gatewayRpcUrl(opts.gateway, wallet);
    const result = await withdraw({
      nodes: new L2Nodes([url]),
      txHash: opts.tx,
      signer: wallet,
      messenger: deployment.addresses.CrossChainMessenger,
      wait: opts.wait === true,
      pollMs,
      onProgress: (line) => process.stdout.write(`${line}\n`),
    });
    for (const line of describeWithdrawResult(opts.tx, result)) process.stdout.write(`${line}\n`);
  } finally {
    await provider.destroy();
  }
}
