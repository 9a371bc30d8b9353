/**
 * The encrypted channel between the gateway and an enclave (DESIGN §5, §6), shared by both sides.
 *
 * Keys:
 * - The enclave's RPC key is derived from the network secret (`derive("veilnet/rpc")`), so every
 *   enclave holding the secret (sequencer or validator) can answer. Its public key is announced with
 *   a signature of an attested enclave key (`RpcKey` below), which the gateway checks against L1.
 * - A viewing key is a secp256k1 key pair the gateway makes for a user. The user binds each of their
 *   accounts to it by signing `ViewingKey { account, viewingKey }` (EIP-712) with the account's key.
 *
 * Envelope: both sides compute the same static Diffie-Hellman secret
 * `S = ECDH(viewing private, RPC public) = ECDH(RPC private, viewing public)` (libsecp256k1), and from it
 * two AES-256-GCM keys with HKDF-SHA256, one per direction. A request is thus readable only by an
 * enclave (it alone holds the RPC private key), and its answer only by the holder of the viewing key.
 * The ECDH is done once per viewing key and cached; each message then costs one AES-GCM operation.
 * The viewing public key travels in clear (it is a pseudonym, and the enclave needs it to compute S);
 * it is bound into each ciphertext as associated data, with the direction.
 *
 * Wire format (hex): `version (1) ‖ viewing public key (33, compressed) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`,
 * the plaintext being UTF-8 JSON of `PrivateRequest` or `PrivateResponse`.
 *
 * Every wallet request crosses this channel twice, so AES-256-GCM is Node's own (OpenSSL, AES-NI) and
 * hex goes through Buffer: measured on a 19 KB answer (bench/gateway.ts), @noble/ciphers' pure-JS GCM
 * took 530–870 µs against 12–18 µs, and ethers' hexlify/getBytes 0.4–1.3 ms against 10–25 µs. The
 * rollup codec, where a few milliseconds per rollup don't matter, keeps @noble/ciphers.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";

import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { type Signer, type TypedDataDomain, getAddress, getBytes, hexlify, isHexString, verifyTypedData } from "ethers";
import secp256k1 from "secp256k1";
import { z } from "zod";

import { L2_CHAIN_ID } from "./predeploys.js";

export const PRIVATE_RPC_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const PUBLIC_KEY_BYTES = 33;
const HEADER_BYTES = 1 + PUBLIC_KEY_BYTES + NONCE_BYTES;

/** The JSON-RPC method of the enclave that takes an envelope and answers with one. */
export const PRIVATE_RPC_METHOD = "veil_private";
/** The JSON-RPC method of the enclave that announces its RPC public key (`RpcKeyAnnouncement`). */
export const RPC_KEY_METHOD = "veil_rpcKey";

/** The methods about the chain itself (its id, head, fees, sync state): the same answer for everyone. */
export const CHAIN_INFO_METHODS = [
  "eth_chainId",
  "net_version",
  "web3_clientVersion",
  "eth_blockNumber",
  "eth_gasPrice",
  "eth_maxPriorityFeePerGas",
  "eth_feeHistory",
  "eth_syncing",
] as const;

/** The methods a wallet uses, answered by the enclave inside `veil_private` under the privacy rules. */
export const WALLET_METHODS: ReadonlySet<string> = new Set([
  ...CHAIN_INFO_METHODS,
  "eth_accounts",
  "eth_getBalance",
  "eth_getTransactionCount",
  "eth_getCode",
  "eth_getStorageAt",
  "eth_call",
  "eth_estimateGas",
  "eth_sendRawTransaction",
  "eth_getTransactionByHash",
  "eth_getTransactionReceipt",
  "eth_getBlockByNumber",
  "eth_getBlockByHash",
  "eth_getLogs",
  "veil_getTransactionStatus",
  // protocol/withdrawals.ts: a rollup's messages (public) and a withdrawal's proof (its sender's only).
  "veil_getRollupMessages",
  "veil_getWithdrawalProof",
]);

/** EIP-712 domain of the viewing-key binding and the RPC key announcement (no verifying contract: off chain). */
export const PRIVATE_RPC_DOMAIN: TypedDataDomain = { name: "Veilnet", version: "1", chainId: L2_CHAIN_ID };

