/**
 * Attestation reports as the default `SignedReportVerifier` checks them: an EIP-712 signature by an
 * attestation service over the enclave's public key and code measurement.
 */
import { AbiCoder, type Signer, type TypedDataDomain, Wallet, computeAddress } from "ethers";

export interface AttestationReport {
  /** Uncompressed secp256k1 public key of the enclave, 0x04-prefixed, 65 bytes. */
  enclavePubKey: string;
  /** Code measurement (MRENCLAVE / MRTD). */
  measurement: string;
  /** Unix seconds. */
  issuedAt: bigint;
  /** Unix seconds after which the report is refused. */
  expiresAt: bigint;
}

export const ATTESTATION_REPORT_TYPES = {
  AttestationReport: [
    { name: "enclavePubKey", type: "bytes" },
    { name: "measurement", type: "bytes32" },
    { name: "issuedAt", type: "uint64" },
    { name: "expiresAt", type: "uint64" },
  ],
};

const REPORT_ABI = ["tuple(bytes enclavePubKey, bytes32 measurement, uint64 issuedAt, uint64 expiresAt)", "bytes"];

export function attestationDomain(chainId: bigint, verifier: string): TypedDataDomain {
  return { name: "VeilnetAttestation", version: "1", chainId, verifyingContract: verifier };
}

/** ABI-encodes a report with its signature, the `bytes report` the contracts take. */
export function encodeAttestationReport(report: AttestationReport, signature: string): string {
  return AbiCoder.defaultAbiCoder().encode(REPORT_ABI, [
    [report.enclavePubKey, report.measurement, report.issuedAt, report.expiresAt],
    signature,
  ]);
}

/** Decodes `bytes report` back into the report and its signature. */
export function decodeAttestationReport(encoded: string): { report: AttestationReport; signature: string } {
  const [r, signature] = AbiCoder.defaultAbiCoder().decode(REPORT_ABI, encoded) as unknown as [
    [string, string, bigint, bigint],
    string,
  ];
  return {
    report: { enclavePubKey: r[0], measurement: r[1], issuedAt: r[2], expiresAt: r[3] },
    signature,
  };
}

/** Signs `report` as attestation service `service` and returns the encoded report. */
export async function signAttestationReport(
  service: Signer,
  domain: TypedDataDomain,
  report: AttestationReport,
): Promise<string> {
  const signature = await service.signTypedData(domain, ATTESTATION_REPORT_TYPES, report);
  return encodeAttestationReport(report, signature);
}

/** An enclave's key pair: its address signs rollups and responses, its public key receives the secret. */
export interface EnclaveIdentity {
  wallet: Wallet;
  address: string;
  publicKey: string;
}

export function enclaveIdentity(wallet: Wallet = Wallet.createRandom() as unknown as Wallet): EnclaveIdentity {
  const w = new Wallet(wallet.privateKey);
  return { wallet: w, address: computeAddress(w.signingKey.publicKey), publicKey: w.signingKey.publicKey };
}
