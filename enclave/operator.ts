/**
 * One-off operator actions on an enclave's state file and the EnclaveRegistry (the `veilnet enclave …`
 * commands): registering the genesis enclave with the network secret it creates, and having a new
 * enclave join by asking the attested enclaves for the secret. These are plain transactions signed by an
 * operator wallet and awaited in place (they are not worker jobs).
 *
 * Durability: the state file is written BEFORE each transaction that commits to its content (the
 * secret's commitment, the key a request is for), so a crash between the two never leaves L1 committed
 * to a secret or a key nobody holds. Both actions can be re-run: `initGenesisEnclave` recognises a
 * registry already holding its commitment, `joinNetwork` picks up an open request or an answer already
 * on chain instead of paying another bounty.
 */
import { existsSync } from "node:fs";

import {
  BaseWallet,
  type ContractTransactionResponse,
  type Interface,
  type Signer,
  ZeroHash,
  isHexString,
} from "ethers";

import { decodeRevertError, isRevert, veilnetErrorInterfaces } from "../platform/revert.js";
import { formGenesisCommittee } from "../platform/committee.js";
import {
  type EnclaveRegistry,
  EnclaveRegistry__factory,
  OperatorRegistry__factory,
} from "../types/ethers-contracts/index.js";
import type { AttestationProvider } from "./secret/attestation-service.js";
import { Enclave } from "./secret/enclave.js";

/** An operator action failed for a reason to print as is (the CLI exits 1). */
export class OperatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OperatorError";
  }
}

/** A call to the registry reverted; `errorName` is the custom error (undefined when unknown). */
export class RegistryRevertError extends OperatorError {
  constructor(
    readonly call: string,
    readonly errorName: string | undefined,
    readonly reason: string,
  ) {
    super(`EnclaveRegistry.${call} reverted: ${reason}`);
    this.name = "RegistryRevertError";
  }
}

/** Nobody answered the secret request in time (it stays open). */
export class JoinTimeoutError extends OperatorError {
  constructor(
    readonly requestId: bigint,
    timeoutSeconds: number,
    cancellableAt: bigint,
  ) {
    super(
      `nobody answered secret request ${requestId} within ${timeoutSeconds} s yet. The request stays open: ` +
        `run \`veilnet enclave join\` again with the same --state-file to keep waiting (no new bounty), or ` +
        `cancel it with EnclaveRegistry.cancelSecretRequest(${requestId}, <the request's fields from its ` +
        `NetworkSecretRequested event>) from ` +
        `${new Date(Number(cancellableAt) * 1000).toISOString()} (unix ${cancellableAt}, the registry's timeout ` +
        `after the request) to get the bounty back.`,
    );
    this.name = "JoinTimeoutError";
  }
}

export interface OperatorDeps {
  /** Signs and pays the transactions (connected to the L1 provider). */
  wallet: Signer;
  /** Address of the EnclaveRegistry. */
  enclaveRegistry: string;
  /** Produces the enclave's attestation reports (DevAttestationService locally). */
  attestation: AttestationProvider;
  /** The enclave state file (created with mode 0600 when missing). */
  stateFile: string;
  /** Prints one line for the operator. */
  print: (line: string) => void;
  /** Confirmations each transaction waits for (default 1). */
  confirmations?: number;
  /** Interfaces used to name custom errors of reverts (default: every Veilnet contract). */
  errorInterfaces?: readonly Interface[];
}

export interface InitGenesisOptions extends OperatorDeps {
  /** Measurement of a new enclave (an existing state file keeps its own; a different one is refused). */
  measurement: string;
  /**
   * Address of the OperatorRegistry: once the secret is initialized, the wallet (the deployment's
   * initializer) forms the genesis committee of one around the enclave and makes it the active committee
   * (platform/committee.ts). Omitted: no committee is formed.
   */
  operatorRegistry?: string;
  /** The genesis operator's secp256k1 public key (default: the wallet's, when it is a key). */
  operatorKey?: string;
}

export interface InitGenesisResult {
  enclave: string;
  commitment: string;
  /** False when the registry already held this enclave's commitment (nothing was sent). */
  initialized: boolean;
  txHash?: string;
  /** True when this run formed the genesis committee (false: it existed already, or no rollupRegistry). */
  committeeFormed?: boolean;
}

export interface JoinNetworkOptions extends OperatorDeps {
  /** Measurement of a new enclave (an existing state file keeps its own; a different one is refused). */
  measurement: string;
  /** Bounty for the responder, in wei (default 0). */
  bounty?: bigint;
  /** How long to wait for an answer, in seconds. */
  timeoutSeconds: number;
  /** Block from which to search the registry's past events (the deployment block). */
  fromBlock: number;
  /** Poll interval for the answer, in ms (default 1000). */
  pollMs?: number;
}

export type JoinNetworkResult =
  | { status: "already-held"; enclave: string; commitment: string }
  | { status: "attested"; enclave: string; commitment: string; requestId: bigint | undefined };

