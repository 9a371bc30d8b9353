/**
 * `veilnet enclave init` / `veilnet enclave join`: their settings and how they turn into the operator
 * actions of enclave/operator.ts (an ethers Wallet on the L1 provider, the deployment's addresses, the
 * dev attestation service). The commander wiring is in cli.ts.
 */
import { Wallet, ZeroHash, isHexString, parseEther } from "ethers";
import { z } from "zod";

import { DevAttestationService } from "../enclave/secret/attestation-service.js";
import {
  type InitGenesisResult,
  type JoinNetworkResult,
  initGenesisEnclave,
  joinNetwork,
} from "../enclave/operator.js";
import { connectL1, loadDeployment } from "../platform/chain.js";
import { ConfigError, commonConfigSchema, configSource, parseConfig, senderConfigSchema } from "../platform/config.js";

const bytes32 = z.string().refine((v) => isHexString(v, 32), { message: "must be 32 bytes of 0x-hex" });

/** Settings of `veilnet enclave init` and `veilnet enclave join`. */
export const enclaveCommandConfigSchema = z.object({
  L1_RPC_URL: commonConfigSchema.shape.L1_RPC_URL.describe("L1 JSON-RPC endpoint"),
  VEILNET_DEPLOYMENTS_DIR: commonConfigSchema.shape.VEILNET_DEPLOYMENTS_DIR.describe(
    "Directory of deployments/<chainId>.json",
  ),
  /** Key that signs and pays: init needs DEFAULT_ADMIN_ROLE on the EnclaveRegistry; join's key becomes the enclave's operator. */
  SIGNER_PRIVATE_KEY: senderConfigSchema.shape.SIGNER_PRIVATE_KEY.describe(
    "Key that signs and pays (0x + 64 hex): for init the EnclaveRegistry admin (DEFAULT_ADMIN_ROLE); " +
      "for join it pays the bounty and becomes the enclave's operator",
  ),
  /** Private key of the dev attestation service the SignedReportVerifier trusts. */
  ATTESTATION_SERVICE_KEY: senderConfigSchema.shape.SIGNER_PRIVATE_KEY.describe(
    "Private key of the dev attestation service the SignedReportVerifier trusts (locally: the deployer's)",
  ),
  /** Measurement of a new enclave. */
  ENCLAVE_MEASUREMENT: bytes32
    .optional()
    .describe("Code measurement of a new enclave (bytes32; default: the deployment's parameters.measurement)"),
});

export type EnclaveCommandConfig = z.infer<typeof enclaveCommandConfigSchema>;

/** How a command prints its lines (stdout by default). */
export type Print = (line: string) => void;

const stdoutPrint: Print = (line) => process.stdout.write(`${line}\n`);

/** Config, wallet and deployment for an enclave command; closes the provider after `run`. */
async function withOperator<T>(
  configFile: string | undefined,
  run: (deps: {
    wallet: Wallet;
    enclaveRegistry: string;
    operatorRegistry: string;
    attestation: DevAttestationService;
    measurement: string;
    fromBlock: number;
  }) => Promise<T>,
): Promise<T> {
  const config = parseConfig(
    enclaveCommandConfigSchema,
    configSource(process.env, configFile ?? process.env.VEILNET_CONFIG),
  );
  const { provider, chainId } = await connectL1(config.L1_RPC_URL);
  try {
    const deployment = loadDeployment(chainId, config.VEILNET_DEPLOYMENTS_DIR);
    const measurement = config.ENCLAVE_MEASUREMENT ?? deployment.parameters.measurement;
    if (measurement === ZeroHash) {
      throw new ConfigError(
        `config: ENCLAVE_MEASUREMENT: Required (the deployment of chain ${chainId} records no measurement)`,
      );
    }
    const attestation = new DevAttestationService({
      signer: new Wallet(config.ATTESTATION_SERVICE_KEY),
      chainId,
      verifier: deployment.addresses.SignedReportVerifier,
    });
    return await run({
      wallet: new Wallet(config.SIGNER_PRIVATE_KEY, provider),
      enclaveRegistry: deployment.addresses.EnclaveRegistry,
      operatorRegistry: deployment.addresses.OperatorRegistry,
      attestation,
      measurement,
      fromBlock: deployment.deploymentBlock,
    });
  } finally {
    await provider.destroy();
  }
}

export function runEnclaveInit(
  opts: { stateFile: string; config?: string },
  print: Print = stdoutPrint,
): Promise<InitGenesisResult> {
  return withOperator(opts.config, (deps) =>
    initGenesisEnclave({ ...deps, stateFile: opts.stateFile, print, confirmations: 1 }),
  );
}

/** Parses `--bounty` (ether) and `--timeout` (seconds); a bad value is a ConfigError (exit 2). */
export function joinArguments(opts: { bounty?: string; timeout?: string }): { bounty: bigint; timeoutSeconds: number } {
  let bounty = 0n;
  if (opts.bounty !== undefined) {
    try {
      bounty = parseEther(opts.bounty);
    } catch {
      throw new ConfigError(`error: --bounty: "${opts.bounty}" is not an amount of ether`);
    }
    if (bounty < 0n) throw new ConfigError(`error: --bounty: must not be negative`);
  }
  const timeoutSeconds = opts.timeout === undefined ? 300 : Number(opts.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) {
    throw new ConfigError(`error: --timeout: "${opts.timeout}" is not a number of seconds`);
  }
  return { bounty, timeoutSeconds };
}

export function runEnclaveJoin(
  opts: { stateFile: string; config?: string; bounty?: string; timeout?: string },
  print: Print = stdoutPrint,
): Promise<JoinNetworkResult> {
  const { bounty, timeoutSeconds } = joinArguments(opts);
  return withOperator(opts.config, (deps) =>
    joinNetwork({ ...deps, stateFile: opts.stateFile, print, confirmations: 1, bounty, timeoutSeconds }),
  );
}
