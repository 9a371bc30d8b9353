import { expect } from "chai";
import {
  AbiCoder,
  SigningKey,
  TypedDataEncoder,
  Wallet,
  computeAddress,
  concat,
  getBytes,
  hexlify,
  id,
  randomBytes,
  verifyTypedData,
} from "ethers";
import { network } from "hardhat";

import {
  ATTESTATION_REPORT_TYPES,
  type AttestationReport,
  attestationDomain,
  decodeAttestationReport,
  encodeAttestationReport,
  signAttestationReport,
} from "../../protocol/attestation.js";
import { MEASUREMENT, type Veilnet, deployVeilnet, makeEnclave } from "../../testing/veilnet.js";
import { govern } from "../../testing/governance.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

async function fixture(): Promise<Veilnet> {
  return deployVeilnet(connection);
}

async function latestTimestamp(): Promise<bigint> {
  return BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
}

/** A report over an arbitrary public key, signed by the fixture's attestation service. */
async function reportForKey(v: Veilnet, enclavePubKey: string): Promise<string> {
  const now = await latestTimestamp();
  return signAttestationReport(v.attestationService, attestationDomain(v.chainId, await v.verifier.getAddress()), {
    enclavePubKey,
    measurement: MEASUREMENT,
    issuedAt: now,
    expiresAt: now + 3600n,
  });
}

/** The signer ethers recovers for `signature` over `report` in the verifier's domain. */
async function recoveredSigner(v: Veilnet, report: AttestationReport, signature: string): Promise<string> {
  return verifyTypedData(
    attestationDomain(v.chainId, await v.verifier.getAddress()),
    ATTESTATION_REPORT_TYPES,
    report,
    signature,
  );
}

