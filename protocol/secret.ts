/**
 * The network-secret handover: ECIES encryption to the requester's enclave key, and the EIP-712
 * signature of the responding enclave the EnclaveRegistry checks.
 */
import { encrypt, decrypt } from "eciesjs";
import { type Signer, type TypedDataDomain, getBytes, hexlify, keccak256 } from "ethers";

/** Bytes of an ECIES encryption of the 32-byte secret (EnclaveRegistry.ENCRYPTED_SECRET_LENGTH). */
export const ENCRYPTED_SECRET_LENGTH = 129;

export const SECRET_RESPONSE_TYPES = {
  NetworkSecretResponse: [
    { name: "requestId", type: "uint256" },
    { name: "encryptedSecretHash", type: "bytes32" },
  ],
};

export function enclaveRegistryDomain(chainId: bigint, registry: string): TypedDataDomain {
  return { name: "VeilnetEnclaveRegistry", version: "1", chainId, verifyingContract: registry };
}

export const OPERATOR_BINDING_TYPES = {
  EnclaveOperator: [
    { name: "enclaveId", type: "address" },
    { name: "operator", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
};

/** The enclave's signature naming `operator` (EnclaveRegistry.bindEnclaveOperator); `nonce` = registry.nonces(enclave). */
export async function signOperatorBinding(
  enclave: Signer,
  domain: TypedDataDomain,
  operator: string,
  nonce: bigint,
): Promise<string> {
  return enclave.signTypedData(domain, OPERATOR_BINDING_TYPES, {
    enclaveId: await enclave.getAddress(),
    operator,
    nonce,
  });
}

/** The commitment to the network secret recorded on L1. */
export function secretCommitment(secret: Uint8Array | string): string {
  return keccak256(secret);
}

/** Encrypts the 32-byte secret to an uncompressed secp256k1 public key (0x04…). */
export function encryptSecret(recipientPubKey: string, secret: Uint8Array | string): string {
  const bytes = getBytes(secret);
  if (bytes.length !== 32) throw new Error(`network secret must be 32 bytes, got ${bytes.length}`);
  const out = hexlify(encrypt(getBytes(recipientPubKey), bytes));
  if (getBytes(out).length !== ENCRYPTED_SECRET_LENGTH) {
    throw new Error(`ECIES output is ${getBytes(out).length} bytes, expected ${ENCRYPTED_SECRET_LENGTH}`);
  }
  return out;
}

/** Decrypts an encrypted secret with the enclave's private key. */
export function decryptSecret(privateKey: string, encrypted: string): string {
  return hexlify(decrypt(getBytes(privateKey), getBytes(encrypted)));
}

/** The responding enclave's signature over `(requestId, keccak256(encryptedSecret))`. */
export async function signSecretResponse(
  enclave: Signer,
  domain: TypedDataDomain,
  requestId: bigint,
  encryptedSecret: string,
): Promise<string> {
  return enclave.signTypedData(domain, SECRET_RESPONSE_TYPES, {
    requestId,
    encryptedSecretHash: keccak256(encryptedSecret),
  });
}

/**
 * The fields of a secret request (EnclaveRegistry.SecretRequest). The registry stores only their hash;
 * respondNetworkSecret (with the requester's report, verified then) and cancelSecretRequest take them
 * back, read from the NetworkSecretRequested event.
 */
export interface SecretRequestFields {
  enclaveId: string;
  payer: string;
  bounty: bigint;
  createdAt: bigint;
}

/** The request fields carried by a NetworkSecretRequested event (decoded args, or their JSON-safe strings). */
export function secretRequestFields(event: {
  enclaveId: string;
  payer: string;
  bounty: bigint | string;
  createdAt: bigint | string;
}): SecretRequestFields {
  return {
    enclaveId: event.enclaveId,
    payer: event.payer,
    bounty: BigInt(event.bounty),
    createdAt: BigInt(event.createdAt),
  };
}
