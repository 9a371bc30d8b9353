/**
 * The bridge scenario, against a running devnet (devnet/index.ts), with ethers:
 *
 *   alice and bob join the gateway and bind their accounts → deposit ETH and an ERC-20 on L1 → L2
 *   balances → an L2 transfer and an L2 contract deployment → withdraw both → bob, through his own
 *   gateway token, sees neither alice's balance nor her withdrawals → the rollup with the withdrawals
 *   lands on L1 → time travel past the challenge period → the withdrawal-processor relays them (one
 *   MessageRelayed each) → L1 balances right to the wei → optionally, the validator re-executed the
 *   rollups to the same L2 block hash as the sequencer.
 *
 * On L2 the scenario acts as a wallet user does: through the gateway (docs/gateway.md), never the
 * devnet's unfiltered node endpoint. Alice and bob each `GET /v1/join`, sign the EIP-712 payload of
 * `/v1/typed-data` with ethers' signTypedData, `POST /v1/authenticate`, and use an unchanged
 * JsonRpcProvider on `<gatewayUrl>/v1/?token=…` for every L2 read and transaction of theirs. Only the
 * operator's view (the sequencer's and the validator's block hashes compared) reads the node endpoints.
 *
 * Every step checks what it did and throws a ScenarioCheckError saying what was expected and what was
 * found. The result holds the figures a caller may check on its own (balances, gas, amounts, the relayed
 * messages and their MessageRelayed events, the block hashes compared). Used by `npm run demo`
 * (scripts/demo.ts), which prints the "step N: …" lines, and by the end-to-end test (test/e2e/bridge.ts).
 *
 * The actor is dev account #5 ("alice", not funded on L2 by the devnet), bob is #6. The L2 checks are
 * relative to their balances when the scenario starts, so it may run more than once on one devnet.
 */
import {
  JsonRpcProvider,
  NonceManager,
  type TransactionReceipt,
  type TransactionResponse,
  type TypedDataDomain,
  type TypedDataField,
  Wallet,
  ZeroAddress,
  type BaseWallet,
  formatEther,
  formatUnits,
  parseEther,
} from "ethers";
import { Redis } from "ioredis";

import { L2Predeploys, L2_CHAIN_ID } from "../protocol/predeploys.js";
import {
  Bridge__factory,
  CrossChainMessenger__factory,
  IERC20Metadata__factory,
  IMessageBus__factory,
  L2Bridge__factory,
  type TestToken,
  TestToken__factory,
} from "../types/ethers-contracts/index.js";
import { type WithdrawalStatus, getWithdrawalStatus } from "../workers/withdrawal-processor/status.js";
import { devAccounts } from "./accounts.js";
import type { Devnet } from "./index.js";
import { jsonRpc } from "./processes.js";

/** A check of the scenario failed; the message says what was expected and what was found. */
export class ScenarioCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScenarioCheckError";
  }
}

/** The amounts the scenario moves, wei (the ERC-20 has 18 decimals). */
export const SCENARIO_AMOUNTS = {
  ethDeposit: parseEther("10"),
  tokenMint: parseEther("1000"),
  tokenDeposit: parseEther("100"),
  l2Transfer: parseEther("1"),
  ethWithdrawal: parseEther("2"),
  tokenWithdrawal: parseEther("40"),
} as const;

const {
  ethDeposit: ETH_DEPOSIT,
  tokenMint: TOKEN_MINT,
  tokenDeposit: TOKEN_DEPOSIT,
  l2Transfer: L2_TRANSFER,
  ethWithdrawal: ETH_WITHDRAWAL,
  tokenWithdrawal: TOKEN_WITHDRAWAL,
} = SCENARIO_AMOUNTS;

export interface BridgeScenarioOptions {
  /** Receives every line of the scenario's report ("step N: …" and indented details); silent when absent. */
  print?: (line: string) => void;
  /**
   * Also check that the validator re-executed the rollups to the sequencer's L2 block hash (default:
   * whether the devnet runs a validator). True on a devnet without one fails before anything is sent.
   */
  validator?: boolean;
  /** How long each wait may take, ms (default: 60 s for the L2 deposits, 120 s for the rest). */
  timeoutMs?: number;
}

