/**
 * An enclave node's host interface in the test process: the real EnclaveHostServer (enclave/host) over
 * HTTP on a loopback port, for an Enclave the test built, reading L1 through the given provider. What the
 * secret-responder talks to in tests instead of a whole `veilnet node`.
 */
import type { Provider } from "ethers";

import { EnclaveHostServer, type HostedEnclave } from "../enclave/host/index.js";
import { type Logger, silentLogger } from "../platform/logger.js";
import type { EnclaveRegistry } from "../types/ethers-contracts/index.js";

export interface TestEnclaveHost {
  url: string;
  server: EnclaveHostServer;
  close(): Promise<void>;
}

export interface TestEnclaveHostOptions {
  enclave: HostedEnclave;
  /** The EnclaveRegistry bound to `provider`. */
  registry: EnclaveRegistry;
  provider: Provider;
  chainId: number;
  /** Port to listen on (default 0: any free port). */
  port?: number;
  logger?: Logger;
}

/** Starts the host interface of `enclave` on 127.0.0.1. */
export async function startEnclaveHost(options: TestEnclaveHostOptions): Promise<TestEnclaveHost> {
  const server = new EnclaveHostServer({
    enclave: options.enclave,
    registry: options.registry,
    provider: options.provider,
    chainId: options.chainId,
    logger: options.logger ?? silentLogger(),
  });
  const url = await server.listen(options.port ?? 0, "127.0.0.1");
  return { url, server, close: () => server.close() };
}
