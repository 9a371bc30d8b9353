/**
 * `npx veilnet worker secret-responder`: answers NetworkSecretRequested with this operator's enclave,
 * asked through its node's host interface (the enclave's key and secret stay in the node).
 *
 * Settings (environment or config file), besides the common ones:
 * - SIGNER_PRIVATE_KEY and TX_* (the TxSender of the operator key that sends respondNetworkSecret);
 * - ENCLAVE_HOST_URL (the node's enclave host interface, its ENCLAVE_HOST_PORT), ENCLAVE_HOST_TIMEOUT_MS.
 */
import { ZeroHash } from "ethers";
import { z } from "zod";

import { ConfigError, parseConfig } from "../../platform/config.js";
import type { ServiceFactory, WorkerContext } from "../../platform/context.js";
import type { Service } from "../../platform/service.js";
import { acquireSender } from "../../platform/tx-sender/shared.js";
import { type IntentRecord, txSenderConfigSchema } from "../../platform/tx-sender/tx-sender.js";
import { EnclaveHostClient, EnclaveHostUnreachableError } from "./enclave-client.js";
import { RESPOND_INTENT_KEY, SecretResponder, enclaveProblem } from "./secret-responder.js";

export {
  type L1Writer,
  type RefusalReason,
  type ResponderEnclave,
  type ResponderOutcome,
  SecretResponder,
  type SecretResponderDeps,
  enclaveProblem,
  respondIntentKey,
} from "./secret-responder.js";
export { EnclaveHostClient, EnclaveHostError, EnclaveHostUnreachableError } from "./enclave-client.js";

export const secretResponderConfigSchema = txSenderConfigSchema.extend({
  /**
   * URL of the enclave node's host interface (the node's ENCLAVE_HOST_PORT), e.g. http://127.0.0.1:8655.
   * The enclave there must hold this network's secret. It may start after this worker: requests are
   * retried until it answers.
   */
  ENCLAVE_HOST_URL: z
    .string()
    .url()
    .refine((v) => /^https?:\/\//.test(v), { message: "expected an http:// or https:// URL" })
    .describe("URL of the enclave node's host interface (its ENCLAVE_HOST_PORT), e.g. http://127.0.0.1:8655"),
  /** How long one call of the enclave host may take, ms. */
  ENCLAVE_HOST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe("How long one call of the enclave host interface may take, ms"),
});

export type SecretResponderConfig = z.infer<typeof secretResponderConfigSchema>;

/**
 * The start-up checks: the enclave holds this network's secret and is attested. An enclave host that
 * does not answer yet is only a warning (its node may start later; each request retries until it does).
 */
async function checkEnclave(ctx: WorkerContext, client: EnclaveHostClient): Promise<void> {
  const registry = ctx.contracts.enclaveRegistry;
  const onChain = await registry.secretCommitment();
  if (onChain === ZeroHash) throw new Error("the network secret is not initialized on L1 yet");
  let status;
  try {
    status = await client.status();
  } catch (e) {
    if (!(e instanceof EnclaveHostUnreachableError)) throw e;
    ctx.logger.warn({ err: e, url: client.url }, `${e.message}: secret requests are retried until it does`);
    return;
  }
  const problem = enclaveProblem(status, onChain);
  if (problem !== undefined) throw new ConfigError(`config: ENCLAVE_HOST_URL: ${client.url}: ${problem}`);
  if (!(await registry.isAttested(status.address))) {
    ctx.logger.warn({ enclave: status.address }, "the enclave is not attested on L1: its answers will be refused");
  }
}

export const createSecretResponder: ServiceFactory = async (ctx: WorkerContext): Promise<Service> => {
  const settings = parseConfig(secretResponderConfigSchema, ctx.source);
  const client = new EnclaveHostClient(settings.ENCLAVE_HOST_URL, { timeoutMs: settings.ENCLAVE_HOST_TIMEOUT_MS });
  await checkEnclave(ctx, client);
  const registry = ctx.contracts.enclaveRegistry;

  // One sender per key per process: other workers signing with the same key share it.
  const { sender, release } = acquireSender(ctx);
  const responder = new SecretResponder({
    enclave: client,
    contracts: ctx.contracts,
    provider: ctx.provider,
    chainId: ctx.chainId,
    writer: sender,
    queues: ctx.queues,
    logger: ctx.logger,
    metrics: ctx.metrics,
  });
  // Answers a previous process left in flight: done once their request is no longer open.
  const alreadyDone = (record: IntentRecord) => {
    const [, chainId, requestText] = RESPOND_INTENT_KEY.exec(record.key) ?? [];
    if (chainId === undefined || requestText === undefined || Number(chainId) !== ctx.chainId) return undefined;
    const requestId = BigInt(requestText);
    return async () => (await registry.requestStatus(requestId)) !== 1n;
  };

  return {
    name: responder.name,
    async start() {
      sender.recover(alreadyDone).then(
        (outcomes) => {
          if (outcomes.length > 0) ctx.logger.info({ outcomes: outcomes.length }, "recovered answers in flight");
        },
        (err: unknown) => ctx.logger.warn({ err }, "recovering answers in flight failed (retried on the next job)"),
      );
      await responder.start();
    },
    async stop() {
      await responder.stop();
      await release();
    },
    health: () => responder.health(),
  };
};
