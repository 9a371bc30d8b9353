/**
 * Which committee a node works with: the OperatorRegistry's active committee, read from its events
 * through the event-subscriber's reading path run in-process (registry-view.ts), or — for tests and for
 * a network without it — the COMMITTEE_MEMBERS override.
 * A node that runs a committee keeps watching L1 and reports (health, logs) when the active committee
 * is no longer the one it runs: it must be restarted to follow the new one.
 */
import { ConfigError } from "../../platform/config.js";
import type { WorkerContext } from "../../platform/context.js";
import type { OperatorId } from "../consensus/qbft/index.js";
import { OperatorRegistryView } from "./registry-view.js";

export interface Membership {
  committeeId: bigint;
  /** operator id → enclave address, ids ascending. */
  members: Map<OperatorId, string>;
  /** Where it came from, for logs. */
  source: "OperatorRegistry" | "COMMITTEE_MEMBERS";
  /** The registry view (undefined with the override). */
  view: OperatorRegistryView | undefined;
}

export async function resolveMembership(
  ctx: WorkerContext,
  settings: { COMMITTEE_ID?: bigint; COMMITTEE_MEMBERS?: Map<OperatorId, string> },
  confirmations: number,
): Promise<Membership> {
  if (settings.COMMITTEE_MEMBERS !== undefined) {
    return {
      committeeId: settings.COMMITTEE_ID ?? 1n,
      members: settings.COMMITTEE_MEMBERS,
      source: "COMMITTEE_MEMBERS",
      view: undefined,
    };
  }
  const view = new OperatorRegistryView({
    provider: ctx.provider,
    address: ctx.deployment.addresses.OperatorRegistry,
    fromBlock: ctx.deployment.deploymentBlock,
    confirmations,
    chainId: ctx.chainId,
    logger: ctx.logger,
  });
  await view.sync();
  const id = settings.COMMITTEE_ID === undefined ? view.activeId : Number(settings.COMMITTEE_ID);
  const committee = id === undefined ? undefined : view.committees.get(id);
  if (committee === undefined) {
    throw new ConfigError(
      id === undefined
        ? "config: the OperatorRegistry has no active committee yet (and COMMITTEE_MEMBERS is not set)"
        : `config: COMMITTEE_ID ${id}: no such committee in the OperatorRegistry`,
    );
  }
  if (committee.signers.length !== committee.operatorIds.length) {
    throw new ConfigError(`config: committee ${id} has no recorded signers (call refreshCommitteeSigners)`);
  }
  const members = new Map(committee.operatorIds.map((op, i) => [op, committee.signers[i] ?? ""]));
  return { committeeId: BigInt(committee.id), members, source: "OperatorRegistry", view };
}

/** Why `membership` is not what L1 says now (after a sync), or undefined while it still is. */
export async function membershipDrift(membership: Membership): Promise<string | undefined> {
  const view = membership.view;
  if (view === undefined) return undefined;
  await view.sync();
  const active = view.activeId;
  if (active !== Number(membership.committeeId)) {
    return `the active committee is now ${active ?? "none"}, not ${membership.committeeId}: restart the node to follow it`;
  }
  const now = view.activeMembers();
  const same =
    now !== undefined &&
    now.size === membership.members.size &&
    [...now].every(([id, enclave]) => membership.members.get(id)?.toLowerCase() === enclave.toLowerCase());
  return same ? undefined : `committee ${active}'s signers changed on L1: restart the node to follow them`;
}
