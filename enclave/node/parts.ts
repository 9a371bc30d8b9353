/**
 * The pieces every enclave node role is assembled from (services.ts: sequencer and validator;
 * operator.ts: committee member): the secret check against L1, the L2 chain and L1 reader, the
 * sequencer with the node's settings, and the rollup index of the withdrawal methods.
 */
import { ZeroHash } from "ethers";

import { DerivationLabels } from "../crypto/derive.js";
import { DEFAULT_L1_FEE_MODEL } from "../execution/l1-fee.js";
import { L2Chain } from "../execution/l2-chain.js";
import type { EntropySource } from "../execution/replay.js";
import { L1Reader } from "../l1/reader.js";
import { rollupHeads } from "../l1/safe-heads.js";
import { RollupIndex } from "../rpc/rollup-index.js";
import { L2RpcServer } from "../rpc/server.js";
import type { Enclave } from "../secret/enclave.js";
import { Sequencer } from "../sequencer/sequencer.js";
import type { SequencerStore } from "../sequencer/store.js";
import type { WorkerContext } from "../../platform/context.js";
import type { NodeConfig } from "./config.js";

export const CLIENT_VERSION = "veilnet-enclave/0.1.0";

export async function checkSecret(ctx: WorkerContext, enclave: Enclave): Promise<void> {
  const onChain = await ctx.contracts.enclaveRegistry.secretCommitment();
  if (onChain === ZeroHash)
    throw new Error("the network secret is not initialized on L1 yet (run `veilnet enclave init`)");
  if (enclave.secretCommitment?.toLowerCase() !== onChain.toLowerCase()) {
    throw new Error(
      `the enclave holds a secret committed as ${enclave.secretCommitment}, but L1 commits to ${onChain} (another network's enclave?)`,
    );
  }
}

export async function openChain(ctx: WorkerContext, settings: NodeConfig): Promise<{ chain: L2Chain; l1: L1Reader }> {
  const chain = await L2Chain.create(
    { l1Bridge: ctx.deployment.addresses.Bridge, l1FeeRecipient: ctx.deployment.addresses.FeeVault },
    { ...DEFAULT_L1_FEE_MODEL, scalarPercent: settings.L1_FEE_SCALAR_PERCENT },
  );
  const l1 = new L1Reader({
    provider: ctx.provider,
    messageBus: ctx.deployment.addresses.MessageBus,
    rollupRegistry: ctx.deployment.addresses.RollupRegistry,
    fromBlock: ctx.deployment.deploymentBlock,
    confirmations: settings.L1_CONFIRMATIONS,
  });
  return { chain, l1 };
}

/** The rollups on L1 for the withdrawal methods (veil_getRollupMessages, veil_getWithdrawalProof). */
export function rollupIndexOf(ctx: WorkerContext): RollupIndex {
  return new RollupIndex({
    provider: ctx.provider,
    rollupRegistry: ctx.deployment.addresses.RollupRegistry,
    messageBus: ctx.deployment.addresses.MessageBus,
    fromBlock: ctx.deployment.deploymentBlock,
  });
}

export function entropyOf(enclave: Enclave): EntropySource {
  return (seq) => enclave.derive(DerivationLabels.batchEntropy(seq));
}

/** The sequencer of a sequencer or operator node, opened from its store with the node's settings. */
export function openSequencer(
  ctx: WorkerContext,
  settings: NodeConfig,
  deps: { enclave: Enclave; chain: L2Chain; l1: L1Reader; store: SequencerStore },
): Promise<Sequencer> {
  return Sequencer.open({
    chain: deps.chain,
    store: deps.store,
    l1: deps.l1,
    entropy: entropyOf(deps.enclave),
    l1BaseFee: async () => (await ctx.provider.getBlock("latest"))?.baseFeePerGas ?? 0n,
    mempool: {
      minPriorityFee: settings.MIN_PRIORITY_FEE_WEI,
      feeModel: { ...DEFAULT_L1_FEE_MODEL, scalarPercent: settings.L1_FEE_SCALAR_PERCENT },
    },
    settings: {
      batchIntervalMs: settings.BATCH_INTERVAL_MS,
      maxTxsPerBatch: settings.MAX_TXS_PER_BATCH,
      maxBatchBytes: settings.MAX_BATCH_BYTES,
      maxL1MessagesPerBatch: 256,
      maxGapArrivals: 10_000,
    },
    logger: ctx.logger,
  });
}

/**
 * The L2 JSON-RPC of a node with a mempool (a sequencer, a committee member): its safe blocks are the
 * rollups its L1 reader has read (L1_CONFIRMATIONS deep).
 */
export function sequencerRpc(
  ctx: WorkerContext,
  settings: NodeConfig,
  deps: { enclave: Enclave; chain: L2Chain; l1: L1Reader; sequencer: Sequencer },
): L2RpcServer {
  const { chain, l1 } = deps;
  return new L2RpcServer({
    provider: chain.provider,
    l1Fees: chain,
    heads: rollupHeads(
      () => l1.rollupsRead(),
      () => l1.l1Timestamp,
    ),
    mempool: deps.sequencer.mempool,
    minPriorityFee: settings.MIN_PRIORITY_FEE_WEI,
    clientVersion: CLIENT_VERSION,
    enclave: deps.enclave,
    unfiltered: settings.L2_RPC_UNFILTERED,
    rollups: rollupIndexOf(ctx),
  });
}
