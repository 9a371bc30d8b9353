/**
 * Who sees an event (a log). By default, the accounts named in its topics 1–3: a topic is an account
 * when it is address-shaped (12 zero bytes, then 20). An event naming no account is visible to
 * nobody (docs/privacy.md says why Veilnet departs from TEN there). A contract may decide otherwise
 * through IVisibilityRules: TRANSPARENT makes all its events public; a declared event is visible to
 * the union of the fields it lists (EVERYONE: public; TOPICn: the account in topic n; SENDER: the
 * sender of the transaction that emitted it), and the default rules no longer apply to it.
 */
import { Field, type VisibilityConfig, isTransparent } from "./visibility-config.js";
import type { Viewer } from "./viewer.js";

export interface LogLike {
  address: string;
  topics: readonly string[];
}

/** Who an event is visible to. */
export type Audience =
  | { everyone: true }
  | {
      everyone: false;
      /** Accounts that see it (lowercase). */
      accounts: readonly string[];
      /** Whether the sender of its transaction sees it. */
      sender: boolean;
    };

const ADDRESS_TOPIC = /^0x0{24}([0-9a-f]{40})$/;

/** The account an address-shaped topic names (lowercase), or undefined. */
export function topicAccount(topic: string | undefined): string | undefined {
  if (typeof topic !== "string") return undefined;
  const match = ADDRESS_TOPIC.exec(topic.toLowerCase());
  return match === null ? undefined : `0x${match[1]}`;
}

/** The audience of `log` under the declaration of the contract that emitted it (undefined: none). */
export function eventAudience(log: LogLike, config: VisibilityConfig | undefined): Audience {
  if (isTransparent(config)) return { everyone: true };
  const [signature] = log.topics;
  const declared = signature === undefined ? undefined : config?.events.get(signature.toLowerCase());
  if (declared === undefined) {
    const accounts = log.topics.slice(1, 4).map(topicAccount);
    return { everyone: false, accounts: accounts.filter((a) => a !== undefined), sender: false };
  }
  if (declared.includes(Field.EVERYONE)) return { everyone: true };
  const accounts: string[] = [];
  for (const [field, index] of [
    [Field.TOPIC1, 1],
    [Field.TOPIC2, 2],
    [Field.TOPIC3, 3],
  ] as const) {
    const account = declared.includes(field) ? topicAccount(log.topics[index]) : undefined;
    if (account !== undefined) accounts.push(account);
  }
  return { everyone: false, accounts, sender: declared.includes(Field.SENDER) };
}

/**
 * Whether `viewer` sees an event of this audience; `sender` is the sender of the event's transaction
 * (asked only when the audience includes it).
 */
export function canSeeEvent(viewer: Viewer, audience: Audience, sender?: string): boolean {
  if (audience.everyone) return true;
  if (viewer.hasAny(audience.accounts)) return true;
  return audience.sender && viewer.has(sender);
}

/** Whether seeing an event of this audience depends on its transaction's sender. */
export function needsSender(viewer: Viewer, audience: Audience): boolean {
  return !audience.everyone && audience.sender && !viewer.isAnonymous && !viewer.hasAny(audience.accounts);
}
