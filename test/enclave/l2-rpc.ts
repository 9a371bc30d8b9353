/**
 * The node's L2 JSON-RPC endpoint with L2_RPC_UNFILTERED (the operators' unfiltered method set) used by
 * an unchanged ethers wallet: fee data, nonces, gas estimates, sending and waiting for receipts,
 * deploying and calling a contract; the chain's dangerous `hardhat_`/`evm_` methods are not reachable
 * even then; a validator accepts no transactions. The privacy rules of the default endpoint are
 * test/enclave/privacy.ts's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { ContractFactory, JsonRpcProvider, Wallet, parseEther } from "ethers";
import hre from "hardhat";

import { DerivationLabels, derive } from "../../enclave/crypto/derive.js";
import { L2Chain } from "../../enclave/execution/l2-chain.js";
import { L2RpcServer } from "../../enclave/rpc/server.js";
import { Sequencer } from "../../enclave/sequencer/sequencer.js";
import { SequencerStore } from "../../enclave/sequencer/store.js";
import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import { deployVeilnet, initializeGenesis } from "../../testing/veilnet.js";
import { openTestSequencer } from "../../testing/l2-sequencer.js";

const MIN_FEE = 1_000_000n;

async function rawCall(
  url: string,
  method: string,
  params: unknown[] = [],
): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return (await response.json()) as { result?: unknown; error?: { code: number; message: string } };
}

describe("enclave L2 JSON-RPC", function () {
  let chain: L2Chain;
  let store: SequencerStore;
  let sequencer: Sequencer;
  let server: L2RpcServer;
  let url: string;
  let dir: string;
  let provider: JsonRpcProvider;
  const alice = Wallet.createRandom();

  before(async () => {
    const v = await deployVeilnet(await hre.network.create());
    const genesis = await initializeGenesis(v);
    dir = mkdtempSync(path.join(tmpdir(), "veilnet-rpc-"));
    ({ chain, store, sequencer } = await openTestSequencer(v, {
      dataDir: dir,
      entropy: (seq) => derive(genesis.secret, DerivationLabels.batchEntropy(seq)),
      minPriorityFee: MIN_FEE,
      batchIntervalMs: 100,
    }));
    server = new L2RpcServer({
      provider: chain.provider,
      l1Fees: chain,
      mempool: sequencer.mempool,
      minPriorityFee: MIN_FEE,
      clientVersion: "test",
      unfiltered: true,
    });
    url = await server.listen(0);
    sequencer.start();
    await (await v.bridge.connect(v.users[0]).depositNative(alice.address, { value: parseEther("3") })).wait();
    // Batches come every 100 ms here: ethers' 250 ms cache of identical requests (e.g. the pending nonce)
    // would outlive a block, so it is off.
    provider = new JsonRpcProvider(url, undefined, { pollingInterval: 50, cacheTimeout: -1 });
    for (let i = 0; i < 100 && (await provider.getBalance(alice.address)) === 0n; i++)
      await new Promise((r) => setTimeout(r, 50));
  });

  after(async () => {
    provider.destroy();
    await sequencer.stop();
    await server.close();
    store.close();
    await chain.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves chain id, balances and fee data a wallet needs", async () => {
    expect((await provider.getNetwork()).chainId).to.equal(L2_CHAIN_ID);
    expect(await provider.getBalance(alice.address)).to.equal(parseEther("3"));
    // The L2 base fee is 0, which ethers reads as "no EIP-1559": it signs legacy transactions at eth_gasPrice.
    const fees = await provider.getFeeData();
    expect(fees.gasPrice).to.equal(MIN_FEE);
  });

  it("an ethers wallet sends a transfer and deploys and calls a contract, unchanged", async () => {
    const wallet = alice.connect(provider);
    const bob = Wallet.createRandom().address;
    const sent = await wallet.sendTransaction({ to: bob, value: parseEther("0.5") });
    const receipt = await sent.wait();
    expect(receipt?.status).to.equal(1);
    expect(await provider.getBalance(bob)).to.equal(parseEther("0.5"));

    const artifact = await hre.artifacts.readArtifact("TestToken");
    const factory = new ContractFactory(artifact.abi, artifact.bytecode, wallet);
    const token = await factory.deploy("Veil Test", "VT", 18);
    await token.waitForDeployment();
    await (await token.getFunction("mint")(alice.address, 1000n)).wait();
    await (await token.getFunction("transfer")(bob, 400n)).wait();
    expect(await token.getFunction("balanceOf")(bob)).to.equal(400n);
    expect(await provider.getTransactionCount(alice.address, "pending")).to.equal(4);
  });

  it("answers a refused transaction with the mempool's reason and keeps hardhat_/evm_ methods out of reach", async () => {
    const broke = Wallet.createRandom();
    const raw = await broke.signTransaction({
      type: 2,
      chainId: L2_CHAIN_ID,
      nonce: 0,
      to: broke.address,
      gasLimit: 21000,
      maxFeePerGas: MIN_FEE,
      maxPriorityFeePerGas: MIN_FEE,
    });
    const refused = await rawCall(url, "eth_sendRawTransaction", [raw]);
    expect(refused.error?.message).to.match(/insufficient funds/);
    for (const method of ["hardhat_setBalance", "evm_mine", "hardhat_impersonateAccount", "eth_sendTransaction"]) {
      const answer = await rawCall(url, method, [alice.address, "0x1"]);
      expect(answer.error?.code, method).to.equal(-32601);
    }
    expect((await rawCall(url, "eth_getBalance", [alice.address, "latest"])).result).to.be.a("string");
    const notJson = await fetch(url, { method: "POST", body: "{" });
    expect(((await notJson.json()) as { error: { code: number } }).error.code).to.equal(-32700);
  });

  it("a validator's endpoint is read-only", async () => {
    const readOnly = new L2RpcServer({
      provider: chain.provider,
      minPriorityFee: MIN_FEE,
      clientVersion: "test",
      unfiltered: true,
    });
    const answer = await readOnly.handle({ jsonrpc: "2.0", id: 1, method: "eth_sendRawTransaction", params: ["0x00"] });
    expect("error" in answer && answer.error.message).to.match(/validator/);
  });
});
