/**
 * `veilnet enclave init` and `veilnet enclave join`, run as child processes against a Hardhat node with
 * the Veilnet fixture deployed and its deployments file in a temp dir. The join is answered by the real
 * workers (`veilnet workers`: event-subscriber + secret-responder) asking the genesis enclave's node
 * (`veilnet node` with the genesis state file) through its enclave host interface.
 * The tests of one deployment run in order: (a) makes the genesis enclave that (b) relies on.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { HDNodeWallet, ZeroHash, hexlify, id, parseEther, randomBytes } from "ethers";

import { Enclave } from "../../enclave/secret/index.js";
import { type L1Node, freePort, startL1Node } from "../../testing/l1-node.js";
import { type Veilnet, deployVeilnet } from "../../testing/veilnet.js";
import {
  type VeilnetProcess,
  deleteKeys,
  deploymentOf,
  deploymentsDir,
  spawnVeilnet,
} from "../../testing/worker-process.js";
import { requestFields } from "../../testing/secret-requests.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const MNEMONIC = "test test test test test test test test test test test junk";

/** Private key of the node's account `i` (Hardhat's default mnemonic). */
const accountKey = (i: number): string =>
  HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey;

const ADMIN_KEY = accountKey(0);
const ATTESTATION_KEY = accountKey(1);
const STRANGER_KEY = accountKey(2);
const JOINER_OPERATOR_KEY = accountKey(5);
const RESPONDER_SENDER_KEY = accountKey(6);
/** The genesis node's own sender (rollups, epoch keys): not the admin, whose balance (b) checks. */
const NODE_SENDER_KEY = accountKey(7);

function commitmentIn(output: string): string {
  const [, commitment] = /commitment: (0x[0-9a-fA-F]{64})/.exec(output) ?? [];
  if (commitment === undefined) throw new Error(`no commitment printed in:\n${output}`);
  return commitment;
}

