/**
 * The devnet's genesis (sequencer) enclave: `veilnet enclave init` signed by the sequencer operator, the
 * deployment's initializer (EnclaveRegistry.initializeNetworkSecret needs GENESIS_ROLE), which so becomes
 * the enclave's operator (rewards go there) without any admin action. Idempotent: a state file already
 * registered for this deployment is reported and nothing is sent.
 */
import { existsSync, readFileSync } from "node:fs";

import { JsonRpcProvider, getAddress } from "ethers";
import { z } from "zod";

import type { Deployment } from "../deploy/deployment-file.js";
import { EnclaveRegistry__factory } from "../types/ethers-contracts/index.js";
import type { DevAccount } from "./accounts.js";
import { projectRoot, veilnet } from "./commands.js";
import type { Supervisor } from "./processes.js";

/** The enclave state file is missing or unreadable after `enclave init`. */
export class EnclaveStateFileError extends Error {
  constructor(file: string, problem: string) {
    super(`the enclave state file ${file} ${problem}`);
    this.name = "EnclaveStateFileError";
  }
}

/** The enclave id (address) recorded in an enclave state file. */
export function enclaveIdOf(stateFile: string): string {
  if (!existsSync(stateFile)) throw new EnclaveStateFileError(stateFile, "does not exist");
  const parsed = z.object({ enclaveId: z.string() }).safeParse(JSON.parse(readFileSync(stateFile, "utf8")) as unknown);
  if (!parsed.success) throw new EnclaveStateFileError(stateFile, "records no enclaveId");
  return getAddress(parsed.data.enclaveId);
}

export interface InitEnclaveOptions {
  supervisor: Supervisor;
  l1Url: string;
  deployment: Deployment;
  /** The enclave state file (created when missing). */
  stateFile: string;
  /** The dev attestation service (signs the enclave's report). */
  attestationService: DevAccount;
  /** The deployment's initializer: signs initializeNetworkSecret and becomes the enclave's operator. */
  operator: DevAccount;
  /** Environment of the command (L1_RPC_URL, SIGNER_PRIVATE_KEY … are set here). */
  env: NodeJS.ProcessEnv;
}

/** Runs `veilnet enclave init` as `operator` and checks it is the enclave's operator; returns the enclave id. */
export async function initSequencerEnclave(options: InitEnclaveOptions): Promise<string> {
  const { command, args } = veilnet("enclave", "init", "--state-file", options.stateFile);
  await options.supervisor.run("enclave-init", command, args, {
    env: {
      ...options.env,
      L1_RPC_URL: options.l1Url,
      SIGNER_PRIVATE_KEY: options.operator.privateKey,
      ATTESTATION_SERVICE_KEY: options.attestationService.privateKey,
    },
    cwd: projectRoot,
    timeoutMs: 120_000,
  });
  const enclaveId = enclaveIdOf(options.stateFile);
  const provider = new JsonRpcProvider(options.l1Url, undefined, { staticNetwork: true, polling: true });
  try {
    const registry = EnclaveRegistry__factory.connect(options.deployment.addresses.EnclaveRegistry, provider);
    const record = await registry.enclave(enclaveId);
    if (getAddress(record.operator) !== getAddress(options.operator.address)) {
      // Only on a reused deployment initialized by another account: changing it is an admin (timelock) action.
      throw new Error(
        `the genesis enclave ${enclaveId} is operated by ${record.operator}, not by the sequencer operator ` +
          `${options.operator.address}: make it so through the timelock (npx hardhat veil:govern schedule ` +
          `--network localhost --contract EnclaveRegistry --method setEnclaveOperator ` +
          `--args '["${enclaveId}", "${options.operator.address}"]', then execute) or start on a fresh L1`,
      );
    }
  } finally {
    provider.destroy();
  }
  return enclaveId;
}
