/**
 * The EnclaveRegistry stores only a hash of each secret request; respondNetworkSecret and
 * cancelSecretRequest take its fields back. Tests read them from the request's NetworkSecretRequested event.
 */
import { ZeroAddress, ZeroHash } from "ethers";

import { type SecretRequestFields, secretRequestFields } from "../../protocol/secret.js";
import type { EnclaveRegistry } from "../../types/ethers-contracts/index.js";

/** The fields of request `requestId` (all zero when no such request was made). */
export async function requestFields(
  registry: EnclaveRegistry | { enclaveRegistry: EnclaveRegistry },
  requestId: bigint,
): Promise<SecretRequestFields> {
  const r = "enclaveRegistry" in registry ? registry.enclaveRegistry : registry;
  const [event] = await r.queryFilter(r.filters.NetworkSecretRequested(requestId), 0, "latest");
  if (event === undefined) {
    return {
      enclaveId: ZeroAddress,
      payer: ZeroAddress,
      bounty: 0n,
      createdAt: 0n,
      measurement: ZeroHash,
      expiresAt: 0n,
    };
  }
  return secretRequestFields(event.args);
}
