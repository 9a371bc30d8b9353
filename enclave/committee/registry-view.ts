/**
 * A node's view of the operators and committees, built from the OperatorRegistry's events alone (as
 * ssv nodes sync from contract events; DESIGN §9.1): operators with their owners, keys, fees and
 * enclaves; committees with their members, signers (enclave addresses in member order) and liquidation
 * state; and which committee is active. `apply` is a pure reducer over decoded events; `sync` reads the
 * registry's logs from where it stopped, `confirmations` blocks below the head.
 */
import { type Log, type Provider, getAddress } from "ethers";

import { OperatorRegistry__factory } from "../../types/ethers-contracts/index.js";

export interface OperatorView {
  id: number;
  owner: string;
  publicKey: string;
  fee: bigint;
  enclave: string | undefined;
  removed: boolean;
}

export interface CommitteeView {
  id: number;
  owner: string;
  operatorIds: number[];
  quorum: number;
  /** The members' enclaves in member order, as last recorded (CommitteeSignersUpdated). */
  signers: string[];
  /** Every enclave ever recorded as a signer of it (lower case): rollups signed before a refresh stay valid. */
  everSigners: Set<string>;
  liquidated: boolean;
}

/** A decoded OperatorRegistry event. */
export interface RegistryEvent {
  name: string;
  args: Record<string, unknown>;
}

const iface = OperatorRegistry__factory.createInterface();

const num = (v: unknown): number => Number(v as bigint);

export class OperatorRegistryView {
  readonly operators = new Map<number, OperatorView>();
  readonly committees = new Map<number, CommitteeView>();
  activeId: number | undefined;
  private nextBlock: number;

  constructor(
    private readonly source?: { provider: Provider; address: string; fromBlock: number; confirmations?: number },
  ) {
    this.nextBlock = source?.fromBlock ?? 0;
  }

  /** The active committee, if one is set. */
  active(): CommitteeView | undefined {
    return this.activeId === undefined ? undefined : this.committees.get(this.activeId);
  }

  /** The active committee's members as operator id → enclave address (what a node's gossip checks). */
  activeMembers(): Map<number, string> | undefined {
    const c = this.active();
    if (c === undefined || c.signers.length !== c.operatorIds.length) return undefined;
    return new Map(c.operatorIds.map((id, i) => [id, c.signers[i] ?? ""]));
  }

  /** Applies one event (others are ignored). */
  apply(event: RegistryEvent): void {
    const a = event.args;
    switch (event.name) {
      case "OperatorRegistered":
        this.operators.set(num(a.operatorId), {
          id: num(a.operatorId),
          owner: getAddress(a.owner as string),
          publicKey: a.publicKey as string,
          fee: a.fee as bigint,
          enclave: undefined,
          removed: false,
        });
        break;
      case "OperatorEnclaveSet": {
        const o = this.operators.get(num(a.operatorId));
        if (o !== undefined) o.enclave = getAddress(a.enclave as string);
        break;
      }
      case "OperatorRemoved": {
        const o = this.operators.get(num(a.operatorId));
        if (o !== undefined) o.removed = true;
        break;
      }
      case "OperatorFeeExecuted": {
        const o = this.operators.get(num(a.operatorId));
        if (o !== undefined) o.fee = a.fee as bigint;
        break;
      }
      case "CommitteeCreated":
        this.committees.set(num(a.committeeId), {
          id: num(a.committeeId),
          owner: getAddress(a.owner as string),
          operatorIds: (a.operatorIds as bigint[]).map(Number),
          quorum: num(a.quorum),
          signers: [],
          everSigners: new Set(),
          liquidated: false,
        });
        break;
      case "CommitteeSignersUpdated": {
        const c = this.committees.get(num(a.committeeId));
        if (c !== undefined) {
          c.signers = (a.signers as string[]).map((s) => getAddress(s));
          for (const signer of c.signers) c.everSigners.add(signer.toLowerCase());
        }
        break;
      }
      case "CommitteeLiquidated": {
        const c = this.committees.get(num(a.committeeId));
        if (c !== undefined) c.liquidated = true;
        break;
      }
      case "CommitteeReactivated": {
        const c = this.committees.get(num(a.committeeId));
        if (c !== undefined) c.liquidated = false;
        break;
      }
      case "ActiveCommitteeChanged":
        this.activeId = num(a.next) === 0 ? undefined : num(a.next);
        break;
      default:
        break;
    }
  }

  /** Applies raw logs of the registry (in chain order). */
  applyLogs(logs: readonly Log[]): void {
    for (const log of logs) {
      const parsed = iface.parseLog(log);
      if (parsed === null) continue;
      const args: Record<string, unknown> = {};
      parsed.fragment.inputs.forEach((input, i) => (args[input.name] = parsed.args[i] as unknown));
      this.apply({ name: parsed.name, args });
    }
  }

  /** Reads the registry's events up to `confirmations` below the head; returns how many logs it applied. */
  async sync(): Promise<number> {
    const s = this.source;
    if (s === undefined) throw new Error("OperatorRegistryView: no L1 source to sync from");
    const head = (await s.provider.getBlockNumber()) - (s.confirmations ?? 0);
    if (head < this.nextBlock) return 0;
    let applied = 0;
    // In ranges of at most 10,000 blocks (what public RPC providers allow per eth_getLogs).
    while (this.nextBlock <= head) {
      const to = Math.min(head, this.nextBlock + 9_999);
      const logs = await s.provider.getLogs({ address: s.address, fromBlock: this.nextBlock, toBlock: to });
      this.applyLogs(logs);
      applied += logs.length;
      this.nextBlock = to + 1;
    }
    return applied;
  }
}
