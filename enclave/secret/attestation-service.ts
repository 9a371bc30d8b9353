/**
 * The dev stand-in for SGX/TDX remote attestation. On hardware, the CPU produces a quote over the
 * enclave's measurement and report data (its public key) and an attestation service vouches for it;
 * here a plain key — the one the SignedReportVerifier trusts — signs an EIP-712 `AttestationReport`
 * (protocol/attestation.ts) for whatever key and measurement it is asked about. It proves nothing about
 * the code that runs: it exists so the whole flow (report → verifier → registry) is exercised locally.
 */
import { type Signer, type TypedDataDomain, getBytes, isHexString } from "ethers";

import { type AttestationReport, attestationDomain, signAttestationReport } from "../../protocol/attestation.js";

/** Whatever produces an enclave's attestation report (the dev service here; a DCAP quote provider later). */
export interface AttestationProvider {
  /** An encoded report (the `bytes report` EnclaveRegistry takes) for `enclavePubKey` running `measurement`. */
  attest(enclavePubKey: string, measurement: string): Promise<string>;
}

export interface DevAttestationServiceOptions {
  /** The attestation service key (any ethers Signer: a Wallet, a Hardhat signer…). */
  signer: Signer;
  chainId: bigint | number;
  /** Address of the SignedReportVerifier (the EIP-712 verifying contract). */
  verifier: string;
  /** Validity of a report in seconds (default one day). */
  ttlSeconds?: bigint | number;
  /** Current unix time in seconds (default: the wall clock). */
  now?: () => bigint;
}

const DAY = 86_400n;

export class DevAttestationService implements AttestationProvider {
  readonly #signer: Signer;
  readonly domain: TypedDataDomain;
  readonly ttlSeconds: bigint;
  readonly #now: () => bigint;

  constructor(options: DevAttestationServiceOptions) {
    this.#signer = options.signer;
    this.domain = attestationDomain(BigInt(options.chainId), options.verifier);
    this.ttlSeconds = BigInt(options.ttlSeconds ?? DAY);
    if (this.ttlSeconds <= 0n) throw new Error("DevAttestationService: ttlSeconds must be positive");
    this.#now = options.now ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  }

  /** Address of the service key (what SignedReportVerifier.isAttestationService must allow). */
  address(): Promise<string> {
    return this.#signer.getAddress();
  }

  /** A report for `enclavePubKey` and `measurement`, valid from now for `ttlSeconds`. */
  attest(enclavePubKey: string, measurement: string): Promise<string> {
    const issuedAt = this.#now();
    return this.sign({ enclavePubKey, measurement, issuedAt, expiresAt: issuedAt + this.ttlSeconds });
  }

  /** A report with an explicit validity window (tests of expiry). */
  async sign(report: AttestationReport): Promise<string> {
    const key = getBytes(report.enclavePubKey);
    if (key.length !== 65 || key[0] !== 0x04) {
      throw new Error("DevAttestationService: enclavePubKey must be an uncompressed secp256k1 key (65 bytes, 0x04)");
    }
    if (!isHexString(report.measurement, 32)) {
      throw new Error("DevAttestationService: measurement must be 32 bytes of hex");
    }
    return signAttestationReport(this.#signer, this.domain, report);
  }
}
