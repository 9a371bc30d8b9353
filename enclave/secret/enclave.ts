/**
 * The enclave as workers see it: a narrow interface over its identity, its attestation report and the
 * network secret. Nothing here hands out the private key or the secret in the clear: peers get the
 * secret only ECIES-encrypted to an attested key, and L1 gets signatures.
 *
 * Persistence (`save` / `load`) writes the key and the secret to a JSON file readable by its owner only
 * (mode 0600). That is a DEV STAND-IN for sealing: a real enclave seals its state with a key bound to
 * its measurement (SGX sealing / TDX), so that only the same code on the same CPU can unseal it. A file
 * with mode 0600 protects against other users of the machine, not against its administrator.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

import { type TypedDataDomain, TypedDataEncoder, getAddress, getBytes, hexlify, isHexString, keccak256 } from "ethers";
import { z } from "zod";

import { decodeAttestationReport } from "../../protocol/attestation.js";
import { ChannelKey, type RpcKeyAnnouncement } from "../../protocol/private-rpc.js";
import { ROLLUP_HEADER_TYPES, type RollupHeader } from "../../protocol/rollup.js";
import { hexOf, sign as blsSign } from "../../platform/bls/index.js";
import { type KeyDealing, dealtShareKeys, openShare } from "../committee/key-dealing.js";
import { decodeRevertError, isRevert } from "../../platform/revert.js";
import { SignedReportVerifier__factory } from "../../types/ethers-contracts/index.js";
import { DerivationLabels } from "../crypto/derive.js";
import { encryptSecret } from "../crypto/ecies.js";
import { EnclaveKey, enclaveAddressOf } from "../crypto/keys.js";
import type { AttestationProvider } from "./attestation-service.js";
import { NetworkSecret } from "./network-secret.js";

/** The on-chain attestation verifier as the enclave uses it: its `verify` view (IAttestationVerifier). */
export interface ReportVerifier {
  verify(report: string): Promise<{ enclaveId: string; enclavePubKey: string; measurement: string }>;
}

/** Why a peer's report was refused (low-cardinality: used as a metric label). */
export type RefusalCode =
  /** The report does not decode as an AttestationReport. */
  | "malformed-report"
  /** The on-chain verifier reverted (unknown service, measurement not allowed, expired, …). */
  | "verifier-rejected"
  /** The peer runs other code than this enclave. */
  | "measurement-mismatch"
  /** The report is past its expiry by this enclave's clock. */
  | "expired"
  /** The report attests another key than the one the secret would be encrypted to. */
  | "pubkey-mismatch";

export type PeerVerification =
  | { ok: true; enclaveId: string; pubKey: string; measurement: string; expiresAt: bigint }
  | { ok: false; code: RefusalCode; reason: string };

export interface EnclaveOptions {
  /** Code measurement of this enclave (bytes32); peers must run the same. */
  measurement: string;
  /** Produces this enclave's attestation reports (DevAttestationService locally). */
  attestation?: AttestationProvider;
  /** Current unix time in seconds, for the report-expiry policy (default: the wall clock). */
  clock?: () => bigint;
}

/** The requester side got a secret that is not the one L1 commits to. */
export class SecretCommitmentMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `the decrypted secret does not match the on-chain commitment: keccak256(secret) = ${actual}, expected ${expected}`,
    );
    this.name = "SecretCommitmentMismatchError";
  }
}

/** The enclave was asked for something that needs the network secret, which it does not hold. */
export class NoNetworkSecretError extends Error {
  constructor(enclaveId: string) {
    super(`enclave ${enclaveId} does not hold the network secret`);
    this.name = "NoNetworkSecretError";
  }
}

/** The state file is missing, unreadable, malformed or too widely readable. */
export class EnclaveStateError extends Error {
  constructor(file: string, problem: string) {
    super(`enclave state ${file}: ${problem}`);
    this.name = "EnclaveStateError";
  }
}

const STATE_VERSION = 1;

const bytes32 = z.string().refine((v): boolean => isHexString(v, 32), { message: "expected 32 bytes of 0x-hex" });

const stateSchema = z.object({
  version: z.literal(STATE_VERSION),
  enclaveId: z.string(),
  privateKey: bytes32,
  measurement: bytes32,
  secret: bytes32.nullable(),
});

type EnclaveState = z.infer<typeof stateSchema>;