/** One L1 transaction alice sent. */
export interface ScenarioL1Transaction {
  what: string;
  hash: string;
  /** ETH sent with it, wei. */
  value: bigint;
  /** gasUsed × effective gas price, wei. */
  gasCost: bigint;
}

/** One withdrawal of the scenario and what became of it on L1. */
export interface ScenarioWithdrawal {
  asset: "ETH" | "token";
  /** The L1 token (ZeroAddress for ETH), as in WithdrawalInitiated and WithdrawalFinalized. */
  l1Token: string;
  amount: bigint;
  /** Its L2→L1 message sequence (WithdrawalInitiated.sequence). */
  sequence: bigint;
  l2TxHash: string;
  /** The rollup that carried it to L1. */
  rollupHash: string;
  /** The message's Merkle leaf (its hash, as indexed in MessageRelayed). */
  messageHash: string;
  /** The L1 transaction that relayed it (the withdrawal-processor's record). */
  relayTxHash: string;
  /** MessageRelayed events of the CrossChainMessenger for this sequence. */
  relayedEvents: number;
  /** MessageRelayFailed events of the CrossChainMessenger for this sequence. */
  relayFailedEvents: number;
}

/** The privacy check: what each of alice and bob saw through their own gateway token. */
export interface ScenarioPrivacy {
  /** The error bob got asking alice's L2 balance through his token (the enclave's refusal). */
  bobReadsAliceBalance: string;
  /** L2 transactions of the WithdrawalInitiated events from alice that eth_getLogs gave alice, and bob. */
  aliceWithdrawalLogs: string[];
  bobWithdrawalLogs: string[];
}

/** What the scenario did and found. */
export interface BridgeScenarioResult {
  alice: string;
  bob: string;
  /** The ERC-20 deployed on L1 for the scenario, and its wrapped token on L2. */
  token: string;
  wrappedToken: string;
  /** The contract alice deployed on L2. */
  l2Contract: string;
  amounts: typeof SCENARIO_AMOUNTS & {
    /** MessageBus.messageFee() paid with each of registerToken, depositNativeWithMaxFee and depositERC20. */
    messageFee: bigint;
  };
  l1: {
    /** Alice's L1 ETH before her first transaction and after the relays. */
    ethBefore: bigint;
    ethAfter: bigint;
    /** Alice's L1 token balance after the mint (before the deposit) and after the relays. */
    tokenBefore: bigint;
    tokenAfter: bigint;
    /** Gas alice paid on L1 (sum of gasCost), wei. */
    gasPaid: bigint;
    /** Message fees alice paid (3 × messageFee), wei. */
    feesPaid: bigint;
    transactions: ScenarioL1Transaction[];
  };
  l2: {
    /** Alice's L2 ETH before the deposit and once it arrived. */
    aliceEthBefore: bigint;
    aliceEthAfterDeposit: bigint;
    /** Alice's wrapped tokens once the deposit arrived. */
    aliceTokenAfterDeposit: bigint;
    bobEthBefore: bigint;
    bobEthAfter: bigint;
  };
  withdrawals: ScenarioWithdrawal[];
  /** L2 block of the last withdrawal. */
  withdrawalBlock: number;
  privacy: ScenarioPrivacy;
  /** With the validator step: the block hash at `withdrawalBlock` on each node. */
  validator?: { block: number; sequencerHash: string; validatorHash: string };
  durationMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A `/v1/…` call of the gateway's user API; its JSON answer, or a ScenarioCheckError with the gateway's error. */
async function gatewayApi(gatewayUrl: string, route: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${gatewayUrl}${route}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? undefined : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.status !== 200) {
    const what = route.replace(/\?.*$/, "");
    throw new ScenarioCheckError(`the gateway answered ${what} with ${response.status}: ${String(answer.error)}`);
  }
  return answer;
}

/**
 * Joins the gateway at `gatewayUrl` as a new user and binds each wallet's account to the user's
 * viewing key, as the gateway's web page does: GET /v1/join, then per account GET /v1/typed-data,
 * sign it (eth_signTypedData_v4; ethers takes the types without EIP712Domain), POST /v1/authenticate.
 * Returns the user's token; its JSON-RPC is `<gatewayUrl>/v1/?token=<token>`.
 */
