/**
 * `npx hardhat veil:withdraw --network <l1> --gateway <gateway url> --tx <l2 tx hash> [--wait]`: a
 * self-serve withdrawal (platform/withdrawals/self-serve.ts). Signs in to the gateway with the
 * network's first account (the L2 account that sent the withdrawal is the same key), fetches the
 * proof, and relays on L1 with that account once the root is active (with --wait, waits for it;
 * otherwise prints when it will be). No worker needed: any L2 node and an L1 key will do.
 */
import { isHexString } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { L2Nodes } from "../platform/withdrawals/l2-nodes.js";
import { gatewayRpcUrl } from "../platform/withdrawals/gateway-auth.js";
import {
  type WithdrawResult,
  WithdrawError,
  describeWithdrawResult,
  withdraw,
} from "../platform/withdrawals/self-serve.js";
import { VeilnetTaskError, connect, loadDeployment, taskSigner } from "./lib.js";

export interface WithdrawTaskArguments {
  gateway?: string;
  tx?: string;
  wait?: boolean;
  pollMs?: string;
  deploymentsDir?: string;
}

export default async function withdrawTask(
  args: WithdrawTaskArguments,
  hre: HardhatRuntimeEnvironment,
): Promise<WithdrawResult> {
  if (args.gateway === undefined || args.gateway === "") {
    throw new VeilnetTaskError(
      "Missing --gateway: the URL of a Veilnet gateway (e.g. http://127.0.0.1:8745, the devnet gateway)",
    );
  }
  if (args.tx === undefined || !isHexString(args.tx, 32)) {
    throw new VeilnetTaskError(
      `--tx ${args.tx ?? "(missing)"}: expected the L2 transaction hash of the withdrawal (0x + 64 hex digits)`,
    );
  }
  const pollMs = args.pollMs === undefined || args.pollMs === "" ? 2_000 : Number(args.pollMs);
  if (!Number.isInteger(pollMs) || pollMs < 10)
    throw new VeilnetTaskError(`--poll-ms ${args.pollMs}: expected ms ≥ 10`);
  const connection = await connect(hre);
  const deployment = await loadDeployment(connection, args.deploymentsDir);
  const signer = await taskSigner(connection);
  try {
    const url = await gatewayRpcUrl(args.gateway, signer);
    const result = await withdraw({
      nodes: new L2Nodes([url]),
      txHash: args.tx,
      signer,
      messenger: deployment.addresses.CrossChainMessenger,
      wait: args.wait === true,
      pollMs,
      onProgress: (line) => console.log(line),
    });
    for (const line of describeWithdrawResult(args.tx, result)) console.log(line);
    return result;
  } catch (e) {
    if (e instanceof WithdrawError) throw new VeilnetTaskError(e.message);
    throw e;
  }
}
