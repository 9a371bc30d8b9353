/**
 * Settings of `npx veilnet gateway`: environment variables, optionally layered over a JSON file
 * (`--config` or VEILNET_CONFIG), validated with zod at start like every worker's (a bad one stops the
 * process with one line naming it). The gateway reads the L1 (to check the enclave's attestation) but
 * needs no Redis: its users live in a file store in GATEWAY_DATA_DIR.
 */
import { z } from "zod";

import { commonConfigSchema } from "../platform/config.js";
import { runtimeConfigSchema } from "../platform/runtime.js";

/** Default port of the gateway (the devnet's L1 is on 8545, its L2 JSON-RPC on 8645 and 8646). */
export const DEFAULT_GATEWAY_PORT = 8745;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

export const gatewayConfigSchema = z.object({
  /** Port of the gateway: JSON-RPC over HTTP and WebSocket, the /v1 API and the web page. */
  GATEWAY_PORT: int(0, 65535)
    .default(DEFAULT_GATEWAY_PORT)
    .describe("Port of the gateway: JSON-RPC (HTTP and WebSocket), the /v1 API and the web page (0: any free port)"),
  /** Interface the gateway binds. */
  GATEWAY_HOST: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe("Interface the gateway binds (0.0.0.0 to serve other machines)"),
  /** The enclave node's L2 JSON-RPC endpoint. */
  GATEWAY_ENCLAVE_URL: z
    .string()
    .url()
    .refine((u) => u.startsWith("http://") || u.startsWith("https://"), "must start with http:// or https://")
    .default("http://127.0.0.1:8645")
    .describe("The enclave node's L2 JSON-RPC endpoint (veil_rpcKey, veil_private and the public methods)"),
  /** Directory of the user store (viewing private keys: mode 0700/0600). */
  GATEWAY_DATA_DIR: z
    .string()
    .min(1)
    .default("gateway-data")
    .describe("Directory of the user store (tokens, viewing private keys, bindings; mode 0700, files 0600)"),
  /** How often the gateway asks the enclave for new blocks (subscriptions), ms. */
  GATEWAY_POLL_MS: int(10)
    .default(500)
    .describe("How often the gateway asks the enclave for new blocks (newHeads and logs subscriptions), ms"),
  /** Longest wait for one answer of the enclave, ms. */
  GATEWAY_ENCLAVE_TIMEOUT_MS: int(100).default(30_000).describe("Longest wait for one answer of the enclave, ms"),
  /** How often the enclave's attestation is checked again on L1, ms. */
  GATEWAY_ATTESTATION_CHECK_MS: int(1000)
    .default(60_000)
    .describe("How often the enclave key's attestation is checked again on L1 (EnclaveRegistry.isAttested), ms"),
  /** Most users the gateway keeps (GET /v1/join is refused beyond). */
  GATEWAY_MAX_USERS: int(1)
    .default(1_000_000)
    .describe("Most users the gateway keeps (GET /v1/join answers 503 beyond)"),
  /** Most subscriptions one WebSocket connection may hold. */
  GATEWAY_MAX_SUBSCRIPTIONS: int(1, 10_000)
    .default(100)
    .describe("Most subscriptions (eth_subscribe) one WebSocket connection may hold"),
  /** Most filters (eth_newFilter, eth_newBlockFilter) one user may hold. */
  GATEWAY_MAX_FILTERS: int(1, 10_000)
    .default(100)
    .describe("Most filters (eth_newFilter / eth_newBlockFilter) one user may hold; idle ones expire after 5 min"),
});

/** The common worker settings the gateway reads (no Redis, no queues). */
export const gatewayCommonConfigSchema = commonConfigSchema.pick({
  L1_RPC_URL: true,
  VEILNET_DEPLOYMENTS_DIR: true,
  METRICS_PORT: true,
  LOG_LEVEL: true,
});

/** The runtime settings the gateway reads. */
export const gatewayRuntimeConfigSchema = runtimeConfigSchema.pick({ METRICS_HOST: true, SHUTDOWN_TIMEOUT_MS: true });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type GatewayProcessConfig = GatewayConfig &
  z.infer<typeof gatewayCommonConfigSchema> &
  z.infer<typeof gatewayRuntimeConfigSchema>;