export async function joinGateway(gatewayUrl: string, wallets: readonly BaseWallet[]): Promise<string> {
  const { token } = await gatewayApi(gatewayUrl, "/v1/join");
  if (typeof token !== "string") throw new ScenarioCheckError(`GET /v1/join gave no token`);
  for (const wallet of wallets) {
    const payload = (await gatewayApi(gatewayUrl, `/v1/typed-data?token=${token}&address=${wallet.address}`)) as {
      domain: TypedDataDomain;
      types: Record<string, TypedDataField[]>;
      message: Record<string, unknown>;
    };
    const { EIP712Domain: _domainType, ...types } = payload.types;
    const signature = await wallet.signTypedData(payload.domain, types, payload.message);
    const bound = await gatewayApi(gatewayUrl, `/v1/authenticate?token=${token}`, {
      address: wallet.address,
      signature,
    });
    if (!Array.isArray(bound.accounts) || !bound.accounts.includes(wallet.address)) {
      throw new ScenarioCheckError(`the gateway did not bind ${wallet.address}: ${JSON.stringify(bound)}`);
    }
  }
  return token;
}

/** An unchanged ethers provider on a gateway user's JSON-RPC URL (no response cache: the scenario polls). */
export function gatewayProvider(gatewayUrl: string, token: string): JsonRpcProvider {
  return new JsonRpcProvider(`${gatewayUrl}/v1/?token=${token}`, undefined, {
    staticNetwork: true,
    pollingInterval: 250,
    cacheTimeout: -1,
  });
}

/** L2 providers and signers of alice and bob, through their own gateway users. */
interface GatewayUsers {
  alice: JsonRpcProvider;
  bob: JsonRpcProvider;
  aliceSigner: NonceManager;
}

/** Everything the steps share. */
class Scenario {
  readonly l1: JsonRpcProvider;
  readonly aliceL1: NonceManager;
  readonly aliceWallet: Wallet;
  readonly bobWallet: Wallet;
  readonly alice: string;
  readonly bob: string;
  /** Set by the first step (joining the gateway). */
  gateway?: GatewayUsers;
  readonly transactions: ScenarioL1Transaction[] = [];
  messageFee = 0n;
  l1EthBefore = 0n;
  l1EthAfter = 0n;
  l1TokenBefore = 0n;
  l1TokenAfter = 0n;
  l2AliceEthBefore = 0n;
  l2AliceEthAfterDeposit = 0n;
  l2AliceTokenAfterDeposit = 0n;
  l2BobEthBefore = 0n;
  l2BobEthAfter = 0n;
  token?: TestToken;
  wrapped?: string;
  l2Contract?: string;
  withdrawals: ScenarioWithdrawal[] = [];
  /** L2 block of the last withdrawal (inside the rollup that lands on L1). */
  withdrawalBlock = 0;
  privacy?: ScenarioPrivacy;
  validator?: BridgeScenarioResult["validator"];

  constructor(
    readonly devnet: Devnet,
    private readonly print: (line: string) => void,
    private readonly timeoutMs: number | undefined,
  ) {
    const [alice, bob] = devAccounts(7).slice(5);
    if (alice === undefined || bob === undefined) throw new Error("devAccounts(7) has no accounts #5 and #6");
    this.alice = alice.address;
    this.bob = bob.address;
    this.l1 = new JsonRpcProvider(devnet.l1Url, undefined, { staticNetwork: true, pollingInterval: 250 });
    this.aliceWallet = new Wallet(alice.privateKey);
    this.bobWallet = new Wallet(bob.privateKey);
    this.aliceL1 = new NonceManager(this.aliceWallet.connect(this.l1));
  }

