/**
 * The enclave host interface as a part of the node (enclave/node/services.ts): built from the node's
 * context (its enclave, L1 provider and EnclaveRegistry), served while the node runs when
 * ENCLAVE_HOST_PORT is set.
 */
import type { WorkerContext } from "../../platform/context.js";
import { EnclaveHostServer, type HostedEnclave } from "./server.js";

export { EnclaveHostServer, type EnclaveHostDeps, type HostedEnclave } from "./server.js";
export { type AnsweringEnclave, SecretAnswers } from "./secret-answers.js";

/** Where the host interface listens (the node settings ENCLAVE_HOST_PORT and ENCLAVE_HOST_ADDRESS). */
export interface EnclaveHostSettings {
  ENCLAVE_HOST_PORT?: number;
  ENCLAVE_HOST_ADDRESS: string;
}

/** The node's host interface: `start` listens (when a port is set), `stop` closes it. */
export interface NodeEnclaveHost {
  /** Listens and returns the URL, or undefined when ENCLAVE_HOST_PORT is unset. */
  start(): Promise<string | undefined>;
  stop(): Promise<void>;
}

export function nodeEnclaveHost(
  ctx: WorkerContext,
  enclave: HostedEnclave,
  settings: EnclaveHostSettings,
): NodeEnclaveHost {
  const server = new EnclaveHostServer({
    enclave,
    registry: ctx.contracts.enclaveRegistry,
    provider: ctx.provider,
    chainId: ctx.chainId,
    logger: ctx.logger,
  });
  return {
    async start() {
      const port = settings.ENCLAVE_HOST_PORT;
      if (port === undefined) return undefined;
      const url = await server.listen(port, settings.ENCLAVE_HOST_ADDRESS);
      ctx.logger.info({ url, enclave: enclave.address }, "enclave host interface listening");
      return url;
    },
    stop: () => server.close(),
  };
}
