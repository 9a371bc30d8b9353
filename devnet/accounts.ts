/**
 * The devnet's accounts: Hardhat's public test mnemonic (the accounts `hardhat node` funds), each with
 * the role it plays in the devnet. Never use these keys on a real network.
 */
import { HDNodeWallet, Mnemonic } from "ethers";

/** Hardhat's default mnemonic: `hardhat node` funds its first 20 accounts with 10 000 ETH each. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** What each dev account does in the devnet, by index. */
export const DEV_ROLES = [
  "admin: deployer, governor (timelock proposer/executor) and guardian, attestation service, pays the L2 funding",
  "sequencer operator: genesis initializer (runs `enclave init`), sends the rollups, the sequencer enclave's operator",
  "workers' signer: secret-responder and withdrawal-processor transactions",
  "validator operator: pays the validator's secret request",
  "user",
] as const;

/** Index of each role's account. */
export const AccountRole = {
  admin: 0,
  sequencer: 1,
  workers: 2,
  validator: 3,
  user: 4,
} as const;

export interface DevAccount {
  index: number;
  /** What the devnet uses it for. */
  role: string;
  address: string;
  privateKey: string;
}

/** The name of a devnet role (a key of {@link AccountRole}). */
export type AccountRoleName = keyof typeof AccountRole;

/**
 * The account playing `role` among `accounts` (as {@link devAccounts} numbers them); throws naming the
 * role when the list is too short to hold it.
 */
export function roleAccount(accounts: readonly DevAccount[], role: AccountRoleName): DevAccount {
  const account = accounts[AccountRole[role]];
  if (account === undefined) {
    throw new Error(`no dev account #${AccountRole[role]} for the ${role} role: only ${accounts.length} accounts`);
  }
  return account;
}

/** The first `count` dev accounts (default 5: the four roles and a user). */
export function devAccounts(count: number = DEV_ROLES.length): DevAccount[] {
  const mnemonic = Mnemonic.fromPhrase(DEV_MNEMONIC);
  return Array.from({ length: count }, (_, index) => {
    const wallet = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${index}`);
    return { index, role: DEV_ROLES[index] ?? "user", address: wallet.address, privateKey: wallet.privateKey };
  });
}

/** One line per account: index, address, role (and the key, with `withKeys`). */
export function formatAccounts(accounts: readonly DevAccount[], withKeys = true): string[] {
  return accounts.map((a) => `  #${a.index} ${a.address}  ${a.role}` + (withKeys ? `\n     key ${a.privateKey}` : ""));
}