const reportVerifierErrors = [SignedReportVerifier__factory.createInterface()];

function wallClock(): bigint {
  return BigInt(Math.floor(Date.now() / 1000));
}

export class Enclave {
  readonly #key: EnclaveKey;
  #secret: NetworkSecret | undefined;
  readonly measurement: string;
  readonly #attestation: AttestationProvider | undefined;
  readonly #clock: () => bigint;
  /** The committee key share this enclave holds (loadCommitteeShare), never exported. */
  #share: { committeeId: bigint; publicKey: string; index: number; secretKey: Uint8Array } | undefined;
  /** Rollup signing roots this enclave signed with its share, by first batch: it never signs two at one. */
  readonly #signedShares = new Map<bigint, string>();

  private constructor(key: EnclaveKey, secret: NetworkSecret | undefined, options: EnclaveOptions) {
    if (!isHexString(options.measurement, 32)) throw new Error("Enclave: measurement must be 32 bytes of 0x-hex");
    this.#key = key;
    this.#secret = secret;
    this.measurement = options.measurement.toLowerCase();
    this.#attestation = options.attestation;
    this.#clock = options.clock ?? wallClock;
  }

  /** A new enclave: fresh key, no secret yet. */
  static create(options: EnclaveOptions): Enclave {
    return new Enclave(EnclaveKey.generate(), undefined, options);
  }

