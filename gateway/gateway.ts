/**
 * The gateway assembled: user store, enclave client, block poller, filters, dispatcher, user API and the
 * HTTP/WebSocket server on one port. `startGateway` listens at once (the web page and the user API work
 * while the enclave is not up yet; JSON-RPC answers that the gateway is waiting for it) and verifies the
 * enclave's RPC key in the background: `ready` resolves once the key's signer is attested on L1, or
 * rejects with EnclaveNotAttestedError / EnclaveProtocolError (then the gateway must not serve).
 */
import type { Registry } from "prom-client";

import type { DependencyCheck, HealthReport } from "../platform/http.js";
import { healthReport } from "../platform/http.js";
import type { Logger } from "../platform/logger.js";
import type { Service } from "../platform/service.js";
import type { GatewayConfig } from "./config.js";
import { type AttestationRegistry, EnclaveClient, type VerifiedRpcKey } from "./enclave/client.js";
import { UserApi } from "./http/api.js";
import { GatewayServer } from "./http/server.js";
import { GatewayMetrics } from "./metrics.js";
import { RpcDispatcher } from "./rpc/dispatcher.js";
import { BlockPoller } from "./subscriptions/block-poller.js";
import { FilterRegistry } from "./subscriptions/filters.js";
import { UserStore } from "./users/store.js";

export interface GatewayOptions {
  settings: GatewayConfig;
  /** The L1 EnclaveRegistry (isAttested). */
  registry: AttestationRegistry;
  /** Its address, named in refusals. */
  registryAddress?: string;
  logger: Logger;
  /** The process's Prometheus registry. */
  metrics: Registry;
  /** More dependencies for the health report (the L1). */
  dependencies?: DependencyCheck[];
  /** First retry delay while the enclave does not answer at start, ms (default 1000; doubles up to 10 s). */
  retryMs?: number;
}

export interface Gateway {
  /** The port bound. */
  port: number;
  /** `http://<host>:<port>` (127.0.0.1 when bound to every interface). */
  url: string;
  /** The JSON-RPC URL of a user: `<url>/v1/?token=<token>` (ws:// for the WebSocket). */
  rpcUrl(token: string, protocol?: "http" | "ws"): string;
  /** Resolves once the enclave's RPC key is verified; rejects when it cannot be trusted. */
  ready: Promise<VerifiedRpcKey>;
  enclave: EnclaveClient;
  store: UserStore;
  poller: BlockPoller;
  /** The users' polling filters. */
  filters: FilterRegistry;
  /** The gateway's metrics (requests, users, subscriptions, filters). */
  metrics: GatewayMetrics;
  health(): Promise<HealthReport>;
  /** Stops serving and releases the store (idempotent). */
  close(): Promise<void>;
}

function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { settings, logger } = options;
  const metrics = new GatewayMetrics(options.metrics);
  const store = UserStore.open(settings.GATEWAY_DATA_DIR, logger);
  metrics.users.set(store.size);
  const enclave = new EnclaveClient({
    url: settings.GATEWAY_ENCLAVE_URL,
    registry: options.registry,
    registryAddress: options.registryAddress,
    timeoutMs: settings.GATEWAY_ENCLAVE_TIMEOUT_MS,
    logger,
  });
  const poller = new BlockPoller(enclave, settings.GATEWAY_POLL_MS, logger);
  const filters = new FilterRegistry(enclave, settings.GATEWAY_MAX_FILTERS, metrics);
  const dispatcher = new RpcDispatcher({ enclave, filters, metrics, logger });

  const service: Service = {
    name: "gateway",
    start: async () => {},
    stop: async () => {},
    health: async () => {
      const state = enclave.keyState;
      if (state.state === "ready") return { ok: true, detail: `enclave key signed by ${state.key.signer} (attested)` };
      if (state.state === "refused") return { ok: false, detail: state.reason };
      return {
        ok: false,
        detail: `waiting for the enclave's RPC key${state.reason === undefined ? "" : `: ${state.reason}`}`,
      };
    },
  };
  const enclaveCheck: DependencyCheck = {
    name: "enclave",
    check: async () => {
      try {
        const n = Number(await enclave.call("eth_blockNumber"));
        return { ok: true, detail: `L2 block ${n}` };
      } catch (e) {
        return { ok: false, detail: (e as Error).message };
      }
    },
  };
  const health = () => healthReport([service], [enclaveCheck, ...(options.dependencies ?? [])]);

  const api = new UserApi({
    store,
    maxUsers: settings.GATEWAY_MAX_USERS,
    logger,
    onJoin: () => metrics.users.set(store.size),
    onRevoke: (user) => {
      metrics.users.set(store.size);
      enclave.forget(user);
      filters.dropUser(user);
      server.disconnect(user);
    },
  });
  const server = new GatewayServer({
    api,
    dispatcher,
    store,
    session: { dispatcher, enclave, poller, metrics, logger, maxSubscriptions: settings.GATEWAY_MAX_SUBSCRIPTIONS },
    health,
    logger,
  });
  let port: number;
  try {
    port = await server.listen(settings.GATEWAY_PORT, settings.GATEWAY_HOST);
  } catch (e) {
    store.close();
    throw e;
  }
  const url = `http://${displayHost(settings.GATEWAY_HOST)}:${port}`;

  const abort = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const ready = enclave.waitForKey(abort.signal, options.retryMs).then((key) => {
    poller.start();
    timers.push(
      setInterval(() => void enclave.recheck(), settings.GATEWAY_ATTESTATION_CHECK_MS),
      setInterval(() => filters.sweep(), 30_000),
    );
    return key;
  });
  // Whoever started the gateway handles a refusal; never an unhandled rejection meanwhile.
  ready.catch(() => {});

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      abort.abort(new Error("the gateway is stopping"));
      for (const t of timers) clearInterval(t);
      await poller.stop();
      await server.close();
      enclave.close();
      store.close();
    })());

  return {
    port,
    url,
    rpcUrl: (token, protocol = "http") => `${protocol === "ws" ? url.replace(/^http/, "ws") : url}/v1/?token=${token}`,
    ready,
    enclave,
    store,
    poller,
    filters,
    metrics,
    health,
    close,
  };
}
