/**
 * The devnet's genesis (sequencer) enclave: `veilnet enclave init` signed by the admin (it calls
 * EnclaveRegistry.initializeNetworkSecret, which needs GENESIS_ROLE, the deployer's on the devnet), then the sequencer
 * operator made the enclave's operator (rewards go there). Both steps are idempotent: a state file
 * already registered for this deployment is reported and nothing is sent.
 */
import { existsSync, readFileSync } from "node:fs";

import { Contract, JsonRpcProvider, Wallet, getAddress } from "ethers";
import { z } from "zod";

import type { Deployment } from "../deploy/deployment-file.js";
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

const ENCLAVE_REGISTRY_ABI = [
  "function enclave(address enclaveId) view returns ((address operator, bool attested, bool sequencer, bool revoked, uint64 attestedAt))",
  "function setEnclaveOperator(address enclaveId, address operator)",
];

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
  /** Signs initializeNetworkSecret (the genesis initializer) and is the dev attestation service. */
  admin: DevAccount;
  /** Becomes the enclave's operator. */
  operator: DevAccount;
  /** Environment of the command (L1_RPC_URL, SIGNER_PRIVATE_KEY … are set here). */
  env: NodeJS.ProcessEnv;
}

/** Runs `veilnet enclave init` and makes `operator` the enclave's operator; returns the enclave id. */
export async function initSequencerEnclave(options: InitEnclaveOptions): Promise<string> {
  const { command, args } = veilnet("enclave", "init", "--state-file", options.stateFile);
  await options.supervisor.run("enclave-init", command, args, {
    env: {
      ...options.env,
      L1_RPC_URL: options.l1Url,
      SIGNER_PRIVATE_KEY: options.admin.privateKey,
      ATTESTATION_SERVICE_KEY: options.admin.privateKey,
    },
    cwd: projectRoot,
    timeoutMs: 120_000,
  });
  const enclaveId = enclaveIdOf(options.stateFile);
  const provider = new JsonRpcProvider(options.l1Url, undefined, { staticNetwork: true, polling: true });
  try {
    const registry = new Contract(
      options.deployment.addresses.EnclaveRegistry,
      ENCLAVE_REGISTRY_ABI,
      new Wallet(options.admin.privateKey, provider),
    );
    const record = (await registry.getFunction("enclave").staticCall(enclaveId)) as { operator: string };
    if (getAddress(record.operator) !== getAddress(options.operator.address)) {
      const tx = (await registry.getFunction("setEnclaveOperator").send(enclaveId, options.operator.address)) as {
        wait(): Promise<unknown>;
      };
      await tx.wait();
    }
  } finally {
    provider.destroy();
  }
  return enclaveId;
}
