/**
 * A RollupRegistry of its own whose OperatorRegistry is the test double TestOperatorRegistry: any
 * committee (size, quorum, members) is one call away. For RollupRegistry's unit tests and the gas bench;
 * everything else goes through the deployed suite (testing/veilnet.ts).
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import { TypedDataEncoder, getBytes, keccak256 } from "ethers";

import {
  type SplitKey,
  generateSecretKey,
  hexOf,
  proofOfPossession,
  recoverSignature,
  sign,
  splitSecret,
  thresholdFor,
} from "../platform/bls/index.js";
import { type EnclaveIdentity, enclaveIdentity } from "../protocol/attestation.js";
import {
  type CommitteeSignatures,
  ROLLUP_HEADER_TYPES,
  type RollupHeader,
  packCommitteeSignatures,
  packThresholdSignature,
  rollupRegistryDomain,
  signCommitteeKey,
  signRollupHeader,
} from "../protocol/rollup.js";
import {
  type FeeVault,
  FeeVault__factory,
  MessageBus__factory,
  type RollupRegistry,
  RollupRegistry__factory,
  type TestOperatorRegistry,
  TestOperatorRegistry__factory,
} from "../types/ethers-contracts/index.js";
import { govern } from "./governance.js";
import { requestFields, requestReport } from "./secret-requests.js";
import {
  CHALLENGE_PERIOD,
  REVELATION_PERIOD,
  type Veilnet,
  makeEnclave,
  nextRollupHeader,
  secretResponse,
} from "./veilnet.js";

/** The id of the rig's committee. */
export const RIG_COMMITTEE_ID = 42n;

export interface CommitteeRig {
  registry: RollupRegistry;
  operators: TestOperatorRegistry;
  vault: FeeVault;
  /** The committee's enclave keys, in member order. */
  members: EnclaveIdentity[];
  /** Their addresses (the signer set). */
  addresses: string[];
}

/**
 * Deploys a RollupRegistry (with its own MessageBus and FeeVault, `rewards` = base and per-batch reward)
 * on `v`'s EnclaveRegistry, whose active committee is `size` fresh enclave keys with `quorum`.
 */
export async function deployCommitteeRig(
  v: Veilnet,
  size: number,
  quorum: number,
  rewards: { base: bigint; perBatch: bigint } = { base: 0n, perBatch: 0n },
  deployer: HardhatEthersSigner = v.admin,
): Promise<CommitteeRig> {
  const a = deployer.address;
  const vault = await new FeeVault__factory(deployer).deploy(a, 0, a, rewards.base, rewards.perBatch, 0);
  const bus = await new MessageBus__factory(deployer).deploy(a, 0, a, vault, 0);
  const operators = await new TestOperatorRegistry__factory(deployer).deploy();
  const registry = await new RollupRegistry__factory(deployer).deploy(
    a,
    0,
    a,
    v.enclaveRegistry,
    operators,
    bus,
    vault,
    CHALLENGE_PERIOD,
    60,
    REVELATION_PERIOD,
  );
  await (await bus.bindRollupRegistry(registry)).wait();
  await (await vault.bindRewarder(registry)).wait();
  const members = Array.from({ length: size }, () => enclaveIdentity());
  const addresses = members.map((m) => m.address);
  const generation = await v.enclaveRegistry.revocationGeneration();
  await (await operators.setCommittee(RIG_COMMITTEE_ID, addresses, quorum, generation)).wait();
  return { registry, operators, vault, members, addresses };
}

/** The next rollup header of the rig's registry (chained to its last one); `overrides` as nextRollupHeader's. */
export async function nextRigHeader(
  v: Veilnet,
  r: CommitteeRig,
  overrides: Parameters<typeof nextRollupHeader>[1] = {},
): Promise<{ header: RollupHeader; payload: string }> {
  const first = await r.registry.nextBatchSeq();
  return nextRollupHeader(v, {
    firstBatchSeq: first,
    lastBatchSeq: first,
    previousBatchHash: await r.registry.lastBatchHash(),
    ...overrides,
  });
}

/** `signer`'s signature of `header` under the rig registry's domain. */
export async function signForRig(
  v: Veilnet,
  r: CommitteeRig,
  header: RollupHeader,
  signer: EnclaveIdentity,
): Promise<string> {
  return signRollupHeader(signer.wallet, rollupRegistryDomain(v.chainId, await r.registry.getAddress()), header);
}

/** Member i signs at bit i for every i in `bits` (or `signer(i)` does, to forge). */
export async function signRigBits(
  v: Veilnet,
  r: CommitteeRig,
  header: RollupHeader,
  bits: readonly number[],
  signer: (i: number) => EnclaveIdentity = (i) => r.members[i]!,
): Promise<CommitteeSignatures> {
  const signed = new Map<number, string>();
  for (const i of bits) signed.set(i, await signForRig(v, r, header, signer(i)));
  return packCommitteeSignatures(r.addresses, signed);
}

