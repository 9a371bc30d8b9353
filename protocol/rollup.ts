/** Rollup headers as the RollupRegistry hashes and checks them (EIP-712 struct `RollupHeader`). */
import {
  AbiCoder,
  ParamType,
  type Signer,
  type TypedDataDomain,
  TypedDataEncoder,
  concat,
  dataSlice,
  getAddress,
  id,
  isHexString,
  solidityPackedKeccak256,
} from "ethers";

export interface RollupHeader {
  firstBatchSeq: bigint;
  lastBatchSeq: bigint;
  lastBatchHash: string;
  /** `lastBatchHash` of the previous accepted rollup (ZeroHash for the first): RollupRegistry.lastBatchHash(). */
  previousBatchHash: string;
  l1BlockNumber: bigint;
  l1BlockHash: string;
  messageRoot: string;
  payloadHash: string;
  revelationEpoch: bigint;
  keyCommitment: string;
}

/**
 * L1 blocks per revelation epoch (RollupRegistry.EPOCH_LENGTH, a protocol constant): the payload of a
 * rollup bound to L1 block `n` is encrypted under the key of epoch `n / EPOCH_LENGTH`, and the registry
 * refuses any other epoch.
 */
export const EPOCH_LENGTH = 7200n;

/**
 * Most batches one rollup may span (RollupRegistry.MAX_BATCHES_PER_ROLLUP). A calldata rollup may also
 * span at most one batch per payload byte (`maxBatchesFor`); the registry refuses more (TooManyBatches).
 */
export const MAX_BATCHES_PER_ROLLUP = 1024;

/** The most batches RollupRegistry accepts in a rollup whose calldata payload is `payloadBytes` long (0: a blob). */
export function maxBatchesFor(payloadBytes: number): number {
  return payloadBytes === 0 ? MAX_BATCHES_PER_ROLLUP : Math.min(MAX_BATCHES_PER_ROLLUP, payloadBytes);
}

/** The revelation epoch of a rollup bound to L1 block `l1BlockNumber`. */
export function epochOf(l1BlockNumber: bigint): bigint {
  return l1BlockNumber / EPOCH_LENGTH;
}

/** RollupRegistry.revealableAt: the first L1 block at which epoch `epoch`'s key may be published. */
export function revealableAt(epoch: bigint, revelationPeriod: bigint): bigint {
  return (epoch + 1n) * EPOCH_LENGTH + revelationPeriod;
}

export const ROLLUP_HEADER_TYPES = {
  RollupHeader: [
    { name: "firstBatchSeq", type: "uint64" },
    { name: "lastBatchSeq", type: "uint64" },
    { name: "lastBatchHash", type: "bytes32" },
    { name: "previousBatchHash", type: "bytes32" },
    { name: "l1BlockNumber", type: "uint64" },
    { name: "l1BlockHash", type: "bytes32" },
    { name: "messageRoot", type: "bytes32" },
    { name: "payloadHash", type: "bytes32" },
    { name: "revelationEpoch", type: "uint64" },
    { name: "keyCommitment", type: "bytes32" },
  ],
};

export function rollupRegistryDomain(chainId: bigint, registry: string): TypedDataDomain {
  return { name: "VeilnetRollupRegistry", version: "1", chainId, verifyingContract: registry };
}

/** The rollup's identifier: the EIP-712 struct hash of its header. */
export function rollupHash(header: RollupHeader): string {
  return TypedDataEncoder.hashStruct("RollupHeader", ROLLUP_HEADER_TYPES, header);
}

/** A committee member's (its sequencer enclave's) signature of `header`. */
export async function signRollupHeader(
  sequencer: Signer,
  domain: TypedDataDomain,
  header: RollupHeader,
): Promise<string> {
  return sequencer.signTypedData(domain, ROLLUP_HEADER_TYPES, header);
}

