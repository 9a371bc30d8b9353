/**
 * `npm run demo`: starts a devnet (devnet/index.ts) and walks through Veilnet end to end with ethers,
 * printing "step N: …" lines, then stops the devnet:
 *
 *   deposit ETH and an ERC-20 → L2 balances → an L2 transfer and an L2 contract deployment →
 *   withdraw both → the rollup with the withdrawals lands on L1 → time travel past the challenge
 *   period → the withdrawal-processor relays them → L1 balances right to the wei.
 *
 * With DEVNET_VALIDATOR=1 a last step checks that the validator re-executed the rollups to the same
 * L2 block hash as the sequencer.
 *
 * The actor is dev account #5 ("alice", not funded on L2 by the devnet), so her balances move only
 * by what the demo does; bob is #6. Exit code 0 when every check holds, 1 otherwise.
 *
 * Environment: as `npm run devnet` (L1_RPC_URL, L1_PORT, L2_RPC_PORT, REDIS_URL, DEVNET_DIR).
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import {
  Contract,
  ContractFactory,
  type InterfaceAbi,
  JsonRpcProvider,
  NonceManager,
  type TransactionReceipt,
  type TransactionResponse,
  Wallet,
  ZeroAddress,
  formatEther,
  formatUnits,
  parseEther,
} from "ethers";
import { Redis } from "ioredis";

import { type Devnet, DevnetAbortedError, devAccounts, startDevnet } from "../devnet/index.js";
import { projectRoot } from "../devnet/commands.js";
import { jsonRpc } from "../devnet/processes.js";
import { DevnetSettingError, parseDevnetSettings } from "../devnet/settings.js";
import { L2Predeploys } from "../protocol/predeploys.js";
import { type WithdrawalStatus, getWithdrawalStatus } from "../workers/withdrawal-processor/status.js";

const out = (line = "") => process.stdout.write(`${line}\n`);
const detail = (line: string) => out(`        ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A check of the demo failed; the message says what was expected and what was found. */
class DemoCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DemoCheckError";
  }
}

const ETH_DEPOSIT = parseEther("10");
const TOKEN_MINT = parseEther("1000");
const TOKEN_DEPOSIT = parseEther("100");
const L2_TRANSFER = parseEther("1");
const ETH_WITHDRAWAL = parseEther("2");
const TOKEN_WITHDRAWAL = parseEther("40");

const BRIDGE_ABI = [
  "function registerToken(address token) payable",
  "function depositNative(address l2Recipient) payable",
  "function depositERC20(address token, uint256 amount, address l2Recipient) payable",
  "event WithdrawalFinalized(address indexed token, address indexed to, uint256 amount)",
];
const MESSAGE_BUS_ABI = ["function messageFee() view returns (uint256)"];
const ERC20_ABI = [
  "function name() view returns (string)",
  "function symbol() view returns (string)",
  "function balanceOf(address) view returns (uint256)",
  "function approve(address spender, uint256 amount) returns (bool)",
  "function mint(address to, uint256 amount)",
];
const L2_BRIDGE_ABI = [
  "function wrappedOf(address l1Token) view returns (address)",
  "function withdrawNative(address l1Recipient) payable returns (uint64)",
  "function withdrawERC20(address token, uint256 amount, address l1Recipient) returns (uint64)",
  "event WithdrawalInitiated(address indexed l1Token, address indexed from, address indexed to, uint256 amount, uint64 sequence)",
];

/** ABI and bytecode of a compiled contract (the devnet's deploy step compiles). */
function artifact(source: string, name: string): { abi: InterfaceAbi; bytecode: string } {
  const file = path.join(projectRoot, "artifacts", "contracts", source, `${name}.json`);
  return JSON.parse(readFileSync(file, "utf8")) as { abi: InterfaceAbi; bytecode: string };
}

/** Polls `probe` every 500 ms until it returns a value; fails naming `what` after `timeoutMs`. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new DemoCheckError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

function expectEqual(what: string, actual: bigint, expected: bigint): void {
  if (actual !== expected) {
    throw new DemoCheckError(`${what}: expected ${expected} wei, found ${actual} (off by ${actual - expected})`);
  }
  detail(`ok: ${what} = ${formatEther(actual)} (${actual} wei)`);
}

/** Everything the steps share. */
class Demo {
  readonly l1: JsonRpcProvider;
  readonly l2: JsonRpcProvider;
  readonly aliceL1: NonceManager;
  readonly aliceL2: NonceManager;
  readonly alice: string;
  readonly bob: string;
  /** ETH alice paid on L1 for gas and message fees (known exactly from the receipts). */
  l1Spent = 0n;
  l1StartBalance = 0n;
  token?: Contract;
  wrapped?: string;
  withdrawals: bigint[] = [];
  /** L2 block of the last withdrawal (inside the rollup that lands on L1). */
  withdrawalBlock = 0;

