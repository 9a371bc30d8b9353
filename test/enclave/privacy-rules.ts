/**
 * The privacy rules (enclave/privacy) as functions: decoding a contract's visibility declaration
 * strictly, who an event is visible to, who may call as whom, which mempool errors are redacted, and
 * reading each contract's declaration once (on a real EVM, with a provider that counts the calls).
 */
import { expect } from "chai";
import { AbiCoder, ContractFactory, Wallet, ZeroAddress, id, zeroPadValue } from "ethers";
import hre from "hardhat";

import { callerOf } from "../../enclave/privacy/calls.js";
import { ContractRules } from "../../enclave/privacy/contract-rules.js";
import { submissionErrorMessage } from "../../enclave/privacy/errors.js";
import { canSeeEvent, eventAudience, topicAccount } from "../../enclave/privacy/events.js";
import { canSeeTransaction } from "../../enclave/privacy/transactions.js";
import { Viewer } from "../../enclave/privacy/viewer.js";
import {
  ContractCfg,
  Field,
  MAX_EVENT_CONFIGS,
  VISIBILITY_RULES_CALLDATA,
  decodeVisibilityConfig,
} from "../../enclave/privacy/visibility-config.js";
import type { L2Provider } from "../../enclave/execution/l2-chain.js";
import type { MempoolErrorCode } from "../../enclave/sequencer/mempool.js";

const TYPE = "tuple(uint8,tuple(bytes32,uint8[])[])";
const encode = (cfg: number, entries: [string, number[]][]): string =>
  AbiCoder.defaultAbiCoder().encode([TYPE], [[cfg, entries]]);

const alice = Wallet.createRandom().address;
const bob = Wallet.createRandom().address;
const carol = Wallet.createRandom().address;
const topic = (address: string) => zeroPadValue(address, 32);
const TRANSFER = id("Transfer(address,address,uint256)");