/**
 * The committee's signatures of a rollup as RollupRegistry.addRollup takes them: the members' enclave
 * addresses in member order (the OperatorRegistry's signer set), a bitmap of who signed (bit i: member i)
 * and their 65-byte signatures concatenated in ascending bit order.
 */
export interface CommitteeSignatures {
  members: string[];
  signerBitmap: bigint;
  signatures: string;
}

/**
 * Packs the signatures of `signed` (member index → 65-byte signature) for `members` (in member order):
 * the bitmap of their indices and the signatures in ascending index order.
 */
export function packCommitteeSignatures(
  members: readonly string[],
  signed: ReadonlyMap<number, string>,
): CommitteeSignatures {
  let signerBitmap = 0n;
  const ordered: string[] = [];
  for (const index of [...signed.keys()].sort((a, b) => a - b)) {
    if (!Number.isInteger(index) || index < 0 || index >= members.length) {
      throw new Error(`member index ${index} is outside the committee of ${members.length}`);
    }
    const signature = signed.get(index)!;
    if (!isHexString(signature, 65)) throw new Error(`the signature of member ${index} is not 65 bytes`);
    signerBitmap |= 1n << BigInt(index);
    ordered.push(signature);
  }
  return { members: [...members], signerBitmap, signatures: ordered.length === 0 ? "0x" : concat(ordered) };
}

/** keccak256(abi.encodePacked(address[] members)): OperatorRegistry's `signersHash` of a signer set. */
export function committeeSignersHash(members: readonly string[]): string {
  return solidityPackedKeccak256(["address[]"], [members]);
}

/**
 * The calldata format of RollupRegistry.addRollup(RollupHeader header, bytes payload, address[] members,
 * uint256 signerBitmap, bytes signatures), from which nodes read rollups: its selector and its arguments'
 * ABI types, the header a tuple of the fields of ROLLUP_HEADER_TYPES in order (the Solidity struct). A
 * format, not the contract's ABI: protocol/ imports no TypeChain output (test/protocol/abi-formats.ts
 * checks it against the compiled RollupRegistry).
 */
const HEADER_TUPLE = `tuple(${ROLLUP_HEADER_TYPES.RollupHeader.map((f) => `${f.type} ${f.name}`).join(", ")})`;
export const ADD_ROLLUP_ARGUMENTS: readonly string[] = [
  `${HEADER_TUPLE} header`,
  "bytes payload",
  "address[] members",
  "uint256 signerBitmap",
  "bytes signatures",
];
export const ADD_ROLLUP_SELECTOR = dataSlice(
  id(`addRollup(${ADD_ROLLUP_ARGUMENTS.map((a) => ParamType.from(a).format("sighash")).join(",")})`),
  0,
  4,
);

/** The header, payload and committee signatures of a RollupRegistry.addRollup call. */
export interface AddRollupCall {
  header: RollupHeader;
  /** The calldata payload ("0x" when the rollup was posted as a blob). */
  payload: string;
  /** Who signed it (as sent: RollupRegistry checked them if the call succeeded). */
  committee: CommitteeSignatures;
}

/** The arguments of RollupRegistry.addRollup for `header`, `payload` and `committee`, in order. */
export function addRollupArguments(
  header: RollupHeader,
  payload: string,
  committee: CommitteeSignatures,
): [RollupHeader, string, string[], bigint, string] {
  return [header, payload, committee.members, committee.signerBitmap, committee.signatures];
}

/** RollupRegistry.THRESHOLD_SIGNATURE_LENGTH: a G1 signature (128 bytes) then the G2 public key (256). */
export const THRESHOLD_SIGNATURE_LENGTH = 384;

/**
 * The `signatures` of a threshold-signed rollup: the committee's recovered BLS signature (G1, 128-byte
 * EIP-2537 form) followed by its public key (G2, 256 bytes), with `members` and the bitmap of the members
 * whose shares made it.
 */