  constructor(readonly devnet: Devnet) {
    const [alice, bob] = devAccounts(7).slice(5);
    this.alice = alice.address;
    this.bob = bob.address;
    this.l1 = new JsonRpcProvider(devnet.l1Url, undefined, { staticNetwork: true, pollingInterval: 250 });
    this.l2 = new JsonRpcProvider(devnet.l2Url, undefined, { staticNetwork: true, pollingInterval: 250 });
    this.aliceL1 = new NonceManager(new Wallet(alice.privateKey, this.l1));
    this.aliceL2 = new NonceManager(new Wallet(alice.privateKey, this.l2));
  }

  /** Waits for an L1 transaction of alice and counts what it cost her. */
  async l1Tx(what: string, sent: Promise<TransactionResponse>): Promise<TransactionReceipt> {
    const tx = await sent;
    const receipt = await tx.wait();
    if (receipt === null || receipt.status !== 1) throw new DemoCheckError(`${what}: transaction ${tx.hash} failed`);
    this.l1Spent += receipt.gasUsed * receipt.gasPrice;
    detail(`L1 ${what}: tx ${tx.hash} (block ${receipt.blockNumber})`);
    return receipt;
  }

  async l2Tx(what: string, sent: Promise<TransactionResponse>): Promise<TransactionReceipt> {
    const tx = await sent;
    const receipt = await tx.wait();
    if (receipt === null || receipt.status !== 1) throw new DemoCheckError(`${what}: L2 transaction ${tx.hash} failed`);
    detail(`L2 ${what}: tx ${tx.hash} (L2 block ${receipt.blockNumber})`);
    return receipt;
  }

  close(): void {
    this.l1.destroy();
    this.l2.destroy();
  }
}

/** One step of the demo: a title and what it does against the running devnet. */
interface DemoStep {
  title: string;
  run(demo: Demo): Promise<void>;
}

