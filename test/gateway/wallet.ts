/**
 * An unchanged ethers JsonRpcProvider and Wallet on a user's gateway URL, against a real stack (L1 with
 * the attested genesis enclave, the sequencer's L2 endpoint with veil_private): chain id, balances,
 * nonces, fees, a transfer, a contract deployed and called, receipts, eth_call, estimateGas, getLogs,
 * batches, event listeners (polling filters) — and each user seeing only their own data.
 */
import { expect } from "chai";
import { Contract, ContractFactory, JsonRpcProvider, Transaction, Wallet, parseEther } from "ethers";
import hre from "hardhat";

import type { Gateway } from "../../gateway/gateway.js";
import { GatewayErrorCodes } from "../../gateway/rpc/jsonrpc.js";
import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import { take } from "../../testing/defined.js";
import { MIN_FEE, type Stack, joinAndBind, rpc, startStack, until } from "../../testing/gateway-stack.js";

describe("gateway: an unchanged ethers wallet on the token URL", function () {
  this.timeout(120_000);

  let stack: Stack;
  let gateway: Gateway;
  const alice = Wallet.createRandom();
  const bob = Wallet.createRandom();
  let aliceToken: string;
  let bobToken: string;
  const providers: JsonRpcProvider[] = [];
  /** ethers as a dApp uses it; its 250 ms cache of identical calls is off, as blocks come every 100 ms here. */
  const providerOf = (token: string) => {
    const p = new JsonRpcProvider(gateway.rpcUrl(token), undefined, { pollingInterval: 100, cacheTimeout: -1 });
    providers.push(p);
    return p;
  };
  let token: Contract;

  before(async () => {
    stack = await startStack();
    gateway = await stack.gateway();
    await gateway.ready;
    await stack.fund(alice.address);
    await stack.fund(bob.address);
    aliceToken = await joinAndBind(gateway, [alice]);
    bobToken = await joinAndBind(gateway, [bob]);
  });

  after(async () => {
    for (const p of providers) p.destroy();
    await stack?.close();
  });

  it("reads the chain id, its own balance and nonce, fee data and the block number", async () => {
    const provider = providerOf(aliceToken);
    expect((await provider.getNetwork()).chainId).to.equal(L2_CHAIN_ID);
    expect(await provider.getBalance(alice.address)).to.equal(parseEther("10"));
    expect(await provider.getTransactionCount(alice.address)).to.equal(0);
    expect((await provider.getFeeData()).gasPrice).to.equal(MIN_FEE);
    expect(await provider.getBlockNumber()).to.be.greaterThan(0);
    expect(await provider.send("eth_accounts", [])).to.deep.equal([]);
    expect(await provider.send("net_version", [])).to.equal("4417");
  });

  it("sends a transfer and gets its receipt and transaction", async () => {
    const provider = providerOf(aliceToken);
    const carol = Wallet.createRandom().address;
    const sent = await alice.connect(provider).sendTransaction({ to: carol, value: parseEther("1") });
    const receipt = await sent.wait();
    expect(receipt?.status).to.equal(1);
    expect(await stack.balance(carol)).to.equal(parseEther("1"));
    const tx = await provider.getTransaction(sent.hash);
    expect(tx?.from).to.equal(alice.address);
    expect((await provider.getTransactionReceipt(sent.hash))?.blockNumber).to.equal(receipt?.blockNumber);
    expect(await provider.getTransactionCount(alice.address, "latest")).to.equal(1);
    expect(await provider.send("veil_getTransactionStatus", [sent.hash])).to.deep.include({ status: "included" });
  });

  it("deploys a contract, calls it (eth_call, estimateGas) and reads its own logs", async () => {
    const provider = providerOf(aliceToken);
    const wallet = alice.connect(provider);
    const artifact = await hre.artifacts.readArtifact("TestToken");
    const deployed = await new ContractFactory(artifact.abi, artifact.bytecode, wallet).deploy("Veil", "VL", 18);
    await deployed.waitForDeployment();
    token = new Contract(await deployed.getAddress(), artifact.abi, wallet);
    expect(await provider.getCode(await token.getAddress())).to.not.equal("0x");
    const gas = await token.getFunction("mint").estimateGas(alice.address, 500n);
    expect(gas).to.be.greaterThan(21_000n);
    const minted = await (await token.getFunction("mint")(alice.address, 500n)).wait();
    expect(minted?.status).to.equal(1);
    expect(await token.getFunction("balanceOf")(alice.address)).to.equal(500n);
    expect(minted?.logs.length).to.equal(1);

    const logs = await provider.getLogs({ address: await token.getAddress(), fromBlock: 0 });
    expect(logs.map((l) => l.transactionHash)).to.deep.equal([minted!.hash]);
  });

  it("another user sees neither alice's balance nor her events; alice sees only her own", async () => {
    const bobs = providerOf(bobToken);
    const bobToken_ = token.connect(bob.connect(bobs)) as Contract;
    const mintedToBob = await (await bobToken_.getFunction("mint")(bob.address, 7n)).wait();

    let refused: unknown;
    try {
      await bobs.getBalance(alice.address);
    } catch (e) {
      refused = e;
    }
    expect(String((refused as Error)?.message)).to.match(/readable only by that account/);
    const bobsLogs = await bobs.getLogs({ address: await token.getAddress(), fromBlock: 0 });
    expect(bobsLogs.map((l) => l.transactionHash)).to.deep.equal([mintedToBob!.hash]);

    const alices = providerOf(aliceToken);
    const alicesLogs = await alices.getLogs({ address: await token.getAddress(), fromBlock: 0 });
    expect(alicesLogs.map((l) => l.transactionHash)).to.not.include(mintedToBob!.hash);
    // Bob's receipt, asked by alice: not hers to see.
    expect(await alices.getTransactionReceipt(mintedToBob!.hash)).to.equal(null);
  });

  it("answers a batch (ethers batches concurrent calls), sending its transactions in order", async () => {
    const url = gateway.rpcUrl(aliceToken);
    const nonce = Number((await rpc(url, "eth_getTransactionCount", [alice.address, "pending"])).result);
    const sign = (n: number) =>
      alice.signTransaction({
        chainId: L2_CHAIN_ID,
        nonce: n,
        to: bob.address,
        value: 1n,
        gasLimit: 21_000,
        gasPrice: MIN_FEE,
      });
    const batch = [
      { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] },
      { jsonrpc: "2.0", id: 2, method: "eth_sendRawTransaction", params: [await sign(nonce)] },
      { jsonrpc: "2.0", id: 3, method: "eth_sendRawTransaction", params: [await sign(nonce + 1)] },
      { jsonrpc: "2.0", id: 4, method: "eth_getBalance", params: [alice.address, "latest"] },
      { jsonrpc: "2.0", id: "five", method: "no_such_method", params: [] },
    ];
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(batch),
    });
    const answers = (await response.json()) as { id: unknown; result?: unknown; error?: { code: number } }[];
    expect(answers.map((a) => a.id)).to.deep.equal([1, 2, 3, 4, "five"]);
    const [chainId, first, second, , unknown] = take(answers, 5, "answers");
    expect(chainId.result).to.equal("0x1141");
    expect(first.result).to.equal(Transaction.from(await sign(nonce)).hash);
    expect(second.result).to.equal(Transaction.from(await sign(nonce + 1)).hash);
    expect(unknown.error?.code).to.equal(-32601);

    const provider = providerOf(aliceToken);
    const [balance, count, block] = await Promise.all([
      provider.getBalance(alice.address),
      provider.getTransactionCount(alice.address, "pending"),
      provider.getBlockNumber(),
    ]);
    expect(balance > 0n && count === nonce + 2 && block > 0).to.equal(true);
  });

  it("delivers contract events to a listener over HTTP (eth_newFilter / eth_getFilterChanges), its own only", async () => {
    const provider = providerOf(aliceToken);
    const listening = token.connect(provider) as Contract;
    const seen: string[] = [];
    await listening.on("Transfer", (_from: string, to: string) => void seen.push(to));
    await until("ethers' filter installed on the gateway", () => gateway.filters.size > 0);
    await (
      await (token.connect(bob.connect(providerOf(bobToken))) as Contract).getFunction("mint")(bob.address, 1n)
    ).wait();
    await (await (token.connect(alice.connect(provider)) as Contract).getFunction("mint")(alice.address, 2n)).wait();
    await until("alice's Transfer event", () => seen.length > 0, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    await listening.removeAllListeners();
    expect(seen).to.deep.equal([alice.address]);
  });

  it("refuses a missing or unknown token with an error saying to GET /v1/join", async () => {
    const noToken = await rpc(`${gateway.url}/v1/`, "eth_chainId");
    expect(noToken.error?.code).to.equal(GatewayErrorCodes.noUser);
    expect(noToken.error?.message).to.match(/no token in the URL: GET \/v1\/join/);
    const unknown = await rpc(gateway.rpcUrl("ab".repeat(20)), "eth_blockNumber");
    expect(unknown.error?.message).to.match(/unknown token .*GET \/v1\/join/);

    const provider = new JsonRpcProvider(gateway.rpcUrl("cd".repeat(20)), L2_CHAIN_ID, { staticNetwork: true });
    try {
      let error: unknown;
      try {
        await provider.getBlockNumber();
      } catch (e) {
        error = e;
      }
      expect(String((error as Error)?.message)).to.match(/GET \/v1\/join/);
    } finally {
      provider.destroy();
    }
  });

  it("an anonymous user (no account bound) reads public data only", async () => {
    const anonymous = (await (await fetch(`${gateway.url}/v1/join`)).json()) as { token: string };
    const provider = providerOf(anonymous.token);
    expect(await provider.getBlockNumber()).to.be.greaterThan(0);
    let error: unknown;
    try {
      await provider.getBalance(alice.address);
    } catch (e) {
      error = e;
    }
    expect(String((error as Error)?.message)).to.match(/readable only by that account/);
    expect(await provider.getLogs({ address: await token.getAddress(), fromBlock: 0 })).to.deep.equal([]);
  });
});
