/** The network secret, the dev attestation service and the Enclave interface workers use. */
export {
  type AttestationProvider,
  DevAttestationService,
  type DevAttestationServiceOptions,
} from "./attestation-service.js";
export {
  Enclave,
  type EnclaveOptions,
  EnclaveStateError,
  NoNetworkSecretError,
  type PeerVerification,
  type RefusalCode,
  type ReportVerifier,
  SecretCommitmentMismatchError,
} from "./enclave.js";
export { NetworkSecret } from "./network-secret.js";