const STEPS: DemoStep[] = [
  {
    title: "deposit ETH and an ERC-20 from L1 (Bridge.depositNative, registerToken + depositERC20)",
    run: async (d) => {
      const { addresses } = d.devnet;
      d.l1StartBalance = await d.l1.getBalance(d.alice);
      const fee = BigInt(
        await new Contract(addresses.MessageBus, MESSAGE_BUS_ABI, d.l1).getFunction("messageFee").staticCall(),
      );
      const { abi, bytecode } = artifact("test/mocks/TestTokens.sol", "TestToken");
      const deployed = await new ContractFactory(abi, bytecode, d.aliceL1).deploy("Demo Token", "DEMO", 18);
      await d.l1Tx("deploy the DEMO token", Promise.resolve(deployed.deploymentTransaction()!));
      const token = new Contract(await deployed.getAddress(), ERC20_ABI, d.aliceL1);
      d.token = token;
      detail(`DEMO token on L1: ${await token.getAddress()}`);
      const bridge = new Contract(addresses.Bridge, BRIDGE_ABI, d.aliceL1);
      await d.l1Tx("mint 1000 DEMO to alice", token.getFunction("mint").send(d.alice, TOKEN_MINT));
      await d.l1Tx("Bridge.registerToken(DEMO)", bridge.getFunction("registerToken").send(token, { value: fee }));
      await d.l1Tx(
        "Bridge.depositNative(alice) 10 ETH",
        bridge.getFunction("depositNative").send(d.alice, { value: ETH_DEPOSIT + fee }),
      );
      d.l1Spent += ETH_DEPOSIT + fee * 3n;
      await d.l1Tx("DEMO.approve(Bridge, 100)", token.getFunction("approve").send(addresses.Bridge, TOKEN_DEPOSIT));
      await d.l1Tx(
        "Bridge.depositERC20(DEMO, 100, alice)",
        bridge.getFunction("depositERC20").send(token, TOKEN_DEPOSIT, d.alice, { value: fee }),
      );
    },
  },
  {
    title: "the deposits show on L2 (ETH balance, wrapped DEMO balance)",
    run: async (d) => {
      const l2Bridge = new Contract(L2Predeploys.bridge, L2_BRIDGE_ABI, d.l2);
      const balance = await waitFor(
        "alice's 10 ETH on L2",
        async () => {
          const b = await d.l2.getBalance(d.alice);
          return b >= ETH_DEPOSIT ? b : undefined;
        },
        60_000,
      );
      expectEqual("alice's L2 ETH", balance, ETH_DEPOSIT);
      const wrapped = await waitFor(
        "the wrapped DEMO token on L2",
        async () => {
          const w = (await l2Bridge.getFunction("wrappedOf").staticCall(d.token!)) as string;
          return w === ZeroAddress ? undefined : w;
        },
        60_000,
      );
      d.wrapped = wrapped;
      const token = new Contract(wrapped, ERC20_ABI, d.l2);
      const tokens = await waitFor(
        "alice's 100 wrapped DEMO on L2",
        async () => {
          const b = BigInt(await token.getFunction("balanceOf").staticCall(d.alice));
          return b >= TOKEN_DEPOSIT ? b : undefined;
        },
        60_000,
      );
      detail(`wrapped DEMO on L2: ${wrapped} (${await token.getFunction("symbol").staticCall()})`);
      expectEqual("alice's L2 DEMO", tokens, TOKEN_DEPOSIT);
    },
  },
  {
    title: "an L2 transfer and an L2 contract deployment",
    run: async (d) => {
      await d.l2Tx("alice sends 1 ETH to bob", d.aliceL2.sendTransaction({ to: d.bob, value: L2_TRANSFER }));
      expectEqual("bob's L2 ETH", await d.l2.getBalance(d.bob), L2_TRANSFER);
      const { abi, bytecode } = artifact("test/mocks/TestTokens.sol", "TestToken");
      const deployed = await new ContractFactory(abi, bytecode, d.aliceL2).deploy("L2 Native", "L2N", 6);
      await d.l2Tx("deploy a contract (TestToken L2N)", Promise.resolve(deployed.deploymentTransaction()!));
      const address = await deployed.getAddress();
      const name = (await new Contract(address, ERC20_ABI, d.l2).getFunction("name").staticCall()) as string;
      if (name !== "L2 Native") throw new DemoCheckError(`the L2 contract at ${address} answers name() = "${name}"`);
      detail(`ok: the contract at ${address} runs on L2: name() = "${name}"`);
    },
  },
  {
    title: "withdraw 2 ETH and 40 DEMO on L2 (L2Bridge.withdrawNative / withdrawERC20)",
    run: async (d) => {
      const l2Bridge = new Contract(L2Predeploys.bridge, L2_BRIDGE_ABI, d.aliceL2);
      const receipts = [
        await d.l2Tx(
          "L2Bridge.withdrawNative(alice) 2 ETH",
          l2Bridge.getFunction("withdrawNative").send(d.alice, { value: ETH_WITHDRAWAL }),
        ),
        await d.l2Tx(
          "L2Bridge.withdrawERC20(DEMO, 40, alice)",
          l2Bridge.getFunction("withdrawERC20").send(d.wrapped!, TOKEN_WITHDRAWAL, d.alice),
        ),
      ];
      d.withdrawalBlock = receipts[1].blockNumber;
      for (const receipt of receipts) {
        for (const log of receipt.logs) {
          const parsed = l2Bridge.interface.parseLog(log);
          if (parsed?.name === "WithdrawalInitiated") d.withdrawals.push(BigInt(parsed.args.sequence));
        }
      }
      if (d.withdrawals.length !== 2)
        throw new DemoCheckError(`expected 2 WithdrawalInitiated events, found ${d.withdrawals.length}`);
      detail(`withdrawals: L2→L1 messages ${d.withdrawals.join(", ")}`);
    },
  },
  {
    title: "the rollup with the withdrawals lands on L1 (RollupAdded, tracked by the withdrawal-processor)",
    run: async (d) => {
      const statuses = await withStatuses(d, "the withdrawal-processor to track both withdrawals", (s) =>
        s.every((w) => w !== undefined && w.rollupHash !== ""),
      );
      for (const s of statuses) {
        detail(
          `withdrawal ${s.sequence}: rollup ${s.rollupHash}, ${s.status}, relayable from ${new Date(s.activatesAt * 1000).toISOString()}`,
        );
      }
    },
  },
  {
    title: "time travel past the challenge period (evm_increaseTime + evm_mine)",
    run: async (d) => {
      const seconds = Number(d.devnet.deployment.parameters.challengePeriod) + 1;
      await jsonRpc(d.devnet.l1Url, "evm_increaseTime", [seconds]);
      await jsonRpc(d.devnet.l1Url, "evm_mine", []);
      const block = await d.l1.getBlock("latest");
      detail(
        `L1 time moved ${seconds} s ahead: block ${block?.number} at ${new Date(Number(block?.timestamp) * 1000).toISOString()}`,
      );
    },
  },
  {
    title: "the withdrawal-processor relays the withdrawals (WithdrawalFinalized on L1)",
    run: async (d) => {
      const statuses = await withStatuses(d, "both withdrawals relayed", (s) =>
        s.every((w) => w?.status === "relayed"),
      );
      for (const s of statuses) detail(`withdrawal ${s.sequence}: relayed in tx ${s.txHash ?? "(unknown)"}`);
    },
  },
  {
    title: "L1 balances are right to the wei",
    run: async (d) => {
      const eth = await d.l1.getBalance(d.alice);
      expectEqual(
        "alice's L1 ETH (start - 10 deposited - gas and fees + 2 withdrawn)",
        eth,
        d.l1StartBalance - d.l1Spent + ETH_WITHDRAWAL,
      );
      const tokens = BigInt(await d.token!.getFunction("balanceOf").staticCall(d.alice));
      if (tokens !== TOKEN_MINT - TOKEN_DEPOSIT + TOKEN_WITHDRAWAL) {
        throw new DemoCheckError(`alice's L1 DEMO: expected 940, found ${formatUnits(tokens, 18)}`);
      }
      detail(`ok: alice's L1 DEMO = ${formatUnits(tokens, 18)} (1000 minted - 100 deposited + 40 withdrawn)`);
    },
  },
];

