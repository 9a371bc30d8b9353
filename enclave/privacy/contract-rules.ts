/**
 * What the privacy rules need to know of an address: is it a contract, and what does it declare
 * (IVisibilityRules)? The declaration is read once per contract, with an `eth_call` of
 * `visibilityRules()` at the first block it is needed at, and kept for good (the function is `pure`:
 * its answer is a constant of the code). A contract without the function, one that reverts or runs
 * out of gas, or one returning anything but a well-formed declaration gets the default rules.
 */
import { isAddress, toQuantity } from "ethers";

import type { L2Provider } from "../execution/l2-chain.js";
import { VISIBILITY_RULES_CALLDATA, type VisibilityConfig, decodeVisibilityConfig } from "./visibility-config.js";

/** An address as the rules see it: an account (no code), or a contract with its declaration, if any. */
export type AddressKind = { contract: false } | { contract: true; config: VisibilityConfig | undefined };

export interface ContractRulesOptions {
  /** Gas the `visibilityRules()` call may use (TEN allows 30,000; a long declaration needs more). */
  gas?: bigint;
}

const DEFAULT_GAS = 500_000n;
/** An address in lowercase hex, as logs carry them: valid as it is (isAddress would hash it to check nothing). */
const LOWERCASE_ADDRESS = /^0x[0-9a-f]{40}$/;

export class ContractRules {
  /** Declarations read so far (undefined: the default rules), by lowercase address; in-flight reads too. */
  readonly #declarations = new Map<string, Promise<VisibilityConfig | undefined>>();
  readonly #gas: bigint;

  constructor(
    private readonly provider: L2Provider,
    options: ContractRulesOptions = {},
  ) {
    this.#gas = options.gas ?? DEFAULT_GAS;
  }

  /** Contracts whose declaration is known. */
  get size(): number {
    return this.#declarations.size;
  }

  /** What `address` is at block `block` (the state after it): an account, or a contract and its declaration. */
  async at(address: string, block: bigint): Promise<AddressKind> {
    // Asked once per log by eth_getLogs: a keccak per log (isAddress) was most of the filter's time.
    if (!LOWERCASE_ADDRESS.test(address) && !isAddress(address)) throw new Error(`not an address: ${address}`);
    const key = address.toLowerCase();
    const known = this.#declarations.get(key);
    if (known !== undefined) return { contract: true, config: await known };
    const code = (await this.provider.request({ method: "eth_getCode", params: [key, toQuantity(block)] })) as string;
    if (code === "0x") return { contract: false };
    // Read at most once: concurrent callers share the same read.
    let read = this.#declarations.get(key);
    if (read === undefined) {
      read = this.read(key, block);
      this.#declarations.set(key, read);
      read.catch(() => this.#declarations.delete(key));
    }
    return { contract: true, config: await read };
  }

  /** The declaration of contract `address` (the default rules for an address without code at `block`). */
  async declaration(address: string, block: bigint): Promise<VisibilityConfig | undefined> {
    const kind = await this.at(address, block);
    return kind.contract ? kind.config : undefined;
  }

  private async read(address: string, block: bigint): Promise<VisibilityConfig | undefined> {
    let data: unknown;
    try {
      data = await this.provider.request({
        method: "eth_call",
        params: [{ to: address, data: VISIBILITY_RULES_CALLDATA, gas: toQuantity(this.#gas) }, toQuantity(block)],
      });
    } catch (e) {
      // The contract's own answer (a revert, no such function, out of gas): the default rules, for good.
      if (isExecutionFailure(e)) return undefined;
      throw e; // the chain failed: not cached, asked again next time
    }
    return typeof data === "string" ? decodeVisibilityConfig(data) : undefined;
  }
}

/** Whether an eth_call error is the EVM's verdict on the call (as opposed to a failure to run it). */
function isExecutionFailure(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  if (err?.code === 3) return true;
  const message = typeof err?.message === "string" ? err.message : "";
  return /revert|out of gas|invalid opcode|stack (underflow|overflow)|exception/i.test(message);
}
