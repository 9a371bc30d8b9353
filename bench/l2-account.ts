/**
 * An L2 account for benches: its key, its next nonce, and EIP-1559 L2 transactions signed with native
 * secp256k1 (benches sign thousands; ethers' pure-JS signing would dominate their setup).
 */
import { Signature, Transaction, Wallet, getAddress, getBytes, hexlify, keccak256, randomBytes } from "ethers";
import secp256k1 from "secp256k1";

import { L2_CHAIN_ID } from "../protocol/predeploys.js";

/** Max fee = priority fee of the benches' transactions (the L2 base fee is 0). */
export const BENCH_FEE = 10n ** 9n;

export class L2Account {
  nonce = 0;
  #wallet: Wallet | undefined;

  private constructor(
    readonly key: Uint8Array,
    readonly address: string,
  ) {}

  static random(): L2Account {
    let key = randomBytes(32);
    while (!secp256k1.privateKeyVerify(key)) key = randomBytes(32);
    const pub = secp256k1.publicKeyCreate(key, false);
    return new L2Account(key, getAddress("0x" + keccak256(pub.subarray(1)).slice(26)));
  }

  /** The account of `privateKey` (0x-hex), at nonce `nonce`. */
  static fromKey(privateKey: string, nonce = 0): L2Account {
    const key = getBytes(privateKey);
    const pub = secp256k1.publicKeyCreate(key, false);
    const account = new L2Account(key, getAddress("0x" + keccak256(pub.subarray(1)).slice(26)));
    account.nonce = nonce;
    return account;
  }

  /** An ethers Wallet of the same key (for typed-data signatures), made on first use. */
  get wallet(): Wallet {
    this.#wallet ??= new Wallet(hexlify(this.key));
    return this.#wallet;
  }

  /** A signed EIP-1559 L2 transaction with this account's next nonce. */
  sign(to: string | null, value: bigint, gasLimit = 21_000n, data = "0x"): string {
    const tx = Transaction.from({
      type: 2,
      chainId: L2_CHAIN_ID,
      nonce: this.nonce++,
      to,
      value,
      data,
      gasLimit,
      maxFeePerGas: BENCH_FEE,
      maxPriorityFeePerGas: BENCH_FEE,
    });
    const { signature, recid } = secp256k1.ecdsaSign(getBytes(tx.unsignedHash), this.key);
    tx.signature = Signature.from({
      r: hexlify(signature.subarray(0, 32)),
      s: hexlify(signature.subarray(32)),
      yParity: recid as 0 | 1,
    });
    return tx.serialized;
  }
}