/** With a validator (DEVNET_VALIDATOR=1): it re-executed the rolled-up batches to the same L2 blocks. */
const VALIDATOR_STEP: DemoStep = {
  title: "the validator re-executed the rollups from L1 to the same L2 block hash",
  run: async (d) => {
    const url = d.devnet.validatorL2Url!;
    const block = d.withdrawalBlock;
    const hashAt = async (rpc: string) =>
      ((await jsonRpc(rpc, "eth_getBlockByNumber", [`0x${block.toString(16)}`, false])) as { hash: string } | null)
        ?.hash;
    const replayed = await waitFor(`L2 block ${block} on the validator`, () => hashAt(url), 120_000);
    const sequenced = await hashAt(d.devnet.l2Url);
    if (replayed !== sequenced) {
      throw new DemoCheckError(`L2 block ${block}: the sequencer has ${sequenced}, the validator ${replayed}`);
    }
    detail(`ok: L2 block ${block} is ${replayed} on both the sequencer and the validator`);
  },
};

/** Polls the withdrawal-processor's statuses of the demo's withdrawals until `done` holds. */
async function withStatuses(
  d: Demo,
  what: string,
  done: (statuses: Array<WithdrawalStatus | undefined>) => boolean,
): Promise<WithdrawalStatus[]> {
  const redis = new Redis(d.devnet.redis.url, { maxRetriesPerRequest: 1 });
  try {
    return await waitFor(
      what,
      async () => {
        const statuses = await Promise.all(
          d.withdrawals.map((seq) =>
            getWithdrawalStatus(redis, d.devnet.queuePrefix, Number(d.devnet.l1.chainId), seq),
          ),
        );
        return done(statuses) ? (statuses as WithdrawalStatus[]) : undefined;
      },
      120_000,
    );
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<number> {
  let options;
  try {
    ({ options } = parseDevnetSettings([], process.env));
  } catch (e) {
    if (e instanceof DevnetSettingError) {
      process.stderr.write(`demo: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const controller = new AbortController();
  let devnet: Devnet | undefined;
  const onSignal = () => {
    out("\ndemo: stopping");
    controller.abort();
    void devnet?.stop().then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  out("step 0: starting a devnet");
  try {
    devnet = await startDevnet({
      ...options,
      signal: controller.signal,
      onProgress: (p) => detail(`[${p.step}/${p.total}] ${p.title}`),
    });
  } catch (e) {
    if (e instanceof DevnetAbortedError) return 130;
    process.stderr.write(`demo: the devnet did not start: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  detail(`L1 ${devnet.l1Url} (chain ${devnet.l1.chainId}), L2 ${devnet.l2Url} (chain ${devnet.l2.chainId})`);
  const demo = new Demo(devnet);
  const started = Date.now();
  try {
    const steps = devnet.validatorL2Url === undefined ? STEPS : [...STEPS, VALIDATOR_STEP];
    for (const [i, step] of steps.entries()) {
      out(`step ${i + 1}: ${step.title}`);
      await step.run(demo);
    }
    out(`demo: done in ${((Date.now() - started) / 1000).toFixed(1)} s; every check held`);
    return 0;
  } catch (e) {
    process.stderr.write(`demo: failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.stderr.write(`demo: logs in ${devnet.logDir}\n`);
    return 1;
  } finally {
    demo.close();
    await devnet.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