  #joined(): GatewayUsers {
    if (this.gateway === undefined) throw new Error("the scenario has not joined the gateway yet");
    return this.gateway;
  }

  /** Alice's L2 JSON-RPC: the gateway with her token. */
  get l2(): JsonRpcProvider {
    return this.#joined().alice;
  }

  /** Bob's L2 JSON-RPC: the gateway with his own token. */
  get bobL2(): JsonRpcProvider {
    return this.#joined().bob;
  }

  /** Alice's L2 signer, on her gateway provider. */
  get aliceL2(): NonceManager {
    return this.#joined().aliceSigner;
  }

  out(line: string): void {
    this.print(line);
  }

  detail(line: string): void {
    this.print(`        ${line}`);
  }

  expectEqual(what: string, actual: bigint, expected: bigint): void {
    if (actual !== expected) {
      throw new ScenarioCheckError(`${what}: expected ${expected} wei, found ${actual} (off by ${actual - expected})`);
    }
    this.detail(`ok: ${what} = ${formatEther(actual)} (${actual} wei)`);
  }

  /** Polls `probe` every 500 ms until it returns a value; fails naming `what` after the time limit. */
  async waitFor<T>(what: string, probe: () => Promise<T | undefined>, defaultTimeoutMs: number): Promise<T> {
    const timeoutMs = this.timeoutMs ?? defaultTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) {
        throw new ScenarioCheckError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      }
      await sleep(500);
    }
  }

  /** Waits for an L1 transaction of alice and records what it cost her. */
  async l1Tx(what: string, sent: Promise<TransactionResponse>): Promise<TransactionReceipt> {
    const tx = await sent;
    const receipt = await tx.wait();
    if (receipt === null || receipt.status !== 1) {
      throw new ScenarioCheckError(`${what}: transaction ${tx.hash} failed`);
    }
    this.transactions.push({ what, hash: tx.hash, value: tx.value, gasCost: receipt.gasUsed * receipt.gasPrice });
    this.detail(`L1 ${what}: tx ${tx.hash} (block ${receipt.blockNumber})`);
    return receipt;
  }

  async l2Tx(what: string, sent: Promise<TransactionResponse>): Promise<TransactionReceipt> {
    const tx = await sent;
    const receipt = await tx.wait();
    if (receipt === null || receipt.status !== 1) {
      throw new ScenarioCheckError(`${what}: L2 transaction ${tx.hash} failed`);
    }
    this.detail(`L2 ${what}: tx ${tx.hash} (L2 block ${receipt.blockNumber})`);
    return receipt;
  }

  /** Polls the withdrawal-processor's statuses of the scenario's withdrawals until `done` holds. */
  async withStatuses(
    what: string,
    done: (statuses: WithdrawalStatus[]) => boolean,
  ): Promise<Array<{ withdrawal: ScenarioWithdrawal; status: WithdrawalStatus }>> {
    const redis = new Redis(this.devnet.redis.url, { maxRetriesPerRequest: 1 });
    redis.on("error", () => {});
    try {
      return await this.waitFor(
        what,
        async () => {
          const tracked = await Promise.all(
            this.withdrawals.map(async (withdrawal) => ({
              withdrawal,
              status: await getWithdrawalStatus(
                redis,
                this.devnet.queuePrefix,
                Number(this.devnet.l1.chainId),
                withdrawal.sequence,
              ),
            })),
          );
          // Not done while the withdrawal-processor has not tracked every withdrawal yet.
          const known = tracked.flatMap(({ withdrawal, status }) =>
            status === undefined ? [] : [{ withdrawal, status }],
          );
          return known.length === tracked.length && done(known.map((k) => k.status)) ? known : undefined;
        },
        120_000,
      );
    } finally {
      redis.disconnect();
    }
  }

  result(durationMs: number): BridgeScenarioResult {
    const gasPaid = this.transactions.reduce((sum, t) => sum + t.gasCost, 0n);
    return {
      alice: this.alice,
      bob: this.bob,
      token: this.token!.target as string,
      wrappedToken: this.wrapped!,
      l2Contract: this.l2Contract!,
      amounts: { ...SCENARIO_AMOUNTS, messageFee: this.messageFee },
      l1: {
        ethBefore: this.l1EthBefore,
        ethAfter: this.l1EthAfter,
        tokenBefore: this.l1TokenBefore,
        tokenAfter: this.l1TokenAfter,
        gasPaid,
        feesPaid: this.messageFee * 3n,
        transactions: this.transactions,
      },
      l2: {
        aliceEthBefore: this.l2AliceEthBefore,
        aliceEthAfterDeposit: this.l2AliceEthAfterDeposit,
        aliceTokenAfterDeposit: this.l2AliceTokenAfterDeposit,
        bobEthBefore: this.l2BobEthBefore,
        bobEthAfter: this.l2BobEthAfter,
      },
      withdrawals: this.withdrawals,
      withdrawalBlock: this.withdrawalBlock,
      privacy: this.privacy!,
      validator: this.validator,
      durationMs,
    };
  }

  close(): void {
    this.l1.destroy();
    this.gateway?.alice.destroy();
    this.gateway?.bob.destroy();
  }
}