export const VIEWING_KEY_TYPES = {
  ViewingKey: [
    { name: "account", type: "address" },
    { name: "viewingKey", type: "bytes" },
  ],
};

export const RPC_KEY_TYPES = {
  RpcKey: [{ name: "publicKey", type: "bytes" }],
};

/** A channel message that is malformed, of another version, or does not decrypt. */
export class PrivateRpcError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PrivateRpcError";
  }
}

/** An account's signature binding it to a viewing key. */
export interface AccountBinding {
  account: string;
  signature: string;
}

/** What the gateway asks, on behalf of the accounts bound to the viewing key (none: an anonymous caller). */
export interface PrivateRequest {
  method: string;
  params: unknown[];
  bindings: AccountBinding[];
}

export type PrivateResponse = { result: unknown } | { error: { code: number; message: string; data?: unknown } };

/** The enclave's RPC public key, signed by an attested enclave key (`signer`). */
export interface RpcKeyAnnouncement {
  publicKey: string;
  signer: string;
  signature: string;
}

const hexString = z.string().refine((s) => isHexString(s), "expected 0x-prefixed hex");
const requestSchema = z.object({
  method: z.string().min(1).max(128),
  params: z.array(z.unknown()).max(64),
  bindings: z
    .array(z.object({ account: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected an address"), signature: hexString }))
    .max(64),
});
const responseSchema = z.union([
  z.object({ result: z.unknown() }).strict(),
  z.object({ error: z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }) }).strict(),
]);

/** Checks and compresses a secp256k1 public key (33 or 65 bytes). */
export function compressPublicKey(publicKey: string | Uint8Array): Uint8Array {
  const bytes = getBytes(publicKey);
  if ((bytes.length !== 33 && bytes.length !== 65) || !secp256k1.publicKeyVerify(bytes)) {
    throw new PrivateRpcError("not a secp256k1 public key");
  }
  return secp256k1.publicKeyConvert(bytes, true);
}

/** A secp256k1 key pair for one side of the channel: a user's viewing key, or the enclave's RPC key. */
export class ChannelKey {
  readonly #privateKey: Uint8Array;
  /** Compressed public key, hex. */
  readonly publicKey: string;

  private constructor(privateKey: Uint8Array) {
    if (privateKey.length !== 32 || !secp256k1.privateKeyVerify(privateKey)) {
      throw new PrivateRpcError("not a secp256k1 private key");
    }
    this.#privateKey = privateKey;
    this.publicKey = hexlify(secp256k1.publicKeyCreate(privateKey, true));
  }

  static generate(): ChannelKey {
    for (;;) {
      const candidate = randomBytes(32);
      if (secp256k1.privateKeyVerify(candidate)) return new ChannelKey(candidate);
    }
  }

  static fromPrivateKey(privateKey: string | Uint8Array): ChannelKey {
    return new ChannelKey(Uint8Array.from(getBytes(privateKey)));
  }

  /** For storage by its owner (the gateway's user store); never sent anywhere. */
  exportPrivateKey(): string {
    return hexlify(this.#privateKey);
  }

  /** The Diffie-Hellman secret with `peer` (sha256 of the compressed shared point). */
  sharedSecret(peer: string | Uint8Array): Uint8Array {
    return secp256k1.ecdh(compressPublicKey(peer), this.#privateKey);
  }
}

type Direction = "request" | "response";

/** AES-256-GCM keys of one viewing key's channel, both directions (made once, then cached by the caller). */
export class ChannelKeys {
  readonly #request: Uint8Array;
  readonly #response: Uint8Array;
  readonly viewingKey: Uint8Array;

  constructor(sharedSecret: Uint8Array, viewingKey: string | Uint8Array) {
    this.viewingKey = compressPublicKey(viewingKey);
    const salt = utf8ToBytes(`veilnet/private-rpc/v${PRIVATE_RPC_VERSION}`);
    this.#request = hkdf(sha256, sharedSecret, salt, utf8ToBytes("request"), 32);
    this.#response = hkdf(sha256, sharedSecret, salt, utf8ToBytes("response"), 32);
  }

  /** The gateway's side: the user's viewing key with the enclave's announced RPC public key. */
  static forViewer(viewingKey: ChannelKey, rpcPublicKey: string): ChannelKeys {
    return new ChannelKeys(viewingKey.sharedSecret(rpcPublicKey), viewingKey.publicKey);
  }

  /** The enclave's side: its RPC key with the viewing public key read from an envelope. */
  static forEnclave(rpcKey: ChannelKey, viewingPublicKey: string | Uint8Array): ChannelKeys {
    return new ChannelKeys(rpcKey.sharedSecret(viewingPublicKey), viewingPublicKey);
  }

  seal(direction: Direction, message: unknown): string {
    const nonce = randomBytes(NONCE_BYTES);
    const plaintext = Buffer.from(
      JSON.stringify(message, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
      "utf8",
    );
    const cipher = createCipheriv("aes-256-gcm", this.key(direction), nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(direction, this.viewingKey));
    const sealed = Buffer.concat([
      Uint8Array.of(PRIVATE_RPC_VERSION),
      this.viewingKey,
      nonce,
      cipher.update(plaintext),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `0x${sealed.toString("hex")}`;
  }

  open(direction: Direction, envelope: string): unknown {
    const bytes = envelopeBytes(envelope);
    if (!equalBytes(bytes.subarray(1, 1 + PUBLIC_KEY_BYTES), this.viewingKey)) {
      throw new PrivateRpcError("the message is for another viewing key");
    }
    const nonce = bytes.subarray(1 + PUBLIC_KEY_BYTES, HEADER_BYTES);
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key(direction), nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(direction, this.viewingKey));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      plaintext = Buffer.concat([
        decipher.update(bytes.subarray(HEADER_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PrivateRpcError(`the ${direction} does not decrypt: tampered with, or sealed under another key`);
    }
    try {
      return JSON.parse(plaintext.toString("utf8")) as unknown;
    } catch {
      throw new PrivateRpcError(`the ${direction} is not JSON`);
    }
  }

  private key(direction: Direction): Uint8Array {
    return direction === "request" ? this.#request : this.#response;
  }
}

function aad(direction: Direction, viewingKey: Uint8Array): Uint8Array {
  return concatBytes(utf8ToBytes(`veilnet/private-rpc/${direction}`), viewingKey);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  // Lengths are equal, so b[i] is there; every byte is compared (no early exit).
  let diff = 0;
  for (const [i, byte] of a.entries()) diff |= byte ^ (b[i] ?? 0);
  return diff === 0;
}

function envelopeBytes(envelope: string): Buffer {
  const bytes =
    typeof envelope === "string" && envelope.startsWith("0x") && envelope.length % 2 === 0
      ? Buffer.from(envelope.slice(2), "hex")
      : undefined;
  // Buffer stops at the first character that is not hex: a short result means there was one.
  if (bytes === undefined || bytes.length * 2 !== envelope.length - 2) {
    throw new PrivateRpcError("the envelope must be 0x-prefixed hex");
  }
  if (bytes.length < HEADER_BYTES + TAG_BYTES)
    throw new PrivateRpcError(`the envelope is too short (${bytes.length} bytes)`);
  if (bytes[0] !== PRIVATE_RPC_VERSION) {
    throw new PrivateRpcError(
      `envelope version ${bytes[0]} is not supported (this side speaks ${PRIVATE_RPC_VERSION})`,
    );
  }
  return bytes;
}

/** The viewing public key (compressed, hex) an envelope was sealed for, read without decrypting. */
export function envelopeViewingKey(envelope: string): string {
  const bytes = envelopeBytes(envelope);
  return hexlify(compressPublicKey(bytes.subarray(1, 1 + PUBLIC_KEY_BYTES)));
}

/**
 * The viewing key field of an envelope as lowercase hex, read from its first characters only (no
 * conversion of the whole envelope, no curve check): a cache key for the channel. `open` still checks
 * the whole envelope, and the key itself is checked when its channel is made.
 */
export function peekViewingKey(envelope: string): string | undefined {
  const field = typeof envelope === "string" ? envelope.slice(4, 4 + 2 * PUBLIC_KEY_BYTES) : "";
  return /^[0-9a-fA-F]{66}$/.test(field) ? `0x${field.toLowerCase()}` : undefined;
}

/** Checks the shape of a decrypted request (the enclave's side). */
export function parsePrivateRequest(value: unknown): PrivateRequest {
  const parsed = requestSchema.safeParse(value);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const where = issue?.path.join(".") || "request";
    throw new PrivateRpcError(`malformed private request: ${where}: ${issue?.message ?? parsed.error.message}`);
  }
  return {
    method: parsed.data.method,
    params: parsed.data.params,
    bindings: parsed.data.bindings.map((b, i) => ({ account: checksummed(b.account, i), signature: b.signature })),
  };
}

/** Checksummed addresses already seen (every request repeats its bindings' accounts: one keccak each, saved). */
const CHECKSUMMED = new Map<string, string>();

function checksummed(account: string, index: number): string {
  let address = CHECKSUMMED.get(account);
  if (address === undefined) {
    try {
      address = getAddress(account);
    } catch {
      throw new PrivateRpcError(`malformed private request: bindings.${index}.account: bad address checksum`);
    }
    if (CHECKSUMMED.size >= 10_000) CHECKSUMMED.clear();
    CHECKSUMMED.set(account, address);
  }
  return address;
}

/** Checks the shape of a decrypted response (the gateway's side). */
export function parsePrivateResponse(value: unknown): PrivateResponse {
  const parsed = responseSchema.safeParse(value);
  if (!parsed.success) throw new PrivateRpcError("malformed private response");
  return parsed.data as PrivateResponse;
}

/** The typed-data value an account signs to bind itself to `viewingKey` (what the wallet shows). */
export function viewingKeyMessage(account: string, viewingKey: string): { account: string; viewingKey: string } {
  return { account: getAddress(account), viewingKey: hexlify(compressPublicKey(viewingKey)) };
}

/** Signs the binding of the signer's account to `viewingKey` (wallets do the same with eth_signTypedData_v4). */
export async function signViewingKey(account: Signer, viewingKey: string): Promise<AccountBinding> {
  const address = await account.getAddress();
  const signature = await account.signTypedData(
    PRIVATE_RPC_DOMAIN,
    VIEWING_KEY_TYPES,
    viewingKeyMessage(address, viewingKey),
  );
  return { account: getAddress(address), signature };
}

/** Whether `binding` is the account's signature over `viewingKey`. */
export function verifyViewingKeyBinding(binding: AccountBinding, viewingKey: string | Uint8Array): boolean {
  try {
    const signer = verifyTypedData(
      PRIVATE_RPC_DOMAIN,
      VIEWING_KEY_TYPES,
      viewingKeyMessage(binding.account, hexlify(viewingKey)),
      binding.signature,
    );
    return signer === getAddress(binding.account);
  } catch {
    return false;
  }
}

/** Signs an announcement of the RPC public key with an (attested) enclave key. */
export async function announceRpcKey(enclaveKey: Signer, rpcPublicKey: string): Promise<RpcKeyAnnouncement> {
  const publicKey = hexlify(compressPublicKey(rpcPublicKey));
  const signature = await enclaveKey.signTypedData(PRIVATE_RPC_DOMAIN, RPC_KEY_TYPES, { publicKey });
  return { publicKey, signer: getAddress(await enclaveKey.getAddress()), signature };
}

/**
 * The enclave address that signed an announcement, or a PrivateRpcError. The caller must still check
 * on L1 that this address is an attested enclave (EnclaveRegistry.isAttested).
 */
export function announcementSigner(announcement: RpcKeyAnnouncement): string {
  let signer: string;
  try {
    signer = verifyTypedData(
      PRIVATE_RPC_DOMAIN,
      RPC_KEY_TYPES,
      { publicKey: hexlify(compressPublicKey(announcement.publicKey)) },
      announcement.signature,
    );
  } catch {
    throw new PrivateRpcError("the RPC key announcement's signature is malformed");
  }
  if (signer !== getAddress(announcement.signer)) {
    throw new PrivateRpcError(`the RPC key announcement is signed by ${signer}, not by ${announcement.signer}`);
  }
  return signer;
}
