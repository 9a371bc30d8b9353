/** Veilnet's p2p layer (DESIGN §9.2): topics, signed envelopes, sealed payloads, validators, peer records, the libp2p node. */
export * from "./topics.js";
export * from "./envelope.js";
export * from "./sealed.js";
export * from "./validation.js";
export * from "./peer-records.js";
export * from "./peer-key.js";
export * from "./node.js";
export * from "./metrics.js";
