/**
 * enclave/secret: the network secret, the dev attestation service and the Enclave interface (secret
 * handover, peer-report policy, sealing stand-in). Peer reports are checked against the real
 * SignedReportVerifier on the in-process chain.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";

import { expect } from "chai";
import { Wallet, getAddress, id, keccak256 } from "ethers";
import { network } from "hardhat";

import { DerivationLabels } from "../../enclave/crypto/index.js";
import {
  DevAttestationService,
  Enclave,
  EnclaveStateError,
  NetworkSecret,
  NoNetworkSecretError,
  SecretCommitmentMismatchError,
} from "../../enclave/secret/index.js";
import { decodeAttestationReport } from "../../protocol/attestation.js";
import { MEASUREMENT, type Veilnet, deployVeilnet } from "../../testing/veilnet.js";
import { govern } from "../../testing/governance.js";

const connection = await network.create();
const { networkHelpers } = connection;

async function fixture(): Promise<Veilnet> {
  return deployVeilnet(connection);
}

async function chainNow(v: Veilnet): Promise<bigint> {
  return BigInt((await v.connection.ethers.provider.getBlock("latest"))!.timestamp);
}

async function attestationService(v: Veilnet, signer = v.attestationService): Promise<DevAttestationService> {
  const now = await chainNow(v);
  return new DevAttestationService({
    signer,
    chainId: v.chainId,
    verifier: await v.verifier.getAddress(),
    now: () => now,
  });
}

describe("enclave/secret", function () {
  let tmp: string;

  before(function () {
    tmp = mkdtempSync(path.join(os.tmpdir(), "veilnet-enclave-"));
  });

  after(function () {
    rmSync(tmp, { recursive: true, force: true });
  });

  describe("NetworkSecret", function () {
    it("is 32 random bytes committed to by keccak256, never printed", function () {
      const secret = NetworkSecret.generate();
      const other = NetworkSecret.generate();
      expect(secret.reveal()).to.match(/^0x[0-9a-f]{64}$/);
      expect(secret.reveal()).to.not.equal(other.reveal());
      expect(secret.commitment).to.equal(keccak256(secret.reveal()));
      expect(secret.matches(secret.commitment.toUpperCase().replace("0X", "0x"))).to.equal(true);
      expect(secret.matches(other.commitment)).to.equal(false);
      const hex = secret.reveal().slice(2);
      expect(JSON.stringify({ secret })).to.not.include(hex);
      expect(inspect(secret)).to.not.include(hex);
      expect(NetworkSecret.from(secret.reveal()).commitment).to.equal(secret.commitment);
      expect(() => NetworkSecret.from("0x1234")).to.throw("the network secret must be 32 bytes, got 2");
    });
  });

  describe("Enclave", function () {
    it("initializes the secret once and returns its commitment", function () {
      const enclave = Enclave.create({ measurement: MEASUREMENT });
      expect(enclave.hasSecret).to.equal(false);
      expect(() => enclave.encryptSecretFor(Enclave.create({ measurement: MEASUREMENT }).publicKey)).to.throw(
        NoNetworkSecretError,
      );
      const commitment = enclave.initializeSecret();
      expect(enclave.hasSecret).to.equal(true);
      expect(enclave.secretCommitment).to.equal(commitment);
      expect(() => enclave.initializeSecret()).to.throw("already holds a network secret");
    });

    it("hands the secret to a peer: acceptSecret decrypts it and checks the commitment", function () {
      const genesis = Enclave.create({ measurement: MEASUREMENT });
      const commitment = genesis.initializeSecret();
      const requester = Enclave.create({ measurement: MEASUREMENT });
      const ciphertext = genesis.encryptSecretFor(requester.publicKey);

      expect(requester.acceptSecret(ciphertext, commitment)).to.equal(commitment);
      expect(requester.hasSecret).to.equal(true);
      expect(requester.secretCommitment).to.equal(commitment);
      // Same secret: same derived keys.
      expect(requester.derive(DerivationLabels.rpc)).to.equal(genesis.derive(DerivationLabels.rpc));
    });

    it("acceptSecret rejects a secret that is not the committed one and keeps nothing", function () {
      const genesis = Enclave.create({ measurement: MEASUREMENT });
      genesis.initializeSecret();
      const impostor = Enclave.create({ measurement: MEASUREMENT });
      const wrongCommitment = impostor.initializeSecret();
      const requester = Enclave.create({ measurement: MEASUREMENT });
      const ciphertext = genesis.encryptSecretFor(requester.publicKey);

      let error: unknown;
      try {
        requester.acceptSecret(ciphertext, wrongCommitment);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(SecretCommitmentMismatchError);
      expect((error as SecretCommitmentMismatchError).expected).to.equal(wrongCommitment);
      expect((error as SecretCommitmentMismatchError).actual).to.equal(genesis.secretCommitment);
      expect(requester.hasSecret).to.equal(false);

      // Encrypted to someone else: cannot even be decrypted.
      const elsewhere = genesis.encryptSecretFor(impostor.publicKey);
      expect(() => requester.acceptSecret(elsewhere, genesis.secretCommitment!)).to.throw("cannot decrypt");
      expect(requester.hasSecret).to.equal(false);
    });

    it("saves to a 0600 file and loads back the same key, measurement and secret", function () {
      const file = path.join(tmp, "nested", "enclave.json");
      const enclave = Enclave.create({ measurement: MEASUREMENT });
      const commitment = enclave.initializeSecret();
      enclave.save(file);
      expect(statSync(file).mode & 0o777).to.equal(0o600);

      const loaded = Enclave.load(file);
      expect(loaded.address).to.equal(enclave.address);
      expect(loaded.publicKey).to.equal(enclave.publicKey);
      expect(loaded.measurement).to.equal(MEASUREMENT.toLowerCase());
      expect(loaded.secretCommitment).to.equal(commitment);
      expect(loaded.derive("x")).to.equal(enclave.derive("x"));

      // Without a secret: the secret is null and stays absent.
      const bare = Enclave.create({ measurement: MEASUREMENT });
      const bareFile = path.join(tmp, "bare.json");
      bare.save(bareFile);
      const bareLoaded = Enclave.load(bareFile);
      expect(bareLoaded.address).to.equal(bare.address);
      expect(bareLoaded.hasSecret).to.equal(false);
      // Re-saving after accepting the secret overwrites the file, still 0600.
      bareLoaded.acceptSecret(enclave.encryptSecretFor(bareLoaded.publicKey), commitment);
      bareLoaded.save(bareFile);
      expect(statSync(bareFile).mode & 0o777).to.equal(0o600);
      expect(Enclave.load(bareFile).secretCommitment).to.equal(commitment);
    });

    it("loadOrCreate creates the file once, then loads it", function () {
      const file = path.join(tmp, "lazy.json");
      const first = Enclave.loadOrCreate(file, { measurement: MEASUREMENT });
      const second = Enclave.loadOrCreate(file, { measurement: id("ignored: the file wins") });
      expect(second.address).to.equal(first.address);
      expect(second.measurement).to.equal(MEASUREMENT.toLowerCase());
    });

    it("refuses a missing, widely readable, malformed or inconsistent state file", function () {
      expect(() => Enclave.load(path.join(tmp, "missing.json"))).to.throw(EnclaveStateError, "does not exist");

      const file = path.join(tmp, "state.json");
      Enclave.create({ measurement: MEASUREMENT }).save(file);
      chmodSync(file, 0o644);
      expect(() => Enclave.load(file)).to.throw(EnclaveStateError, "accessible to other users (mode 644)");
      chmodSync(file, 0o600);

      const state = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...state, enclaveId: Wallet.createRandom().address }), { mode: 0o600 });
      expect(() => Enclave.load(file)).to.throw(EnclaveStateError, "not the recorded enclave");

      writeFileSync(file, JSON.stringify({ ...state, secret: "0x1234" }), { mode: 0o600 });
      expect(() => Enclave.load(file)).to.throw(EnclaveStateError, "secret: expected 32 bytes of 0x-hex");

      writeFileSync(file, "{ not json", { mode: 0o600 });
      expect(() => Enclave.load(file)).to.throw(EnclaveStateError, "is not a valid enclave state");
    });

    it("keeps its private key and secret out of JSON", function () {
      const file = path.join(tmp, "json.json");
      const enclave = Enclave.create({ measurement: MEASUREMENT });
      enclave.initializeSecret();
      enclave.save(file);
      const state = JSON.parse(readFileSync(file, "utf8")) as { privateKey: string; secret: string };
      const json = JSON.stringify(enclave);
      expect(json).to.not.include(state.privateKey.slice(2));
      expect(json).to.not.include(state.secret.slice(2));
      expect(JSON.parse(json)).to.deep.equal({
        address: enclave.address,
        publicKey: enclave.publicKey,
        measurement: MEASUREMENT.toLowerCase(),
        secretCommitment: enclave.secretCommitment,
      });
    });
  });

  describe("DevAttestationService and verifyPeerReport", function () {
    it("makes reports the on-chain verifier accepts, valid for the configured time", async function () {
      const v = await networkHelpers.loadFixture(fixture);
      const service = await attestationService(v);
      expect(await service.address()).to.equal(v.attestationService.address);
      const enclave = Enclave.create({ measurement: MEASUREMENT, attestation: service });
      const report = await enclave.attestationReport();
      const [enclaveId, pubKey, measurement] = await v.verifier.verify(report);
      expect(enclaveId).to.equal(enclave.address);
      expect(pubKey).to.equal(enclave.publicKey);
      expect(measurement).to.equal(MEASUREMENT);
      const decoded = decodeAttestationReport(report).report;
      expect(decoded.expiresAt - decoded.issuedAt).to.equal(86_400n);

      expect(() => Enclave.create({ measurement: MEASUREMENT }).attestationReport()).to.throw(
        "no attestation provider configured",
      );
      await expect(service.attest("0x1234", MEASUREMENT)).to.be.rejectedWith("uncompressed secp256k1 key");
      await expect(service.attest(enclave.publicKey, "0x1234")).to.be.rejectedWith("measurement must be 32 bytes");
    });

    it("accepts a peer attested by the verifier and running the same measurement", async function () {
      const v = await networkHelpers.loadFixture(fixture);
      const service = await attestationService(v);
      const self = Enclave.create({ measurement: MEASUREMENT, clock: () => 0n });
      const peer = Enclave.create({ measurement: MEASUREMENT, attestation: service });
      const verdict = await self.verifyPeerReport(await peer.attestationReport(), v.verifier, peer.publicKey);
      expect(verdict).to.deep.include({ ok: true, enclaveId: getAddress(peer.address), pubKey: peer.publicKey });
    });

    it("refuses a report the verifier rejects, with the decoded custom error", async function () {
      const v = await networkHelpers.loadFixture(fixture);
      const self = Enclave.create({ measurement: MEASUREMENT });
      // Signed by a key that is not an attestation service.
      const rogue = await attestationService(v, v.stranger);
      const peer = Enclave.create({ measurement: MEASUREMENT, attestation: rogue });
      expect(await self.verifyPeerReport(await peer.attestationReport(), v.verifier)).to.deep.equal({
        ok: false,
        code: "verifier-rejected",
        reason: `the attestation verifier refused the report: UnknownAttestationService(${v.stranger.address})`,
      });
      // Measurement removed from the allow-list.
      const honest = Enclave.create({ measurement: MEASUREMENT, attestation: await attestationService(v) });
      const report = await honest.attestationReport();
      await (await govern(v, v.verifier, "setMeasurement", [MEASUREMENT, false])).wait();
      expect(await self.verifyPeerReport(report, v.verifier)).to.deep.equal({
        ok: false,
        code: "verifier-rejected",
        reason: `the attestation verifier refused the report: MeasurementNotAllowed(${MEASUREMENT})`,
      });
    });

    it("refuses a peer with another measurement even when the verifier allows it", async function () {
      const v = await networkHelpers.loadFixture(fixture);
      const other = id("veilnet-enclave-v2");
      await (await govern(v, v.verifier, "setMeasurement", [other, true])).wait();
      const service = await attestationService(v);
      const self = Enclave.create({ measurement: MEASUREMENT });
      const peer = Enclave.create({ measurement: other, attestation: service });
      expect(await self.verifyPeerReport(await peer.attestationReport(), v.verifier)).to.deep.equal({
        ok: false,
        code: "measurement-mismatch",
        reason: `the peer's measurement ${other} is not this enclave's ${MEASUREMENT.toLowerCase()}`,
      });
    });

    it("refuses a report expired by its own clock, a report for another key, and garbage", async function () {
      const v = await networkHelpers.loadFixture(fixture);
      const service = await attestationService(v);
      const peer = Enclave.create({ measurement: MEASUREMENT, attestation: service });
      const report = await peer.attestationReport();
      const { expiresAt } = decodeAttestationReport(report).report;

      const late = Enclave.create({ measurement: MEASUREMENT, clock: () => expiresAt + 1n });
      expect(await late.verifyPeerReport(report, v.verifier)).to.deep.equal({
        ok: false,
        code: "expired",
        reason: `the report expired at ${expiresAt} (now ${expiresAt + 1n})`,
      });
      const onTime = Enclave.create({ measurement: MEASUREMENT, clock: () => expiresAt });
      expect((await onTime.verifyPeerReport(report, v.verifier)).ok).to.equal(true);

      const someoneElse = Enclave.create({ measurement: MEASUREMENT });
      const verdict = await onTime.verifyPeerReport(report, v.verifier, someoneElse.publicKey);
      expect(verdict).to.deep.equal({
        ok: false,
        code: "pubkey-mismatch",
        reason: `the report attests key ${peer.publicKey}, not the requester's ${someoneElse.publicKey}`,
      });

      const garbage = await onTime.verifyPeerReport("0x1234", v.verifier);
      expect(garbage.ok).to.equal(false);
      expect(garbage.ok === false && garbage.code).to.equal("malformed-report");
    });

    it("throws (does not refuse) when the verifier cannot be reached", async function () {
      const self = Enclave.create({ measurement: MEASUREMENT });
      const peer = Enclave.create({ measurement: MEASUREMENT });
      const service = new DevAttestationService({
        signer: Wallet.createRandom(),
        chainId: 1,
        verifier: Wallet.createRandom().address,
      });
      const report = await service.attest(peer.publicKey, MEASUREMENT);
      const down = {
        verify: async (): Promise<{ enclaveId: string; enclavePubKey: string; measurement: string }> => {
          throw new Error("connect ECONNREFUSED");
        },
      };
      await expect(self.verifyPeerReport(report, down)).to.be.rejectedWith("ECONNREFUSED");
    });
  });
});
