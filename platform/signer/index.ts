/**
 * Committee key shares' signing (DESIGN §9.4, docs/distributed-key.md): slashing protection, the
 * share signer (local mode), the remote signer's wire format and its client (remote mode).
 */
export * from "./errors.js";
export * from "./api.js";
export * from "./keystore.js";
export * from "./slashing-protection.js";
export * from "./share-signer.js";
export * from "./remote.js";
