/**
 * Signing rollups as a committee (DESIGN §9.1, §9.3): RollupRegistry accepts a rollup only with the
 * EIP-712 signatures of a quorum (2f+1) of the active committee's enclaves.
 *
 * - The member posting a rollup (the rollup-producer whose turn it is) builds it, signs it, and sends
 *   the header and payload to the committee as a `proposal` (again every second until it has a quorum).
 * - Every member checks a proposal against its own view before it signs: the batches are the ones it
 *   sealed (the payload decrypted and compared, rollup/check.ts), the binding block is a block of its
 *   L1 with that hash, and the previous batch hash is RollupRegistry's. Then it sends its `signature`.
 * - The poster verifies each signature against the member's enclave address and, with a quorum, packs
 *   them for addRollup (members in committee order, a bitmap, the signatures in ascending order).
 *
 * A member that has not sealed the rollup's batches yet waits for them a little, then ignores the
 * proposal (the poster sends it again).
 *
 * A committee with a threshold key registered on L1 (DESIGN §9.4, `threshold`): members answer with a
 * `partial` signature of their key share instead; the poster checks each against the member's share
 * public key, recovers the committee's signature from a quorum of them (Lagrange at 0) and packs it with
 * the key for addRollup (384 bytes, whatever the committee's size).
 */
import { type Provider, type TypedDataDomain, TypedDataEncoder, getBytes, verifyTypedData } from "ethers";

import {
  type CommitteeSignatures,
  ROLLUP_HEADER_TYPES,
  type RollupHeader,
  packCommitteeSignatures,
  packThresholdSignature,
  rollupHash,
} from "../../protocol/rollup.js";
import { type PublicKeyInput, hexOf, recoverSignature, verify as blsVerify } from "../../platform/bls/index.js";
import type { Logger } from "../../platform/logger.js";
import type { OperatorId } from "../consensus/qbft/index.js";
import type { BuiltRollup, RollupSigningEnclave } from "../rollup/builder.js";
import { rollupProblem } from "../rollup/check.js";
import { RollupSupersededError, type SealedBatchSource } from "../rollup-producer/producer.js";
import type { CommitteeGossip } from "./gossip.js";
import type { RollupGossip } from "./rollup-wire.js";

export class CosignTimeoutError extends Error {
  constructor(rollup: string, got: number, quorum: number, ms: number) {
    super(`rollup ${rollup}: ${got} of the ${quorum} signatures needed after ${ms} ms (members down or refusing?)`);
    this.name = "CosignTimeoutError";
  }
}

export interface RollupCosignerOptions {
  gossip: CommitteeGossip;
  self: OperatorId;
  /** The committee: operator id → enclave address (member order: ascending ids). */
  members: ReadonlyMap<OperatorId, string>;
  enclave: RollupSigningEnclave;
  /** This member's sealed batches. */
  batches: SealedBatchSource;
  /** This member's L1. */
  l1: Provider;
  /** RollupRegistry.lastBatchHash() on this member's L1. */
  lastBatchHash: () => Promise<string>;
  /** RollupRegistry's EIP-712 domain. */
  domain: () => Promise<TypedDataDomain>;
  logger: Logger;
  /** How long the poster waits for a quorum (default 20 s). */
  collectTimeoutMs?: number;
  /** How often the poster sends its proposal again (default 1 s). */
  resendMs?: number;
  /** The committee's threshold key, when it signs with one (registered on L1). */
  threshold?: CommitteeThresholdKey;
}

/** A committee's threshold key as one member uses it. */
export interface CommitteeThresholdKey {
  /** The committee's public key, EIP-2537 form (256 bytes, hex), as registered on L1. */
  publicKey: string;
  /** Each member's share index (1..n) and share public key. */
  shares: ReadonlyMap<OperatorId, { index: number; publicKey: PublicKeyInput }>;
  /**
   * This member's partial signature (48 bytes, hex) of a header: its enclave's share after the durable
   * slashing-protection record, or a remote signer (`veilnet signer`). Rejects when it refuses or is down.
   */
  sign(domain: TypedDataDomain, header: RollupHeader): Promise<string>;
  /** Whether L1 has the key registered for the committee (until then the committee signs with ECDSA). */
  registered(): Promise<boolean>;
}

interface Collecting {
  header: RollupHeader;
  /** The header's EIP-712 digest under RollupRegistry's domain (what partials sign). */
  digest: Uint8Array;
  signatures: Map<number, string>;
  done: () => void;
}