describe("SignedReportVerifier", () => {
  describe("deployment", () => {
    it("trusts the configured attestation service and measurement only", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      expect(await v.verifier.isAttestationService(v.attestationService.address)).to.equal(true);
      expect(await v.verifier.isAttestationService(v.admin.address)).to.equal(false);
      expect(await v.verifier.isMeasurementAllowed(MEASUREMENT)).to.equal(true);
      expect(await v.verifier.isMeasurementAllowed(id("other"))).to.equal(false);
      const role = await v.verifier.ATTESTATION_ADMIN_ROLE();
      expect(await v.verifier.hasRole(role, await v.timelock.getAddress())).to.equal(true);
      expect(await v.verifier.hasRole(role, v.stranger.address)).to.equal(false);
    });
  });

  describe("verify", () => {
    it("accepts a good report and returns (enclaveId, pubkey, measurement)", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const enclave = await makeEnclave(v);
      const [enclaveId, pubKey, measurement] = await v.verifier.verify(enclave.report);
      expect(enclaveId).to.equal(enclave.address);
      expect(enclaveId).to.equal(computeAddress(enclave.publicKey));
      expect(pubKey).to.equal(enclave.publicKey);
      expect(measurement).to.equal(MEASUREMENT);
    });

    it("signs the EIP-712 digest ethers computes", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const enclave = await makeEnclave(v);
      const { report } = decodeAttestationReport(enclave.report);
      const domain = attestationDomain(v.chainId, await v.verifier.getAddress());
      expect(await v.verifier.reportDigest(report)).to.equal(
        TypedDataEncoder.hash(domain, ATTESTATION_REPORT_TYPES, report),
      );
    });

    it("rejects a report signed by a key that is not an attestation service", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const rogue = Wallet.createRandom();
      const forged = await makeEnclave(v, { signer: rogue });
      await expect(v.verifier.verify(forged.report))
        .to.be.revertedWithCustomError(v.verifier, "UnknownAttestationService")
        .withArgs(rogue.address);
      const byStranger = await makeEnclave(v, { signer: v.stranger });
      await expect(v.verifier.verify(byStranger.report))
        .to.be.revertedWithCustomError(v.verifier, "UnknownAttestationService")
        .withArgs(v.stranger.address);
    });

    it("rejects a report whose fields were changed after signing", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const enclave = await makeEnclave(v);
      const { report, signature } = decodeAttestationReport(enclave.report);
      const other = Wallet.createRandom().signingKey.publicKey;
      const tampered = { ...report, enclavePubKey: other };
      const recovered = await recoveredSigner(v, tampered, signature);
      expect(recovered).to.not.equal(v.attestationService.address);
      await expect(v.verifier.verify(encodeAttestationReport(tampered, signature)))
        .to.be.revertedWithCustomError(v.verifier, "UnknownAttestationService")
        .withArgs(recovered);
      const extended = { ...report, expiresAt: report.expiresAt + 1_000_000n };
      await expect(v.verifier.verify(encodeAttestationReport(extended, signature)))
        .to.be.revertedWithCustomError(v.verifier, "UnknownAttestationService")
        .withArgs(await recoveredSigner(v, extended, signature));
    });

    it("rejects a report signed for another verifier (domain separation)", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const now = await latestTimestamp();
      const report: AttestationReport = {
        enclavePubKey: Wallet.createRandom().signingKey.publicKey,
        measurement: MEASUREMENT,
        issuedAt: now,
        expiresAt: now + 3600n,
      };
      const otherDomain = attestationDomain(v.chainId, Wallet.createRandom().address);
      const signature = await v.attestationService.signTypedData(otherDomain, ATTESTATION_REPORT_TYPES, report);
      await expect(v.verifier.verify(encodeAttestationReport(report, signature)))
        .to.be.revertedWithCustomError(v.verifier, "UnknownAttestationService")
        .withArgs(await recoveredSigner(v, report, signature));
    });

    it("rejects a malformed signature as an unknown (zero) service", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const enclave = await makeEnclave(v);
      const { report } = decodeAttestationReport(enclave.report);
      await expect(v.verifier.verify(encodeAttestationReport(report, "0x1234")))
        .to.be.revertedWithCustomError(v.verifier, "UnknownAttestationService")
        .withArgs(ethers.ZeroAddress);
    });

    it("rejects a measurement that is not on the allow-list", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const measurement = id("veilnet-enclave-evil");
      const enclave = await makeEnclave(v, { measurement });
      await expect(v.verifier.verify(enclave.report))
        .to.be.revertedWithCustomError(v.verifier, "MeasurementNotAllowed")
        .withArgs(measurement);
    });

    it("rejects an expired report", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const expiresAt = (await latestTimestamp()) - 1n;
      const enclave = await makeEnclave(v, { expiresAt });
      await expect(v.verifier.verify(enclave.report))
        .to.be.revertedWithCustomError(v.verifier, "ReportExpired")
        .withArgs(expiresAt);
    });

    it("rejects a report issued after it expires", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const now = await latestTimestamp();
      const enclave = await makeEnclave(v);
      const { report } = decodeAttestationReport(enclave.report);
      const bad = await signAttestationReport(
        v.attestationService,
        attestationDomain(v.chainId, await v.verifier.getAddress()),
        { ...report, issuedAt: now + 200n, expiresAt: now + 100n },
      );
      await expect(v.verifier.verify(bad))
        .to.be.revertedWithCustomError(v.verifier, "InvalidReportWindow")
        .withArgs(now + 200n, now + 100n);
    });

    it("accepts a report until it expires, then rejects it", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const expiresAt = (await latestTimestamp()) + 100n;
      const enclave = await makeEnclave(v, { expiresAt });
      const [enclaveId] = await v.verifier.verify(enclave.report);
      expect(enclaveId).to.equal(enclave.address);
      await networkHelpers.time.increaseTo(expiresAt + 1n);
      await expect(v.verifier.verify(enclave.report))
        .to.be.revertedWithCustomError(v.verifier, "ReportExpired")
        .withArgs(expiresAt);
    });

    it("rejects a compressed public key", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const key = Wallet.createRandom().signingKey;
      const compressed = SigningKey.computePublicKey(key.publicKey, true);
      expect(getBytes(compressed).length).to.equal(33);
      await expect(v.verifier.verify(await reportForKey(v, compressed))).to.be.revertedWithCustomError(
        v.verifier,
        "InvalidEnclavePubKey",
      );
    });

    it("rejects public keys of the wrong length or prefix", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const uncompressed = getBytes(Wallet.createRandom().signingKey.publicKey);
      const badKeys = [
        hexlify(uncompressed.slice(1)), // 64 bytes, no prefix
        concat([uncompressed, "0x00"]), // 66 bytes
        hexlify(uncompressed.slice(0, 64)), // 64 bytes, prefix kept
        concat(["0x03", uncompressed.slice(1)]), // 65 bytes, wrong prefix
        "0x", // empty
      ];
      for (const key of badKeys) {
        await expect(v.verifier.verify(await reportForKey(v, key)), key).to.be.revertedWithCustomError(
          v.verifier,
          "InvalidEnclavePubKey",
        );
      }
    });

    it("rejects garbage bytes as MalformedReport", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      for (const garbage of ["0x1234", "0x", hexlify(randomBytes(100))]) {
        await expect(v.verifier.verify(garbage), garbage).to.be.revertedWithCustomError(v.verifier, "MalformedReport");
      }
      // well-formed ABI of the wrong shape: a single word
      const wrongShape = AbiCoder.defaultAbiCoder().encode(["uint256"], [1n]);
      await expect(v.verifier.verify(wrongShape)).to.be.revertedWithCustomError(v.verifier, "MalformedReport");
    });
  });

  describe("setAttestationService", () => {
    it("rejects a caller without ATTESTATION_ADMIN_ROLE", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const role = await v.verifier.ATTESTATION_ADMIN_ROLE();
      await expect(v.verifier.connect(v.stranger).setAttestationService(v.stranger.address, true))
        .to.be.revertedWithCustomError(v.verifier, "AccessControlUnauthorizedAccount")
        .withArgs(v.stranger.address, role);
      expect(await v.verifier.isAttestationService(v.stranger.address)).to.equal(false);
    });

    it("adds a service whose reports are then accepted", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const service = Wallet.createRandom();
      const enclave = await makeEnclave(v, { signer: service });
      await expect(v.verifier.verify(enclave.report))
        .to.be.revertedWithCustomError(v.verifier, "UnknownAttestationService")
        .withArgs(service.address);
      await expect(govern(v, v.verifier, "setAttestationService", [service.address, true]))
        .to.emit(v.verifier, "AttestationServiceSet")
        .withArgs(service.address, true);
      expect(await v.verifier.isAttestationService(service.address)).to.equal(true);
      const [enclaveId] = await v.verifier.verify(enclave.report);
      expect(enclaveId).to.equal(enclave.address);
    });

    it("removes a service whose reports are then rejected", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const enclave = await makeEnclave(v);
      await expect(govern(v, v.verifier, "setAttestationService", [v.attestationService.address, false]))
        .to.emit(v.verifier, "AttestationServiceSet")
        .withArgs(v.attestationService.address, false);
      await expect(v.verifier.verify(enclave.report))
        .to.be.revertedWithCustomError(v.verifier, "UnknownAttestationService")
        .withArgs(v.attestationService.address);
    });

    it("rejects the zero address", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      await expect(
        govern(v, v.verifier, "setAttestationService", [ethers.ZeroAddress, true]),
      ).to.be.revertedWithCustomError(v.verifier, "ZeroAddress");
    });
  });

  describe("setMeasurement", () => {
    it("rejects a caller without ATTESTATION_ADMIN_ROLE", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const role = await v.verifier.ATTESTATION_ADMIN_ROLE();
      await expect(v.verifier.connect(v.stranger).setMeasurement(MEASUREMENT, false))
        .to.be.revertedWithCustomError(v.verifier, "AccessControlUnauthorizedAccount")
        .withArgs(v.stranger.address, role);
      expect(await v.verifier.isMeasurementAllowed(MEASUREMENT)).to.equal(true);
    });

    it("removing the measurement makes verify revert, also through the EnclaveRegistry", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const enclave = await makeEnclave(v);
      await expect(govern(v, v.verifier, "setMeasurement", [MEASUREMENT, false]))
        .to.emit(v.verifier, "MeasurementSet")
        .withArgs(MEASUREMENT, false);
      expect(await v.verifier.isMeasurementAllowed(MEASUREMENT)).to.equal(false);
      await expect(v.verifier.verify(enclave.report))
        .to.be.revertedWithCustomError(v.verifier, "MeasurementNotAllowed")
        .withArgs(MEASUREMENT);
      await expect(v.enclaveRegistry.initializeNetworkSecret(enclave.report, id("secret")))
        .to.be.revertedWithCustomError(v.verifier, "MeasurementNotAllowed")
        .withArgs(MEASUREMENT);
    });

    it("adding a measurement makes its reports valid", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const measurement = id("veilnet-enclave-v2");
      const enclave = await makeEnclave(v, { measurement });
      await expect(govern(v, v.verifier, "setMeasurement", [measurement, true]))
        .to.emit(v.verifier, "MeasurementSet")
        .withArgs(measurement, true);
      const [enclaveId, , returned] = await v.verifier.verify(enclave.report);
      expect(enclaveId).to.equal(enclave.address);
      expect(returned).to.equal(measurement);
    });
  });

  describe("enclaveAddress", () => {
    it("matches ethers' computeAddress", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      for (let i = 0; i < 5; i++) {
        const publicKey = Wallet.createRandom().signingKey.publicKey;
        expect(await v.verifier.enclaveAddress(publicKey)).to.equal(computeAddress(publicKey));
      }
    });

    it("rejects a compressed or wrong-length key", async () => {
      const v = await networkHelpers.loadFixture(fixture);
      const publicKey = Wallet.createRandom().signingKey.publicKey;
      await expect(
        v.verifier.enclaveAddress(SigningKey.computePublicKey(publicKey, true)),
      ).to.be.revertedWithCustomError(v.verifier, "InvalidEnclavePubKey");
      await expect(v.verifier.enclaveAddress(concat([publicKey, "0x01"]))).to.be.revertedWithCustomError(
        v.verifier,
        "InvalidEnclavePubKey",
      );
    });
  });
});