describe("privacy rules", () => {
  describe("decoding a visibility declaration", () => {
    it("reads a well-formed declaration", () => {
      const config = decodeVisibilityConfig(
        encode(ContractCfg.PRIVATE, [
          [TRANSFER, [Field.TOPIC2, Field.SENDER, Field.TOPIC2]],
          [id("Ping()"), []],
        ]),
      );
      expect(config?.contractCfg).to.equal(ContractCfg.PRIVATE);
      expect(config?.events.get(TRANSFER)).to.deep.equal([Field.TOPIC2, Field.SENDER]);
      expect(config?.events.get(id("Ping()"))).to.deep.equal([]);
      expect(decodeVisibilityConfig(encode(ContractCfg.TRANSPARENT, []))?.contractCfg).to.equal(
        ContractCfg.TRANSPARENT,
      );
    });

    it("refuses anything else: the contract then gets the default rules", () => {
      const valid = encode(ContractCfg.PRIVATE, [[TRANSFER, [Field.EVERYONE]]]);
      const word = (hex: string, i: number) => hex.slice(2 + 64 * i, 2 + 64 * (i + 1));
      const withWord = (hex: string, i: number, value: string) =>
        hex.slice(0, 2 + 64 * i) + value.padStart(64, "0") + hex.slice(2 + 64 * (i + 1));
      // Layout: [0] offset of the tuple, [1] contractCfg, [2] offset of the array, [3] length, …
      expect(word(valid, 1)).to.equal("1".padStart(64, "0"));
      const cases: [string, string][] = [
        ["empty", "0x"],
        ["not hex", "0xzz"],
        ["odd length", valid.slice(0, -1)],
        ["truncated", valid.slice(0, -64)],
        ["contractCfg out of range", withWord(valid, 1, "2")],
        ["contractCfg with dirty high bits", withWord(valid, 1, "101")],
        ["a field out of range", encode(ContractCfg.PRIVATE, [[TRANSFER, [5]]])],
        [
          "an event declared twice",
          encode(ContractCfg.PRIVATE, [
            [TRANSFER, [Field.TOPIC1]],
            [TRANSFER, [Field.EVERYONE]],
          ]),
        ],
        [
          "too many events",
          encode(
            ContractCfg.PRIVATE,
            Array.from({ length: MAX_EVENT_CONFIGS + 1 }, (_, i): [string, number[]] => [id(`E${i}()`), []]),
          ),
        ],
        ["trailing bytes", valid + "00".repeat(32)],
        ["another shape: (uint256, uint256)", AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [0, 7])],
        ["another shape: bytes", AbiCoder.defaultAbiCoder().encode(["bytes"], ["0xdeadbeef"])],
        ["a non-canonical offset", withWord(valid, 0, "40").slice(0, 66) + "00".repeat(32) + valid.slice(66)],
      ];
      for (const [what, data] of cases) expect(decodeVisibilityConfig(data), what).to.equal(undefined);
    });
  });

  describe("events", () => {
    const viewer = (...accounts: string[]) => new Viewer(accounts);

    it("an address-shaped topic names an account; other topics do not", () => {
      expect(topicAccount(topic(alice))).to.equal(alice.toLowerCase());
      expect(topicAccount(id("not an address"))).to.equal(undefined);
      expect(topicAccount(undefined)).to.equal(undefined);
    });

    it("by default: visible to the accounts in topics 1-3, and to nobody when it names none", () => {
      const transfer = { address: ZeroAddress, topics: [TRANSFER, topic(alice), topic(bob)] };
      const audience = eventAudience(transfer, undefined);
      expect(canSeeEvent(viewer(alice), audience)).to.equal(true);
      expect(canSeeEvent(viewer(bob), audience)).to.equal(true);
      expect(canSeeEvent(viewer(carol), audience)).to.equal(false);
      expect(canSeeEvent(Viewer.anonymous, audience)).to.equal(false);
      // The sender is no one's audience by default, and topic 0 is the signature, not an account.
      expect(canSeeEvent(viewer(carol), audience, carol)).to.equal(false);
      const topic0 = eventAudience({ address: ZeroAddress, topics: [topic(carol)] }, undefined);
      expect(canSeeEvent(viewer(carol), topic0)).to.equal(false);
      const namesNobody = eventAudience({ address: ZeroAddress, topics: [id("Memo(uint256)"), id("x")] }, undefined);
      expect(namesNobody).to.deep.equal({ everyone: false, accounts: [], sender: false });
      expect(eventAudience({ address: ZeroAddress, topics: [] }, undefined)).to.deep.equal(namesNobody);
    });

    it("a declaration replaces the default for its events; TRANSPARENT makes them all public", () => {
      const config = decodeVisibilityConfig(
        encode(ContractCfg.PRIVATE, [
          [TRANSFER, [Field.TOPIC2, Field.SENDER]],
          [id("Secret(address)"), []],
        ]),
      );
      const transfer = eventAudience({ address: ZeroAddress, topics: [TRANSFER, topic(alice), topic(bob)] }, config);
      expect(canSeeEvent(viewer(alice), transfer)).to.equal(false);
      expect(canSeeEvent(viewer(bob), transfer)).to.equal(true);
      expect(canSeeEvent(viewer(carol), transfer, carol)).to.equal(true);
      expect(canSeeEvent(viewer(carol), transfer, alice)).to.equal(false);
      const secret = eventAudience({ address: ZeroAddress, topics: [id("Secret(address)"), topic(alice)] }, config);
      expect(canSeeEvent(viewer(alice), secret, alice)).to.equal(false); // declared visible to nobody
      const other = eventAudience({ address: ZeroAddress, topics: [id("Other(address)"), topic(alice)] }, config);
      expect(canSeeEvent(viewer(alice), other)).to.equal(true); // undeclared: the default rules
      const transparent = decodeVisibilityConfig(encode(ContractCfg.TRANSPARENT, [[TRANSFER, [Field.TOPIC1]]]));
      expect(eventAudience({ address: ZeroAddress, topics: [id("Memo()")] }, transparent)).to.deep.equal({
        everyone: true,
      });
    });
  });

  it("calls run as one of the viewer's accounts, the first by default, the zero address for the anonymous", () => {
    const v = new Viewer([alice, bob]);
    expect(callerOf(v, undefined)).to.equal(alice);
    expect(callerOf(v, bob.toLowerCase())).to.equal(bob);
    expect(callerOf(v, carol)).to.equal(undefined);
    expect(callerOf(v, "garbage")).to.equal(undefined);
    expect(callerOf(Viewer.anonymous, undefined)).to.equal(ZeroAddress);
    expect(callerOf(Viewer.anonymous, ZeroAddress)).to.equal(ZeroAddress);
    expect(callerOf(Viewer.anonymous, alice)).to.equal(undefined);
  });

  it("a transaction is its sender's, and a plain transfer's recipient's", () => {
    const transfer = { from: alice, to: bob, input: "0x" };
    expect(canSeeTransaction(new Viewer([alice]), transfer)).to.equal(true);
    expect(canSeeTransaction(new Viewer([bob]), transfer)).to.equal(true);
    expect(canSeeTransaction(new Viewer([carol]), transfer)).to.equal(false);
    expect(canSeeTransaction(new Viewer([bob]), { ...transfer, input: "0xa9059cbb" })).to.equal(false);
    expect(canSeeTransaction(Viewer.anonymous, transfer)).to.equal(false);
  });

  it("mempool refusals describing the sender's state are generic for anyone else", () => {
    const stateful: MempoolErrorCode[] = [
      "insufficient-funds",
      "nonce-too-low",
      "nonce-too-high",
      "replacement-underpriced",
    ];
    for (const code of stateful) {
      const full = `${code}: account ${alice} holds 12345 at nonce 678`;
      expect(submissionErrorMessage(code, full, true)).to.equal(full);
      expect(submissionErrorMessage(code, full, false)).to.not.match(/12345|678|0x/);
    }
    expect(submissionErrorMessage("wrong-chain", "wrong chain id 1", false)).to.equal("wrong chain id 1");
  });

  describe("reading declarations from the chain", () => {
    it("once per contract, at the first block needed; accounts and failures are not cached", async () => {
      const connection = await hre.network.create();
      try {
        const [deployer] = await connection.ethers.getSigners();
        const deployed = async (name: string) => {
          const artifact = await hre.artifacts.readArtifact(name);
          const contract = await new ContractFactory(artifact.abi, artifact.bytecode, deployer).deploy();
          await contract.waitForDeployment();
          return contract.getAddress();
        };
        const declared = await deployed("DeclaredEvents");
        const transparent = await deployed("TransparentCounter");
        const garbage = await deployed("GarbageRules");
        const none = await deployed("PrivateLedger");
        const block = BigInt(await connection.ethers.provider.getBlockNumber());

        const calls: string[] = [];
        let failing = false;
        const provider: L2Provider = {
          async request(args) {
            if (
              args.method === "eth_call" &&
              (args.params?.[0] as { data: string }).data === VISIBILITY_RULES_CALLDATA
            ) {
              calls.push((args.params?.[0] as { to: string }).to);
              if (failing) throw new Error("connection reset");
            }
            return connection.provider.request(args);
          },
        };
        const rules = new ContractRules(provider);
        const [a, b] = await Promise.all([rules.at(declared, block), rules.at(declared, block)]);
        expect(a).to.deep.equal(b);
        expect(a.contract && a.config?.events.size).to.equal(3);
        expect(await rules.declaration(declared, block + 0n)).to.deep.equal(a.contract ? a.config : undefined);
        expect(calls).to.deep.equal([declared.toLowerCase()]);

        expect((await rules.at(transparent, block)).contract).to.equal(true);
        expect((await rules.declaration(transparent, block))?.contractCfg).to.equal(ContractCfg.TRANSPARENT);
        expect(await rules.at(garbage, block)).to.deep.equal({ contract: true, config: undefined });
        expect(await rules.at(none, block)).to.deep.equal({ contract: true, config: undefined }); // reverts: no such function
        expect(await rules.at(alice, block)).to.deep.equal({ contract: false });
        expect(calls).to.have.length(4); // one per contract, none for the account

        // Before its deployment a contract is an address without code: not cached.
        const later = await deployed("DeclaredEvents");
        expect(await rules.at(later, block)).to.deep.equal({ contract: false });
        // A failure of the chain (not the contract's answer) is thrown and asked again next time.
        failing = true;
        const head = BigInt(await connection.ethers.provider.getBlockNumber());
        let thrown: unknown;
        await rules.at(later, head).catch((e: unknown) => (thrown = e));
        expect((thrown as Error).message).to.equal("connection reset");
        failing = false;
        expect((await rules.declaration(later, head))?.events.size).to.equal(3);
        expect(calls.filter((c) => c === later.toLowerCase())).to.have.length(2);
        expect(rules.size).to.equal(5);

        // A declaration that runs out of the gas allowed is no declaration.
        const starved = new ContractRules(provider, { gas: 22_000n });
        expect(await starved.at(declared, block)).to.deep.equal({ contract: true, config: undefined });
      } finally {
        await connection.close();
      }
    });
  });
});
