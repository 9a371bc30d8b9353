/** The enclave's cryptography: its key pair, key derivation from the network secret, ECIES. */
export { DerivationLabels, SECRET_LENGTH, derive, deriveBytes } from "./derive.js";
export { ENCRYPTED_SECRET_LENGTH, encryptSecret, secretCommitment } from "./ecies.js";
export { EnclaveKey, enclaveAddressOf } from "./keys.js";
