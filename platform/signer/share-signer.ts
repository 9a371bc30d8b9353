/**
 * The share signer (DESIGN §9.4, docs/distributed-key.md): holds one or more BLS shares of committee
 * keys and signs a rollup header's EIP-712 digest with each under ROLLUP_DST — only after slashing
 * protection (slashing-protection.ts) has recorded the header durably. The node uses it in-process
 * (local mode) and `veilnet signer` serves it over HTTP (remote mode); the client of that API
 * (remote.ts) has the same ShareSigner interface, so a node does not care where the share lives.
 *
 * It never signs a bare root: the digest is computed here from the header and the domain, and the
 * domain must be the RollupRegistry the slashing-protection record is for.
 */
import { getAddress } from "ethers";

import type { RollupHeader } from "../../protocol/rollup.js";
import { hexOf, sign } from "../bls/index.js";
import { type SigningDomain, signingRootOf } from "./api.js";
import { SignerInputError, SignerRefusedError, UnknownKeyError } from "./errors.js";
import type { Share } from "./keystore.js";
import type { SlashingProtection } from "./slashing-protection.js";

/** A signed header: the share's signature (48 bytes compressed G1, 0x-hex) and what it signed. */
export interface ShareSignature {
  signature: string;
  /** The header's EIP-712 digest. */
  signingRoot: string;
}

/** What a node signs with, wherever the share lives. */
export interface ShareSigner {
  /** The public keys (0x-hex, 96 bytes compressed G2) of the shares it holds. */
  publicKeys(): Promise<string[]>;
  /**
   * The share `publicKey`'s signature of `header` under `domain`. Rejects with SignerRefusedError
   * (slashing protection), UnknownKeyError, SignerInputError and, for a remote signer,
   * SignerDownError, SignerUnauthorizedError or SignerProtocolError.
   */
  signRollupHeader(publicKey: string, header: RollupHeader, domain: SigningDomain): Promise<ShareSignature>;
}

export interface LocalShareSignerOptions {
  shares: readonly Share[];
  protection: SlashingProtection;
  /** Called after the record is durable and before the signature is made (the crash test's hook). */
  afterRecord?: () => void;
}

/** The shares of this process, signing after slashing protection. */
export class LocalShareSigner implements ShareSigner {
  readonly #shares = new Map<string, Share>();
  readonly #protection: SlashingProtection;
  readonly #afterRecord: () => void;

  constructor(options: LocalShareSignerOptions) {
    for (const share of options.shares) this.#shares.set(share.publicKey.toLowerCase(), share);
    this.#protection = options.protection;
    this.#afterRecord = options.afterRecord ?? (() => {});
  }

  /** The RollupRegistry domain this signer signs for. */
  get domain(): SigningDomain {
    return { chainId: this.#protection.registry.chainId, verifyingContract: this.#protection.registry.address };
  }

  publicKeys(): Promise<string[]> {
    return Promise.resolve([...this.#shares.keys()]);
  }

  /** Whether this signer holds the share `publicKey`. */
  has(publicKey: string): boolean {
    return this.#shares.has(publicKey.toLowerCase());
  }

  signRollupHeader(publicKey: string, header: RollupHeader, domain: SigningDomain): Promise<ShareSignature> {
    try {
      const { signature, signingRoot } = this.signNow(publicKey, header, domain);
      return Promise.resolve({ signature, signingRoot });
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /**
   * signRollupHeader, synchronously: the check, the record and the signature happen in one turn;
   * `repeat` says the same header was signed before. With `expectedRoot`, refuses (SignerInputError)
   * unless it is the header's digest.
   */
  signNow(
    publicKey: string,
    header: RollupHeader,
    domain: SigningDomain,
    expectedRoot?: string,
  ): ShareSignature & { repeat: boolean } {
    const share = this.#shares.get(publicKey.toLowerCase());
    if (share === undefined) throw new UnknownKeyError(publicKey);
    const signingRoot = this.#signingRoot(header, domain, expectedRoot);
    const decision = this.#protection.checkAndRecord(share.publicKey, header, signingRoot);
    if (!decision.ok) throw new SignerRefusedError(decision.reason, `slashing protection: ${decision.detail}`);
    this.#afterRecord();
    const signature = hexOf(sign(share.secretKey, signingRoot).bytes);
    return { signature, signingRoot, repeat: decision.repeat };
  }

  #signingRoot(header: RollupHeader, domain: SigningDomain, expectedRoot: string | undefined): string {
    const mine = this.domain;
    let verifyingContract: string;
    try {
      verifyingContract = getAddress(domain.verifyingContract);
    } catch {
      throw new SignerInputError(`domain.verifyingContract ${domain.verifyingContract} is not an address`);
    }
    if (domain.chainId !== mine.chainId || verifyingContract !== mine.verifyingContract) {
      throw new SignerInputError(
        `domain is RollupRegistry ${verifyingContract} on chain ${domain.chainId}; this signer signs for ` +
          `${mine.verifyingContract} on chain ${mine.chainId}`,
      );
    }
    if (header.lastBatchSeq < header.firstBatchSeq) {
      throw new SignerInputError(`lastBatchSeq ${header.lastBatchSeq} is below firstBatchSeq ${header.firstBatchSeq}`);
    }
    let root: string;
    try {
      root = signingRootOf(header, mine);
    } catch (e) {
      throw new SignerInputError(`not a rollup header: ${(e as Error).message.split(" (")[0]}`);
    }
    if (expectedRoot !== undefined && expectedRoot.toLowerCase() !== root) {
      throw new SignerInputError(`signingRoot ${expectedRoot} is not the header's EIP-712 digest ${root}`);
    }
    return root;
  }
}