/** The owner the rig's committee reports (proofs of possession name it). */
export const RIG_OWNER = "0x000000000000000000000000000000000000bEEF";

/** A threshold key dealt to the rig's committee (threshold 2f+1), with its secret for proofs and forgeries. */
export interface RigKey {
  secretKey: Uint8Array;
  split: SplitKey;
  /** The public key in its EIP-2537 form (256 bytes, hex). */
  publicKey: string;
}

/** Deals a fresh threshold key to the rig's committee (a dealer split, as `veilnet keys split` does) and sets its owner. */
export async function dealRigKey(r: CommitteeRig): Promise<RigKey> {
  await (await r.operators.setOwner(RIG_OWNER)).wait();
  const secretKey = generateSecretKey();
  const split = splitSecret(secretKey, r.members.length, thresholdFor(r.members.length));
  return { secretKey, split, publicKey: hexOf(split.publicKey.eip2537) };
}

/** Every member's approval of `publicKey` at `nonce`, in member order, concatenated. */
export async function rigKeyApprovals(v: Veilnet, r: CommitteeRig, publicKey: string, nonce: bigint): Promise<string> {
  const domain = rollupRegistryDomain(v.chainId, await r.registry.getAddress());
  const approval = { committeeId: RIG_COMMITTEE_ID, publicKeyHash: keccak256(publicKey), nonce };
  const signatures: string[] = [];
  for (const m of r.members) signatures.push((await signCommitteeKey(m.wallet, domain, approval)).slice(2));
  return `0x${signatures.join("")}`;
}

/** The arguments of `registerCommitteeKey` for `key` at the registry's current nonce. */
export async function rigKeyRegistration(
  v: Veilnet,
  r: CommitteeRig,
  key: RigKey,
): Promise<[bigint, string, string, string[], string]> {
  const nonce = await r.registry.committeeKeyNonce(RIG_COMMITTEE_ID);
  const pop = hexOf(proofOfPossession(key.secretKey, RIG_OWNER, nonce).eip2537);
  return [RIG_COMMITTEE_ID, key.publicKey, pop, r.addresses, await rigKeyApprovals(v, r, key.publicKey, nonce)];
}

/** The EIP-712 digest the rig's registry checks signatures of `header` against. */
export async function rigDigest(v: Veilnet, r: CommitteeRig, header: RollupHeader): Promise<Uint8Array> {
  const domain = rollupRegistryDomain(v.chainId, await r.registry.getAddress());
  return getBytes(TypedDataEncoder.hash(domain, ROLLUP_HEADER_TYPES, header));
}

/** The threshold signature of `header` recovered from the shares of the members at `bits` (0-based). */
export async function thresholdSignRigBits(
  v: Veilnet,
  r: CommitteeRig,
  key: RigKey,
  header: RollupHeader,
  bits: readonly number[],
): Promise<CommitteeSignatures> {
  const digest = await rigDigest(v, r, header);
  const partials = bits.map((i) => {
    const share = key.split.shares[i];
    if (share === undefined) throw new Error(`no share for member ${i}`);
    return { index: share.index, signature: sign(share.secretKey, digest) };
  });
  const bitmap = bits.reduce((b, i) => b | (1n << BigInt(i)), 0n);
  return packThresholdSignature(r.addresses, bitmap, hexOf(recoverSignature(partials).eip2537), key.publicKey);
}

/**
 * A fresh enclave made an attested sequencer of the deployed suite, the way an operator's enclave joins:
 * `payer` requests the network secret for it, `responder` (an enclave holding the secret, e.g. the genesis
 * one) answers with `secret`, and governance grants it the sequencer role (`grantSequencer` through the
 * timelock). Its operator in the EnclaveRegistry is `payer`.
 */
export async function attestedSequencer(
  v: Veilnet,
  responder: EnclaveIdentity,
  secret: string,
  payer: HardhatEthersSigner = v.stranger,
): Promise<EnclaveIdentity & { report: string }> {
  const enclave = await makeEnclave(v);
  await (await v.enclaveRegistry.connect(payer).requestNetworkSecret(enclave.report)).wait();
  const requestId = await v.enclaveRegistry.requestCount();
  const { encryptedSecret, signature } = await secretResponse(v, responder, requestId, enclave.publicKey, secret);
  await (
    await v.enclaveRegistry
      .connect(payer)
      .respondNetworkSecret(
        requestId,
        await requestFields(v, requestId),
        await requestReport(v, requestId),
        encryptedSecret,
        signature,
      )
  ).wait();
  await (await govern(v, v.enclaveRegistry, "grantSequencer", [enclave.address])).wait();
  return enclave;
}
