/** The Veilnet gateway: Ethereum JSON-RPC for wallets in front of an enclave node (docs/gateway.md). */
export { DEFAULT_GATEWAY_PORT, type GatewayConfig, gatewayConfigSchema } from "./config.js";
export {
  type AttestationRegistry,
  EnclaveClient,
  EnclaveNotAttestedError,
  EnclaveProtocolError,
  EnclaveRpcError,
  EnclaveUnavailableError,
  type VerifiedRpcKey,
} from "./enclave/client.js";
export { type Gateway, type GatewayOptions, startGateway } from "./gateway.js";
export { type RunGatewayOptions, parseGatewayConfig, runGateway } from "./main.js";
export { GATEWAY_METHODS } from "./rpc/methods.js";
export { GatewayErrorCodes } from "./rpc/jsonrpc.js";
export { type ViewingKeyTypedData, viewingKeyTypedData } from "./users/typed-data.js";
export { UserStore, UserStoreBusyError, UserStoreError } from "./users/store.js";
export { type User, normalizeToken } from "./users/user.js";
