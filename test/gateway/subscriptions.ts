/**
 * Subscriptions over the gateway's WebSocket: an unchanged ethers WebSocketProvider gets newHeads and
 * contract events; a `logs` subscription sees the user's own events and not another user's, in order,
 * none twice, none missed while the enclave was unreachable; the errors of subscriptions.
 */
import { expect } from "chai";
import {
  type BaseWallet,
  Contract,
  ContractFactory,
  type TransactionReceipt,
  Wallet,
  WebSocketProvider,
  id,
  zeroPadValue,
} from "ethers";
import hre from "hardhat";
import WebSocket from "ws";

import type { Gateway } from "../../gateway/gateway.js";
import { GatewayErrorCodes } from "../../gateway/rpc/jsonrpc.js";
import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import { at } from "../../testing/defined.js";
import { MIN_FEE, type Stack, api, joinAndBind, rpc, startStack, until } from "../../testing/gateway-stack.js";

const TRANSFER = id("Transfer(address,address,uint256)");

/** A bare JSON-RPC WebSocket client: requests by id, and every notification kept. */
class RawClient {
  readonly notifications: { subscription: string; result: Record<string, unknown> }[] = [];
  readonly #pending = new Map<
    number,
    (answer: { result?: unknown; error?: { code: number; message: string } }) => void
  >();
  #id = 0;
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as {
        id?: number;
        method?: string;
        params?: { subscription: string; result: Record<string, unknown> };
      };
      if (message.method === "eth_subscription") this.notifications.push(message.params!);
      else this.#pending.get(message.id!)?.(message as { result?: unknown });
    });
    this.closed = new Promise((resolve) =>
      socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static async open(url: string): Promise<RawClient> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    return new RawClient(socket);
  }

  request(
    method: string,
    params: unknown[] = [],
  ): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
    const requestId = ++this.#id;
    return new Promise((resolve) => {
      this.#pending.set(requestId, resolve);
      this.socket.send(JSON.stringify({ jsonrpc: "2.0", id: requestId, method, params }));
    });
  }

  of(subscription: unknown): Record<string, unknown>[] {
    return this.notifications.filter((n) => n.subscription === subscription).map((n) => n.result);
  }

  close(): void {
    this.socket.close();
  }
}

