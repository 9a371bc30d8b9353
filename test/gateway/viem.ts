/**
 * What a wallet sees through the gateway, with viem (the client that found issue 10's bugs) and ethers:
 * receipts that account for every wei (the L1 data fee included, for transaction types 0, 1 and 2),
 * privacy refusals presented as refusals, transactions refused at admission that the mempool would only
 * drop later, and a logs subscription that starts after it was made.
 */
import { expect } from "chai";
import { type BaseWallet, Contract, JsonRpcProvider, Wallet, id } from "ethers";
import hre from "hardhat";
import {
  type Hex,
  type PublicClient,
  BaseError,
  UnauthorizedProviderError,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { chainConfig } from "viem/op-stack";
import WebSocket from "ws";

import type { Gateway } from "../../gateway/gateway.js";
import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import { MIN_FEE, type Stack, joinAndBind, startStack, until } from "../../testing/gateway-stack.js";

const veilnet = defineChain({
  ...chainConfig,
  id: Number(L2_CHAIN_ID),
  name: "Veilnet",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: ["http://127.0.0.1"] } },
});

interface RawReceipt {
  gasUsed: string;
  effectiveGasPrice: string;
  l1Fee?: string;
  l1GasUsed?: string;
  l1GasPrice?: string;
  l1FeeScalar?: string;
  blockNumber: string;
}