const RequestStatus = { Open: 1n } as const; // EnclaveRegistry.RequestStatus

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The enclave of `stateFile` (its measurement checked against `measurement`), or a new one saved there. */
function openEnclave(options: OperatorDeps & { measurement: string }): Enclave {
  if (!isHexString(options.measurement, 32)) {
    throw new OperatorError(`the enclave measurement ${options.measurement} is not 32 bytes of 0x-hex`);
  }
  const existed = existsSync(options.stateFile);
  const enclave = Enclave.loadOrCreate(options.stateFile, {
    measurement: options.measurement,
    attestation: options.attestation,
  });
  if (existed && enclave.measurement !== options.measurement.toLowerCase()) {
    throw new OperatorError(
      `the enclave in ${options.stateFile} runs measurement ${enclave.measurement}, not ${options.measurement}`,
    );
  }
  options.print(`${existed ? "loaded" : "created"} enclave ${enclave.address} (${options.stateFile})`);
  return enclave;
}

/** Simulates then sends `call` (throwing RegistryRevertError on a revert) and waits for its receipt. */
async function send(
  deps: OperatorDeps,
  name: string,
  simulate: () => Promise<unknown>,
  submit: () => Promise<ContractTransactionResponse>,
) {
  const interfaces = deps.errorInterfaces ?? veilnetErrorInterfaces();
  const asRevert = (e: unknown): unknown => {
    if (!isRevert(e)) return e;
    const decoded = decodeRevertError(e, interfaces);
    return new RegistryRevertError(name, decoded.name, decoded.reason);
  };
  try {
    await simulate();
  } catch (e) {
    throw asRevert(e);
  }
  let receipt;
  try {
    const tx = await submit();
    deps.print(`sent ${name}: ${tx.hash}`);
    receipt = await tx.wait(deps.confirmations ?? 1);
  } catch (e) {
    throw asRevert(e);
  }
  if (receipt === null || receipt.status !== 1) {
    throw new OperatorError(`${name} transaction ${receipt?.hash ?? ""} failed`);
  }
  return receipt;
}

function registryOf(deps: OperatorDeps): EnclaveRegistry {
  return EnclaveRegistry__factory.connect(deps.enclaveRegistry, deps.wallet);
}

/**
 * Genesis: loads or creates the enclave of `stateFile`, has it create the network secret (unless it
 * holds one), saves it, and registers it with EnclaveRegistry.initializeNetworkSecret (the wallet must
 * hold GENESIS_ROLE, granted at deployment to the genesis initializer and renounced by that call). Idempotent: a registry already holding this enclave's commitment is reported
 * and nothing is sent; one holding another commitment is an OperatorError.
 */
export async function initGenesisEnclave(options: InitGenesisOptions): Promise<InitGenesisResult> {
  const registry = registryOf(options);
  const enclave = openEnclave(options);
  const onChain = await registry.secretCommitment();
  if (onChain !== ZeroHash) {
    if (enclave.secretCommitment?.toLowerCase() === onChain.toLowerCase()) {
      options.print(`the network secret is already initialized with this enclave's commitment ${onChain}`);
      options.print(`enclave ${enclave.address}: attested=${await registry.isAttested(enclave.address)}`);
      const committeeFormed = await genesisCommittee(options, enclave.address);
      return { enclave: enclave.address, commitment: onChain, initialized: false, committeeFormed };
    }
    throw new OperatorError(
      `the network secret is already initialized with another commitment (${onChain}); the enclave in ` +
        `${options.stateFile} holds ${enclave.secretCommitment ?? "no secret"}. Use \`veilnet enclave join\` ` +
        `to have a new enclave get the network's secret.`,
    );
  }
  const commitment = enclave.secretCommitment ?? enclave.initializeSecret();
  // Saved before the transaction commits to it: L1 must never commit to a secret nobody holds.
  enclave.save(options.stateFile);
  const report = await enclave.attestationReport();
  const receipt = await send(
    options,
    "initializeNetworkSecret",
    () => registry.initializeNetworkSecret.staticCall(report, commitment),
    () => registry.initializeNetworkSecret(report, commitment),
  );
  enclave.save(options.stateFile);
  options.print(`initialized the network secret in block ${receipt.blockNumber}`);
  options.print(`enclave:    ${enclave.address}`);
  options.print(`commitment: ${commitment}`);
  const committeeFormed = await genesisCommittee(options, enclave.address);
  return { enclave: enclave.address, commitment, initialized: true, txHash: receipt.hash, committeeFormed };
}

/** Forms the genesis committee of one around `enclave` when `options.operatorRegistry` is set (idempotent). */
async function genesisCommittee(options: InitGenesisOptions, enclave: string) {
  if (options.operatorRegistry === undefined) return false;
  const operatorKey =
    options.operatorKey ?? (options.wallet instanceof BaseWallet ? options.wallet.signingKey.publicKey : undefined);
  if (operatorKey === undefined) {
    throw new OperatorError("the genesis committee needs the operator's public key (operatorKey)");
  }
  const operatorRegistry = OperatorRegistry__factory.connect(options.operatorRegistry, options.wallet);
  const formed = await formGenesisCommittee({ operatorRegistry }, options.wallet, { address: enclave, operatorKey });
  options.print(
    formed
      ? `formed the genesis committee of one: enclave ${enclave} signs rollups alone`
      : "the genesis committee is already active",
  );
  return formed;
}

