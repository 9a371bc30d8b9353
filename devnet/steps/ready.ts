/**
 * The devnet's last steps: the dev accounts funded on L2 (step 9), the validator joined, and the run
 * described in `<dataDir>/devnet.json`.
 */
import { parseEther } from "ethers";

import type { Deployment } from "../../deploy/deployment-file.js";
import { type DevAccount, roleAccount } from "../accounts.js";
import { fundL2Accounts } from "../funding.js";
import type { DevnetRun } from "../run.js";
import type { DevnetInfo, DevnetOptions } from "../types.js";
import { writeRunFile } from "../workspace.js";

/**
 * Step 9: tops the first `fundAccounts` dev accounts up to `fundAmount` on L2 by Bridge.depositNative on
 * L1 (paid by #0); their L2 balances (empty when no funding is asked).
 */
export async function fundDevAccounts(
  run: DevnetRun,
  options: Pick<DevnetOptions, "fundAmount" | "fundAccounts" | "signal">,
  l1Url: string,
  l2Url: string,
  deployment: Deployment,
  accounts: readonly DevAccount[],
): Promise<Map<string, bigint>> {
  const fundAmount = options.fundAmount ?? parseEther("100");
  const funded = accounts.slice(0, options.fundAccounts ?? 5);
  run.step(
    fundAmount > 0n
      ? `funding ${funded.length} dev accounts on L2 (Bridge.depositNative on L1, paid by #0)`
      : "dev accounts: no L2 funding asked",
  );
  const l2Balances =
    fundAmount > 0n
      ? await fundL2Accounts({
          l1Url,
          l2Url,
          deployment,
          accounts: funded,
          funder: roleAccount(accounts, "admin"),
          amount: fundAmount,
          log: (line) => run.log(line),
          signal: options.signal,
        })
      : new Map<string, bigint>();
  run.checkCrash();
  return l2Balances;
}

/** Waits for a validator started by startValidator to have joined and to serve its L2 JSON-RPC. */
export async function awaitValidator(run: DevnetRun, ready: Promise<void>): Promise<void> {
  run.log("waiting for the validator to join and serve its L2 JSON-RPC");
  await ready;
  run.checkCrash();
}

/** Writes `<dataDir>/devnet.json` (the info, this process, the accounts without keys); its path. */
export function recordRun(info: DevnetInfo, accounts: readonly DevAccount[]): string {
  return writeRunFile(info.dataDir, {
    ...info,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    accounts: accounts.map((a) => ({ index: a.index, role: a.role, address: a.address })),
  });
}
