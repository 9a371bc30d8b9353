/**
 * `npx veilnet worker secret-responder`: answers NetworkSecretRequested with this node's enclave.
 *
 * Settings (environment or config file), besides the common ones:
 * - SIGNER_PRIVATE_KEY and TX_* (the TxSender of the operator key that sends respondNetworkSecret);
 * - ENCLAVE_STATE_FILE (the enclave's sealed key and network secret).
 */
import { ZeroHash } from "ethers";
import { z } from "zod";

import { Enclave, EnclaveStateError } from "../../enclave/secret/enclave.js";
import { ConfigError, parseConfig } from "../../platform/config.js";
import type { ServiceFactory, WorkerContext } from "../../platform/context.js";
import type { Service } from "../../platform/service.js";
import { acquireSender } from "../../platform/tx-sender/shared.js";
import { type IntentRecord, txSenderConfigSchema } from "../../platform/tx-sender/tx-sender.js";
import { RESPOND_INTENT_KEY, SecretResponder } from "./secret-responder.js";

export {
  type L1Writer,
  type ResponderOutcome,
  SecretResponder,
  type SecretResponderDeps,
  respondIntentKey,
} from "./secret-responder.js";

export const secretResponderConfigSchema = txSenderConfigSchema.extend({
  /**
   * JSON file holding the enclave's key, measurement and network secret, mode 0600 (written by
   * `Enclave.save`; a dev stand-in for TEE sealing). The enclave must hold this network's secret.
   */
  ENCLAVE_STATE_FILE: z
    .string()
    .min(1)
    .describe(
      "JSON file (mode 0600) with the enclave's key, measurement and network secret (dev stand-in for sealing)",
    ),
});

export type SecretResponderConfig = z.infer<typeof secretResponderConfigSchema>;

function loadEnclave(file: string): Enclave {
  try {
    return Enclave.load(file);
  } catch (e) {
    if (e instanceof EnclaveStateError) throw new ConfigError(`config: ENCLAVE_STATE_FILE: ${e.message}`);
    throw e;
  }
}

export const createSecretResponder: ServiceFactory = async (ctx: WorkerContext): Promise<Service> => {
  const settings = parseConfig(secretResponderConfigSchema, ctx.source);
  const enclave = loadEnclave(settings.ENCLAVE_STATE_FILE);
  if (!enclave.hasSecret) {
    throw new ConfigError(
      `config: ENCLAVE_STATE_FILE: enclave ${enclave.address} in ${settings.ENCLAVE_STATE_FILE} holds no network secret`,
    );
  }
  const registry = ctx.contracts.enclaveRegistry;
  const onChain = await registry.secretCommitment();
  if (onChain === ZeroHash) throw new Error("the network secret is not initialized on L1 yet");
  if (enclave.secretCommitment?.toLowerCase() !== onChain.toLowerCase()) {
    throw new ConfigError(
      `config: ENCLAVE_STATE_FILE: the enclave holds a secret committed as ${enclave.secretCommitment}, ` +
        `but L1 commits to ${onChain} (another network's enclave?)`,
    );
  }
  if (!(await registry.isAttested(enclave.address))) {
    ctx.logger.warn({ enclave: enclave.address }, "the enclave is not attested on L1: its answers will be refused");
  }

  // One sender per key per process: other workers signing with the same key share it.
  const { sender, release } = acquireSender(ctx);
  const responder = new SecretResponder({
    enclave,
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
    const match = RESPOND_INTENT_KEY.exec(record.key);
    if (match === null || Number(match[1]) !== ctx.chainId) return undefined;
    const requestId = BigInt(match[2]);
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
