/**
 * The privacy rules of issue 5, each shown against a real sequencer node (L2 chain, sequencer, the
 * node's endpoint) reached as the gateway reaches it: requests sealed to the RPC key the node
 * announces (protocol/private-rpc.ts), answers opened with the user's viewing key. Events are visible
 * to the accounts they name or as their contract declares; balances, nonces, transactions and
 * receipts only to their owner; storage only on transparent contracts; calls only as one's own
 * account; errors with private data in full only to their owner; blocks without their transactions;
 * forged bindings and tampered envelopes refused; and no L2 plaintext in a rollup's L1 calldata.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import {
  AbiCoder,
  type BaseWallet,
  Interface,
  Wallet,
  ZeroAddress,
  ZeroHash,
  dataSlice,
  encodeBytes32String,
  getAddress,
  getBytes,
  hexlify,
  id,
  parseEther,
  toBeHex,
  zeroPadValue,
} from "ethers";
import hre from "hardhat";

import { DerivationLabels, derive } from "../../enclave/crypto/derive.js";
import { L2Chain } from "../../enclave/execution/l2-chain.js";
import { EMPTY_BLOOM } from "../../enclave/privacy/transactions.js";
import { buildRollup, epochKey } from "../../enclave/rollup/builder.js";
import { encodeRollupContent, openRollupPayload } from "../../enclave/rollup/codec.js";
import { L2RpcServer } from "../../enclave/rpc/server.js";
import { Enclave } from "../../enclave/secret/enclave.js";
import { Sequencer } from "../../enclave/sequencer/sequencer.js";
import { SequencerStore } from "../../enclave/sequencer/store.js";
import { L2_CHAIN_ID } from "../../protocol/predeploys.js";
import {
  type AccountBinding,
  ChannelKey,
  ChannelKeys,
  PRIVATE_RPC_VERSION,
  type PrivateResponse,
  type RpcKeyAnnouncement,
  announcementSigner,
  parsePrivateResponse,
  signViewingKey,
} from "../../protocol/private-rpc.js";
import { rollupRegistryDomain } from "../../protocol/rollup.js";
import { at, flipBit } from "../../testing/defined.js";
import {
  type Veilnet,
  deployVeilnet,
  initializeGenesis,
  rollupArgs,
  writeEnclaveState,
} from "../../testing/veilnet.js";
import { openTestSequencer } from "../../testing/l2-sequencer.js";

const MIN_FEE = 1_000_000n;
const GAS_PRICE = 10n ** 9n;

type PlainAnswer = { result?: unknown; error?: { code: number; message: string; data?: unknown } };

async function plain(url: string, method: string, params: unknown[] = []): Promise<PlainAnswer> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return (await response.json()) as PlainAnswer;
}

/** A gateway user: a viewing key and the bindings of the accounts they registered with it. */
interface User {
  name: string;
  viewingKey: ChannelKey;
  keys: ChannelKeys;
  bindings: AccountBinding[];
}