describe("gateway: subscriptions over WebSocket", function () {
  this.timeout(120_000);

  let stack: Stack;
  let gateway: Gateway;
  const alice = Wallet.createRandom();
  const bob = Wallet.createRandom();
  let aliceToken: string;
  let bobToken: string;
  let token: Contract;
  const providers: WebSocketProvider[] = [];
  const clients: RawClient[] = [];
  const wsProvider = (t: string) => {
    const p = new WebSocketProvider(gateway.rpcUrl(t, "ws"));
    providers.push(p);
    return p;
  };
  const client = async (t: string) => {
    const c = await RawClient.open(gateway.rpcUrl(t, "ws"));
    clients.push(c);
    return c;
  };
  /** Mints `amount` to `to` with `minter`'s key, sent straight to the sequencer's mempool (no RPC needed). */
  let nonces: Map<string, number>;
  const mint = async (minter: BaseWallet, to: string, amount: bigint): Promise<string> => {
    const nonce = nonces.get(minter.address) ?? 0;
    nonces.set(minter.address, nonce + 1);
    const raw = await minter.signTransaction({
      chainId: L2_CHAIN_ID,
      nonce,
      to: await token.getAddress(),
      data: token.interface.encodeFunctionData("mint", [to, amount]),
      gasLimit: 100_000,
      gasPrice: MIN_FEE,
    });
    return stack.sequencer.mempool.add(raw);
  };
  const receipt = (hash: string) =>
    until(
      `receipt ${hash}`,
      async () =>
        ((await stack.chain.provider.request({
          method: "eth_getTransactionReceipt",
          params: [hash],
        })) as TransactionReceipt | null) ?? undefined,
    );

  before(async () => {
    stack = await startStack();
    gateway = await stack.gateway({ GATEWAY_POLL_MS: 50 });
    await gateway.ready;
    await stack.fund(alice.address);
    await stack.fund(bob.address);
    aliceToken = await joinAndBind(gateway, [alice]);
    bobToken = await joinAndBind(gateway, [bob]);
    const artifact = await hre.artifacts.readArtifact("TestToken");
    const raw = await alice.signTransaction({
      chainId: L2_CHAIN_ID,
      nonce: 0,
      data: (await new ContractFactory(artifact.abi, artifact.bytecode).getDeployTransaction("Veil", "VL", 18)).data,
      gasLimit: 3_000_000,
      gasPrice: MIN_FEE,
    });
    const hash = await stack.sequencer.mempool.add(raw);
    const deployed = (await receipt(hash)) as unknown as { contractAddress: string };
    token = new Contract(deployed.contractAddress, artifact.abi);
    nonces = new Map([[alice.address, 1]]);
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const p of providers) await p.destroy();
    await stack?.close();
  });

  it("an ethers WebSocketProvider gets every new block (newHeads), in order, once", async () => {
    const provider = wsProvider(aliceToken);
    expect((await provider.getNetwork()).chainId).to.equal(L2_CHAIN_ID);
    const blocks: number[] = [];
    await provider.on("block", (n: number) => void blocks.push(n));
    const start = await provider.getBlockNumber();
    for (let i = 0; i < 4; i++) await receipt(await mint(alice, alice.address, 1n));
    const end = Number(await stack.chain.provider.request({ method: "eth_blockNumber", params: [] }));
    await until("the blocks up to " + end, () => blocks.includes(end));
    await provider.removeAllListeners();
    const first = at(blocks, 0, "block notification");
    const expected = Array.from({ length: end - first + 1 }, (_, i) => first + i);
    expect(blocks).to.deep.equal(expected);
    expect(blocks[0]).to.be.at.most(start + 1);
  });

  it("a newHeads notification carries the public block header", async () => {
    const c = await client(aliceToken);
    const sub = (await c.request("eth_subscribe", ["newHeads"])).result;
    const hash = await mint(alice, alice.address, 1n);
    const mined = (await receipt(hash)) as unknown as { blockNumber: string; blockHash: string };
    const header = await until("the header", () => c.of(sub).find((h) => h.number === mined.blockNumber));
    expect(header.hash).to.equal(mined.blockHash);
    expect(header).to.not.have.property("transactions");
    expect((await c.request("eth_unsubscribe", [sub])).result).to.equal(true);
    expect((await c.request("eth_unsubscribe", [sub])).result).to.equal(false);
  });

  it("ethers contract events over WebSocket: alice sees her Transfer, not bob's", async () => {
    const provider = wsProvider(aliceToken);
    const listening = token.connect(provider) as Contract;
    const seen: string[] = [];
    const logSubscriptions = async () =>
      (await gateway.metrics.subscriptions.get()).values.find((v) => v.labels.kind === "logs")?.value ?? 0;
    const before = await logSubscriptions();
    await listening.on("Transfer", (_from: string, to: string) => void seen.push(to));
    await until("ethers' logs subscription on the gateway", async () => (await logSubscriptions()) > before);
    await receipt(await mint(bob, bob.address, 5n));
    await receipt(await mint(alice, alice.address, 6n));
    await until("alice's event", () => seen.length > 0);
    await new Promise((r) => setTimeout(r, 300));
    await listening.removeAllListeners();
    expect(seen).to.deep.equal([alice.address]);
  });

  it("a logs subscription gets the user's own events in order, none twice, none missed while the enclave was down", async () => {
    const aliceClient = await client(aliceToken);
    const bobClient = await client(bobToken);
    const filter = { address: await token.getAddress(), topics: [TRANSFER] };
    const aliceSub = (await aliceClient.request("eth_subscribe", ["logs", filter])).result;
    const bobSub = (await bobClient.request("eth_subscribe", ["logs", filter])).result;
    expect(aliceSub).to.be.a("string");

    const hashes: { to: string; hash: string }[] = [];
    for (let i = 0; i < 3; i++) {
      hashes.push({ to: alice.address, hash: await mint(alice, alice.address, BigInt(10 + i)) });
      hashes.push({ to: bob.address, hash: await mint(bob, bob.address, BigInt(20 + i)) });
    }
    await receipt(hashes.at(-1)!.hash);
    await until("alice's first three events", () => aliceClient.of(aliceSub).length >= 3);

    // The enclave goes away; events keep happening (sent straight to the sequencer); it comes back.
    await stack.node.close();
    for (let i = 0; i < 3; i++)
      hashes.push({ to: alice.address, hash: await mint(alice, alice.address, BigInt(30 + i)) });
    await receipt(hashes.at(-1)!.hash);
    await until("the gateway to notice the enclave is gone", () => gateway.poller.status.lastError !== undefined);
    await new Promise((r) => setTimeout(r, 300)); // a few failed poll rounds
    expect(aliceClient.of(aliceSub)).to.have.length(3);
    stack.node = await stack.serve(stack.enclave, stack.node.port);
    hashes.push({ to: alice.address, hash: await mint(alice, alice.address, 40n) });
    await receipt(hashes.at(-1)!.hash);
    await until("alice's seven events", () => aliceClient.of(aliceSub).length >= 7, 15_000);
    await until("bob's three events", () => bobClient.of(bobSub).length >= 3);
    await new Promise((r) => setTimeout(r, 300));

    const alices = aliceClient.of(aliceSub);
    expect(alices.map((l) => l.transactionHash)).to.deep.equal(
      hashes.filter((h) => h.to === alice.address).map((h) => h.hash),
    );
    const aliceTopic = zeroPadValue(alice.address, 32).toLowerCase();
    expect(alices.every((l) => (l.topics as string[])[2] === aliceTopic)).to.equal(true);
    expect(bobClient.of(bobSub).map((l) => l.transactionHash)).to.deep.equal(
      hashes.filter((h) => h.to === bob.address).map((h) => h.hash),
    );
  });

  it("refuses what it cannot serve: subscriptions over HTTP, unknown kinds, pending transactions, no token", async () => {
    const overHttp = await rpc(gateway.rpcUrl(aliceToken), "eth_subscribe", ["newHeads"]);
    expect(overHttp.error?.message).to.match(/subscriptions need a WebSocket/);
    const c = await client(aliceToken);
    expect((await c.request("eth_subscribe", ["syncing"])).error?.message).to.match(/unknown subscription "syncing"/);
    expect((await c.request("eth_subscribe", ["newPendingTransactions"])).error?.message).to.match(/private/);
    expect((await c.request("eth_subscribe", ["logs", { address: "0x12" }])).error?.code).to.equal(-32602);

    const stranger = await client("ef".repeat(20));
    const refused = await stranger.request("eth_subscribe", ["newHeads"]);
    expect(refused.error?.code).to.equal(GatewayErrorCodes.noUser);
    expect(refused.error?.message).to.match(/GET \/v1\/join/);
  });

  it("revoking the token closes its WebSocket connections", async () => {
    const carol = Wallet.createRandom();
    const carolToken = await joinAndBind(gateway, [carol]);
    const c = await client(carolToken);
    expect((await c.request("eth_chainId")).result).to.equal("0x1141");
    expect((await api(gateway, `/v1/revoke?token=${carolToken}`, {})).status).to.equal(200);
    const closed = await c.closed;
    expect(closed).to.deep.equal({ code: 4001, reason: "the token was revoked" });
  });
});
