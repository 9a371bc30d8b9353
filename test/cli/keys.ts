/**
 * `veilnet keys split / approve / register` on a Hardhat node over HTTP: the dealer splits a key for the
 * genesis committee (checking the enclave key against L1), the operator's enclave opens its share and
 * approves it, and the registration lands on L1. Wrong keys and inputs are refused by name.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Wallet, keccak256 } from "ethers";

import { type DealingFile, runKeysApprove, runKeysRegister, runKeysSplit } from "../../cli/keys/index.js";
import { GENESIS_COMMITTEE_ID } from "../../platform/committee.js";
import { ConfigError } from "../../platform/config.js";
import { RollupRegistry__factory } from "../../types/ethers-contracts/index.js";
import { type L1Node, startL1Node } from "../../testing/l1-node.js";
import { type Veilnet, deployVeilnet, initializeGenesis, writeEnclaveState } from "../../testing/veilnet.js";
import { deploymentOf, deploymentsDir } from "../../testing/worker-process.js";

/** Hardhat's dev account #1 (pays for the registration). */
const PAYER = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

describe("veilnet keys: split, approve, register", function () {
  this.timeout(120_000);
  let node: L1Node;
  let v: Veilnet;
  let dir: string;
  let saved: NodeJS.ProcessEnv;
  let genesis: Awaited<ReturnType<typeof initializeGenesis>>;
  let operatorId: bigint;

  before(async () => {
    node = await startL1Node();
    v = await deployVeilnet(await node.connect());
    genesis = await initializeGenesis(v);
    operatorId = await v.operatorRegistry.operatorIdOfEnclave(genesis.address);
    dir = mkdtempSync(path.join(tmpdir(), "veilnet-keys-"));
    saved = { ...process.env };
    process.env.L1_RPC_URL = node.url;
    process.env.VEILNET_DEPLOYMENTS_DIR = deploymentsDir(await deploymentOf(v));
  });

  after(async () => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
    await node?.stop();
  });

  it("the dealer splits, the enclave approves, anyone registers: L1 holds the key", async () => {
    const out = path.join(dir, "dealing.json");
    const lines: string[] = [];
    const dealing: DealingFile = await runKeysSplit(
      { committee: GENESIS_COMMITTEE_ID.toString(), enclaveKey: [`${operatorId}=${genesis.publicKey}`], out },
      (l) => lines.push(l),
    );
    expect(lines[0]).to.match(/1 shares \(threshold 1\)/);
    expect(dealing.registration.nonce).to.equal("0");
    // The operator's enclave: its state file holds the genesis enclave's key.
    const stateFile = path.join(dir, "enclave.json");
    writeEnclaveState(stateFile, genesis, genesis.secret);
    const approval = await runKeysApprove({ dealing: out, stateFile, operator: operatorId.toString() }, () => {});
    process.env.SIGNER_PRIVATE_KEY = PAYER;
    await runKeysRegister({ dealing: out, approvals: approval }, () => {});
    const registry = RollupRegistry__factory.connect(v.addresses.RollupRegistry, v.connection.ethers.provider);
    expect(await registry.committeeKeyHash(GENESIS_COMMITTEE_ID)).to.equal(keccak256(dealing.publicKey));
    expect(await registry.committeeKeyNonce(GENESIS_COMMITTEE_ID)).to.equal(1n);
  });

  it("refuses an enclave key that is not the operator's on L1, a missing one, and malformed input", async () => {
    const out = path.join(dir, "bad.json");
    const other = Wallet.createRandom().signingKey.publicKey;
    const split = (enclaveKey: string[]) =>
      runKeysSplit({ committee: GENESIS_COMMITTEE_ID.toString(), enclaveKey, out }, () => {});
    await expect(split([`${operatorId}=${other}`])).to.be.rejectedWith(ConfigError, /L1 has/);
    await expect(split([`${operatorId + 5n}=${other}`])).to.be.rejectedWith(ConfigError, /none for operator/);
    await expect(split([`${operatorId}=0x1234`])).to.be.rejectedWith(ConfigError, /is not <operator id>=/);
    await expect(
      runKeysRegister({ dealing: path.join(dir, "missing.json"), approvals: "0x" }, () => {}),
    ).to.be.rejectedWith(ConfigError, /--dealing/);
  });
});
