/**
 * Who is asking: the accounts bound to the caller's viewing key. Each binding is that account's
 * EIP-712 signature, so a bound account is one whose key the caller holds (an EOA). A viewer with no
 * account is anonymous: it sees only what is public.
 */
import { ZeroAddress, getAddress } from "ethers";

export class Viewer {
  static readonly anonymous = new Viewer([]);

  /** The bound accounts, checksummed, in the order they were bound, without repeats. */
  readonly accounts: readonly string[];
  readonly #lower: ReadonlySet<string>;

  constructor(accounts: Iterable<string>) {
    const unique = [...new Set([...accounts].map((a) => getAddress(a)))];
    this.accounts = unique;
    this.#lower = new Set(unique.map((a) => a.toLowerCase()));
  }

  get isAnonymous(): boolean {
    return this.accounts.length === 0;
  }

  /** Whether `address` is one of the viewer's accounts (any case; null and garbage are not). */
  has(address: string | null | undefined): boolean {
    return typeof address === "string" && this.#lower.has(address.toLowerCase());
  }

  /** The viewer's account `address` names (any case), checksummed; undefined when it is not one. */
  own(address: string): string | undefined {
    const lower = address.toLowerCase();
    return this.#lower.has(lower) ? this.accounts.find((a) => a.toLowerCase() === lower) : undefined;
  }

  /** Whether any of `addresses` is one of the viewer's accounts. */
  hasAny(addresses: Iterable<string>): boolean {
    for (const a of addresses) if (this.has(a)) return true;
    return false;
  }

  /** The account an `eth_call` runs as when it names none: the first bound one, or the zero address. */
  get defaultCaller(): string {
    return this.accounts[0] ?? ZeroAddress;
  }
}
