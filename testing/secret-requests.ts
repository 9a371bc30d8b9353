/**
 * The EnclaveRegistry stores only a hash of each secret request; respondNetworkSecret and
 * cancelSecretRequest take its fields back (and respondNetworkSecret the requester's report, verified
 * then). Tests read them from the request's NetworkSecretRequested event and its transaction.
 */
import { ZeroAddress } from "ethers";

import { type SecretRequestFields, secretRequestFields } from "../protocol/secret.js";
import type { EnclaveRegistry } from "../types/ethers-contracts/index.js";

type RegistryLike = EnclaveRegistry | { enclaveRegistry: EnclaveRegistry };

/** The registry, and the NetworkSecretRequested event of request `requestId` (undefined: no such request). */
async function requestEvent(registry: RegistryLike, requestId: bigint) {
  const r = "enclaveRegistry" in registry ? registry.enclaveRegistry : registry;
  const [event] = await r.queryFilter(r.filters.NetworkSecretRequested(requestId), 0, "latest");
  return { r, event };
}

/** The fields of request `requestId` (all zero when no such request was made). */
export async function requestFields(registry: RegistryLike, requestId: bigint): Promise<SecretRequestFields> {
  const { event } = await requestEvent(registry, requestId);
  if (event === undefined) {
    return {
      enclaveId: ZeroAddress,
      payer: ZeroAddress,
      bounty: 0n,
      createdAt: 0n,
    };
  }
  return secretRequestFields(event.args);
}

/** The report request `requestId` was made with: the input of its (direct) requestNetworkSecret call. */
export async function requestReport(registry: RegistryLike, requestId: bigint): Promise<string> {
  const { r, event } = await requestEvent(registry, requestId);
  if (event === undefined) return "0x";
  const tx = await event.getTransaction();
  const call = r.interface.parseTransaction({ data: tx.data, value: tx.value });
  if (call?.name !== "requestNetworkSecret") throw new Error(`request ${requestId} was not a direct call`);
  return call.args[0] as string;
}
