/**
 * Funding dev accounts on L2 the way users do: Bridge.depositNative on L1 for each account (the message
 * fee on top), then the devnet waits until the L2 JSON-RPC shows the balances. The deposits are paid by
 * one funder account, never by the keys the workers and nodes sign with (each of those keys has one
 * nonce owner: its process's TxSender).
 */
import { JsonRpcProvider, NonceManager, Wallet, formatEther } from "ethers";

import type { Deployment } from "../deploy/deployment-file.js";
import { Bridge__factory, IMessageBus__factory } from "../types/ethers-contracts/index.js";
import type { DevAccount } from "./accounts.js";
import { jsonRpc } from "./processes.js";

/** The deposits did not show on L2 in time. */
export class FundingTimeoutError extends Error {
  constructor(timeoutMs: number, missing: readonly string[], l2Url: string) {
    super(
      `the L2 at ${l2Url} did not show the deposits within ${timeoutMs / 1000} s for ` +
        `${missing.join(", ")} (is the sequencer reading L1 deposits? see its log)`,
    );
    this.name = "FundingTimeoutError";
  }
}

/** The L2 balance of `address`, wei. */
export async function l2Balance(l2Url: string, address: string): Promise<bigint> {
  return BigInt((await jsonRpc(l2Url, "eth_getBalance", [address, "latest"])) as string);
}

export interface FundOptions {
  l1Url: string;
  l2Url: string;
  deployment: Deployment;
  accounts: readonly DevAccount[];
  /** Pays the deposits on L1 (must not be a key a running process signs with). */
  funder: DevAccount;
  /** L2 balance each account should have at least, wei. */
  amount: bigint;
  /** How long to wait for the L2 balances, ms (default 120 000). */
  timeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Stops waiting (throws the signal's reason) when aborted. */
  signal?: AbortSignal;
}

/**
 * Tops every account up to `amount` on L2: an account already holding `amount` there is left alone;
 * for the others the funder deposits `amount - balance`. Resolves with the L2 balances once they all show.
 */
export async function fundL2Accounts(options: FundOptions): Promise<Map<string, bigint>> {
  const provider = new JsonRpcProvider(options.l1Url, undefined, { staticNetwork: true, polling: true });
  const expected = new Map<string, bigint>();
  try {
    const fee = await IMessageBus__factory.connect(options.deployment.addresses.MessageBus, provider).messageFee();
    const sent: Array<Promise<unknown>> = [];
    const funder = new NonceManager(new Wallet(options.funder.privateKey, provider));
    const bridge = Bridge__factory.connect(options.deployment.addresses.Bridge, funder);
    for (const account of options.accounts) {
      const before = await l2Balance(options.l2Url, account.address);
      if (before >= options.amount) {
        options.log?.(`#${account.index} ${account.address} already holds ${formatEther(before)} ETH on L2`);
        expected.set(account.address, options.amount);
        continue;
      }
      const top = options.amount - before;
      const tx = await bridge.depositNative(account.address, { value: top + fee });
      options.log?.(`deposit for #${account.index} ${account.address}: tx ${tx.hash}`);
      sent.push(tx.wait());
      expected.set(account.address, options.amount);
    }
    await Promise.all(sent);
  } finally {
    provider.destroy();
  }

  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const balances = new Map<string, bigint>();
  for (;;) {
    options.signal?.throwIfAborted();
    const missing: string[] = [];
    for (const [address, want] of expected) {
      let balance = 0n;
      try {
        balance = await l2Balance(options.l2Url, address);
      } catch {
        // the L2 RPC may be busy: try again
      }
      balances.set(address, balance);
      if (balance < want) missing.push(address);
    }
    if (missing.length === 0) return balances;
    if (Date.now() > deadline) throw new FundingTimeoutError(timeoutMs, missing, options.l2Url);
    await new Promise((r) => setTimeout(r, 500));
  }
}
