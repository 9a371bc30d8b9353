/**
 * The Hardhat tasks run programmatically against the in-process network, with a temporary
 * deployments directory and Ignition journal (nothing leaks into ./deployments or ./ignition).
 *
 * The tests of this file run in order on one chain: deploy, re-deploy, status, govern, register, deposit.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Wallet, getAddress, id, parseEther } from "ethers";
import hre from "hardhat";
import { HardhatPluginError } from "hardhat/plugins";

import { type DeployVeilnetResult, deployVeilnet } from "../../deploy/deploy-veilnet.js";
import { CONTRACT_NAMES, type Deployment, readDeployment } from "../../deploy/deployment-file.js";
import { DEFAULT_PARAMETERS, resolveParameters } from "../../deploy/parameters.js";
import { attestationDomain, enclaveIdentity, signAttestationReport } from "../../protocol/attestation.js";
import type { DepositResult } from "../../tasks/deposit.js";
import type { GovernResult } from "../../tasks/govern.js";
import type { RegisterTokenResult } from "../../tasks/register-token.js";
import type { VeilnetStatus } from "../../tasks/status.js";
import { at, defined, take } from "../../testing/defined.js";
import { rejection } from "../../testing/rejection.js";

// The connection the tasks use (hre.network.getOrCreate() is cached per network).
const connection = await hre.network.getOrCreate();
const { ethers, networkHelpers } = connection;
const [deployer, user] = take(await ethers.getSigners(), 2, "signers");
const chainId = Number((await ethers.provider.getNetwork()).chainId);

const MESSAGE_FEE = 10n ** 15n;
const CHALLENGE_PERIOD = 7200n;
const MEASUREMENT = id("veilnet-tasks-test");

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

describe("tasks", function () {
  let tmp: string;
  let deploymentsDir: string;
  let journalDir: string;
  let paramsFile: string;

  const deployArgs = (extra: Record<string, unknown> = {}) => ({
    parameters: paramsFile,
    deploymentsDir,
    journalDir,
    noCompile: true,
    ...extra,
  });
  const runDeploy = async (extra: Record<string, unknown> = {}) =>
    captured(async (): Promise<DeployVeilnetResult> => hre.tasks.getTask("deploy").run(deployArgs(extra)));
  const runStatus = async (dir = deploymentsDir) =>
    captured(async (): Promise<VeilnetStatus> => hre.tasks.getTask("veil:status").run({ deploymentsDir: dir }));
  const registerToken = async (token: string) =>
    captured(async (): Promise<RegisterTokenResult> =>
      hre.tasks.getTask("veil:register-token").run({ token, deploymentsDir }),
    );
  const govern = async (action: string, args: Record<string, string> = {}) =>
    captured(async (): Promise<GovernResult> =>
      hre.tasks.getTask("veil:govern").run({ action, ...args, deploymentsDir }),
    );
  const deposit = async (args: { amount: string; token?: string; to?: string }) =>
    captured(async (): Promise<DepositResult> => hre.tasks.getTask("veil:deposit").run({ ...args, deploymentsDir }));

  const writeParams = (name: string, content: string): string => {
    const file = path.join(tmp, name);
    writeFileSync(file, content);
    return file;
  };
  const current = (): Deployment => readDeployment(chainId, deploymentsDir);

  before(function () {
    tmp = mkdtempSync(path.join(os.tmpdir(), "veilnet-tasks-test-"));
    deploymentsDir = path.join(tmp, "deployments");
    journalDir = path.join(tmp, "journal");
    paramsFile = writeParams(
      "params.json",
      JSON.stringify({
        Veilnet: {
          challengePeriod: Number(CHALLENGE_PERIOD),
          messageFee: `${MESSAGE_FEE}n`,
          measurement: MEASUREMENT,
        },
      }),
    );
  });

  after(function () {
    rmSync(tmp, { recursive: true, force: true });
  });

  describe("deploy", function () {
    let first: Deployment;

    it("deploys the suite and writes the deployment file with every address and the first deployment block", async function () {
      const blockBefore = await ethers.provider.getBlockNumber();
      const { result, output } = await runDeploy();

      const file = path.join(deploymentsDir, `${chainId}.json`);
      expect(result.file).to.equal(file);
      expect(result.fileChanged).to.equal(true);
      expect(result.journalDir).to.equal(journalDir);
      expect(existsSync(path.join(journalDir, "journal.jsonl"))).to.equal(true);
      expect([...result.newContracts].sort()).to.deep.equal([...CONTRACT_NAMES].sort());

      const json = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      expect(Object.keys(json)).to.deep.equal([
        "chainId",
        "network",
        "deployer",
        "deploymentBlock",
        "addresses",
        "parameters",
      ]);
      expect(json.chainId).to.equal(chainId);
      expect(json.network).to.equal(connection.networkName);
      expect(json.deployer).to.equal(deployer.address);
      expect(Object.keys(json.addresses as object)).to.deep.equal([...CONTRACT_NAMES]);
      // Parameters: the file's over the defaults; the accounts default to the deployer here.
      expect(json.parameters).to.deep.equal({
        challengePeriod: CHALLENGE_PERIOD.toString(),
        revelationPeriod: DEFAULT_PARAMETERS.revelationPeriod.toString(),
        secretRequestTimeout: DEFAULT_PARAMETERS.secretRequestTimeout.toString(),
        messageFee: MESSAGE_FEE.toString(),
        baseReward: "0",
        perBatchReward: "0",
        treasuryShareBps: DEFAULT_PARAMETERS.treasuryShareBps.toString(),
        attestationService: deployer.address,
        measurement: MEASUREMENT,
        l2Bridge: getAddress(DEFAULT_PARAMETERS.l2Bridge),
        permissionlessTokenRegistration: true,
        timelockDelay: DEFAULT_PARAMETERS.timelockDelay.toString(),
        adminDelay: DEFAULT_PARAMETERS.adminDelay.toString(),
        governor: deployer.address,
        guardian: deployer.address,
        initializer: deployer.address,
      });

      first = current();
      expect(first).to.deep.equal(result.deployment);
      for (const name of CONTRACT_NAMES) {
        expect(await ethers.provider.getCode(first.addresses[name]), name).to.not.equal("0x");
        expect(output).to.contain(first.addresses[name]);
      }
      expect(new Set(Object.values(first.addresses)).size).to.equal(CONTRACT_NAMES.length);

      // The parameters reached the chain.
      const rollupRegistry = await ethers.getContractAt("RollupRegistry", first.addresses.RollupRegistry);
      const messageBus = await ethers.getContractAt("MessageBus", first.addresses.MessageBus);
      const verifier = await ethers.getContractAt("SignedReportVerifier", first.addresses.SignedReportVerifier);
      expect(await rollupRegistry.challengePeriod()).to.equal(CHALLENGE_PERIOD);
      expect(await messageBus.messageFee()).to.equal(MESSAGE_FEE);
      expect(await verifier.isMeasurementAllowed(MEASUREMENT)).to.equal(true);
      expect(await verifier.isAttestationService(deployer.address)).to.equal(true);
      const timelock = await ethers.getContractAt("TimelockController", first.addresses.Timelock);
      expect(await timelock.getMinDelay()).to.equal(DEFAULT_PARAMETERS.timelockDelay);
      expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), deployer.address)).to.equal(true);
      expect(await rollupRegistry.defaultAdmin()).to.equal(first.addresses.Timelock);
      expect(await rollupRegistry.defaultAdminDelay()).to.equal(DEFAULT_PARAMETERS.adminDelay);
      expect(await messageBus.rollupRegistry()).to.equal(first.addresses.RollupRegistry);

      // deploymentBlock: the first block after `blockBefore` holding a creation of one of the contracts.
      const ours = new Set(Object.values(first.addresses));
      let firstCreationBlock: number | undefined;
      const latest = await ethers.provider.getBlockNumber();
      for (let n = blockBefore + 1; n <= latest && firstCreationBlock === undefined; n++) {
        const block = await ethers.provider.getBlock(n, true);
        for (const tx of block!.prefetchedTransactions) {
          const receipt = await ethers.provider.getTransactionReceipt(tx.hash);
          if (receipt?.contractAddress != null && ours.has(getAddress(receipt.contractAddress))) {
            firstCreationBlock = n;
          }
        }
      }
      expect(firstCreationBlock).to.not.equal(undefined);
      expect(first.deploymentBlock).to.equal(firstCreationBlock);
      expect(first.deploymentBlock).to.be.greaterThan(blockBefore);
    });

    it("deploys nothing new on a second run and leaves the file identical", async function () {
      const file = path.join(deploymentsDir, `${chainId}.json`);
      const before = readFileSync(file, "utf8");
      const blockBefore = await ethers.provider.getBlockNumber();

      const { result, output } = await runDeploy();

      expect(result.executedFutures).to.deep.equal([]);
      expect(result.newContracts).to.deep.equal([]);
      expect(result.fileChanged).to.equal(false);
      expect(output).to.contain("Nothing new was deployed");
      expect(output).to.contain("up to date (unchanged)");
      expect(await ethers.provider.getBlockNumber()).to.equal(blockBefore);
      expect(readFileSync(file, "utf8")).to.equal(before);
      expect(current()).to.deep.equal(first);
    });

    it("refuses other parameters against the same journal and points to --reset", async function () {
      const blockBefore = await ethers.provider.getBlockNumber();
      const other = writeParams("other-fee.json", JSON.stringify({ Veilnet: { messageFee: "5" } }));
      const error = await rejection(runDeploy({ parameters: other }));
      expect(error.message).to.contain("Veilnet deployment failed");
      // The fee is the MessageBus constructor's 5th argument: (admin, adminDelay, guardian, feeVault, fee).
      expect(error.message).to.contain("Veilnet#MessageBus: Argument at index 4 has been changed");
      expect(error.message).to.contain("--reset");
      expect(await ethers.provider.getBlockNumber()).to.equal(blockBefore);
      expect(current()).to.deep.equal(first);
    });

    it("deploys a new suite with --reset and records its own deployment block", async function () {
      const blockBefore = await ethers.provider.getBlockNumber();
      const { result, output } = await runDeploy({ reset: true });
      expect(output).to.contain("--reset: discarding the Ignition journal");
      expect(result.newContracts).to.have.length(CONTRACT_NAMES.length);
      const second = current();
      for (const name of CONTRACT_NAMES) expect(second.addresses[name]).to.not.equal(first.addresses[name]);
      expect(second.deploymentBlock).to.equal(blockBefore + 1);
      expect(second.parameters).to.deep.equal(first.parameters);
    });

    it("discards a journal written against an earlier instance of the chain (a restarted node)", async function () {
      // A fresh in-process chain stands for the restarted node; the journal is a copy of this chain's.
      const restarted = await hre.network.create();
      try {
        const copy = path.join(tmp, "journal-copy");
        cpSync(journalDir, copy, { recursive: true });
        const dir = path.join(tmp, "restarted");
        const { result, output } = await captured(async () =>
          deployVeilnet(hre, restarted, { parametersFile: paramsFile, journalDir: copy, deploymentsDir: dir }),
        );
        expect(output).to.contain(
          `was restarted since the Ignition journal was written: discarding the stale journal ${copy}`,
        );
        expect(result.newContracts).to.have.length(CONTRACT_NAMES.length);
        for (const name of CONTRACT_NAMES) {
          expect(await restarted.ethers.provider.getCode(result.deployment.addresses[name]), name).to.not.equal("0x");
        }
        expect(readDeployment(chainId, dir)).to.deep.equal(result.deployment);
      } finally {
        await restarted.close();
      }
    });

    it("requires the attestation service, governor, guardian and initializer outside local chains", function () {
      const context = { deployer: deployer.address, isLocalChain: false, networkName: "sepolia" };
      expect(() => resolveParameters({}, context)).to.throw(
        "Parameters Veilnet.attestationService, Veilnet.governor, Veilnet.guardian, Veilnet.initializer " +
          'are required on network "sepolia"',
      );
      expect(() => resolveParameters({ attestationService: user.address, governor: user.address }, context)).to.throw(
        'Parameters Veilnet.guardian, Veilnet.initializer are required on network "sepolia"',
      );
      const accounts = { attestationService: user.address, governor: user.address, guardian: user.address };
      expect(() => resolveParameters(accounts, context)).to.throw(
        'Parameter Veilnet.initializer is required on network "sepolia"',
      );
      const resolved = resolveParameters({ ...accounts, initializer: user.address }, context);
      expect([resolved.attestationService, resolved.governor, resolved.guardian, resolved.initializer]).to.deep.equal(
        Array(4).fill(user.address),
      );
      const local = resolveParameters({}, { ...context, isLocalChain: true });
      expect([local.attestationService, local.governor, local.guardian, local.initializer]).to.deep.equal(
        Array(4).fill(deployer.address),
      );
    });

    describe("bad parameters files", function () {
      async function expectRefused(content: string | undefined, ...fragments: string[]): Promise<void> {
        const blockBefore = await ethers.provider.getBlockNumber();
        const file = content === undefined ? path.join(tmp, "missing.json") : writeParams("bad.json", content);
        const error = await rejection(runDeploy({ parameters: file }));
        expect(HardhatPluginError.isHardhatPluginError(error)).to.equal(true);
        for (const fragment of fragments) expect(error.message).to.contain(fragment);
        expect(await ethers.provider.getBlockNumber()).to.equal(blockBefore);
      }

      it("names a misspelt parameter", async function () {
        await expectRefused(
          JSON.stringify({ Veilnet: { challengePeriods: 10 } }),
          "Invalid parameters file",
          "Veilnet: Unrecognized key(s) in object: 'challengePeriods'",
          "challengePeriod,",
        );
      });

      it("names a value out of range or of the wrong type", async function () {
        await expectRefused(
          JSON.stringify({ Veilnet: { treasuryShareBps: 20_000, attestationService: "0x1234", challengePeriod: -1 } }),
          "Veilnet.treasuryShareBps: must be between 0 and 10000",
          "Veilnet.attestationService: expected a 20-byte hex address",
          "Veilnet.challengePeriod",
        );
      });

      it("names an unknown module", async function () {
        await expectRefused(JSON.stringify({ Veilnett: {} }), "Unrecognized key(s) in object: 'Veilnett'");
      });

      it("refuses a file that is not JSON", async function () {
        await expectRefused("{ Veilnet: ", "is not valid JSON");
      });

      it("refuses a missing file", async function () {
        await expectRefused(undefined, "Parameters file not found", path.join(tmp, "missing.json"));
      });
    });
  });

  describe("deployment file", function () {
    it("readDeployment names a missing file", function () {
      const dir = path.join(tmp, "empty");
      expect(() => readDeployment(chainId, dir)).to.throw(`${path.join(dir, `${chainId}.json`)} does not exist`);
    });

    it("readDeployment names a missing or invalid field", function () {
      const dir = path.join(tmp, "broken");
      mkdirSync(dir, { recursive: true });
      const json = JSON.parse(readFileSync(path.join(deploymentsDir, `${chainId}.json`), "utf8")) as {
        addresses: Record<string, string>;
        deploymentBlock?: number;
      };
      delete json.addresses.Bridge;
      json.deploymentBlock = undefined;
      writeFileSync(path.join(dir, `${chainId}.json`), JSON.stringify(json));
      expect(() => readDeployment(chainId, dir))
        .to.throw("addresses.Bridge: Required")
        .and.to.have.property("message")
        .that.contains("deploymentBlock: Required");
    });
  });

  describe("veil:status", function () {
    it("prints the addresses, the roles and the state", async function () {
      const d = current();
      const { result, output } = await runStatus();
      for (const name of CONTRACT_NAMES) expect(output).to.contain(d.addresses[name]);
      expect(output).to.contain(
        `MessageBus accepts message roots from: ${d.addresses.RollupRegistry} (RollupRegistry)`,
      );
      expect(output).to.contain(`FeeVault rewarder: ${d.addresses.RollupRegistry} (RollupRegistry)`);
      expect(output).to.contain("NetworkConfig address book matches");
      expect(output).to.contain(
        `every admin role is the Timelock's (${d.addresses.Timelock}), minimum delay ${DEFAULT_PARAMETERS.timelockDelay} s`,
      );
      expect(output).to.contain(`DEFAULT_ADMIN_ROLE transfers: two-step, delay ${DEFAULT_PARAMETERS.adminDelay} s`);
      expect(output).to.contain("Pending admin transfers: none");
      expect(output).to.contain("Pending timelock operations: none");

      // Every contract's admin is the timelock (the timelock its own); the deployer holds power roles nowhere.
      for (const name of CONTRACT_NAMES) {
        const admin = result.roles.find((r) => r.contract === name && r.role === "DEFAULT_ADMIN_ROLE");
        expect(admin?.holders, name).to.deep.equal(["Timelock"]);
        expect(admin?.deployerHolds, name).to.equal(false);
      }
      expect(result.defaultAdmins.map((a) => a.admin)).to.deep.equal(
        CONTRACT_NAMES.filter((n) => n !== "Timelock").map(() => d.addresses.Timelock),
      );
      // Here (a local chain, no accounts given) the deployer is governor, guardian and initializer.
      const everyone = "governor/guardian/initializer/attestationService/deployer";
      const holders = (contract: string, role: string) =>
        result.roles.find((r) => r.contract === contract && r.role === role)?.holders;
      expect(holders("RollupRegistry", "GUARDIAN_ROLE")).to.deep.equal([everyone]);
      expect(holders("Bridge", "PAUSER_ROLE")).to.deep.equal([everyone]);
      expect(holders("EnclaveRegistry", "GENESIS_ROLE")).to.deep.equal([everyone]);
      expect(holders("Timelock", "PROPOSER_ROLE")).to.deep.equal([everyone]);
      expect(holders("Bridge", "TOKEN_ADMIN_ROLE")).to.deep.equal(["Timelock"]);
      expect(holders("FeeVault", "TREASURER_ROLE")).to.deep.equal(["Timelock"]);
      expect(result.roles.some((r) => r.role === "ROOT_REGISTRAR_ROLE")).to.equal(false);
      expect(result.messageBusBoundToRollupRegistry).to.equal(true);
      expect(result.feeVaultRewarderIsRollupRegistry).to.equal(true);
      expect(result.addressBookMismatches).to.deep.equal([]);
      expect(result.challengePeriod).to.equal(CHALLENGE_PERIOD);
      expect(result.messageFee).to.equal(MESSAGE_FEE);
      expect(result.rollupCount).to.equal(0n);
      expect(result.nextBatchSeq).to.equal(0n);
      expect(result.networkSecretInitialized).to.equal(false);
      expect(result.openSecretRequests).to.deep.equal([]);
      expect(result.paused).to.deep.equal({
        EnclaveRegistry: false,
        FeeVault: false,
        MessageBus: false,
        RollupRegistry: false,
        CrossChainMessenger: false,
        Bridge: false,
      });
    });

    it("lists open secret requests and pause flags", async function () {
      const d = current();
      const registry = await ethers.getContractAt("EnclaveRegistry", d.addresses.EnclaveRegistry, deployer);
      const bridge = await ethers.getContractAt("Bridge", d.addresses.Bridge, deployer);
      const domain = attestationDomain(BigInt(chainId), d.addresses.SignedReportVerifier);
      const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      const report = async (publicKey: string) =>
        signAttestationReport(deployer, domain, {
          enclavePubKey: publicKey,
          measurement: MEASUREMENT,
          issuedAt: now,
          expiresAt: now + 86_400n,
        });
      const genesis = enclaveIdentity();
      const joiner = enclaveIdentity();
      await (await registry.initializeNetworkSecret(await report(genesis.publicKey), id("secret"))).wait();
      const bounty = parseEther("0.01");
      const tx = await registry.connect(user).requestNetworkSecret(await report(joiner.publicKey), { value: bounty });
      const createdAt = BigInt((await ethers.provider.getBlock((await tx.wait())!.blockNumber))!.timestamp);
      await (await bridge.pause()).wait();
      try {
        const { result, output } = await runStatus();
        expect(result.networkSecretInitialized).to.equal(true);
        expect(result.secretRequestCount).to.equal(1n);
        expect(result.openSecretRequests).to.deep.equal([
          {
            id: 1n,
            enclaveId: joiner.address,
            bounty,
            payer: user.address,
            createdAt,
            cancellableAt: createdAt + DEFAULT_PARAMETERS.secretRequestTimeout,
          },
        ]);
        expect(output).to.contain(joiner.address);
        expect(result.paused.Bridge).to.equal(true);
        expect(result.paused.MessageBus).to.equal(false);
        expect(output).to.match(/Bridge\s+PAUSED/);
      } finally {
        await (await bridge.unpause()).wait();
      }
    });

    it("fails clearly when the chain has no deployment file", async function () {
      const dir = path.join(tmp, "nowhere");
      const error = await rejection(runStatus(dir));
      expect(HardhatPluginError.isHardhatPluginError(error)).to.equal(true);
      expect(error.message).to.contain(`No Veilnet deployment for chain ${chainId}`);
      expect(error.message).to.contain(path.join(dir, `${chainId}.json`));
    });

    it("fails clearly when the deployment file names contracts the chain does not have", async function () {
      const dir = path.join(tmp, "stale");
      mkdirSync(dir, { recursive: true });
      const json = JSON.parse(readFileSync(path.join(deploymentsDir, `${chainId}.json`), "utf8")) as {
        addresses: Record<string, string>;
      };
      const missing = Wallet.createRandom().address;
      json.addresses.Bridge = missing;
      writeFileSync(path.join(dir, `${chainId}.json`), JSON.stringify(json));
      const error = await rejection(runStatus(dir));
      expect(error.message).to.contain(`is stale: no contract at Bridge ${missing}`);
    });
  });

  describe("veil:govern", function () {
    const delay = DEFAULT_PARAMETERS.timelockDelay;
    const setChallenge = { contract: "RollupRegistry", method: "setChallengePeriod", args: "[7201]" };

    it("schedules a call, lists it as pending, refuses to execute it early and executes it after the delay", async function () {
      const d = current();
      const registry = await ethers.getContractAt("RollupRegistry", d.addresses.RollupRegistry);
      const scheduled = await govern("schedule", setChallenge);
      expect(scheduled.output).to.contain("Scheduled RollupRegistry.setChallengePeriod(7201)");
      expect(scheduled.output).to.contain(`veil:govern execute --id ${scheduled.result.id}`);
      const now = BigInt(await networkHelpers.time.latest());
      expect(scheduled.result.readyAt).to.equal(now + delay);

      const pending = await govern("pending");
      expect(pending.result.pending).to.have.length(1);
      expect(pending.result.pending![0]).to.include({
        id: scheduled.result.id,
        contract: "RollupRegistry",
        call: 'setChallengePeriod("7201")',
        ready: false,
      });
      expect(pending.output).to.contain("setChallengePeriod");
      const status = await runStatus();
      expect(status.result.timelock.pending.map((o) => o.id)).to.deep.equal([scheduled.result.id]);

      const early = await rejection(govern("execute", setChallenge));
      expect(HardhatPluginError.isHardhatPluginError(early)).to.equal(true);
      expect(early.message).to.contain("RollupRegistry.setChallengePeriod(7201)");
      expect(early.message).to.contain(
        `is not ready yet: executable from ${new Date(Number(scheduled.result.readyAt!) * 1000).toISOString()}`,
      );
      expect(await registry.challengePeriod()).to.equal(CHALLENGE_PERIOD);

      await networkHelpers.time.increase(delay);
      const executed = await govern("execute", setChallenge);
      expect(executed.output).to.contain("Executed RollupRegistry.setChallengePeriod(7201)");
      expect(await registry.challengePeriod()).to.equal(7201n);
      expect((await govern("pending")).result.pending).to.deep.equal([]);

      expect((await rejection(govern("execute", setChallenge))).message).to.contain("was executed already");
      expect((await rejection(govern("schedule", setChallenge))).message).to.contain(
        "was executed already: give another --salt",
      );
    });

    it("executes and cancels by --id, with a salt", async function () {
      const salt = id("second");
      const fee = { contract: "MessageBus", method: "setMessageFee", args: '["1"]', salt };
      const { result } = await govern("schedule", fee);
      const cancelled = await govern("cancel", { id: result.id! });
      expect(cancelled.output).to.contain(`Cancelled operation ${result.id}`);
      expect((await govern("pending")).result.pending).to.deep.equal([]);
      expect((await rejection(govern("execute", { id: result.id! }))).message).to.contain("is not scheduled");

      const again = await govern("schedule", { ...fee, salt: id("third"), args: `["${MESSAGE_FEE}"]` });
      await networkHelpers.time.increase(delay);
      const executed = await govern("execute", { id: again.result.id! });
      expect(executed.output).to.contain(`Executed operation ${again.result.id}`);
    });

    it("warns at schedule time and names the target's custom error when the call reverts", async function () {
      const tooShort = { contract: "RollupRegistry", method: "setRevelationPeriod", args: "[1]" };
      const { output } = await govern("schedule", tooShort);
      expect(output).to.contain(
        "warning: RollupRegistry.setRevelationPeriod(1), executed now, reverted with RevelationPeriodTooShort",
      );
      await networkHelpers.time.increase(delay);
      const error = await rejection(govern("execute", tooShort));
      expect(error.message).to.contain("reverted with RevelationPeriodTooShort(1, 256)");
      const { result } = await govern("pending");
      await govern("cancel", { id: at(defined(result.pending, "pending operations"), 0, "pending operation").id });
    });

    it("shows a pending admin transfer in veil:status", async function () {
      const d = current();
      const transfer = {
        contract: "Bridge",
        method: "beginDefaultAdminTransfer",
        args: JSON.stringify([user.address]),
      };
      await govern("schedule", transfer);
      await networkHelpers.time.increase(delay);
      await govern("execute", transfer);
      const { result, output } = await runStatus();
      expect(result.pendingAdminTransfers).to.have.length(1);
      expect(result.pendingAdminTransfers[0]).to.include({ contract: "Bridge", newAdmin: user.address });
      expect(output).to.match(new RegExp(`Bridge\\s+to ${user.address}\\s+acceptable from`));
      const cancel = { contract: "Bridge", method: "cancelDefaultAdminTransfer" };
      await govern("schedule", cancel);
      await networkHelpers.time.increase(delay);
      await govern("execute", cancel);
      expect((await runStatus()).result.pendingAdminTransfers).to.deep.equal([]);
      expect(d.addresses.Bridge).to.equal(current().addresses.Bridge);
    });

    it("names what is wrong: action, contract, method, arguments, salt, delay", async function () {
      const message = async (action: string, args: Record<string, string>) =>
        (await rejection(govern(action, args))).message;
      expect(await message("run", {})).to.contain(
        'Unknown action "run": use one of schedule, execute, cancel, pending',
      );
      expect(await message("schedule", {})).to.contain(
        "Missing --contract <name>: one of Timelock, SignedReportVerifier",
      );
      expect(await message("schedule", { contract: "Rollups" })).to.contain(
        "Unknown contract Rollups: the suite has Timelock,",
      );
      expect(await message("schedule", { contract: "RollupRegistry", method: "setChalengePeriod" })).to.match(
        /RollupRegistry has no method setChalengePeriod; its methods: .*setChallengePeriod\(uint32\)/,
      );
      expect(await message("schedule", { contract: "RollupRegistry", method: "challengePeriod" })).to.contain(
        "RollupRegistry.challengePeriod is a view",
      );
      expect(await message("schedule", { ...setChallenge, args: "7200" })).to.contain("--args must be a JSON array");
      expect(await message("schedule", { ...setChallenge, args: "[1, 2]" })).to.contain(
        "RollupRegistry.setChallengePeriod(uint32) takes 1 argument(s), --args has 2",
      );
      expect(await message("schedule", { ...setChallenge, args: '["x"]' })).to.contain(
        "--args do not fit RollupRegistry.setChallengePeriod(uint32)",
      );
      expect(await message("schedule", { ...setChallenge, salt: "0x12" })).to.contain("--salt 0x12 is not a 32-byte");
      expect(await message("schedule", { ...setChallenge, salt: id("x"), delay: "5" })).to.contain(
        `--delay 5 is below the timelock's minimum delay of ${delay} s`,
      );
      expect(await message("execute", { ...setChallenge, args: "[9]" })).to.contain(
        "is not scheduled with salt 0x0000000000000000000000000000000000000000000000000000000000000000",
      );
      expect(await message("execute", { id: "0x1234" })).to.contain("--id 0x1234 is not an operation id");
    });

    it("has --help", function () {
      const out = execFileSync(
        process.execPath,
        [path.join("node_modules", "hardhat", "dist", "src", "cli.js"), "veil:govern", "--help"],
        {
          encoding: "utf8",
        },
      );
      expect(out).to.contain("schedule | execute | cancel | pending");
      expect(out).to.contain("--contract");
      expect(out).to.contain("--args");
    });
  });

  describe("veil:register-token and veil:deposit", function () {
    let token: string;

    before(async function () {
      const t = await ethers.deployContract("TestToken", ["Test Token", "TT", 6]);
      await t.waitForDeployment();
      token = await t.getAddress();
      await (await t.mint(deployer.address, 10_000_000n)).wait(); // 10 TT
    });

    it("registers a token, paying the message fee", async function () {
      const d = current();
      const bridge = await ethers.getContractAt("Bridge", d.addresses.Bridge);
      const messageBus = await ethers.getContractAt("MessageBus", d.addresses.MessageBus);
      const vaultBefore = await ethers.provider.getBalance(d.addresses.FeeVault);
      const sequence = await messageBus.nextSequence();

      const { result, output } = await registerToken(token);

      expect(result).to.deep.include({
        token,
        name: "Test Token",
        symbol: "TT",
        decimals: 6,
        fee: MESSAGE_FEE,
        sequence,
      });
      expect(output).to.contain("Registered Test Token (TT, 6 decimals)");
      expect(output).to.contain(result.txHash);
      expect((await bridge.tokenInfo(token)).registered).to.equal(true);
      expect(await ethers.provider.getBalance(d.addresses.FeeVault)).to.equal(vaultBefore + MESSAGE_FEE);
      const receipt = await ethers.provider.getTransactionReceipt(result.txHash);
      expect(receipt?.status).to.equal(1);
    });

    it("names TokenAlreadyRegistered when registering twice", async function () {
      const error = await rejection(registerToken(token));
      expect(HardhatPluginError.isHardhatPluginError(error)).to.equal(true);
      expect(error.message).to.contain(`Bridge.registerToken(${token}) reverted with TokenAlreadyRegistered(${token})`);
    });

    it("names NotAContract for an address without code", async function () {
      const eoa = Wallet.createRandom().address;
      const error = await rejection(registerToken(eoa));
      expect(error.message).to.contain(`reverted with NotAContract(${eoa})`);
    });

    it("refuses a missing or malformed --token", async function () {
      expect((await rejection(registerToken(""))).message).to.contain("Missing --token");
      expect((await rejection(registerToken("0x12"))).message).to.contain("--token 0x12 is not an address");
    });

    it("deposits ETH with the fee on top and reports the message sequence", async function () {
      const d = current();
      const messageBus = await ethers.getContractAt("MessageBus", d.addresses.MessageBus);
      const bridgeBefore = await ethers.provider.getBalance(d.addresses.Bridge);
      const vaultBefore = await ethers.provider.getBalance(d.addresses.FeeVault);
      const sequence = await messageBus.nextSequence();

      const { result, output } = await deposit({ amount: "1.5", to: user.address });

      expect(result).to.deep.include({
        token: null,
        from: deployer.address,
        to: user.address,
        amount: parseEther("1.5"),
        credited: parseEther("1.5"),
        fee: MESSAGE_FEE,
        sequence,
      });
      expect(result.approvalTxHash).to.equal(undefined);
      expect(await messageBus.nextSequence()).to.equal(sequence + 1n);
      expect(await ethers.provider.getBalance(d.addresses.Bridge)).to.equal(bridgeBefore + parseEther("1.5"));
      expect(await ethers.provider.getBalance(d.addresses.FeeVault)).to.equal(vaultBefore + MESSAGE_FEE);
      expect(output).to.contain(`message sequence ${sequence}`);
      expect(output).to.contain(result.txHash);
      const tx = await ethers.provider.getTransaction(result.txHash);
      expect(tx?.value).to.equal(parseEther("1.5") + MESSAGE_FEE);
    });

    it("deposits an ERC-20 in token units, approving first when the allowance is short", async function () {
      const d = current();
      const t = await ethers.getContractAt("TestToken", token);
      const bridgeBefore = await t.balanceOf(d.addresses.Bridge);

      const { result, output } = await deposit({ amount: "2.5", token });

      expect(result).to.deep.include({ token, to: deployer.address, amount: 2_500_000n, credited: 2_500_000n });
      expect(result.approvalTxHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(output).to.contain("Approved the Bridge for 2.5 TT");
      expect(output).to.contain(`message sequence ${result.sequence}`);
      expect(await t.balanceOf(d.addresses.Bridge)).to.equal(bridgeBefore + 2_500_000n);
      expect(await t.allowance(deployer.address, d.addresses.Bridge)).to.equal(0n);
    });

    it("does not approve again when the allowance suffices", async function () {
      const d = current();
      const t = await ethers.getContractAt("TestToken", token);
      await (await t.approve(d.addresses.Bridge, 5_000_000n)).wait();
      const { result, output } = await deposit({ amount: "1", token });
      expect(result.approvalTxHash).to.equal(undefined);
      expect(output).to.not.contain("Approved");
      expect(result.credited).to.equal(1_000_000n);
      expect(await t.allowance(deployer.address, d.addresses.Bridge)).to.equal(4_000_000n);
    });

    it("refuses a deposit above the balance before approving anything", async function () {
      const t = await ethers.getContractAt("TestToken", token);
      const allowance = await t.allowance(deployer.address, current().addresses.Bridge);
      const error = await rejection(deposit({ amount: "100", token }));
      expect(error.message).to.contain(`${deployer.address} holds 6.5 TT, less than the 100 to deposit`);
      expect(await t.allowance(deployer.address, current().addresses.Bridge)).to.equal(allowance);
    });

    it("names the custom error a deposit reverts with", async function () {
      const bridge = await ethers.getContractAt("Bridge", current().addresses.Bridge, deployer);
      await (await bridge.pause()).wait();
      try {
        const error = await rejection(deposit({ amount: "1" }));
        expect(HardhatPluginError.isHardhatPluginError(error)).to.equal(true);
        expect(error.message).to.match(
          new RegExp(
            `Bridge\\.depositNativeWithMaxFee\\(${deployer.address}, \\d+\\) reverted with EnforcedPause\\(\\)`,
          ),
        );
      } finally {
        await (await bridge.unpause()).wait();
      }
    });

    it("refuses an unregistered token before approving anything", async function () {
      const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
      const otherAddress = await other.getAddress();
      const error = await rejection(deposit({ amount: "1", token: otherAddress }));
      expect(error.message).to.contain(`${otherAddress} is not registered on the Bridge`);
      expect(await other.allowance(deployer.address, current().addresses.Bridge)).to.equal(0n);
    });

    it("refuses malformed amounts", async function () {
      expect((await rejection(deposit({ amount: "" }))).message).to.contain("Missing --amount");
      expect((await rejection(deposit({ amount: "abc" }))).message).to.contain("--amount abc is not a ETH amount");
      expect((await rejection(deposit({ amount: "0" }))).message).to.contain("--amount must be positive");
      expect((await rejection(deposit({ amount: "1.1234567", token }))).message).to.contain(
        "is not a TT amount with at most 6 decimals",
      );
      expect((await rejection(deposit({ amount: "1", to: "bob" }))).message).to.contain("--to bob is not an address");
    });
  });
});