describe("privacy rules of the enclave's RPC", function () {
  this.timeout(180_000);

  let v: Veilnet;
  let chain: L2Chain;
  let store: SequencerStore;
  let sequencer: Sequencer;
  let server: L2RpcServer;
  let enclave: Enclave;
  let url: string;
  let dir: string;
  let announcement: RpcKeyAnnouncement;
  let genesisSecret: string;

  const alice = Wallet.createRandom();
  const bob = Wallet.createRandom();
  const carol = Wallet.createRandom();
  const mallory = Wallet.createRandom();
  const broke = Wallet.createRandom(); // never funded
  let users: { alice: User; bob: User; carol: User; anonymous: User; broke: User };

  async function makeUser(name: string, accounts: BaseWallet[]): Promise<User> {
    const viewingKey = ChannelKey.generate();
    const bindings = await Promise.all(accounts.map((a) => signViewingKey(a, viewingKey.publicKey)));
    return { name, viewingKey, keys: ChannelKeys.forViewer(viewingKey, announcement.publicKey), bindings };
  }

  /** One request through the channel, as the gateway sends it; the opened answer. */
  async function ask(
    user: User,
    method: string,
    params: unknown[] = [],
    bindings = user.bindings,
  ): Promise<PrivateResponse> {
    const envelope = user.keys.seal("request", { method, params, bindings });
    const answer = await plain(url, "veil_private", [envelope]);
    if (answer.error !== undefined) throw new Error(`channel error: ${answer.error.message}`);
    expect(answer.result).to.be.a("string");
    return parsePrivateResponse(user.keys.open("response", answer.result as string));
  }

  async function result(user: User, method: string, params: unknown[] = []): Promise<unknown> {
    const answer = await ask(user, method, params);
    if ("error" in answer) throw new Error(`${user.name}: ${method}: ${answer.error.message}`);
    return answer.result;
  }

  async function refusal(
    user: User,
    method: string,
    params: unknown[] = [],
  ): Promise<{ code: number; message: string; data?: unknown }> {
    const answer = await ask(user, method, params);
    if (!("error" in answer)) throw new Error(`${user.name}: ${method} answered ${JSON.stringify(answer.result)}`);
    return answer.error;
  }

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null>, ms = 30_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== null) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Signs and sends a transaction of `wallet` through its user's channel; waits for its receipt. */
  async function send(
    user: User,
    wallet: BaseWallet,
    tx: { to?: string; data?: string; value?: bigint; gasLimit?: bigint },
  ): Promise<{ hash: string; raw: string; receipt: Record<string, unknown> }> {
    const nonce = Number(await result(user, "eth_getTransactionCount", [wallet.address, "pending"]));
    const raw = await wallet.signTransaction({
      type: 2,
      chainId: L2_CHAIN_ID,
      nonce,
      to: tx.to,
      data: tx.data ?? "0x",
      value: tx.value ?? 0n,
      gasLimit: tx.gasLimit ?? 3_000_000n,
      maxFeePerGas: GAS_PRICE,
      maxPriorityFeePerGas: GAS_PRICE,
    });
    const hash = (await result(user, "eth_sendRawTransaction", [raw])) as string;
    const receipt = await waitFor(
      `receipt of ${hash}`,
      async () => (await result(user, "eth_getTransactionReceipt", [hash])) as Record<string, unknown> | null,
    );
    expect(receipt.status, `transaction ${hash}`).to.equal("0x1");
    return { hash, raw, receipt };
  }

  async function deploy(
    user: User,
    wallet: BaseWallet,
    name: string,
  ): Promise<{ address: string; iface: Interface; raw: string }> {
    const artifact = await hre.artifacts.readArtifact(name);
    const sent = await send(user, wallet, { data: artifact.bytecode });
    return {
      address: getAddress(sent.receipt.contractAddress as string),
      iface: new Interface(artifact.abi),
      raw: sent.raw,
    };
  }

  /** Every transaction this test sent (for the rollup scan). */
  const sentRaw: string[] = [];
  let ledger: { address: string; iface: Interface };
  let mintHash: string;
  let sendHash: string;
  let transferHash: string;
  const note = encodeBytes32String("veilnet: a private memo");
  const transferValue = 123_456_789_012_345_678n;

  before(async () => {
    v = await deployVeilnet(await hre.network.create());
    const genesis = await initializeGenesis(v);
    genesisSecret = genesis.secret;
    dir = mkdtempSync(path.join(tmpdir(), "veilnet-privacy-"));
    // The genesis enclave (attested on L1) as the node loads it, with the network secret.
    const stateFile = path.join(dir, "enclave.json");
    writeEnclaveState(stateFile, genesis, genesis.secret);
    enclave = Enclave.load(stateFile);
    ({ chain, store, sequencer } = await openTestSequencer(v, {
      dataDir: path.join(dir, "l2-data"),
      entropy: (seq) => enclave.derive(DerivationLabels.batchEntropy(seq)),
      minPriorityFee: MIN_FEE,
      batchIntervalMs: 200,
      maxGapArrivals: 10_000,
    }));
    server = new L2RpcServer({
      provider: chain.provider,
      mempool: sequencer.mempool,
      minPriorityFee: MIN_FEE,
      clientVersion: "test",
      enclave,
    });
    url = await server.listen(0);
    sequencer.start();

    // The gateway's first step: the RPC key, announced by an enclave it checks is attested on L1.
    announcement = (await plain(url, "veil_rpcKey")).result as RpcKeyAnnouncement;
    users = {
      alice: await makeUser("alice", [alice]),
      bob: await makeUser("bob", [bob]),
      carol: await makeUser("carol", [carol]),
      anonymous: await makeUser("anonymous", []),
      broke: await makeUser("broke", [broke]),
    };

    for (const w of [alice, carol]) {
      await (await v.bridge.connect(v.users[0]).depositNative(w.address, { value: parseEther("5") })).wait();
    }
    for (const [user, w] of [
      [users.alice, alice],
      [users.carol, carol],
    ] as const) {
      await waitFor(`${user.name}'s deposit`, async () =>
        BigInt((await result(user, "eth_getBalance", [w.address, "latest"])) as string) > 0n ? true : undefined,
      );
    }

    // The test's transactions: a private ledger (default rules) used by alice, and a plain transfer to bob.
    ledger = await deploy(users.alice, alice, "PrivateLedger");
    const minted = await send(users.alice, alice, {
      to: ledger.address,
      data: ledger.iface.encodeFunctionData("mint", [alice.address, 100n]),
    });
    mintHash = minted.hash;
    const sent = await send(users.alice, alice, {
      to: ledger.address,
      data: ledger.iface.encodeFunctionData("send", [bob.address, 30n, note]),
    });
    sendHash = sent.hash;
    const transfer = await send(users.alice, alice, { to: bob.address, value: transferValue, gasLimit: 21_000n });
    transferHash = transfer.hash;
    sentRaw.push(minted.raw, sent.raw, transfer.raw);
  });

  after(async () => {
    await sequencer?.stop();
    await server?.close();
    store?.close();
    await chain?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("announces the RPC key derived from the network secret, signed by the attested enclave", async () => {
    expect(announcementSigner(announcement)).to.equal(enclave.address);
    expect(await v.enclaveRegistry.isAttested(announcement.signer)).to.equal(true);
    // The key every enclave holding the network secret derives: derive(secret, "veilnet/rpc").
    expect(announcement.publicKey).to.equal(
      ChannelKey.fromPrivateKey(derive(genesisSecret, DerivationLabels.rpc)).publicKey,
    );
  });

  describe("events", () => {
    const sentTopic = id("Sent(address,address,uint256)");
    const memoTopic = id("Memo(uint256,bytes32)");
    const logsOf = async (user: User, address: string) =>
      (await result(user, "eth_getLogs", [{ address, fromBlock: "0x0", toBlock: "latest" }])) as {
        topics: string[];
        data: string;
        transactionHash: string;
      }[];

    it("an event is visible to the accounts it names: alice and bob see their Sent, carol and nobody else do (eth_getLogs)", async () => {
      // Unfiltered, the ledger emitted three events: two Sent and a Memo naming nobody.
      const all = (await server.chain.call("eth_getLogs", [{ address: ledger.address, fromBlock: "0x0" }])) as {
        topics: string[];
      }[];
      expect(all.map((l) => l.topics[0])).to.deep.equal([sentTopic, sentTopic, memoTopic]);

      const aliceLogs = await logsOf(users.alice, ledger.address);
      expect(aliceLogs.map((l) => [l.topics[0], l.transactionHash])).to.deep.equal([
        [sentTopic, mintHash],
        [sentTopic, sendHash],
      ]);
      const bobLogs = await logsOf(users.bob, ledger.address);
      expect(bobLogs.map((l) => l.transactionHash)).to.deep.equal([sendHash]);
      expect(at(bobLogs, 0, "bob's log").topics[2]).to.equal(zeroPadValue(bob.address, 32).toLowerCase());
      expect(await logsOf(users.carol, ledger.address)).to.deep.equal([]);
      expect(await logsOf(users.anonymous, ledger.address)).to.deep.equal([]);
    });

    it("a receipt carries only the logs its reader may see, and no bloom", async () => {
      const receipt = (await result(users.alice, "eth_getTransactionReceipt", [sendHash])) as {
        logs: { topics: string[] }[];
        logsBloom: string;
      };
      expect(receipt.logs.map((l) => l.topics[0])).to.deep.equal([sentTopic]); // the Memo names nobody
      expect(receipt.logsBloom).to.equal(EMPTY_BLOOM);
      const unfiltered = (await server.chain.call("eth_getTransactionReceipt", [sendHash])) as {
        logs: unknown[];
        logsBloom: string;
      };
      expect(unfiltered.logs).to.have.length(2);
      expect(unfiltered.logsBloom).to.not.equal(EMPTY_BLOOM);
      // Bob is named in the event but did not send the transaction: he gets the event, not the receipt.
      expect(await result(users.bob, "eth_getTransactionReceipt", [sendHash])).to.equal(null);
      expect(await result(users.carol, "eth_getTransactionReceipt", [sendHash])).to.equal(null);
    });

    it("a contract's declaration decides: EVERYONE is public, SENDER and TOPIC2 replace the default, the undeclared keep it", async () => {
      const declared = await deploy(users.carol, carol, "DeclaredEvents");
      const act = await send(users.alice, alice, {
        to: declared.address,
        data: declared.iface.encodeFunctionData("act", [bob.address, carol.address, 7n]),
      });
      sentRaw.push(act.raw);
      const names = async (user: User) =>
        (await logsOf(user, declared.address)).map((l) => declared.iface.parseLog(l)!.name);
      expect(await names(users.anonymous)).to.deep.equal(["Announced"]);
      // alice sent the transaction: Pinged is declared SENDER; she is named nowhere.
      expect(await names(users.alice)).to.deep.equal(["Announced", "Pinged"]);
      // bob is topic 1 of Pinged and Shared, which are declared otherwise; Unlisted names him (default rules).
      expect(await names(users.bob)).to.deep.equal(["Announced", "Unlisted"]);
      // carol is topic 2 of Shared, declared TOPIC2.
      expect(await names(users.carol)).to.deep.equal(["Announced", "Shared"]);
      // The sender's receipt applies the same rules.
      const receipt = (await result(users.alice, "eth_getTransactionReceipt", [act.hash])) as {
        logs: { topics: string[]; data: string }[];
      };
      expect(receipt.logs.map((l) => declared.iface.parseLog(l)!.name)).to.deep.equal(["Announced", "Pinged"]);
    });

    it("a TRANSPARENT contract's events are public; a declaration that does not decode gives the default rules", async () => {
      const counter = await deploy(users.carol, carol, "TransparentCounter");
      sentRaw.push(
        (
          await send(users.carol, carol, {
            to: counter.address,
            data: counter.iface.encodeFunctionData("increment"),
            value: 5n,
          })
        ).raw,
      );
      expect(
        (await logsOf(users.anonymous, counter.address)).map((l) => counter.iface.parseLog(l)!.name),
      ).to.deep.equal(["Counted"]);

      const garbage = await deploy(users.carol, carol, "GarbageRules");
      await send(users.carol, carol, {
        to: garbage.address,
        data: garbage.iface.encodeFunctionData("flag", [bob.address]),
      });
      expect(await logsOf(users.bob, garbage.address)).to.have.length(1);
      expect(await logsOf(users.anonymous, garbage.address)).to.deep.equal([]);
      expect(await logsOf(users.carol, garbage.address)).to.deep.equal([]);
      // Its answer starts with a 0 (TRANSPARENT) word, yet its storage stays closed.
      const storage = await refusal(users.anonymous, "eth_getStorageAt", [garbage.address, "0x0", "latest"]);
      expect(storage.code).to.equal(4100);
    });

    it("eth_getLogs spans at most the configured number of blocks, with a clear error", async () => {
      const narrow = new L2RpcServer({
        provider: chain.provider,
        minPriorityFee: MIN_FEE,
        clientVersion: "test",
        enclave,
        filter: { maxLogBlockRange: 4n },
      });
      const envelope = (params: unknown[]) =>
        users.alice.keys.seal("request", { method: "eth_getLogs", params, bindings: users.alice.bindings });
      const open = (answer: Awaited<ReturnType<L2RpcServer["handle"]>>) =>
        parsePrivateResponse(users.alice.keys.open("response", (answer as { result: string }).result));
      const wide = open(
        await narrow.handle({
          id: 1,
          method: "veil_private",
          params: [envelope([{ fromBlock: "0x1", toBlock: "0x5" }])],
        }),
      );
      expect(wide).to.deep.equal({
        error: {
          code: -32005,
          message: "eth_getLogs spans 5 blocks (1 to 5); at most 4 at once: split the range",
        },
      });
      const ok = open(
        await narrow.handle({
          id: 1,
          method: "veil_private",
          params: [envelope([{ fromBlock: "0x1", toBlock: "0x4" }])],
        }),
      );
      expect(ok).to.have.property("result");
    });
  });

  describe("accounts and transactions", () => {
    it("carol cannot read alice's balance or nonce; alice can", async () => {
      for (const method of ["eth_getBalance", "eth_getTransactionCount"]) {
        const refused = await refusal(users.carol, method, [alice.address, "latest"]);
        expect(refused.code, method).to.equal(4100);
        expect(refused.message).to.match(
          /^not authorized: the (balance|nonce) of 0x[0-9a-fA-F]{40} is readable only by that account/,
        );
        expect((await refusal(users.anonymous, method, [alice.address, "latest"])).code).to.equal(4100);
        expect(await result(users.alice, method, [alice.address, "latest"])).to.match(/^0x[1-9a-f]/);
      }
      // Not in plain either: only the public methods are.
      const inPlain = await plain(url, "eth_getBalance", [alice.address, "latest"]);
      expect(inPlain.error?.code).to.equal(-32601);
      expect(inPlain.error?.message).to.match(/not served in plain/);
    });

    it("carol cannot see alice's transactions, receipts or statuses: the same answers as for an unknown hash", async () => {
      const unknown = hexlify(getBytes(id("no such transaction")));
      for (const hash of [sendHash, transferHash]) {
        expect(await result(users.carol, "eth_getTransactionByHash", [hash])).to.equal(null);
        expect(await result(users.carol, "eth_getTransactionReceipt", [hash])).to.equal(null);
        expect(await result(users.carol, "veil_getTransactionStatus", [hash])).to.deep.equal(
          await result(users.carol, "veil_getTransactionStatus", [unknown]),
        );
        const own = (await result(users.alice, "eth_getTransactionByHash", [hash])) as { hash: string };
        expect(own.hash).to.equal(hash);
        const status = (await result(users.alice, "veil_getTransactionStatus", [hash])) as { status: string };
        expect(status.status).to.be.oneOf(["included", "succeeded"]);
      }
      expect(await result(users.carol, "veil_getTransactionStatus", [unknown])).to.deep.equal({ status: "unknown" });
    });

    it("bob, paid by a plain transfer, sees it and its receipt, but not alice's contract call naming him", async () => {
      const tx = (await result(users.bob, "eth_getTransactionByHash", [transferHash])) as {
        value: string;
        from: string;
      };
      expect(BigInt(tx.value)).to.equal(transferValue);
      expect(getAddress(tx.from)).to.equal(alice.address);
      expect(await result(users.bob, "eth_getTransactionReceipt", [transferHash])).to.include({ status: "0x1" });
      expect(await result(users.bob, "eth_getTransactionByHash", [sendHash])).to.equal(null);
      // His own balance is his to read.
      expect(BigInt((await result(users.bob, "eth_getBalance", [bob.address, "latest"])) as string)).to.equal(
        transferValue,
      );
    });

    it("the status of a dropped transaction, with its reason, goes to its sender only", async () => {
      const nonce = Number(await result(users.alice, "eth_getTransactionCount", [alice.address, "pending"]));
      const sign = (n: number, fee: bigint) =>
        alice.signTransaction({
          type: 2,
          chainId: L2_CHAIN_ID,
          nonce: n,
          to: bob.address,
          value: 1n,
          gasLimit: 21_000n,
          maxFeePerGas: fee,
          maxPriorityFeePerGas: fee,
        });
      // A transaction behind a nonce gap waits; its replacement drops it.
      const first = (await result(users.alice, "eth_sendRawTransaction", [await sign(nonce + 1, GAS_PRICE)])) as string;
      const second = (await result(users.alice, "eth_sendRawTransaction", [
        await sign(nonce + 1, 2n * GAS_PRICE),
      ])) as string;
      expect(await result(users.alice, "veil_getTransactionStatus", [first])).to.deep.equal({
        status: "dropped",
        reason: `replaced by ${second}`,
      });
      expect(await result(users.carol, "veil_getTransactionStatus", [first])).to.deep.equal({ status: "unknown" });
      expect(await result(users.alice, "veil_getTransactionStatus", [second])).to.deep.include({ status: "pending" });
      expect(await result(users.carol, "veil_getTransactionStatus", [second])).to.deep.equal({ status: "unknown" });
      // Fill the gap, so that both go through.
      await send(users.alice, alice, { to: bob.address, value: 1n, gasLimit: 21_000n });
      await waitFor("the replacement", async () =>
        ((await result(users.alice, "veil_getTransactionStatus", [second])) as { status: string }).status === "included"
          ? true
          : undefined,
      );
    });

    it("eth_getStorageAt is refused on a private contract (even to its deployer) and allowed on a transparent one; contracts' balances likewise", async () => {
      const refused = await refusal(users.alice, "eth_getStorageAt", [ledger.address, "0x0", "latest"]);
      expect(refused.code).to.equal(4100);
      expect(refused.message).to.match(/only a contract declared TRANSPARENT/);
      expect((await refusal(users.alice, "eth_getBalance", [ledger.address, "latest"])).code).to.equal(4100);

      const counter = await deploy(users.alice, alice, "TransparentCounter");
      await send(users.alice, alice, {
        to: counter.address,
        data: counter.iface.encodeFunctionData("increment"),
        value: 9n,
      });
      expect(
        BigInt((await result(users.anonymous, "eth_getStorageAt", [counter.address, "0x0", "latest"])) as string),
      ).to.equal(1n);
      expect(BigInt((await result(users.carol, "eth_getBalance", [counter.address, "latest"])) as string)).to.equal(9n);
      expect(await result(users.anonymous, "eth_getTransactionCount", [counter.address, "latest"])).to.equal("0x1");
      // Code is public, in plain too.
      expect((await plain(url, "eth_getCode", [ledger.address, "latest"])).result).to.match(/^0x60/);
    });
  });

  describe("calls and errors", () => {
    it("eth_call and eth_estimateGas run only as one's own account; the caller gets their own revert reason", async () => {
      const balanceOf = (who: string) => ledger.iface.encodeFunctionData("balanceOf", [who]);
      const asAlice = await refusal(users.carol, "eth_call", [
        { from: alice.address, to: ledger.address, data: balanceOf(alice.address) },
        "latest",
      ]);
      expect(asAlice.code).to.equal(4100);
      expect(asAlice.message).to.match(
        /is not bound to this viewing key: eth_call runs only as one of your own accounts/,
      );
      expect(
        (await refusal(users.carol, "eth_estimateGas", [{ from: alice.address, to: bob.address, value: "0x1" }])).code,
      ).to.equal(4100);

      // Without `from`, alice's call runs as alice: the ledger answers her own balance.
      const own = (await result(users.alice, "eth_call", [
        { to: ledger.address, data: balanceOf(alice.address) },
        "latest",
      ])) as string;
      expect(BigInt(own)).to.equal(70n);
      // Carol's call runs as carol: the ledger refuses, and the reason is hers to read.
      const reverted = await refusal(users.carol, "eth_call", [
        { to: ledger.address, data: balanceOf(alice.address) },
        "latest",
      ]);
      expect(reverted.code).to.equal(3);
      expect(reverted.message).to.include("PrivateLedger: not your balance");
      expect(AbiCoder.defaultAbiCoder().decode(["string"], dataSlice(reverted.data as string, 4))[0]).to.equal(
        "PrivateLedger: not your balance",
      );
      // An anonymous call runs as the zero address (which may read its own balance, and no one else's).
      expect(
        await result(users.anonymous, "eth_call", [{ to: ledger.address, data: balanceOf(ZeroAddress) }]),
      ).to.equal(ZeroHash);
      expect(
        (await refusal(users.anonymous, "eth_call", [{ to: ledger.address, data: balanceOf(alice.address) }])).code,
      ).to.equal(3);
      // No state overrides: they could swap a contract's code for one that reads out its storage.
      expect(
        await refusal(users.alice, "eth_call", [
          { to: ledger.address, data: balanceOf(alice.address) },
          "latest",
          { [ledger.address]: { code: "0x00" } },
        ]),
      ).to.deep.include({ code: -32602 });
    });

    it("someone else's insufficient-funds or nonce error is generic; the owner's is full", async () => {
      const broke_ = await broke.signTransaction({
        type: 2,
        chainId: L2_CHAIN_ID,
        nonce: 0,
        to: bob.address,
        value: 1n,
        gasLimit: 21_000n,
        maxFeePerGas: GAS_PRICE,
        maxPriorityFeePerGas: GAS_PRICE,
      });
      const toOwner = await refusal(users.broke, "eth_sendRawTransaction", [broke_]);
      expect(toOwner.code).to.equal(-32000);
      expect(toOwner.message).to.match(/^insufficient funds for gas \* price \+ value \+ L1 data fee: have 0 want \d+/);
      const toOther = await refusal(users.carol, "eth_sendRawTransaction", [broke_]);
      expect(toOther).to.deep.equal({
        code: -32000,
        message: "insufficient funds for gas * price + value + L1 data fee",
      });
      expect(toOther.message).to.not.match(/have|want|[0-9]{2,}/); // no balance, no cost

      // Alice's transaction, mined already, sent again: its nonce is too low.
      const replayedByOther = await refusal(users.carol, "eth_sendRawTransaction", [sentRaw[0]]);
      expect(replayedByOther).to.deep.equal({ code: -32000, message: "nonce too low" });
      const replayedByOwner = await refusal(users.alice, "eth_sendRawTransaction", [sentRaw[0]]);
      expect(replayedByOwner.message).to.match(new RegExp(`^nonce too low: account ${alice.address} is at nonce \\d+`));
      // Refusals about the bytes alone are for anyone.
      expect((await refusal(users.carol, "eth_sendRawTransaction", ["0x1234"])).message).to.match(
        /^malformed transaction/,
      );
    });
  });

  describe("the channel", () => {
    it("refuses a forged binding: mallory signing for alice", async () => {
      const mallorys = await makeUser("mallory", [mallory]);
      const forged = { account: alice.address, signature: at(mallorys.bindings, 0, "mallory's binding").signature };
      const answer = await ask(mallorys, "eth_getBalance", [alice.address, "latest"], [forged]);
      expect(answer).to.deep.equal({
        error: { code: 4100, message: `account ${alice.address} is not bound to this viewing key (bad signature)` },
      });
      // Alice's genuine binding, for her own viewing key, does not work with mallory's.
      const replayed = await ask(mallorys, "eth_getBalance", [alice.address, "latest"], users.alice.bindings);
      expect(replayed).to.deep.include({
        error: { code: 4100, message: `account ${alice.address} is not bound to this viewing key (bad signature)` },
      });
      // With the genuine binding and key, the same request is answered.
      expect(await ask(users.alice, "eth_getBalance", [alice.address, "latest"])).to.have.property("result");
    });

    it("refuses tampered, foreign, malformed and other-version envelopes in plain, with what is wrong", async () => {
      const envelope = users.alice.keys.seal("request", {
        method: "eth_getBalance",
        params: [alice.address, "latest"],
        bindings: users.alice.bindings,
      });
      const bytes = getBytes(envelope);
      const flipped = Uint8Array.from(bytes);
      flipBit(flipped, -5);
      const tampered = await plain(url, "veil_private", [hexlify(flipped)]);
      expect(tampered.error).to.deep.equal({
        code: -32602,
        message: "the request does not decrypt: tampered with, or sealed under another key",
      });
      const elsewhere = ChannelKeys.forViewer(users.alice.viewingKey, ChannelKey.generate().publicKey);
      const foreign = await plain(url, "veil_private", [
        elsewhere.seal("request", { method: "eth_chainId", params: [], bindings: [] }),
      ]);
      expect(foreign.error?.message).to.match(/does not decrypt/);
      const otherVersion = Uint8Array.from(bytes);
      otherVersion[0] = PRIVATE_RPC_VERSION + 1;
      expect((await plain(url, "veil_private", [hexlify(otherVersion)])).error).to.deep.equal({
        code: -32602,
        message: `envelope version ${PRIVATE_RPC_VERSION + 1} is not supported (this side speaks ${PRIVATE_RPC_VERSION})`,
      });
      expect((await plain(url, "veil_private", ["not hex"])).error?.code).to.equal(-32602);
      expect((await plain(url, "veil_private", [])).error?.code).to.equal(-32602);
      const malformed = await plain(url, "veil_private", [users.alice.keys.seal("request", { method: 5, params: [] })]);
      expect(malformed.error?.code).to.equal(-32602);
      expect(malformed.error?.message).to.match(/^malformed private request: method/);
      // The untouched envelope is answered.
      expect((await plain(url, "veil_private", [envelope])).result).to.be.a("string");
    });

    it("answers inside the channel only the wallet methods", async () => {
      for (const method of [
        "hardhat_setBalance",
        "evm_mine",
        "eth_sendTransaction",
        "eth_getBlockTransactionCountByNumber",
        "veil_private",
      ]) {
        expect((await refusal(users.alice, method, [alice.address, "0x1"])).code, method).to.equal(-32601);
      }
    });
  });

  describe("blocks", () => {
    it("carry their header but no transaction hashes, count or bloom, in plain and in the channel", async () => {
      const receipt = (await result(users.alice, "eth_getTransactionReceipt", [sendHash])) as {
        blockNumber: string;
        blockHash: string;
      };
      const full = (await server.chain.call("eth_getBlockByNumber", [receipt.blockNumber, false])) as {
        hash: string;
        stateRoot: string;
        transactions: string[];
        logsBloom: string;
      };
      expect(full.transactions).to.include(sendHash);
      expect(full.logsBloom).to.not.equal(EMPTY_BLOOM);
      for (const [method, ref] of [
        ["eth_getBlockByNumber", receipt.blockNumber],
        ["eth_getBlockByHash", receipt.blockHash],
      ] satisfies [string, string][]) {
        for (const fullTxs of [false, true]) {
          const inPlain = (await plain(url, method, [ref, fullTxs])).result as typeof full;
          const toAlice = (await result(users.alice, method, [ref, fullTxs])) as typeof full;
          for (const block of [inPlain, toAlice]) {
            expect(block.hash).to.equal(full.hash);
            expect(block.stateRoot).to.equal(full.stateRoot);
            expect(block.transactions).to.deep.equal([]);
            expect(block.logsBloom).to.equal(EMPTY_BLOOM);
          }
        }
      }
      expect((await plain(url, "eth_getBlockTransactionCountByNumber", [receipt.blockNumber])).error?.code).to.equal(
        -32601,
      );
      expect(
        (await plain(url, "eth_getTransactionByBlockNumberAndIndex", [receipt.blockNumber, "0x0"])).error?.code,
      ).to.equal(-32601);
    });
  });

  describe("rollups", () => {
    it("the L1 calldata of a rollup holds none of the L2 plaintext, which its decrypted payload holds", async () => {
      const batches = sequencer.sealedBatches(await v.rollupRegistry.nextBatchSeq(), 100_000);
      const ours = new Set(sentRaw);
      expect(batches.flatMap((b) => b.txs).filter((tx) => ours.has(tx))).to.have.length(sentRaw.length);
      const l1 = v.connection.ethers.provider;
      const block = (await l1.getBlock("latest"))!;
      const rollup = await buildRollup({
        enclave,
        batches,
        binding: { number: BigInt(block.number), hash: block.hash! },
        domain: rollupRegistryDomain(v.chainId, v.addresses.RollupRegistry),
        previousBatchHash: await v.rollupRegistry.lastBatchHash(),
      });
      const submitted = await (
        await v.rollupRegistry.addRollup(...rollupArgs(rollup.header, rollup.payload, rollup.committee))
      ).wait();
      const calldata = Buffer.from(getBytes((await l1.getTransaction(submitted!.hash))!.data));

      // What the test's transactions (before()) carry: addresses, a value, calldata, the signed bytes.
      const needles: [string, string][] = [
        ["alice's address (in the mint's calldata)", alice.address],
        ["bob's address", bob.address],
        ["the ledger's address", ledger.address],
        ["the transfer's value", toBeHex(transferValue)],
        ["the memo", note],
        ["alice's send calldata", ledger.iface.encodeFunctionData("send", [bob.address, 30n, note])],
        ["alice's mint calldata", ledger.iface.encodeFunctionData("mint", [alice.address, 100n])],
        ...sentRaw.map((raw, i): [string, string] => [`signed transaction ${i}`, raw]),
      ];
      const plaintext = Buffer.from(
        encodeRollupContent(openRollupPayload(rollup.payload, epochKey(enclave, rollup.header.revelationEpoch))),
      );
      for (const [what, hex] of needles) {
        const needle = Buffer.from(getBytes(hex));
        expect(plaintext.includes(needle), `${what} in the decrypted payload`).to.equal(true);
        expect(calldata.includes(needle), `${what} in the L1 calldata`).to.equal(false);
      }
      // The scan does find what is there in clear: the header's fields.
      expect(calldata.includes(Buffer.from(getBytes(rollup.header.lastBatchHash)))).to.equal(true);
    });
  });
});
