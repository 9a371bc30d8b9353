/**
 * Withdrawals from L2 nodes (issue 11): reading rollups' messages and withdrawal proofs from any of a
 * list of L2 nodes, relaying a message on L1, and the self-serve withdrawal built on both.
 */
export * from "./gateway-auth.js";
export * from "./l2-nodes.js";
export * from "./relay.js";
export * from "./self-serve.js";
