/**
 * Veilnet's Hardhat tasks. Actions are loaded lazily (only when the task runs), so the config stays
 * cheap to load and works before the first compile; each action compiles the contracts before it
 * loads its implementation (tasks/after-build.ts), so a task works in a fresh clone.
 *
 *   npx hardhat deploy [--network X] [--parameters file.json] [--reset]
 *   npx hardhat veil:status [--network X]
 *   npx hardhat veil:govern <schedule|execute|cancel|pending> [--contract C --method M --args '[…]'] [--id 0x…] [--network X]
 *   npx hardhat veil:register-token --token <address> [--network X]
 *   npx hardhat veil:deposit --amount <amount> [--token <address>] [--to <l2Recipient>] [--network X]
 *   npx hardhat veil:withdrawal-status <sequence> [--redis-url URL] [--queue-prefix P] [--network X]
 *   npx hardhat veil:withdraw --gateway <gateway URL> --tx <L2 tx hash> [--wait] [--network X]
 *   npx hardhat veil:operator <register|set-enclave|create-committee|deposit|…|status> [options] [--network X]
 *
 * Every task takes --deployments-dir (default $VEILNET_DEPLOYMENTS_DIR or ./deployments).
 */
import { task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

import { afterBuild } from "./after-build.js";

/** The option every task takes: where deployments/<chainId>.json is. */
const deploymentsDirOption = {
  name: "deploymentsDir",
  description: "Directory of the deployment files <chainId>.json (default: $VEILNET_DEPLOYMENTS_DIR or ./deployments)",
  type: ArgumentType.STRING_WITHOUT_DEFAULT,
  defaultValue: undefined,
} as const;

const deployTask = task(
  "deploy",
  "Deploys (or resumes deploying) the Veilnet L1 suite and writes deployments/<chainId>.json",
)
  .addOption({
    name: "parameters",
    description: 'Ignition parameters file ({ "Veilnet": { "challengePeriod": 3600, ... } }) layered over the defaults',
    type: ArgumentType.FILE_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addFlag({ name: "reset", description: "Discard the Ignition journal of this chain and deploy a new suite" })
  .addOption(deploymentsDirOption)
  .addOption({
    name: "journalDir",
    description:
      "Ignition journal directory (default: ignition/deployments/chain-<chainId>; a temporary one for in-process networks)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addFlag({ name: "noCompile", description: "Don't compile the contracts before deploying" })
  .setAction(afterBuild(() => import("./deploy.js")))
  .build();

const statusTask = task(
  "veil:status",
  "Prints a Veilnet deployment: addresses, roles, rollups, fees, secret requests, pauses",
)
  .addOption(deploymentsDirOption)
  .setAction(afterBuild(() => import("./status.js")))
  .build();

const governTask = task(
  "veil:govern",
  "Schedules, executes or cancels an admin call through the Veilnet timelock, or lists pending ones",
)
  .addPositionalArgument({
    name: "action",
    description: "schedule | execute | cancel | pending",
  })
  .addOption({
    name: "contract",
    description: "Target contract, by its address-book name (RollupRegistry, Bridge, Timelock, ...)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "method",
    description: "Method to call on it (a name, or a signature when overloaded), e.g. setChallengePeriod",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "args",
    description: "The method's arguments as a JSON array, e.g. '[7200]' (default [])",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "salt",
    description: "bytes32 salt distinguishing repeats of the same call (default 0x00…00)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "delay",
    description: "schedule: seconds before it may run (default and minimum: the timelock's delay)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "id",
    description: "execute / cancel: the operation id (as printed by schedule and pending) instead of --contract …",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption(deploymentsDirOption)
  .setAction(afterBuild(() => import("./govern.js")))
  .build();

const registerTokenTask = task(
  "veil:register-token",
  "Registers an ERC-20 on the Veilnet Bridge (pays the message fee)",
)
  .addOption({
    name: "token",
    description: "Address of the ERC-20 to register",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption(deploymentsDirOption)
  .setAction(afterBuild(() => import("./register-token.js")))
  .build();

const depositTask = task(
  "veil:deposit",
  "Deposits ETH or a registered ERC-20 into Veilnet (the message fee is added on top)",
)
  .addOption({
    name: "amount",
    description: "Amount: in ether for ETH, in token units (using its decimals) for an ERC-20, e.g. 1.5",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "token",
    description: "ERC-20 to deposit (default: ETH)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "to",
    description: "L2 recipient (default: the sender)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption(deploymentsDirOption)
  .setAction(afterBuild(() => import("./deposit.js")))
  .build();

const withdrawalStatusTask = task(
  "veil:withdrawal-status",
  "Prints a withdrawal's status as the withdrawal-processor recorded it, and its state on L1",
)
  .addPositionalArgument({
    name: "id",
    description: "The withdrawal's id: its L2→L1 message sequence",
  })
  .addOption({
    name: "redisUrl",
    description: "Redis of the workers (default: $REDIS_URL or redis://127.0.0.1:6379)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "queuePrefix",
    description: "The workers' QUEUE_PREFIX (default: $QUEUE_PREFIX or veilnet)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption(deploymentsDirOption)
  .setAction(afterBuild(() => import("./withdrawal-status.js")))
  .build();

const withdrawTask = task(
  "veil:withdraw",
  "Proves and finalizes your own withdrawal on L1 (no relayer needed): the proof from an L2 node through a gateway",
)
  .addOption({
    name: "gateway",
    description: "A Veilnet gateway's URL: signed in there with this account, which must have sent the withdrawal",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "tx",
    description: "The L2 transaction hash of the withdrawal (L2Bridge.withdraw…)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addFlag({ name: "wait", description: "Wait for the rollup and the end of its challenge period, then relay" })
  .addOption({
    name: "pollMs",
    description: "With --wait: ms between two looks (default 2000)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption(deploymentsDirOption)
  .setAction(afterBuild(() => import("./withdraw.js")))
  .build();

const operatorTask = task(
  "veil:operator",
  "Operator network: registers operators, binds enclaves, creates and funds committees, manages fees; status",
)
  .addPositionalArgument({
    name: "action",
    description:
      "register | set-enclave | create-committee | deposit | withdraw | liquidate | reactivate | declare-fee | " +
      "execute-fee | cancel-fee | reduce-fee | remove | withdraw-earnings | collect-rewards | status",
  })
  .addOption({
    name: "publicKey",
    description: "register: the operator's secp256k1 public key, hex, 33 or 65 bytes (default: the sender's own)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "fee",
    description: "register (default 0), declare-fee, reduce-fee: the operator's fee, wei per L1 block",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "operator",
    description: "The operator id (set-enclave, fee actions, remove, withdraw-earnings; status: show only it)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "enclave",
    description: "set-enclave: address of the operator's attested sequencer enclave",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "operators",
    description: "create-committee: the members' operator ids, comma-separated, 1, 4, 7, 10 or 13 of them",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "deposit",
    description: "create-committee: the committee's initial balance, ether (default 0)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "committee",
    description: "The committee id (deposit, withdraw, liquidate, reactivate; status: show it too)",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption({
    name: "amount",
    description: "deposit, withdraw, reactivate, withdraw-earnings: ether, e.g. 0.5",
    type: ArgumentType.STRING_WITHOUT_DEFAULT,
    defaultValue: undefined,
  })
  .addOption(deploymentsDirOption)
  .setAction(afterBuild(() => import("./operator.js")))
  .build();

export const veilnetTasks = [
  deployTask,
  statusTask,
  governTask,
  registerTokenTask,
  depositTask,
  withdrawalStatusTask,
  withdrawTask,
  operatorTask,
];
