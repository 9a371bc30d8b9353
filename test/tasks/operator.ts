/**
 * `veil:operator` run programmatically against the in-process network the tasks connect to: the suite
 * deployed with testing/veilnet.ts (genesis committee of one formed), its deployment file written to a
 * temporary directory. The tests run in order on one chain: register, bind enclaves, create and fund a
 * committee, fees, activation through the timelock, status, leaving.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { SigningKey, Wallet, hashMessage, parseEther } from "ethers";
import hre from "hardhat";
import { HardhatPluginError } from "hardhat/plugins";

import { writeDeployment } from "../../deploy/deployment-file.js";
import type { GovernResult } from "../../tasks/govern.js";
import type { OperatorResult, OperatorTaskArguments } from "../../tasks/operator.js";
import { attestedSequencer } from "../../testing/committee.js";
import { rejection } from "../../testing/rejection.js";
import { type Veilnet, deployVeilnet, initializeGenesis } from "../../testing/veilnet.js";

// The connection the tasks use (hre.network.getOrCreate() is cached per network).
const connection = await hre.network.getOrCreate();
const { ethers, networkHelpers } = connection;

const FEE = 1000n;
const DAY = 86_400;

/** Runs `fn` with console.log captured; returns its result and the printed text. */
async function captured<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  };
  try {
    const result = await fn();
    return { result, output: lines.join("\n") };
  } finally {
    console.log = original;
  }
}