describe("veilnet enclave init / join", function () {
  this.timeout(120_000);

  let node: L1Node;
  let v: Veilnet;
  let deployments: string;
  let states: string;
  let genesisFile: string;
  const running: VeilnetProcess[] = [];

  const run = (args: string[], env: Record<string, string>) => {
    const p = spawnVeilnet(args, env);
    running.push(p);
    return p;
  };
  const baseEnv = () => ({ L1_RPC_URL: node.url, VEILNET_DEPLOYMENTS_DIR: deployments, LOG_LEVEL: "info" });

  before(async () => {
    node = await startL1Node();
    v = await deployVeilnet(await node.connect());
    deployments = deploymentsDir(await deploymentOf(v));
    states = mkdtempSync(path.join(tmpdir(), "veilnet-enclave-cli-"));
    genesisFile = path.join(states, "genesis.json");
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") for (const p of running) console.log(p.describe());
    await Promise.all(running.splice(0).map((p) => p.kill()));
  });

  after(async () => {
    await node?.stop();
    if (deployments !== undefined) rmSync(deployments, { recursive: true, force: true });
    if (states !== undefined) rmSync(states, { recursive: true, force: true });
  });

  it("init by a key without GENESIS_ROLE exits 1 naming the custom error; nothing is registered", async () => {
    const p = run(["enclave", "init", "--state-file", path.join(states, "stranger.json")], {
      ...baseEnv(),
      SIGNER_PRIVATE_KEY: STRANGER_KEY,
      ATTESTATION_SERVICE_KEY: ATTESTATION_KEY,
    });
    expect((await p.waitForExit(30_000)).code).to.equal(1);
    expect(p.stderr()).to.match(
      new RegExp(
        `^error: EnclaveRegistry\\.initializeNetworkSecret reverted: ` +
          `AccessControlUnauthorizedAccount\\(0x[0-9a-fA-F]{40}, ${id("GENESIS_ROLE")}\\)\n$`,
      ),
    );
    expect(await v.enclaveRegistry.secretCommitment()).to.equal(ZeroHash);
  });

  it("(a) init registers the genesis enclave (attested, sequencer, file mode 600); again: already initialized", async () => {
    const env = { ...baseEnv(), SIGNER_PRIVATE_KEY: ADMIN_KEY, ATTESTATION_SERVICE_KEY: ATTESTATION_KEY };
    const first = run(["enclave", "init", "--state-file", genesisFile], env);
    expect((await first.waitForExit(30_000)).code).to.equal(0);
    const commitment = commitmentIn(first.stdout());

    const genesis = Enclave.load(genesisFile);
    expect(first.stdout()).to.contain(`enclave:    ${genesis.address}`);
    expect(genesis.secretCommitment).to.equal(commitment.toLowerCase());
    expect((await v.enclaveRegistry.secretCommitment()).toLowerCase()).to.equal(commitment.toLowerCase());
    expect(await v.enclaveRegistry.isAttested(genesis.address)).to.equal(true);
    expect(await v.enclaveRegistry.isSequencer(genesis.address)).to.equal(true);
    expect(await v.enclaveRegistry.sequencerOperator(genesis.address)).to.equal(v.admin.address);
    expect(statSync(genesisFile).mode & 0o777).to.equal(0o600);

    const again = run(["enclave", "init", "--state-file", genesisFile], env);
    expect((await again.waitForExit(30_000)).code).to.equal(0);
    expect(again.stdout()).to.contain(`the network secret is already initialized with this enclave's commitment`);
    expect(again.stdout()).not.to.contain("sent initializeNetworkSecret");

    // Another enclave cannot be the genesis any more.
    const other = run(["enclave", "init", "--state-file", path.join(states, "other.json")], env);
    expect((await other.waitForExit(30_000)).code).to.equal(1);
    expect(other.stderr()).to.contain(
      `error: the network secret is already initialized with another commitment (${await v.enclaveRegistry.secretCommitment()})`,
    );
  });

  it("(b) join: times out naming the request, then re-run is answered by the workers and the enclave is attested", async function () {
    expect(Enclave.load(genesisFile).hasSecret, "needs the genesis enclave of (a)").to.equal(true);
    const joinerFile = path.join(states, "joiner.json");
    const joinEnv = { ...baseEnv(), SIGNER_PRIVATE_KEY: JOINER_OPERATOR_KEY, ATTESTATION_SERVICE_KEY: ATTESTATION_KEY };
    const bounty = parseEther("0.5");

    // Nobody answers yet: exit 1, the request stays open.
    const early = run(["enclave", "join", "--state-file", joinerFile, "--bounty", "0.5", "--timeout", "1"], joinEnv);
    expect((await early.waitForExit(30_000)).code).to.equal(1);
    const requestId = await v.enclaveRegistry.requestCount();
    expect(early.stderr()).to.match(
      new RegExp(
        `^error: nobody answered secret request ${requestId} within 1 s yet\\..*cancelSecretRequest\\(${requestId}, `,
      ),
    );
    const joiner = Enclave.load(joinerFile);
    expect(joiner.hasSecret).to.equal(false);
    const request = {
      ...(await requestFields(v, requestId)),
      status: await v.enclaveRegistry.requestStatus(requestId),
    };
    expect(request.enclaveId).to.equal(joiner.address);
    expect(request.bounty).to.equal(bounty);
    expect(request.status).to.equal(1n); // Open

    // Re-run: waits on the same request (no second bounty) while the workers answer it.
    const balanceBefore = await v.connection.ethers.provider.getBalance(v.admin.address);
    const join = run(["enclave", "join", "--state-file", joinerFile, "--bounty", "0.5", "--timeout", "60"], joinEnv);
    const prefix = `t-enclave-cli-${hexlify(randomBytes(4)).slice(2)}`;
    try {
      // The genesis enclave's node serves its host interface; the workers ask it.
      const hostPort = await freePort();
      const genesisNode = run(["node"], {
        ...baseEnv(),
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        METRICS_PORT: "0",
        METRICS_HOST: "127.0.0.1",
        SIGNER_PRIVATE_KEY: NODE_SENDER_KEY,
        ENCLAVE_STATE_FILE: genesisFile,
        NODE_DATA_DIR: path.join(states, "genesis-l2"),
        L2_RPC_PORT: String(await freePort()),
        ENCLAVE_HOST_PORT: String(hostPort),
        ROLLUP_INTERVAL_MS: "3600000",
      });
      await genesisNode.waitForLog("enclave host interface listening", 60_000);
      run(["workers"], {
        ...baseEnv(),
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        METRICS_PORT: "0",
        METRICS_HOST: "127.0.0.1",
        SUBSCRIBER_CONFIRMATIONS: "0",
        SIGNER_PRIVATE_KEY: RESPONDER_SENDER_KEY,
        ENCLAVE_HOST_URL: `http://127.0.0.1:${hostPort}`,
      });
      expect((await join.waitForExit(60_000)).code).to.equal(0);
    } finally {
      await Promise.all(running.splice(0).map((p) => p.kill()));
      await deleteKeys(REDIS_URL, prefix);
    }
    expect(join.stdout()).to.contain(`waiting for the answer to this enclave's open request ${requestId}`);
    expect(join.stdout()).to.contain(`enclave ${joiner.address} is attested`);
    expect(await v.enclaveRegistry.requestCount()).to.equal(requestId);

    const joined = Enclave.load(joinerFile);
    expect(joined.secretCommitment).to.equal(Enclave.load(genesisFile).secretCommitment);
    expect(commitmentIn(join.stdout()).toLowerCase()).to.equal(joined.secretCommitment);
    expect(await v.enclaveRegistry.isAttested(joiner.address)).to.equal(true);
    expect(await v.enclaveRegistry.isSequencer(joiner.address)).to.equal(false);
    expect(await v.enclaveRegistry.requestStatus(requestId)).to.equal(2n); // Answered
    // The bounty went to the genesis enclave's operator (the admin, which sent nothing meanwhile).
    expect((await v.connection.ethers.provider.getBalance(v.admin.address)) - balanceBefore).to.equal(bounty);
    expect(statSync(joinerFile).mode & 0o777).to.equal(0o600);

    // Once it holds the secret, join says so and exits 0.
    const done = run(["enclave", "join", "--state-file", joinerFile], joinEnv);
    expect((await done.waitForExit(30_000)).code).to.equal(0);
    expect(done.stdout()).to.contain(`enclave ${joiner.address} already holds the network secret`);
  });

  it("(c) a missing ATTESTATION_SERVICE_KEY exits 2 with one line naming it", async () => {
    const p = run(["enclave", "init", "--state-file", path.join(states, "never.json")], {
      ...baseEnv(),
      SIGNER_PRIVATE_KEY: ADMIN_KEY,
    });
    expect((await p.waitForExit(30_000)).code).to.equal(2);
    expect(p.stderr()).to.equal("config: ATTESTATION_SERVICE_KEY: Required\n");
    expect(p.stdout()).to.equal("");
  });
});
