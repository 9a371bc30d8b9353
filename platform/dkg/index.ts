/**
 * Veilnet's distributed key generation (DESIGN §9.4, issue 13, docs/distributed-key.md "DKG"): the
 * Joint-Feldman DKG with verifiable complaints as a pure state machine per operator, its messages, the
 * ECIES share encryption, and the threshold proof of possession. The p2p transport and the CLI are not
 * here.
 */
export * from "./ceremony.js";
export * from "./ecies.js";
export * from "./messages.js";
export * from "./participant.js";
export * from "./pop.js";
export * from "./random.js";
export * from "./signer.js";
