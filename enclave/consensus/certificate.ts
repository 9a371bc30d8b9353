/**
 * Checking a decided record: 2f+1 distinct committee members' signed COMMITs of one round for the digest
 * of the value. Anyone holding the committee's addresses can check it; a node that did not vote (a
 * lagging member, a validator, the exporter) applies a batch only with such a certificate.
 */
import { type OperatorId, type Verifier, quorumSize, valueDigest } from "./qbft/index.js";
import type { DecidedRecord } from "./wire.js";

/** Why `record` is not a valid certificate for `committee`, or undefined when it is. */
export function certificateProblem(
  record: DecidedRecord,
  committee: readonly OperatorId[],
  verifier: Verifier,
): string | undefined {
  const members = new Set(committee);
  const digest = valueDigest(record.value);
  const signers = new Set<OperatorId>();
  for (const { message, signature } of record.certificate) {
    if (message.type !== "commit") return `certificate holds a ${String(message.type)}, not a commit`;
    if (message.height !== record.height) return `a commit is for height ${message.height}, not ${record.height}`;
    if (message.round !== record.round) return `a commit is of round ${message.round}, not ${record.round}`;
    if (message.digest !== digest) return `operator ${message.sender}'s commit is for another value`;
    if (!members.has(message.sender)) return `operator ${message.sender} is not a committee member`;
    if (signers.has(message.sender)) return `operator ${message.sender} commits twice`;
    if (!verifier.verify({ message, signature }, message.sender)) {
      return `operator ${message.sender}'s commit signature is not valid`;
    }
    signers.add(message.sender);
  }
  const quorum = quorumSize(committee.length);
  if (signers.size < quorum) return `${signers.size} commits, the quorum is ${quorum}`;
  return undefined;
}

/** The operator ids that signed `record`'s certificate, ascending. */
export function certificateSigners(record: DecidedRecord): OperatorId[] {
  return [...new Set(record.certificate.map((c) => c.message.sender))].sort((a, b) => a - b);
}