/** The latest NetworkSecretResponded for `requester` (optionally for `requestId`) since `fromBlock`. */
async function findAnswer(
  registry: EnclaveRegistry,
  fromBlock: number,
  requester: string,
  requestId?: bigint,
): Promise<{ requestId: bigint; encryptedSecret: string } | undefined> {
  const events = await registry.queryFilter(
    registry.filters.NetworkSecretResponded(requestId, undefined, requester),
    fromBlock,
    "latest",
  );
  const last = events.at(-1);
  return last === undefined
    ? undefined
    : { requestId: last.args.requestId, encryptedSecret: last.args.encryptedSecret };
}

/** The newest still-open request for `enclaveId`, if any. */
async function openRequestOf(
  registry: EnclaveRegistry,
  fromBlock: number,
  enclaveId: string,
): Promise<{ requestId: bigint; blockNumber: number; createdAt: bigint } | undefined> {
  const events = await registry.queryFilter(
    registry.filters.NetworkSecretRequested(undefined, enclaveId),
    fromBlock,
    "latest",
  );
  for (const event of events.reverse()) {
    if ((await registry.requestStatus(event.args.requestId)) === RequestStatus.Open) {
      return { requestId: event.args.requestId, blockNumber: event.blockNumber, createdAt: event.args.createdAt };
    }
  }
  return undefined;
}

/**
 * A new enclave joins: loads or creates the enclave of `stateFile` (saved before anything is sent),
 * requests the network secret with `bounty` (the wallet pays and becomes the enclave's operator), waits
 * up to `timeoutSeconds` for a NetworkSecretResponded answering it, decrypts the secret and checks it
 * against the registry's commitment, and saves it. Re-running resumes: an open request of this enclave
 * is waited on instead of making another; an answer already on chain is taken as is. Throws
 * JoinTimeoutError when nobody answered in time (the request stays open).
 */
export async function joinNetwork(options: JoinNetworkOptions): Promise<JoinNetworkResult> {
  const registry = registryOf(options);
  const enclave = openEnclave(options);
  if (enclave.hasSecret) {
    const commitment = enclave.secretCommitment!;
    options.print(`enclave ${enclave.address} already holds the network secret (commitment ${commitment})`);
    return { status: "already-held", enclave: enclave.address, commitment };
  }
  const accept = async (answer: { requestId: bigint; encryptedSecret: string }): Promise<JoinNetworkResult> => {
    const commitment = enclave.acceptSecret(answer.encryptedSecret, await registry.secretCommitment());
    enclave.save(options.stateFile);
    options.print(`request ${answer.requestId} was answered: enclave ${enclave.address} is attested`);
    options.print(`commitment: ${commitment}`);
    return { status: "attested", enclave: enclave.address, commitment, requestId: answer.requestId };
  };

  if (await registry.isAttested(enclave.address)) {
    const answer = await findAnswer(registry, options.fromBlock, enclave.address);
    if (answer === undefined) {
      throw new OperatorError(
        `enclave ${enclave.address} is attested on L1 but no answer to it was found since block ${options.fromBlock}`,
      );
    }
    return accept(answer);
  }

  let request = await openRequestOf(registry, options.fromBlock, enclave.address);
  if (request !== undefined) {
    options.print(`waiting for the answer to this enclave's open request ${request.requestId}`);
  } else {
    const report = await enclave.attestationReport();
    const value = options.bounty ?? 0n;
    const receipt = await send(
      options,
      "requestNetworkSecret",
      () => registry.requestNetworkSecret.staticCall(report, { value }),
      () => registry.requestNetworkSecret(report, { value }),
    );
    const requested = receipt.logs
      .map((log) => {
        try {
          return registry.interface.parseLog(log);
        } catch {
          return null;
        }
      })
      .find((parsed) => parsed?.name === "NetworkSecretRequested");
    if (requested === undefined || requested === null) {
      throw new OperatorError(`requestNetworkSecret ${receipt.hash} emitted no NetworkSecretRequested`);
    }
    request = {
      requestId: requested.args.requestId as bigint,
      blockNumber: receipt.blockNumber,
      createdAt: requested.args.createdAt as bigint,
    };
    options.print(`requested the network secret: request ${request.requestId} (bounty ${value} wei)`);
  }

  options.print(`waiting up to ${options.timeoutSeconds} s for an attested enclave to answer…`);
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  for (;;) {
    const answer = await findAnswer(registry, request.blockNumber, enclave.address, request.requestId);
    if (answer !== undefined) return accept(answer);
    if (Date.now() >= deadline) break;
    await sleep(Math.min(options.pollMs ?? 1000, Math.max(0, deadline - Date.now())));
  }
  const timeout = await registry.secretRequestTimeout();
  throw new JoinTimeoutError(request.requestId, options.timeoutSeconds, request.createdAt + timeout);
}
