/**
 * The sequencer as the committee driver's application: a member proposes the batch its sequencer would
 * seal, checks a proposal against its own head, clock and L1 reader, and applies the decided proposal by
 * executing and sealing it. Every member's sequencer therefore seals the same batches. The value in
 * gossip is the proposal's canonical form sealed under the network secret's consensus key (sealed-value.ts).
 */
import type { Sequencer } from "../sequencer/sequencer.js";
import type { ConsensusApp } from "./driver.js";
import { ProposalFormatError, decodeProposal, encodeProposal } from "./proposal.js";
import { SealedValueError, openValue, sealValue } from "./sealed-value.js";
import type { DecidedRecord } from "./wire.js";

export interface SequencerAppOptions {
  /** The key proposals are sealed under (derived from the network secret: DerivationLabels.consensusValue). */
  valueKey: Uint8Array;
  /** How far ahead of this member's clock a proposal's timestamp may be, seconds (default 2). */
  maxDriftSeconds?: bigint;
}

export function sequencerApp(sequencer: Sequencer, options: SequencerAppOptions): ConsensusApp {
  const drift = options.maxDriftSeconds ?? 2n;
  return {
    nextHeight: () => sequencer.batchCount,
    async propose(height) {
      const proposal = await sequencer.propose({ empty: true });
      if (proposal === undefined || proposal.seq !== BigInt(height)) {
        throw new Error(`the sequencer proposes batch ${proposal?.seq}, the driver is at height ${height}`);
      }
      return sealValue(options.valueKey, height, encodeProposal(proposal));
    },
    async check(height, value) {
      let proposal;
      try {
        proposal = decodeProposal(openValue(options.valueKey, height, value));
      } catch (error) {
        if (error instanceof ProposalFormatError || error instanceof SealedValueError) return error.message;
        throw error;
      }
      if (proposal.seq !== BigInt(height)) return `proposal is for batch ${proposal.seq}, not ${height}`;
      return sequencer.checkProposal(proposal, drift);
    },
    async apply(decided: DecidedRecord) {
      await sequencer.apply(decodeProposal(openValue(options.valueKey, decided.height, decided.value)));
    },
  };
}
