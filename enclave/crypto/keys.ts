/**
 * The enclave's own key pair (secp256k1). Its address is the enclave id on L1 (the registry recovers it
 * from the enclave's EIP-712 signatures), its uncompressed public key is what attestation reports carry
 * and what peers encrypt the network secret to (ECIES).
 *
 * The private key never leaves this object except through `exportPrivateKey()`, which exists for
 * sealing (persisting the enclave's state) only.
 */
import { type TypedDataDomain, Wallet, computeAddress, getBytes } from "ethers";

import { enclaveIdentity } from "../../protocol/attestation.js";
import { signDigest } from "../../platform/secp256k1.js";
import { type RpcKeyAnnouncement, announceRpcKey } from "../../protocol/private-rpc.js";
import {
  type CommitteeKeyApproval,
  type RollupHeader,
  signCommitteeKey,
  signRollupHeader,
} from "../../protocol/rollup.js";
import { decryptSecret, signOperatorBinding, signSecretResponse } from "../../protocol/secret.js";

export class EnclaveKey {
  readonly #wallet: Wallet;
  /** Enclave id: the address of the key. */
  readonly address: string;
  /** Uncompressed secp256k1 public key, 0x04-prefixed (65 bytes). */
  readonly publicKey: string;

  private constructor(wallet: Wallet) {
    const identity = enclaveIdentity(wallet);
    this.#wallet = identity.wallet;
    this.address = identity.address;
    this.publicKey = identity.publicKey;
  }

  /** A fresh random key. */
  static generate(): EnclaveKey {
    return new EnclaveKey(Wallet.createRandom() as unknown as Wallet);
  }

  /** The key of `privateKey` (0x-hex, 32 bytes). */
  static fromPrivateKey(privateKey: string): EnclaveKey {
    return new EnclaveKey(new Wallet(privateKey));
  }

  /** The private key, for sealing only. */
  exportPrivateKey(): string {
    return this.#wallet.privateKey;
  }

  /** Decrypts an ECIES ciphertext addressed to this key (protocol/secret.ts). */
  decrypt(ciphertext: string): string {
    return decryptSecret(this.#wallet.privateKey, ciphertext);
  }

  /** EIP-712 signature of a secret response (EnclaveRegistry.respondNetworkSecret). */
  signSecretResponse(registryDomain: TypedDataDomain, requestId: bigint, encryptedSecret: string): Promise<string> {
    return signSecretResponse(this.#wallet, registryDomain, requestId, encryptedSecret);
  }

  /** EIP-712 signature naming this enclave's operator (EnclaveRegistry.bindEnclaveOperator). */
  signOperatorBinding(registryDomain: TypedDataDomain, operator: string, nonce: bigint): Promise<string> {
    return signOperatorBinding(this.#wallet, registryDomain, operator, nonce);
  }

  /** EIP-712 signature of a rollup header (RollupRegistry.addRollup). */
  signRollupHeader(rollupDomain: TypedDataDomain, header: RollupHeader): Promise<string> {
    return signRollupHeader(this.#wallet, rollupDomain, header);
  }

  /** EIP-712 approval of a committee's threshold key (RollupRegistry.registerCommitteeKey). */
  signCommitteeKey(rollupDomain: TypedDataDomain, approval: CommitteeKeyApproval): Promise<string> {
    return signCommitteeKey(this.#wallet, rollupDomain, approval);
  }

  /**
   * A 65-byte signature (r, s, v; RFC 6979) of a gossip digest: a QBFT message's
   * (keccak256 of "veilnet-qbft-v1"-prefixed JSON) or a p2p envelope's (keccak256 of a
   * "veilnet-p2p-envelope-v1"-prefixed RLP). Both preimages carry their own domain prefix, so neither
   * can be taken for the other or for an EIP-712 digest (which starts 0x1901).
   */
  signGossipDigest(digest: string): Uint8Array {
    return signDigest(this.#wallet.privateKey, digest);
  }

  /** EIP-712 announcement of the RPC public key `rpcPublicKey` (veil_rpcKey; protocol/private-rpc.ts). */
  signRpcKey(rpcPublicKey: string): Promise<RpcKeyAnnouncement> {
    return announceRpcKey(this.#wallet, rpcPublicKey);
  }

  /** Keeps the private key out of logs and JSON. */
  toJSON(): { address: string; publicKey: string } {
    return { address: this.address, publicKey: this.publicKey };
  }
}

/** The enclave id (address) of an uncompressed secp256k1 public key; throws if it is not one. */
export function enclaveAddressOf(publicKey: string): string {
  const bytes = getBytes(publicKey);
  if (bytes.length !== 65 || bytes[0] !== 0x04) {
    throw new Error("not an uncompressed secp256k1 public key (65 bytes, 0x04 prefix)");
  }
  return computeAddress(publicKey);
}