  /**
   * The enclave sealed in `file` (see the note at the top: a 0600 JSON file stands in for sealing).
   * Refuses a file other users may read or write. `options` may supply the attestation provider and clock;
   * the measurement comes from the file.
   */
  static load(file: string, options: Omit<EnclaveOptions, "measurement"> = {}): Enclave {
    if (!existsSync(file)) throw new EnclaveStateError(file, "does not exist");
    if (process.platform !== "win32") {
      const mode = statSync(file).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new EnclaveStateError(file, `is accessible to other users (mode ${mode.toString(8)}); chmod 600 it`);
      }
    }
    let state: EnclaveState;
    try {
      const parsed = stateSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
        throw new Error(issues.join("; "));
      }
      state = parsed.data;
    } catch (e) {
      throw new EnclaveStateError(file, `is not a valid enclave state: ${(e as Error).message}`);
    }
    const key = EnclaveKey.fromPrivateKey(state.privateKey);
    if (key.address !== getAddress(state.enclaveId)) {
      throw new EnclaveStateError(file, `its key is for ${key.address}, not the recorded enclave ${state.enclaveId}`);
    }
    const secret = state.secret === null ? undefined : NetworkSecret.from(state.secret);
    return new Enclave(key, secret, { ...options, measurement: state.measurement });
  }

  /** `load(file)` if the file exists, else a new enclave saved to `file`. */
  static loadOrCreate(file: string, options: EnclaveOptions): Enclave {
    if (existsSync(file)) return Enclave.load(file, options);
    const enclave = Enclave.create(options);
    enclave.save(file);
    return enclave;
  }

  /** Writes the key and the secret to `file` with mode 0600, atomically (write then rename). */
  save(file: string): void {
    const state: EnclaveState = {
      version: STATE_VERSION,
      enclaveId: this.address,
      privateKey: this.#key.exportPrivateKey(),
      measurement: this.measurement,
      secret: this.#secret?.reveal() ?? null,
    };
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  }

  /** Enclave id: the address of the enclave key. */
  get address(): string {
    return this.#key.address;
  }

  /** Uncompressed secp256k1 public key (what peers encrypt the network secret to). */
  get publicKey(): string {
    return this.#key.publicKey;
  }

  get hasSecret(): boolean {
    return this.#secret !== undefined;
  }

  /** Commitment to the secret this enclave holds, if any. */
  get secretCommitment(): string | undefined {
    return this.#secret?.commitment;
  }

  /** A fresh attestation report for this enclave's key and measurement. */
  attestationReport(): Promise<string> {
    if (this.#attestation === undefined) {
      throw new Error(`enclave ${this.address} has no attestation provider configured`);
    }
    return this.#attestation.attest(this.publicKey, this.measurement);
  }

  /** Genesis: creates the network secret and returns its commitment (for initializeNetworkSecret). Once. */
  initializeSecret(): string {
    if (this.#secret !== undefined) throw new Error(`enclave ${this.address} already holds a network secret`);
    this.#secret = NetworkSecret.generate();
    return this.#secret.commitment;
  }

  /** The key for `label` derived from the network secret (DESIGN §6). */
  derive(label: string): string {
    return this.#requireSecret().derive(label);
  }

  /**
   * Decides whether a peer may be given the secret: `report` must pass the on-chain `verifier`'s `verify`
   * view (service signature, allowed measurement, not expired at the latest block) AND this enclave's
   * own policy: the peer's measurement equals this enclave's, the report has not expired by this
   * enclave's clock, and (when `expectedPubKey` is given) it attests exactly the key the secret would be
   * encrypted to. A transport failure talking to the verifier is thrown (the caller retries); a refusal
   * is returned with its reason.
   */
  async verifyPeerReport(report: string, verifier: ReportVerifier, expectedPubKey?: string): Promise<PeerVerification> {
    let decoded: ReturnType<typeof decodeAttestationReport>["report"];
    try {
      decoded = decodeAttestationReport(report).report;
    } catch (e) {
      return { ok: false, code: "malformed-report", reason: `the report does not decode: ${(e as Error).message}` };
    }
    let attested: { enclaveId: string; enclavePubKey: string; measurement: string };
    try {
      const result = await verifier.verify(report);
      attested = { enclaveId: result.enclaveId, enclavePubKey: result.enclavePubKey, measurement: result.measurement };
    } catch (e) {
      const revert = isRevert(e) ? decodeRevertError(e, reportVerifierErrors) : undefined;
      if (revert === undefined) throw e;
      return {
        ok: false,
        code: "verifier-rejected",
        reason: `the attestation verifier refused the report: ${revert.reason}`,
      };
    }
    if (attested.measurement.toLowerCase() !== this.measurement) {
      return {
        ok: false,
        code: "measurement-mismatch",
        reason: `the peer's measurement ${attested.measurement} is not this enclave's ${this.measurement}`,
      };
    }
    const now = this.#clock();
    if (decoded.expiresAt < now) {
      return { ok: false, code: "expired", reason: `the report expired at ${decoded.expiresAt} (now ${now})` };
    }
    if (expectedPubKey !== undefined && attested.enclavePubKey.toLowerCase() !== expectedPubKey.toLowerCase()) {
      return {
        ok: false,
        code: "pubkey-mismatch",
        reason: `the report attests key ${attested.enclavePubKey}, not the requester's ${expectedPubKey}`,
      };
    }
    return {
      ok: true,
      enclaveId: getAddress(attested.enclaveId),
      pubKey: attested.enclavePubKey,
      measurement: attested.measurement,
      expiresAt: decoded.expiresAt,
    };
  }

  /** The network secret ECIES-encrypted to `pubKey` (call only after `verifyPeerReport` accepted it). */
  encryptSecretFor(pubKey: string): string {
    const secret = this.#requireSecret();
    enclaveAddressOf(pubKey); // throws unless an uncompressed secp256k1 key
    return encryptSecret(pubKey, secret.reveal());
  }

  /** This enclave's EIP-712 signature of its answer to `requestId` (EnclaveRegistry.respondNetworkSecret). */
  signSecretResponse(registryDomain: TypedDataDomain, requestId: bigint, encryptedSecret: string): Promise<string> {
    this.#requireSecret();
    return this.#key.signSecretResponse(registryDomain, requestId, encryptedSecret);
  }

  /** This enclave's EIP-712 signature naming `operator` (EnclaveRegistry.bindEnclaveOperator). */
  signOperatorBinding(registryDomain: TypedDataDomain, operator: string, nonce: bigint): Promise<string> {
    return this.#key.signOperatorBinding(registryDomain, operator, nonce);
  }

  /** This enclave's EIP-712 signature of a rollup header (RollupRegistry.addRollup). Needs the secret. */
  signRollupHeader(rollupDomain: TypedDataDomain, header: RollupHeader): Promise<string> {
    this.#requireSecret();
    return this.#key.signRollupHeader(rollupDomain, header);
  }

  /**
   * Opens operator `operatorId`'s share of a dealt committee key (sealed to this enclave's key) and keeps
   * it inside: checked against the dealing's commitments, never returned. Returns the share's index and
   * public key (what the other members check this enclave's partial signatures against).
   */
  loadCommitteeShare(dealing: KeyDealing, operatorId: number): { index: number; sharePublicKey: string } {
    const { index, secretKey } = openShare(dealing, operatorId, (c) => getBytes(this.#key.decrypt(hexlify(c))));
    this.#share = {
      committeeId: BigInt(dealing.committeeId),
      publicKey: dealing.publicKey.toLowerCase(),
      index,
      secretKey,
    };
    const shareKey = dealtShareKeys(dealing).get(operatorId)?.publicKey;
    return { index, sharePublicKey: shareKey === undefined ? "" : hexOf(shareKey.bytes) };
  }

  /**
   * This enclave's partial BLS signature (its share, G1, 48 bytes compressed, hex) of a rollup header's
   * EIP-712 digest. Slashing protection: it refuses a second, different header with the same first batch.
   * Needs the secret and a loaded share.
   */
  signRollupShare(rollupDomain: TypedDataDomain, header: RollupHeader): string {
    this.#requireSecret();
    const share = this.#share;
    if (share === undefined) throw new Error(`enclave ${this.address} holds no committee key share`);
    const digest = TypedDataEncoder.hash(rollupDomain, ROLLUP_HEADER_TYPES, header);
    const held = this.#signedShares.get(header.firstBatchSeq);
    if (held !== undefined && held !== digest) {
      throw new Error(
        `enclave ${this.address} already signed another rollup from batch ${header.firstBatchSeq} with its share: refusing a second`,
      );
    }
    this.#signedShares.set(header.firstBatchSeq, digest);
    return hexOf(blsSign(share.secretKey, getBytes(digest)).bytes);
  }

  /**
   * This enclave's EIP-712 approval of its committee's key (RollupRegistry.registerCommitteeKey) at the
   * registry's key `nonce`: only for the key whose share it holds.
   */
  approveCommitteeKey(rollupDomain: TypedDataDomain, nonce: bigint): Promise<string> {
    const share = this.#share;
    if (share === undefined) throw new Error(`enclave ${this.address} holds no committee key share to approve`);
    return this.#key.signCommitteeKey(rollupDomain, {
      committeeId: share.committeeId,
      publicKeyHash: keccak256(share.publicKey),
      nonce,
    });
  }

  /** This enclave's signature of a QBFT message or p2p envelope digest (EnclaveKey.signGossipDigest). */
  signGossipDigest(digest: string): Uint8Array {
    return this.#key.signGossipDigest(digest);
  }

  /**
   * The RPC public key (derived from the network secret: the same on every enclave holding it) signed
   * by this enclave's key, as `veil_rpcKey` answers it. Needs the secret.
   */
  announceRpcKey(): Promise<RpcKeyAnnouncement> {
    const rpcKey = ChannelKey.fromPrivateKey(this.derive(DerivationLabels.rpc));
    return this.#key.signRpcKey(rpcKey.publicKey);
  }

  /**
   * Requester side: decrypts the secret a peer sent (NetworkSecretResponded.encryptedSecret), checks
   * `keccak256(secret)` against the on-chain `commitment` and keeps it. Throws
   * SecretCommitmentMismatchError (keeping nothing) when it is not the committed secret. Returns the
   * commitment.
   */
  acceptSecret(encryptedSecret: string, commitment: string): string {
    let secret: NetworkSecret;
    try {
      secret = NetworkSecret.from(this.#key.decrypt(encryptedSecret));
    } catch (e) {
      throw new Error(`enclave ${this.address} cannot decrypt the secret sent to it: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (!isHexString(commitment, 32) || !secret.matches(commitment)) {
      throw new SecretCommitmentMismatchError(commitment, secret.commitment);
    }
    if (this.#secret !== undefined && !this.#secret.matches(commitment)) {
      throw new Error(`enclave ${this.address} already holds another network secret (${this.#secret.commitment})`);
    }
    this.#secret = secret;
    return secret.commitment;
  }

  /** Keeps the key and the secret out of logs and JSON. */
  toJSON(): { address: string; publicKey: string; measurement: string; secretCommitment: string | null } {
    return {
      address: this.address,
      publicKey: this.publicKey,
      measurement: this.measurement,
      secretCommitment: this.secretCommitment ?? null,
    };
  }

  #requireSecret(): NetworkSecret {
    if (this.#secret === undefined) throw new NoNetworkSecretError(this.address);
    return this.#secret;
  }
}
