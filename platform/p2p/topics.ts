/**
 * Gossipsub topics of a Veilnet network (DESIGN §9.2), one set per L1 chain id: users' transactions
 * forwarded to the committee, a committee's consensus messages and partial signatures, decided batches
 * with their certificates (followed by validators and the exporter), and the peer records that bind
 * libp2p identities to operator ids.
 */
const PREFIX = "/veilnet";

export const txTopic = (chainId: bigint): string => `${PREFIX}/${chainId}/tx/1`;
export const consensusTopic = (chainId: bigint, committeeId: bigint): string =>
  `${PREFIX}/${chainId}/consensus/${committeeId}/1`;
export const partialSigsTopic = (chainId: bigint, committeeId: bigint): string =>
  `${PREFIX}/${chainId}/partial-sigs/${committeeId}/1`;
export const decidedTopic = (chainId: bigint): string => `${PREFIX}/${chainId}/decided/1`;
export const peerRecordsTopic = (chainId: bigint): string => `${PREFIX}/${chainId}/peer-records/1`;