/** One step of the scenario: a title and what it does against the running devnet. */
interface ScenarioStep {
  title: string;
  run(s: Scenario): Promise<void>;
}

const STEPS: ScenarioStep[] = [
  {
    title:
      "alice joins the gateway and binds her account, bob his (GET /v1/join, sign /v1/typed-data, POST /v1/authenticate)",
    run: async (s) => {
      const { gatewayUrl } = s.devnet;
      const aliceToken = await joinGateway(gatewayUrl, [s.aliceWallet]);
      const bobToken = await joinGateway(gatewayUrl, [s.bobWallet]);
      const alice = gatewayProvider(gatewayUrl, aliceToken);
      const bob = gatewayProvider(gatewayUrl, bobToken);
      s.gateway = { alice, bob, aliceSigner: new NonceManager(s.aliceWallet.connect(alice)) };
      const chainId = (await alice.getNetwork()).chainId;
      if (chainId !== L2_CHAIN_ID) {
        throw new ScenarioCheckError(`the gateway's chain id: expected ${L2_CHAIN_ID}, found ${chainId}`);
      }
      s.detail(`alice ${s.alice} bound; her L2 JSON-RPC: ${gatewayUrl}/v1/?token=<alice's token>`);
      s.detail(`bob ${s.bob} bound with his own token; every L2 call below goes through the gateway`);
    },
  },
  {
    title: "deposit ETH and an ERC-20 from L1 (Bridge.depositNativeWithMaxFee, registerToken + depositERC20)",
    run: async (s) => {
      const { addresses } = s.devnet;
      s.l1EthBefore = await s.l1.getBalance(s.alice);
      s.l2AliceEthBefore = await s.l2.getBalance(s.alice);
      const fee = await IMessageBus__factory.connect(addresses.MessageBus, s.l1).messageFee();
      s.messageFee = fee;
      const token = await new TestToken__factory(s.aliceL1).deploy("Demo Token", "DEMO", 18);
      await s.l1Tx("deploy the DEMO token", Promise.resolve(token.deploymentTransaction()!));
      s.token = token;
      s.detail(`DEMO token on L1: ${await token.getAddress()}`);
      const bridge = Bridge__factory.connect(addresses.Bridge, s.aliceL1);
      await s.l1Tx("mint 1000 DEMO to alice", token.mint(s.alice, TOKEN_MINT));
      s.l1TokenBefore = await token.balanceOf(s.alice);
      await s.l1Tx("Bridge.registerToken(DEMO)", bridge.registerToken(token, { value: fee }));
      await s.l1Tx(
        "Bridge.depositNativeWithMaxFee(alice, fee) 10 ETH",
        bridge.depositNativeWithMaxFee(s.alice, fee, { value: ETH_DEPOSIT + fee }),
      );
      await s.l1Tx("DEMO.approve(Bridge, 100)", token.approve(addresses.Bridge, TOKEN_DEPOSIT));
      await s.l1Tx(
        "Bridge.depositERC20(DEMO, 100, alice)",
        bridge.depositERC20(token, TOKEN_DEPOSIT, s.alice, { value: fee }),
      );
    },
  },
  {
    title: "the deposits show on L2 (ETH balance, wrapped DEMO balance)",
    run: async (s) => {
      const l2Bridge = L2Bridge__factory.connect(L2Predeploys.bridge, s.l2);
      const expected = s.l2AliceEthBefore + ETH_DEPOSIT;
      const balance = await s.waitFor(
        "alice's 10 ETH on L2",
        async () => {
          const b = await s.l2.getBalance(s.alice);
          return b >= expected ? b : undefined;
        },
        60_000,
      );
      s.l2AliceEthAfterDeposit = balance;
      s.expectEqual("alice's L2 ETH", balance, expected);
      const wrapped = await s.waitFor(
        "the wrapped DEMO token on L2",
        async () => {
          const w = await l2Bridge.wrappedOf(s.token!);
          return w === ZeroAddress ? undefined : w;
        },
        60_000,
      );
      s.wrapped = wrapped;
      const token = IERC20Metadata__factory.connect(wrapped, s.l2);
      const tokens = await s.waitFor(
        "alice's 100 wrapped DEMO on L2",
        async () => {
          const b = await token.balanceOf(s.alice);
          return b >= TOKEN_DEPOSIT ? b : undefined;
        },
        60_000,
      );
      s.l2AliceTokenAfterDeposit = tokens;
      s.detail(`wrapped DEMO on L2: ${wrapped} (${await token.symbol()})`);
      s.expectEqual("alice's L2 DEMO", tokens, TOKEN_DEPOSIT);
    },
  },
  {
    title: "an L2 transfer and an L2 contract deployment",
    run: async (s) => {
      s.l2BobEthBefore = await s.bobL2.getBalance(s.bob);
      await s.l2Tx("alice sends 1 ETH to bob", s.aliceL2.sendTransaction({ to: s.bob, value: L2_TRANSFER }));
      s.l2BobEthAfter = await s.bobL2.getBalance(s.bob);
      s.expectEqual("bob's L2 ETH", s.l2BobEthAfter, s.l2BobEthBefore + L2_TRANSFER);
      const deployed = await new TestToken__factory(s.aliceL2).deploy("L2 Native", "L2N", 6);
      await s.l2Tx("deploy a contract (TestToken L2N)", Promise.resolve(deployed.deploymentTransaction()!));
      const address = await deployed.getAddress();
      const name = await IERC20Metadata__factory.connect(address, s.l2).name();
      if (name !== "L2 Native") {
        throw new ScenarioCheckError(`the L2 contract at ${address} answers name() = "${name}"`);
      }
      s.l2Contract = address;
      s.detail(`ok: the contract at ${address} runs on L2: name() = "${name}"`);
    },
  },
  {
    title: "withdraw 2 ETH and 40 DEMO on L2 (L2Bridge.withdrawNative / withdrawERC20)",
    run: async (s) => {
      const l2Bridge = L2Bridge__factory.connect(L2Predeploys.bridge, s.aliceL2);
      const ethReceipt = await s.l2Tx(
        "L2Bridge.withdrawNative(alice) 2 ETH",
        l2Bridge.withdrawNative(s.alice, { value: ETH_WITHDRAWAL }),
      );
      const tokenReceipt = await s.l2Tx(
        "L2Bridge.withdrawERC20(DEMO, 40, alice)",
        l2Bridge.withdrawERC20(s.wrapped!, TOKEN_WITHDRAWAL, s.alice),
      );
      s.withdrawalBlock = tokenReceipt.blockNumber;
      const receipts = [
        ["ETH", ethReceipt],
        ["token", tokenReceipt],
      ] as const;
      for (const [asset, receipt] of receipts) {
        for (const log of receipt.logs) {
          const parsed = l2Bridge.interface.parseLog(log);
          if (parsed?.name !== "WithdrawalInitiated") continue;
          s.withdrawals.push({
            asset,
            l1Token: parsed.args.l1Token as string,
            amount: BigInt(parsed.args.amount),
            sequence: BigInt(parsed.args.sequence),
            l2TxHash: receipt.hash,
            rollupHash: "",
            messageHash: "",
            relayTxHash: "",
            relayedEvents: 0,
            relayFailedEvents: 0,
          });
        }
      }
      const [eth, token, ...more] = s.withdrawals;
      if (eth === undefined || token === undefined || more.length > 0) {
        throw new ScenarioCheckError(`expected 2 WithdrawalInitiated events, found ${s.withdrawals.length}`);
      }
      if (eth.l1Token !== ZeroAddress || eth.amount !== ETH_WITHDRAWAL) {
        throw new ScenarioCheckError(`the ETH withdrawal was logged as ${eth.amount} of ${eth.l1Token}`);
      }
      if (token.l1Token !== s.token!.target || token.amount !== TOKEN_WITHDRAWAL) {
        throw new ScenarioCheckError(`the DEMO withdrawal was logged as ${token.amount} of ${token.l1Token}`);
      }
      s.detail(`withdrawals: L2→L1 messages ${s.withdrawals.map((w) => w.sequence).join(", ")}`);
    },
  },
  {
    title: "bob, through his own gateway token, sees neither alice's L2 balance nor her withdrawals; she does",
    run: async (s) => {
      let refusal: unknown;
      try {
        const balance = await s.bobL2.getBalance(s.alice);
        throw new ScenarioCheckError(`bob read alice's L2 balance through the gateway: ${balance} wei`);
      } catch (e) {
        if (e instanceof ScenarioCheckError) throw e;
        refusal = e;
      }
      const message = refusal instanceof Error ? refusal.message : String(refusal);
      if (!/readable only by that account/.test(message)) {
        throw new ScenarioCheckError(`bob asking alice's L2 balance: expected the enclave's refusal, got: ${message}`);
      }
      s.detail(
        `ok: bob asking alice's balance is refused: ${/not authorized:[^("]*/.exec(message)?.[0].trim() ?? message}`,
      );
      const l2Bridge = L2Bridge__factory.connect(L2Predeploys.bridge);
      const blocks = await Promise.all(s.withdrawals.map((w) => s.l2.getTransactionReceipt(w.l2TxHash)));
      const filter = {
        address: L2Predeploys.bridge,
        topics: await l2Bridge.filters.WithdrawalInitiated(undefined, s.alice).getTopicFilter(),
        fromBlock: Math.min(...blocks.map((r) => r?.blockNumber ?? s.withdrawalBlock)),
        toBlock: s.withdrawalBlock,
      };
      const [alices, bobs] = await Promise.all([s.l2.getLogs(filter), s.bobL2.getLogs(filter)]);
      const privacy: ScenarioPrivacy = {
        bobReadsAliceBalance: message,
        aliceWithdrawalLogs: alices.map((l) => l.transactionHash),
        bobWithdrawalLogs: bobs.map((l) => l.transactionHash),
      };
      s.privacy = privacy;
      const expected = s.withdrawals.map((w) => w.l2TxHash);
      if (privacy.aliceWithdrawalLogs.join() !== expected.join()) {
        throw new ScenarioCheckError(
          `alice's eth_getLogs of her WithdrawalInitiated events: expected ${expected.join(", ")}, found [${privacy.aliceWithdrawalLogs.join(", ")}]`,
        );
      }
      s.detail(`ok: alice's eth_getLogs gives her ${alices.length} WithdrawalInitiated events`);
      if (bobs.length !== 0) {
        throw new ScenarioCheckError(
          `bob's eth_getLogs gave him ${bobs.length} of alice's WithdrawalInitiated events (${privacy.bobWithdrawalLogs.join(", ")})`,
        );
      }
      s.detail(`ok: bob's eth_getLogs over the same blocks gives him none of them`);
    },
  },
  {
    title: "the rollup with the withdrawals lands on L1 (RollupAdded, tracked by the withdrawal-processor)",
    run: async (s) => {
      const statuses = await s.withStatuses("the withdrawal-processor to track both withdrawals", (st) =>
        st.every((w) => w.rollupHash !== ""),
      );
      for (const { withdrawal, status: st } of statuses) {
        withdrawal.rollupHash = st.rollupHash;
        s.detail(
          `withdrawal ${st.sequence}: rollup ${st.rollupHash}, ${st.status}, relayable from ${new Date(st.activatesAt * 1000).toISOString()}`,
        );
      }
    },
  },
  {
    title: "time travel past the challenge period (evm_increaseTime + evm_mine)",
    run: async (s) => {
      const seconds = Number(s.devnet.deployment.parameters.challengePeriod) + 1;
      await jsonRpc(s.devnet.l1Url, "evm_increaseTime", [seconds]);
      await jsonRpc(s.devnet.l1Url, "evm_mine", []);
      const block = await s.l1.getBlock("latest");
      s.detail(
        `L1 time moved ${seconds} s ahead: block ${block?.number} at ${new Date(Number(block?.timestamp) * 1000).toISOString()}`,
      );
    },
  },
  {
    title: "the withdrawal-processor relays the withdrawals (WithdrawalFinalized on L1)",
    run: async (s) => {
      const statuses = await s.withStatuses("both withdrawals relayed", (st) =>
        st.every((w) => w.status === "relayed"),
      );
      const messenger = CrossChainMessenger__factory.connect(s.devnet.addresses.CrossChainMessenger, s.l1);
      const fromBlock = s.devnet.deployment.deploymentBlock;
      for (const { withdrawal: w, status: st } of statuses) {
        w.relayTxHash = st.txHash ?? "";
        const relayed = await messenger.queryFilter(messenger.filters.MessageRelayed(undefined, w.sequence), fromBlock);
        const failed = await messenger.queryFilter(
          messenger.filters.MessageRelayFailed(undefined, w.sequence),
          fromBlock,
        );
        w.relayedEvents = relayed.length;
        w.relayFailedEvents = failed.length;
        w.messageHash = relayed[0]?.topics[1] ?? "";
        if (relayed.length !== 1) {
          throw new ScenarioCheckError(
            `withdrawal ${w.sequence}: expected 1 MessageRelayed event on L1, found ${relayed.length}`,
          );
        }
        if (w.messageHash !== st.leaf) {
          throw new ScenarioCheckError(
            `withdrawal ${w.sequence}: MessageRelayed is for leaf ${w.messageHash}, the withdrawal-processor has ${st.leaf}`,
          );
        }
        s.detail(
          `withdrawal ${st.sequence}: relayed in tx ${st.txHash ?? "(unknown)"} (message ${w.messageHash}: ${relayed.length} MessageRelayed)`,
        );
      }
    },
  },
  {
    title: "L1 balances are right to the wei",
    run: async (s) => {
      const eth = await s.l1.getBalance(s.alice);
      s.l1EthAfter = eth;
      const spent = s.transactions.reduce((sum, t) => sum + t.value + t.gasCost, 0n);
      s.expectEqual(
        "alice's L1 ETH (start - 10 deposited - gas and fees + 2 withdrawn)",
        eth,
        s.l1EthBefore - spent + ETH_WITHDRAWAL,
      );
      const tokens = await s.token!.balanceOf(s.alice);
      s.l1TokenAfter = tokens;
      if (tokens !== TOKEN_MINT - TOKEN_DEPOSIT + TOKEN_WITHDRAWAL) {
        throw new ScenarioCheckError(`alice's L1 DEMO: expected 940, found ${formatUnits(tokens, 18)}`);
      }
      s.detail(`ok: alice's L1 DEMO = ${formatUnits(tokens, 18)} (1000 minted - 100 deposited + 40 withdrawn)`);
    },
  },
];