export class RollupCosigner {
  private readonly order: OperatorId[];
  private readonly quorum: number;
  private readonly collecting = new Map<string, Collecting>();
  /** Signatures this member made, by rollup hash (sent again when a proposal comes again). */
  private readonly signed = new Map<string, string>();

  constructor(private readonly options: RollupCosignerOptions) {
    this.order = [...options.members.keys()].sort((a, b) => a - b);
    const n = this.order.length;
    this.quorum = n - Math.floor((n - 1) / 3);
    if (!this.order.includes(options.self)) throw new Error(`operator ${options.self} is not in the committee`);
  }

  /** Listens to the committee's rollup gossip. */
  start(): void {
    this.options.gossip.onRollupMessage((message, from) => {
      if (message.kind === "proposal") void this.onProposal(message, from);
      else if (message.kind === "partial") this.onPartial(message.rollupHash, message.signature, from);
      else this.onSignature(message.rollupHash, message.signature, from);
    });
  }

  /** The members' enclave addresses in member order (OperatorRegistry's signer set). */
  get signerSet(): string[] {
    return this.order.map((id) => this.options.members.get(id) ?? "");
  }

  /** Gathers a quorum of signatures of `built` (its own included); rejects with CosignTimeoutError. */
  async collect(built: BuiltRollup, landed: () => Promise<boolean> = async () => false): Promise<CommitteeSignatures> {
    const hash = built.hash.toLowerCase();
    const threshold = await this.scheme();
    const domain = await this.options.domain();
    const digest = getBytes(TypedDataEncoder.hash(domain, ROLLUP_HEADER_TYPES, built.header));
    const own = threshold === undefined ? built.signature : await threshold.sign(domain, built.header);
    const signatures = new Map<number, string>([[this.order.indexOf(this.options.self), own]]);
    const timeoutMs = this.options.collectTimeoutMs ?? 20_000;
    if (signatures.size >= this.quorum) return this.pack(signatures, digest, threshold);
    const proposal: RollupGossip = { kind: "proposal", header: built.header, payload: built.payload };
    const send = () => this.options.gossip.sendRollupMessage(proposal, built.header.firstBatchSeq);
    let timer: NodeJS.Timeout | undefined;
    let resend: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.collecting.set(hash, { header: built.header, digest, signatures, done: resolve });
        send();
        resend = setInterval(() => {
          send();
          landed().then(
            (yes) => yes && reject(new RollupSupersededError(built.header.firstBatchSeq)),
            () => undefined,
          );
        }, this.options.resendMs ?? 1000);
        timer = setTimeout(
          () => reject(new CosignTimeoutError(hash, signatures.size, this.quorum, timeoutMs)),
          timeoutMs,
        );
      });
    } finally {
      clearTimeout(timer);
      clearInterval(resend);
      this.collecting.delete(hash);
    }
    this.options.logger.info(
      {
        rollup: hash,
        signers: [...signatures.keys()].map((i) => this.order[i]),
        scheme: threshold === undefined ? "ecdsa" : "threshold",
      },
      "rollup signed by a quorum of the committee",
    );
    return this.pack(signatures, digest, threshold);
  }

  /** The threshold key when the committee signs with it now (registered on L1), else undefined (ECDSA). */
  private async scheme(): Promise<CommitteeThresholdKey | undefined> {
    const threshold = this.options.threshold;
    if (threshold === undefined) return undefined;
    try {
      return (await threshold.registered()) ? threshold : undefined;
    } catch {
      return undefined; // L1 unreachable: ECDSA still lands (RollupRegistry takes both)
    }
  }

  /** The quorum's signatures for addRollup: ECDSA ones as they are, or the threshold signature recovered from the partials. */
  private pack(
    signatures: ReadonlyMap<number, string>,
    digest: Uint8Array,
    threshold: CommitteeThresholdKey | undefined,
  ): CommitteeSignatures {
    if (threshold === undefined) return packCommitteeSignatures(this.signerSet, signatures);
    const partials = [...signatures].map(([i, signature]) => {
      const share = threshold.shares.get(this.order[i] ?? -1);
      if (share === undefined) throw new Error(`member ${this.order[i]} has no share of the committee key`);
      return { index: share.index, signature };
    });
    const recovered = recoverSignature(partials);
    if (!blsVerify(threshold.publicKey, digest, recovered)) {
      throw new Error("the signature recovered from the members' partials does not verify under the committee key");
    }
    const bitmap = [...signatures.keys()].reduce((b, i) => b | (1n << BigInt(i)), 0n);
    return packThresholdSignature(this.signerSet, bitmap, hexOf(recovered.eip2537), threshold.publicKey);
  }

  /** A member's partial signature: kept when it verifies under the member's share public key. */
  private onPartial(hash: string, signature: string, from: OperatorId): void {
    const c = this.collecting.get(hash.toLowerCase());
    const index = this.order.indexOf(from);
    const share = this.options.threshold?.shares.get(from);
    if (c === undefined || index < 0 || share === undefined || c.signatures.has(index)) return;
    let valid: boolean;
    try {
      valid = blsVerify(share.publicKey, c.digest, signature);
    } catch {
      valid = false; // not a point: as invalid as a wrong signature
    }
    if (!valid) {
      this.options.logger.warn({ rollup: hash, from }, "a member's partial signature does not verify: ignored");
      return;
    }
    c.signatures.set(index, signature);
    if (c.signatures.size >= this.quorum) c.done();
  }

  private onSignature(hash: string, signature: string, from: OperatorId): void {
    const c = this.collecting.get(hash.toLowerCase());
    const index = this.order.indexOf(from);
    if (c === undefined || index < 0 || c.signatures.has(index)) return;
    void this.options.domain().then((domain) => {
      let signer: string;
      try {
        signer = verifyTypedData(domain, ROLLUP_HEADER_TYPES, c.header, signature);
      } catch {
        signer = "";
      }
      if (signer.toLowerCase() !== (this.options.members.get(from) ?? "").toLowerCase()) {
        this.options.logger.warn({ rollup: hash, from }, "a member's rollup signature does not verify: ignored");
        return;
      }
      c.signatures.set(index, signature);
      if (c.signatures.size >= this.quorum) c.done();
    });
  }

  private async onProposal(message: Extract<RollupGossip, { kind: "proposal" }>, from: OperatorId): Promise<void> {
    const { header, payload } = message;
    const hash = rollupHash(header).toLowerCase();
    const log = this.options.logger;
    const threshold = await this.scheme();
    const kind = threshold === undefined ? "signature" : "partial";
    const held = this.signed.get(`${kind}/${hash}`);
    if (held !== undefined) {
      this.options.gossip.sendRollupMessage({ kind, rollupHash: hash, signature: held }, header.firstBatchSeq);
      return;
    }
    try {
      const problem = await this.problem(header, payload);
      if (problem !== undefined) {
        if (problem !== NOT_YET) log.warn({ rollup: hash, from, problem }, "refusing to sign a member's rollup");
        return;
      }
      const domain = await this.options.domain();
      const signature =
        threshold === undefined
          ? await this.options.enclave.signRollupHeader(domain, header)
          : await threshold.sign(domain, header);
      this.signed.set(`${kind}/${hash}`, signature);
      if (this.signed.size > 1024) this.signed.delete(this.signed.keys().next().value as string);
      this.options.gossip.sendRollupMessage({ kind, rollupHash: hash, signature }, header.firstBatchSeq);
      log.debug({ rollup: hash, from }, "signed a member's rollup");
    } catch (error) {
      log.warn({ err: error, rollup: hash }, "checking a member's rollup failed; it will come again");
    }
  }

  /** Why this member does not sign `header` (NOT_YET: its batches are not all sealed here yet). */
  private async problem(header: RollupHeader, payload: string): Promise<string | undefined> {
    const count = Number(header.lastBatchSeq - header.firstBatchSeq + 1n);
    if (count < 1 || count > 1024) return `a range of ${count} batches`;
    let batches = await this.options.batches.sealedBatches(header.firstBatchSeq, count);
    for (let i = 0; i < 10 && batches.length < count; i++) {
      await new Promise((r) => setTimeout(r, 200));
      batches = await this.options.batches.sealedBatches(header.firstBatchSeq, count);
    }
    if (batches.length < count) return NOT_YET;
    const problem = rollupProblem(this.options.enclave, header, payload, batches);
    if (problem !== undefined) return problem;
    const block = await this.options.l1.getBlock(Number(header.l1BlockNumber));
    if (block === null) return NOT_YET;
    if (block.hash?.toLowerCase() !== header.l1BlockHash.toLowerCase()) {
      return `binding block ${header.l1BlockNumber} is ${block.hash} on this member's L1, not ${header.l1BlockHash}`;
    }
    const previous = await this.options.lastBatchHash();
    if (previous.toLowerCase() !== header.previousBatchHash.toLowerCase()) {
      return `previous batch hash ${header.previousBatchHash}, RollupRegistry holds ${previous}`;
    }
    return undefined;
  }
}

const NOT_YET = "not-yet";