export function packThresholdSignature(
  members: readonly string[],
  signerBitmap: bigint,
  signature: string,
  publicKey: string,
): CommitteeSignatures {
  if (!isHexString(signature, 128)) throw new Error("a threshold signature is 128 bytes (G1, EIP-2537)");
  if (!isHexString(publicKey, 256)) throw new Error("a committee public key is 256 bytes (G2, EIP-2537)");
  if (signerBitmap >> BigInt(members.length) !== 0n) throw new Error("the signer bitmap names a non-member");
  return { members: [...members], signerBitmap, signatures: concat([signature, publicKey]) };
}

/** EIP-712 type of a member enclave's approval of its committee's threshold key (RollupRegistry.COMMITTEE_KEY_TYPEHASH). */
export const COMMITTEE_KEY_TYPES = {
  CommitteeKey: [
    { name: "committeeId", type: "uint64" },
    { name: "publicKeyHash", type: "bytes32" },
    { name: "nonce", type: "uint64" },
  ],
} as const;

/** What a member enclave approves: the committee's key (by its hash) at the registry's current key nonce. */
export interface CommitteeKeyApproval {
  committeeId: bigint;
  publicKeyHash: string;
  nonce: bigint;
}

/** `signer`'s approval of `approval` under the registry's EIP-712 domain (65 bytes, hex). */
export async function signCommitteeKey(
  signer: Signer,
  domain: TypedDataDomain,
  approval: CommitteeKeyApproval,
): Promise<string> {
  return signer.signTypedData(domain, { CommitteeKey: [...COMMITTEE_KEY_TYPES.CommitteeKey] }, { ...approval });
}

/** Encodes a RollupRegistry.addRollup call (selector and arguments). */
export function encodeAddRollup(header: RollupHeader, payload: string, committee: CommitteeSignatures): string {
  return concat([
    ADD_ROLLUP_SELECTOR,
    AbiCoder.defaultAbiCoder().encode(ADD_ROLLUP_ARGUMENTS, addRollupArguments(header, payload, committee)),
  ]);
}

/**
 * Decodes the calldata of a RollupRegistry.addRollup call: null when `data` calls another function,
 * throws (ethers' error) when it has addRollup's selector but cannot be decoded.
 */
export function decodeAddRollup(data: string): AddRollupCall | null {
  if (!isHexString(data) || data.length < 10 || data.slice(0, 10).toLowerCase() !== ADD_ROLLUP_SELECTOR) return null;
  const args = AbiCoder.defaultAbiCoder().decode(ADD_ROLLUP_ARGUMENTS, dataSlice(data, 4));
  const h = args.header as RollupHeader;
  return {
    header: {
      firstBatchSeq: h.firstBatchSeq,
      lastBatchSeq: h.lastBatchSeq,
      lastBatchHash: h.lastBatchHash,
      previousBatchHash: h.previousBatchHash,
      l1BlockNumber: h.l1BlockNumber,
      l1BlockHash: h.l1BlockHash,
      messageRoot: h.messageRoot,
      payloadHash: h.payloadHash,
      revelationEpoch: h.revelationEpoch,
      keyCommitment: h.keyCommitment,
    },
    payload: args.payload as string,
    committee: {
      members: [...(args.members as string[])],
      signerBitmap: args.signerBitmap as bigint,
      signatures: args.signatures as string,
    },
  };
}

/**
 * Who signed a rollup: the member at each set bit of its bitmap, in ascending bit order (the order of its
 * signatures). RollupRegistry checked each signature against that member when it accepted the rollup.
 * Throws when the bitmap has bits beyond the committee.
 */
export function committeeSigners(call: AddRollupCall): string[] {
  const { members, signerBitmap } = call.committee;
  if (signerBitmap >> BigInt(members.length) !== 0n) throw new Error("the signer bitmap has bits beyond the committee");
  return members.filter((_, index) => ((signerBitmap >> BigInt(index)) & 1n) === 1n).map((m) => getAddress(m));
}