/** With a validator: it re-executed the rolled-up batches to the same L2 blocks. */
const VALIDATOR_STEP: ScenarioStep = {
  title: "the validator re-executed the rollups from L1 to the same L2 block hash",
  run: async (s) => {
    const url = s.devnet.validatorL2Url!;
    const block = s.withdrawalBlock;
    const hashAt = async (rpc: string) =>
      ((await jsonRpc(rpc, "eth_getBlockByNumber", [`0x${block.toString(16)}`, false])) as { hash: string } | null)
        ?.hash;
    const replayed = await s.waitFor(`L2 block ${block} on the validator`, () => hashAt(url), 120_000);
    const sequenced = await hashAt(s.devnet.l2Url);
    s.validator = { block, sequencerHash: sequenced ?? "", validatorHash: replayed };
    if (replayed !== sequenced) {
      throw new ScenarioCheckError(`L2 block ${block}: the sequencer has ${sequenced}, the validator ${replayed}`);
    }
    s.detail(`ok: L2 block ${block} is ${replayed} on both the sequencer and the validator`);
  },
};

/**
 * Runs the bridge scenario (see the module comment) against `devnet`. Resolves with its figures when
 * every check held; rejects with a ScenarioCheckError naming the first check that did not (or with the
 * error of a transaction or RPC call that failed).
 */
export async function runBridgeScenario(
  devnet: Devnet,
  options: BridgeScenarioOptions = {},
): Promise<BridgeScenarioResult> {
  const validator = options.validator ?? devnet.validatorL2Url !== undefined;
  if (validator && devnet.validatorL2Url === undefined) {
    throw new ScenarioCheckError("the validator step was asked for, but the devnet runs no validator");
  }
  const scenario = new Scenario(devnet, options.print ?? (() => {}), options.timeoutMs);
  const started = Date.now();
  try {
    const steps = validator ? [...STEPS, VALIDATOR_STEP] : STEPS;
    for (const [i, step] of steps.entries()) {
      scenario.out(`step ${i + 1}: ${step.title}`);
      await step.run(scenario);
    }
    return scenario.result(Date.now() - started);
  } finally {
    scenario.close();
  }
}
