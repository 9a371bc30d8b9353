/**
 * ECIES on secp256k1 (eciesjs defaults) for the network-secret handover. protocol/secret.ts holds the
 * implementation the contracts' length check is tied to; this module only re-exports it for the
 * enclave (decryption lives on EnclaveKey, which holds the private key).
 */
export { ENCRYPTED_SECRET_LENGTH, encryptSecret, secretCommitment } from "../../protocol/secret.js";