describe("gateway: what a wallet sees (viem and ethers)", function () {
  this.timeout(120_000);

  let stack: Stack;
  let gateway: Gateway;
  const alice = Wallet.createRandom();
  const bob = Wallet.createRandom();
  let url: string;
  let client: PublicClient;

  before(async () => {
    stack = await startStack();
    // A slow poll: the head the gateway has cached is several batches old when a subscription is made.
    gateway = await stack.gateway({ GATEWAY_POLL_MS: 3000 });
    await gateway.ready;
    await stack.fund(alice.address);
    await stack.fund(bob.address);
    url = gateway.rpcUrl(await joinAndBind(gateway, [alice]));
    client = createPublicClient({ chain: veilnet, transport: http(url) }) as PublicClient;
  });

  after(async () => {
    await stack?.close();
  });

  const wallet = () =>
    createWalletClient({ chain: veilnet, transport: http(url), account: privateKeyToAccount(alice.privateKey as Hex) });

  /** Sends with viem, waits for the receipt, and checks the balance change against the receipt alone. */
  async function reconcile(send: () => Promise<Hex>, value: bigint): Promise<RawReceipt> {
    const before = await client.getBalance({ address: alice.address as Hex });
    const hash = await send();
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    expect(receipt.status).to.equal("success");
    const raw = (await client.request({
      method: "eth_getTransactionReceipt",
      params: [hash],
    })) as unknown as RawReceipt;
    const after = await client.getBalance({ address: alice.address as Hex, blockNumber: receipt.blockNumber });
    const l1Fee = BigInt(raw.l1Fee!);
    expect(l1Fee > 0n, "the L1 data fee is charged").to.equal(true);
    expect(l1Fee).to.equal(
      (BigInt(raw.l1GasUsed!) * BigInt(raw.l1GasPrice!) * BigInt(Math.round(Number(raw.l1FeeScalar!) * 100))) / 100n,
    );
    // viem's OP Stack formatter reads the same fields.
    expect((receipt as unknown as { l1Fee: bigint }).l1Fee).to.equal(l1Fee);
    expect(before - after).to.equal(value + receipt.gasUsed * receipt.effectiveGasPrice + l1Fee);
    return raw;
  }

  it("a receipt accounts for every wei, the L1 data fee included: types 0, 1 and 2 (viem)", async () => {
    const to = bob.address as Hex;
    await reconcile(
      () => wallet().sendTransaction({ type: "legacy", to, value: 1000n, gas: 21_000n, gasPrice: MIN_FEE }),
      1000n,
    );
    await reconcile(
      () =>
        wallet().sendTransaction({
          type: "eip2930",
          to,
          value: 2000n,
          gas: 30_000n,
          gasPrice: MIN_FEE,
          accessList: [{ address: to, storageKeys: [] }],
        }),
      2000n,
    );
    const raw = await reconcile(
      () =>
        wallet().sendTransaction({
          type: "eip1559",
          to,
          value: 3000n,
          gas: 21_000n,
          maxFeePerGas: MIN_FEE * 2n,
          maxPriorityFeePerGas: MIN_FEE,
        }),
      3000n,
    );
    expect(raw.l1FeeScalar).to.equal("1");
    expect(raw.l1GasUsed).to.match(/^0x[0-9a-f]+$/);
  });

  it("a receipt accounts for every wei with ethers too (type 2)", async () => {
    const provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1, pollingInterval: 50 });
    const signer = alice.connect(provider);
    const before = await provider.getBalance(alice.address);
    const sent = await signer.sendTransaction({
      type: 2,
      to: bob.address,
      value: 5000n,
      gasLimit: 21_000n,
      maxFeePerGas: MIN_FEE * 2n,
      maxPriorityFeePerGas: MIN_FEE,
    });
    const receipt = (await sent.wait())!;
    const raw = (await provider.send("eth_getTransactionReceipt", [sent.hash])) as RawReceipt;
    const after = await provider.getBalance(alice.address, receipt.blockNumber);
    expect(before - after).to.equal(5000n + receipt.gasUsed * receipt.gasPrice + BigInt(raw.l1Fee!));
    provider.destroy();
  });

  it("a privacy refusal is a refusal in viem (UnauthorizedProviderError) and in ethers, with its reason", async () => {
    const error = await client.getBalance({ address: bob.address as Hex }).then(
      () => undefined,
      (e: unknown) => e as BaseError,
    );
    expect(error, "refused").to.not.equal(undefined);
    expect(error!.walk((e) => e instanceof UnauthorizedProviderError)).to.be.instanceOf(UnauthorizedProviderError);
    expect(error!.message).to.contain("has not been authorized");
    expect(error!.message.toLowerCase()).to.contain(`not authorized: the balance of ${bob.address.toLowerCase()}`);
    expect(error!.message).to.not.match(/not found/i);
    const provider = new JsonRpcProvider(url);
    const refused = await provider.getBalance(bob.address).then(
      () => undefined,
      (e: unknown) => e as { error?: { code: number; message: string } },
    );
    expect(refused?.error?.code).to.equal(4100);
    expect(refused?.error?.message.toLowerCase()).to.contain(
      `not authorized: the balance of ${bob.address.toLowerCase()}`,
    );
    provider.destroy();
  });

  it("a transaction below its intrinsic gas is refused at admission in geth's words", async () => {
    const nonce = await client.getTransactionCount({ address: alice.address as Hex, blockTag: "pending" });
    const tooLow = async (tx: Parameters<BaseWallet["signTransaction"]>[0]) =>
      client
        .sendRawTransaction({
          serializedTransaction: (await alice.signTransaction({ chainId: L2_CHAIN_ID, nonce, ...tx })) as Hex,
        })
        .then(
          () => "accepted",
          (e: unknown) => (e as BaseError).message,
        );
    expect(
      await tooLow({
        type: 2,
        to: bob.address,
        gasLimit: 20_000,
        maxFeePerGas: MIN_FEE,
        maxPriorityFeePerGas: MIN_FEE,
      }),
    ).to.contain("intrinsic gas too low: have 20000, want 21000");
    // Calldata: 21,000 + 100 × 16; an access list: + 2,400 + 1,900.
    expect(
      await tooLow({
        type: 2,
        to: bob.address,
        data: "0x" + "ff".repeat(100),
        gasLimit: 22_000,
        maxFeePerGas: MIN_FEE,
        maxPriorityFeePerGas: MIN_FEE,
      }),
    ).to.contain("intrinsic gas too low: have 22000, want 22600");
    expect(
      await tooLow({
        type: 1,
        to: bob.address,
        gasPrice: MIN_FEE,
        gasLimit: 25_000,
        accessList: [{ address: bob.address, storageKeys: [id("slot")] }],
      }),
    ).to.contain("intrinsic gas too low: have 25000, want 25300");
  });

  it("a logs subscription delivers nothing from blocks mined before eth_subscribe", async () => {
    const artifact = await hre.artifacts.readArtifact("TestToken");
    const deployed = await client.waitForTransactionReceipt({
      hash: await wallet().deployContract({
        abi: artifact.abi,
        bytecode: artifact.bytecode as Hex,
        args: ["Veil", "VL", 18],
        gas: 3_000_000n,
        gasPrice: MIN_FEE,
        type: "legacy",
      }),
      pollingInterval: 50,
    });
    const token = new Contract(deployed.contractAddress!, artifact.abi);
    const mint = async (amount: bigint) =>
      client.waitForTransactionReceipt({
        hash: await wallet().sendTransaction({
          type: "legacy",
          to: deployed.contractAddress!,
          data: token.interface.encodeFunctionData("mint", [alice.address, amount]) as Hex,
          gas: 100_000n,
          gasPrice: MIN_FEE,
        }),
        pollingInterval: 50,
      });
    const early = await mint(1n);
    const socket = new WebSocket(gateway.rpcUrl(await joinAndBind(gateway, [alice]), "ws"));
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const logs: { blockNumber: string; data: string }[] = [];
    socket.on("message", (data) => {
      const m = JSON.parse(data.toString()) as {
        method?: string;
        params?: { result: { blockNumber: string; data: string } };
      };
      if (m.method === "eth_subscription") logs.push(m.params!.result);
    });
    socket.send(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "eth_subscribe",
        params: ["logs", { address: deployed.contractAddress, topics: [id("Transfer(address,address,uint256)")] }],
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    const late = await mint(2n);
    await until("the late mint's log", () => logs.some((l) => BigInt(l.blockNumber) === late.blockNumber), 20_000);
    socket.close();
    expect(logs.map((l) => BigInt(l.blockNumber))).to.not.include(early.blockNumber);
    expect(logs.map((l) => BigInt(l.data))).to.deep.equal([2n]);
  });
});