describe("veil:operator", function () {
  let tmp: string;
  let deploymentsDir: string;
  let v: Veilnet;
  /** The attested sequencer enclaves of the four operators. */
  let enclaves: string[];
  /** The four operators' ids, and their committee's. */
  let ids: bigint[];
  let committeeId: bigint;

  const operator = async (action: string, args: Omit<OperatorTaskArguments, "action"> = {}) =>
    captured(async (): Promise<OperatorResult> =>
      hre.tasks.getTask("veil:operator").run({ action, ...args, deploymentsDir }),
    );
  const govern = async (action: string, args: Record<string, string>) =>
    captured(async (): Promise<GovernResult> =>
      hre.tasks.getTask("veil:govern").run({ action, ...args, deploymentsDir }),
    );
  const failure = async (action: string, args: Omit<OperatorTaskArguments, "action"> = {}): Promise<string> => {
    const error = await rejection(operator(action, args));
    expect(HardhatPluginError.isHardhatPluginError(error), error.message).to.equal(true);
    return error.message;
  };

  before(async function () {
    tmp = mkdtempSync(path.join(os.tmpdir(), "veilnet-operator-test-"));
    deploymentsDir = path.join(tmp, "deployments");
    const deploymentBlock = (await ethers.provider.getBlockNumber()) + 1;
    v = await deployVeilnet(connection);
    writeDeployment(
      {
        chainId: Number(v.chainId),
        network: connection.networkName,
        deployer: v.deployer.address,
        deploymentBlock,
        addresses: v.addresses,
        parameters: v.parameters,
      },
      deploymentsDir,
    );
    const genesis = await initializeGenesis(v);
    enclaves = [];
    for (let i = 0; i < 4; i++) enclaves.push((await attestedSequencer(v, genesis, genesis.secret)).address);
  });

  after(function () {
    rmSync(tmp, { recursive: true, force: true });
  });

  it("registers operators, by default with the sender's own public key, and prints their ids", async function () {
    const signer = v.deployer;
    const signature = await signer.signMessage("Veilnet operator key");
    const own = SigningKey.computePublicKey(
      SigningKey.recoverPublicKey(hashMessage("Veilnet operator key"), signature),
      true,
    );

    const first = await operator("register", { fee: FEE.toString() });
    // Operator 1 is the genesis operator.
    expect(first.result.operatorId).to.equal(2n);
    expect(first.output).to.contain(`Registered operator 2 (owner ${signer.address}, fee ${FEE} wei/block)`);
    expect(first.output).to.contain(`public key ${own.toLowerCase()} (the sender's own)`);
    const op = await v.operatorRegistry.operators(2n);
    expect(op.owner).to.equal(signer.address);
    expect(op.fee).to.equal(FEE);
    expect(await v.operatorRegistry.operatorIdOf(own)).to.equal(2n);

    ids = [2n];
    for (let i = 0; i < 3; i++) {
      const key = Wallet.createRandom().signingKey.publicKey; // 65 bytes, uncompressed
      const { result } = await operator("register", { publicKey: key, fee: FEE.toString() });
      expect(await v.operatorRegistry.operatorIdOf(key)).to.equal(result.operatorId);
      ids.push(result.operatorId!);
    }
    expect(ids).to.deep.equal([2n, 3n, 4n, 5n]);
  });

  it("names the custom error of a key registered twice", async function () {
    const key = (await v.operatorRegistry.queryFilter(v.operatorRegistry.filters.OperatorRegistered(3n)))[0]!.args
      .publicKey;
    expect(await failure("register", { publicKey: key })).to.contain("reverted with PublicKeyAlreadyRegistered(3)");
  });

  it("binds each operator's attested sequencer enclave", async function () {
    for (const [i, id] of ids.entries()) {
      const { output } = await operator("set-enclave", { operator: id.toString(), enclave: enclaves[i]! });
      expect(output).to.contain(`Operator ${id} signs with enclave ${enclaves[i]}`);
      expect((await v.operatorRegistry.operators(id)).enclave).to.equal(enclaves[i]);
    }
  });

  it("refuses an enclave that is not an attested sequencer, naming NotSequencer", async function () {
    const stranger = Wallet.createRandom().address;
    expect(await failure("set-enclave", { operator: "2", enclave: stranger })).to.contain(
      `OperatorRegistry.setOperatorEnclave(2, ${stranger}) reverted with NotSequencer(${stranger})`,
    );
  });

  it("creates a committee of four with a deposit and prints its id and how to activate it", async function () {
    // Given out of order: the task sorts the members.
    const { result, output } = await operator("create-committee", { operators: "5,3,2,4", deposit: "0.001" });
    committeeId = result.committeeId!;
    expect(committeeId).to.equal(2n);
    expect(output).to.contain("Created committee 2: operators 2, 3, 4, 5, quorum 3 of 4, balance 0.001 ETH");
    expect(output).to.contain(
      "veil:govern schedule --contract OperatorRegistry --method setActiveCommittee --args '[2]'",
    );
    const c = await v.operatorRegistry.committee(committeeId);
    expect(c.operatorIds).to.deep.equal(ids);
    expect(c.quorum).to.equal(3n);
    expect(c.balance).to.equal(parseEther("0.001"));
  });

  it("deposits into and withdraws from the committee", async function () {
    const dep = await operator("deposit", { committee: "2", amount: "0.0005" });
    expect(dep.output).to.contain("Deposited 0.0005 ETH into committee 2");
    expect(dep.output).to.contain("balance 0.0015 ETH");
    const before = await ethers.provider.getBalance(v.deployer.address);
    const wd = await operator("withdraw", { committee: "2", amount: "0.0005" });
    expect(wd.output).to.contain("balance 0.001 ETH");
    expect(await v.operatorRegistry.committeeBalance(2n)).to.equal(parseEther("0.001"));
    const receipt = await ethers.provider.getTransactionReceipt(wd.result.txHash!);
    expect(await ethers.provider.getBalance(v.deployer.address)).to.equal(
      before + parseEther("0.0005") - receipt!.gasUsed * receipt!.gasPrice,
    );
  });

  it("names CommitteeBalanceTooLow for a withdrawal that would make the committee liquidatable", async function () {
    // Burn rate 4 × 1000 wei/block; liquidatable below 214,800 blocks of it.
    const message = await failure("withdraw", { committee: "2", amount: "0.000999999999" });
    expect(message).to.contain(
      "OperatorRegistry.withdraw(2, 999999999000000) reverted with CommitteeBalanceTooLow(2, ",
    );
    expect(await v.operatorRegistry.committeeBalance(2n)).to.equal(parseEther("0.001"));
  });

  it("declares a fee increase and executes it inside the window only", async function () {
    const declared = await operator("declare-fee", { operator: "2", fee: "1100" });
    expect(declared.output).to.contain("Declared fee 1100 wei/block for operator 2");
    expect(declared.output).to.match(/execute it \(execute-fee\) from \S+Z until \S+Z/);
    expect(await failure("execute-fee", { operator: "2" })).to.contain(
      "OperatorRegistry.executeOperatorFee(2) reverted with OutsideExecutionWindow(",
    );
    const status = await operator("status", { operator: "2" });
    expect(status.result.status!.operators[0]!.declaredFee?.fee).to.equal(1100n);
    expect(status.output).to.contain("1000 (declared 1100, executable");

    await networkHelpers.time.increase(3 * DAY);
    const executed = await operator("execute-fee", { operator: "2" });
    expect(executed.output).to.contain("Operator 2's fee is now 1100 wei/block");
    expect((await v.operatorRegistry.operators(2n)).fee).to.equal(1100n);
    expect(await failure("execute-fee", { operator: "2" })).to.contain("reverted with NoFeeDeclared(2)");
  });

  it("cancels a declared fee and reduces a fee at once", async function () {
    await operator("declare-fee", { operator: "3", fee: "1050" });
    expect((await operator("cancel-fee", { operator: "3" })).output).to.contain("Cancelled operator 3's declared fee");
    expect((await v.operatorRegistry.declaredFees(3n)).fee).to.equal(0n);
    expect(await failure("declare-fee", { operator: "3", fee: "2000" })).to.contain(
      "reverted with FeeExceedsIncreaseLimit(2000, 1100)",
    );
    expect((await operator("reduce-fee", { operator: "3", fee: "900" })).output).to.contain(
      "Operator 3's fee is now 900 wei/block",
    );
    expect((await v.operatorRegistry.operators(3n)).fee).to.equal(900n);
  });

  it("shows the status of a committee that is not active, with the timelock command to activate it", async function () {
    const { result, output } = await operator("status", { committee: "2" });
    const s = result.status!;
    expect(s.activeCommitteeId).to.equal(1n);
    expect(s.committees.map((c) => c.id)).to.deep.equal([1n, 2n]);
    const c = s.committees[1]!;
    expect(c).to.deep.include({ active: false, liquidated: false, liquidatable: false, quorum: 3 });
    expect(c.operatorIds).to.deep.equal(ids);
    expect(c.signers).to.deep.equal(enclaves);
    expect(c.burnRate).to.equal(1100n + 900n + 2n * FEE);
    expect(c.blocksLeft).to.equal(parseEther("0.001") / c.burnRate);
    expect(c.blocksUntilLiquidatable).to.equal((parseEther("0.001") - 214_800n * c.burnRate) / c.burnRate + 1n);
    expect(s.unvestedRewards).to.deep.equal({ amount: 0n, vestsAt: 0n });
    expect(s.operators.map((o) => o.id)).to.deep.equal([1n, 2n, 3n, 4n, 5n]);
    expect(output).to.contain("Active committee 1");
    expect(output).to.contain("Committee 2");
    expect(output).to.match(/quorum\s+3 of 4/);
    expect(output).to.match(new RegExp(`blocks left\\s+${c.blocksLeft}`));
    expect(output).to.match(new RegExp(`liquidatable in\\s+${c.blocksUntilLiquidatable} blocks of burn`));
    expect(output).to.match(/liquidatable\s+no/);
    expect(output).to.contain(
      "To make it the active committee (timelock): npx hardhat veil:govern schedule --contract OperatorRegistry " +
        "--method setActiveCommittee --args '[2]'",
    );
    expect(output).to.match(new RegExp(`\\s2\\s+${v.deployer.address}\\s+1100\\s+${enclaves[0]}\\s+0\\.0 ETH\\s+no`));
  });

  it("runs with the committee made active through the timelock: members earn, earnings withdraw", async function () {
    const call = { contract: "OperatorRegistry", method: "setActiveCommittee", args: "[2]" };
    await govern("schedule", call);
    await govern("execute", call);
    const [active] = await v.operatorRegistry.activeCommittee();
    expect(active).to.equal(2n);

    await networkHelpers.mine(10);
    const { result, output } = await operator("status");
    const s = result.status!;
    expect(s.activeCommitteeId).to.equal(2n);
    expect(s.committees.map((c) => c.id)).to.deep.equal([2n]);
    expect(output).to.contain("Active committee 2");
    expect(output).to.not.contain("To make it the active committee");
    const earned = s.operators.find((o) => o.id === 2n)!.earnings;
    expect(earned).to.be.greaterThanOrEqual(10n * 1100n);

    const withdrawn = await operator("withdraw-earnings", { operator: "2", amount: "0.00000000000001" });
    expect(withdrawn.output).to.contain(
      `Withdrew 0.00000000000001 ETH of operator 2's earnings to ${v.deployer.address}`,
    );
    expect(await failure("withdraw-earnings", { operator: "2", amount: "1" })).to.contain(
      "OperatorRegistry.operatorWithdraw(2, 1000000000000000000) reverted with InsufficientFunds(",
    );
  });

  it("names the FeeVault's NothingToClaim when there are no rewards to collect", async function () {
    expect(await failure("collect-rewards")).to.contain(
      "OperatorRegistry.collectRewards() reverted with NothingToClaim()",
    );
  });

  it("refuses to liquidate a healthy committee, naming CommitteeNotLiquidatable", async function () {
    expect(await failure("liquidate", { committee: "2" })).to.contain("reverted with CommitteeNotLiquidatable(2)");
  });

  it("liquidates a committee below the threshold and reactivates it with enough balance", async function () {
    const thresholds = (collateral: string) => ({
      contract: "OperatorRegistry",
      method: "setLiquidationThresholds",
      args: `[214800, "${collateral}"]`,
    });
    const floor = parseEther("0.01");
    await govern("schedule", thresholds(floor.toString()));
    await govern("execute", thresholds(floor.toString()));
    try {
      const before = await operator("status");
      expect(before.result.status!.committees[0]).to.deep.include({ liquidatable: true, blocksUntilLiquidatable: 0n });
      expect(before.output).to.match(/liquidatable in\s+now/);
      expect(before.output).to.contain("YES: anyone may liquidate it now");

      const balance = await v.operatorRegistry.committeeBalance(2n);
      const { output } = await operator("liquidate", { committee: "2" });
      expect(output).to.match(/Liquidated committee 2: collected its balance of 0\.000\d+ ETH/);
      expect((await v.operatorRegistry.activeCommittee()).liquidated).to.equal(true);
      expect(balance).to.be.lessThan(floor);
      expect(await failure("reactivate", { committee: "2", amount: "0.005" })).to.contain(
        "OperatorRegistry.reactivate(2) with 0.005 ETH reverted with CommitteeBalanceTooLow(2, 5000000000000000)",
      );
      const back = await operator("reactivate", { committee: "2", amount: "0.02" });
      expect(back.output).to.contain("Reactivated committee 2");
      expect(back.output).to.contain("balance 0.02 ETH");
      expect((await v.operatorRegistry.activeCommittee()).liquidated).to.equal(false);
      const after = (await operator("status")).result.status!.committees[0]!;
      expect(after.blocksUntilLiquidatable).to.equal((parseEther("0.02") - floor) / after.burnRate + 1n);
    } finally {
      await govern("schedule", thresholds("0"));
      await govern("execute", thresholds("0"));
    }
  });

  it("removes an operator: fee zero, no enclave, earnings still withdrawable", async function () {
    const { output } = await operator("remove", { operator: "5" });
    expect(output).to.contain("Removed operator 5");
    const op = await v.operatorRegistry.operators(5n);
    expect(op.removed).to.equal(true);
    expect(op.fee).to.equal(0n);
    const { result } = await operator("status", { operator: "5" });
    expect(result.status!.operators).to.have.length(1);
    expect(result.status!.operators[0]).to.deep.include({ id: 5n, removed: true, enclave: undefined, fee: 0n });
    expect(result.status!.operators[0]!.earnings).to.be.greaterThan(0n);
    expect(await failure("remove", { operator: "5" })).to.contain("reverted with OperatorIsRemoved(5)");
  });

  it("names bad input before sending anything", async function () {
    const blockBefore = await ethers.provider.getBlockNumber();
    expect(await failure("join")).to.contain('Unknown action "join": use one of register, set-enclave,');
    expect(await failure("set-enclave", { operator: "2" })).to.contain("Missing --enclave <address>");
    expect(await failure("set-enclave", { operator: "2", enclave: "0x12" })).to.contain(
      "--enclave 0x12 is not an address",
    );
    expect(await failure("set-enclave", { operator: "two", enclave: enclaves[0]! })).to.contain(
      "--operator two is not a number",
    );
    expect(await failure("deposit", { committee: "0", amount: "1" })).to.contain("--committee 0 is not an id");
    expect(await failure("create-committee", { operators: "2,3" })).to.contain(
      "--operators 2,3: a committee has 1, 4, 7, 10, 13 members (3f+1), not 2",
    );
    expect(await failure("create-committee", { operators: "2,3,3,4" })).to.contain("names an operator twice");
    expect(await failure("create-committee", { operators: "2,x,3,4" })).to.contain('"x" is not an operator id');
    expect(await failure("create-committee")).to.contain("Missing --operators");
    expect(await failure("deposit", { committee: "2", amount: "lots" })).to.contain(
      "--amount lots is not an amount of ether",
    );
    expect(await failure("deposit", { committee: "2", amount: "0" })).to.contain("--amount must be positive");
    expect(await failure("withdraw", { committee: "2" })).to.contain("Missing --amount <ether>");
    expect(await failure("declare-fee", { operator: "2", fee: "1.5" })).to.contain(
      "--fee 1.5 is not a number of wei per block",
    );
    expect(await failure("register", { publicKey: "0x1234" })).to.contain(
      "--public-key 0x1234 is not a secp256k1 public key",
    );
    expect(await failure("status", { committee: "9" })).to.contain("--committee 9: no such committee (2 created)");
    expect(await failure("status", { operator: "9" })).to.contain("--operator 9: no such operator (5 registered)");
    expect(await ethers.provider.getBlockNumber()).to.equal(blockBefore);
  });

  it("names the custom error of a call by someone else than the owner", async function () {
    // A committee whose creator is not the task's account.
    const registry = v.operatorRegistry.connect(v.stranger);
    await (await registry.createCommittee([1n, 2n, 3n, 4n], { value: parseEther("0.01") })).wait();
    const id = await v.operatorRegistry.committeeCount();
    expect(await failure("withdraw", { committee: id.toString(), amount: "0.1" })).to.contain(
      `reverted with NotCommitteeOwner(${id}, ${v.deployer.address})`,
    );
  });

  it("has --help naming every option", function () {
    const out = execFileSync(
      process.execPath,
      [path.join("node_modules", "hardhat", "dist", "src", "cli.js"), "veil:operator", "--help"],
      { encoding: "utf8" },
    );
    expect(out).to.contain("register | set-enclave | create-committee");
    for (const option of [
      "--public-key",
      "--fee",
      "--operator",
      "--enclave",
      "--operators",
      "--deposit",
      "--committee",
      "--amount",
    ]) {
      expect(out).to.contain(option);
    }
  });
});
