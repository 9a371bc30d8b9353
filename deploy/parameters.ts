/**
 * Parameters of the Veilnet Ignition module (deploy/modules/Veilnet.ts): their defaults, the
 * validation of a parameters file (Ignition format: `{ "Veilnet": { ... } }`, optionally with
 * `"$global"`), and how the values used are recorded in deployments/<chainId>.json.
 *
 * No Hardhat import here: workers may load this module.
 */
import { getAddress, id, isAddress, isHexString } from "ethers";
import { z } from "zod";

import { L2Predeploys } from "../protocol/predeploys.js";

/** Measurement of the development enclave (no hardware attestation): what local deployments allow. */
export const DEV_ENCLAVE_MEASUREMENT = id("veilnet-dev-enclave-v1");

/** Id of the Ignition module, and the key of its parameters in a parameters file. */
export const VEILNET_MODULE_ID = "Veilnet";

/** Every parameter of the Veilnet module, as used for one deployment. */
export interface VeilnetParameters {
  /** Seconds a rollup's message root waits before it can be relayed (RollupRegistry, uint32). */
  challengePeriod: bigint;
  /**
   * L1 blocks after the end of a revelation epoch before its key may be published (RollupRegistry, uint64,
   * at least MIN_REVELATION_PERIOD = 256).
   */
  revelationPeriod: bigint;
  /** Seconds after which an unanswered secret request can be cancelled (EnclaveRegistry, uint64). */
  secretRequestTimeout: bigint;
  /** Wei charged per L1→L2 message (MessageBus, ≤ uint128). */
  messageFee: bigint;
  /** Wei credited to a sequencer per accepted rollup (FeeVault, ≤ uint64). */
  baseReward: bigint;
  /** Wei credited to a sequencer per batch of an accepted rollup (FeeVault, ≤ uint64). */
  perBatchReward: bigint;
  /** Share of message fees kept by the treasury, in basis points (FeeVault, ≤ 10 000). */
  treasuryShareBps: bigint;
  /** Key whose EIP-712 signatures make attestation reports valid (SignedReportVerifier). */
  attestationService: string;
  /**
   * Enclave code measurement allowed from the start (SignedReportVerifier). Default: the measurement of
   * the development enclave, keccak256("veilnet-dev-enclave-v1"); set the real MRENCLAVE/MRTD elsewhere.
   */
  measurement: string;
  /** Address of the L2 bridge the L1 bridge trusts (the L2 predeploy). */
  l2Bridge: string;
  /** Whether anyone may register a token on the Bridge, or only TOKEN_ADMIN_ROLE. */
  permissionlessTokenRegistration: boolean;
  /**
   * Seconds between scheduling an operation on the TimelockController and executing it (its `minDelay`).
   * The timelock holds every admin role, so this is how long any admin change is visible before it acts.
   */
  timelockDelay: bigint;
  /** Seconds a DEFAULT_ADMIN_ROLE transfer waits before the new admin can accept it (every contract, uint48). */
  adminDelay: bigint;
  /** Proposer, canceller and executor of the timelock (a multisig in production). */
  governor: string;
  /** Holds the emergency roles: PAUSER_ROLE everywhere, GUARDIAN_ROLE on the RollupRegistry. Acts at once. */
  guardian: string;
  /** Holds EnclaveRegistry's GENESIS_ROLE: may initialize the network secret once (`veilnet enclave init`). */
  initializer: string;
}

/** The parameters that name an account: the deployer by default on local chains, required elsewhere. */
export const ACCOUNT_PARAMETERS = ["attestationService", "governor", "guardian", "initializer"] as const;

export type AccountParameter = (typeof ACCOUNT_PARAMETERS)[number];

/** Defaults of every parameter but the accounts (the deployer on local chains, required elsewhere). */
export const DEFAULT_PARAMETERS: Readonly<Omit<VeilnetParameters, AccountParameter>> = {
  challengePeriod: 3600n,
  // About 7 days of 12 s L1 blocks.
  revelationPeriod: 50_400n,
  secretRequestTimeout: 3600n,
  messageFee: 0n,
  baseReward: 0n,
  perBatchReward: 0n,
  treasuryShareBps: 1000n,
  measurement: DEV_ENCLAVE_MEASUREMENT,
  l2Bridge: L2Predeploys.bridge,
  permissionlessTokenRegistration: true,
  // 2 days.
  timelockDelay: 172_800n,
  // 5 days.
  adminDelay: 432_000n,
};

const MAX_UINT32 = 2n ** 32n - 1n;
const MAX_UINT48 = 2n ** 48n - 1n;
const MAX_UINT64 = 2n ** 64n - 1n;
const MAX_UINT128 = 2n ** 128n - 1n;
/** RollupRegistry.MIN_REVELATION_PERIOD (the `blockhash` window a binding block must be in). */
export const MIN_REVELATION_PERIOD = 256n;

/** An integer given as a JSON number, a decimal string or Ignition's `"123n"` (already a bigint). */
function uint(max: bigint, what: string) {
  return z
    .union([
      z.bigint(),
      z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
      z.string().regex(/^\d+$/, "expected a decimal integer string"),
    ])
    .transform((v) => BigInt(v))
    .refine((v) => v >= 0n && v <= max, { message: `must be between 0 and ${max} (${what})` });
}

const address = z
  .string()
  .refine((v) => isAddress(v), { message: "expected a 20-byte hex address" })
  .refine((v) => BigInt(v) !== 0n, { message: "must not be the zero address" })
  .transform((v) => getAddress(v));

const bytes32 = z.string().refine((v) => isHexString(v, 32), { message: "expected a 32-byte hex string" });

/** Every parameter with its type and range. */
const parameterFields = z.object({
  challengePeriod: uint(MAX_UINT32, "uint32 seconds"),
  revelationPeriod: uint(MAX_UINT64, "uint64 L1 blocks").refine((v) => v >= MIN_REVELATION_PERIOD, {
    message: `must be at least ${MIN_REVELATION_PERIOD} L1 blocks (RollupRegistry.MIN_REVELATION_PERIOD)`,
  }),
  secretRequestTimeout: uint(MAX_UINT64, "uint64 seconds"),
  messageFee: uint(MAX_UINT128, "wei"),
  baseReward: uint(MAX_UINT64, "wei"),
  perBatchReward: uint(MAX_UINT64, "wei"),
  treasuryShareBps: uint(10_000n, "basis points"),
  attestationService: address,
  measurement: bytes32,
  l2Bridge: address,
  permissionlessTokenRegistration: z.boolean(),
  timelockDelay: uint(MAX_UINT64, "seconds"),
  adminDelay: uint(MAX_UINT48, "uint48 seconds"),
  governor: address,
  guardian: address,
  initializer: address,
});

/** The parameters one module entry of a parameters file may set (all optional, no others). */
export const moduleParametersSchema = parameterFields.partial().strict();

export type PartialVeilnetParameters = z.infer<typeof moduleParametersSchema>;

/** A whole parameters file: only the Veilnet module (and Ignition's `$global`) may appear. */
export const parametersFileSchema = z
  .object({
    $global: moduleParametersSchema.optional(),
    [VEILNET_MODULE_ID]: moduleParametersSchema.optional(),
  })
  .strict();

/** Formats zod issues as `path: message` lines, naming each bad field. */
export function formatZodIssues(error: z.ZodError, prefix = ""): string {
  return error.issues
    .map((issue) => {
      const where = [prefix, ...issue.path.map(String)].filter((p) => p !== "").join(".");
      const extra = issue.code === "unrecognized_keys" ? ` (allowed: ${allowedKeysHint(issue.path.map(String))})` : "";
      return `  - ${where === "" ? "(root)" : where}: ${issue.message}${extra}`;
    })
    .join("\n");
}

function allowedKeysHint(path: string[]): string {
  if (path.length === 0) return `${VEILNET_MODULE_ID}, $global`;
  return Object.keys(moduleParametersSchema.shape).join(", ");
}

/** Validates the parsed content of a parameters file; throws an Error naming every bad field. */
export function parseParametersFile(content: unknown, source: string): PartialVeilnetParameters {
  const parsed = parametersFileSchema.safeParse(content);
  if (!parsed.success) {
    throw new Error(`Invalid parameters file ${source}:\n${formatZodIssues(parsed.error)}`);
  }
  return { ...parsed.data.$global, ...parsed.data[VEILNET_MODULE_ID] };
}

/**
 * Layers `given` over the defaults. The accounts (`attestationService`, `governor`, `guardian`,
 * `initializer`) default to `deployer` on local chains and must be given elsewhere, so that a public
 * deployment never trusts the deployer key by accident.
 */
export function resolveParameters(
  given: PartialVeilnetParameters,
  context: { deployer: string; isLocalChain: boolean; networkName: string },
): VeilnetParameters {
  const missing = ACCOUNT_PARAMETERS.filter((name) => given[name] === undefined);
  if (missing.length > 0 && !context.isLocalChain) {
    throw new Error(
      `Parameter${missing.length > 1 ? "s" : ""} ${missing.map((n) => `${VEILNET_MODULE_ID}.${n}`).join(", ")} ` +
        `${missing.length > 1 ? "are" : "is"} required on network "${context.networkName}" ` +
        `(accounts default to the deployer only on local chains): set ${missing.length > 1 ? "them" : "it"} in the --parameters file.`,
    );
  }
  const deployer = getAddress(context.deployer);
  const accounts = Object.fromEntries(ACCOUNT_PARAMETERS.map((name) => [name, given[name] ?? deployer])) as Record<
    AccountParameter,
    string
  >;
  return { ...DEFAULT_PARAMETERS, ...given, ...accounts };
}

/** JSON form of the parameters in deployments/<chainId>.json: integers as decimal strings. */
export interface SerializedVeilnetParameters {
  challengePeriod: string;
  revelationPeriod: string;
  secretRequestTimeout: string;
  messageFee: string;
  baseReward: string;
  perBatchReward: string;
  treasuryShareBps: string;
  attestationService: string;
  measurement: string;
  l2Bridge: string;
  permissionlessTokenRegistration: boolean;
  timelockDelay: string;
  adminDelay: string;
  governor: string;
  guardian: string;
  initializer: string;
}

export function serializeParameters(p: VeilnetParameters): SerializedVeilnetParameters {
  return {
    challengePeriod: p.challengePeriod.toString(),
    revelationPeriod: p.revelationPeriod.toString(),
    secretRequestTimeout: p.secretRequestTimeout.toString(),
    messageFee: p.messageFee.toString(),
    baseReward: p.baseReward.toString(),
    perBatchReward: p.perBatchReward.toString(),
    treasuryShareBps: p.treasuryShareBps.toString(),
    attestationService: getAddress(p.attestationService),
    measurement: p.measurement.toLowerCase(),
    l2Bridge: getAddress(p.l2Bridge),
    permissionlessTokenRegistration: p.permissionlessTokenRegistration,
    timelockDelay: p.timelockDelay.toString(),
    adminDelay: p.adminDelay.toString(),
    governor: getAddress(p.governor),
    guardian: getAddress(p.guardian),
    initializer: getAddress(p.initializer),
  };
}

/** The recorded parameters as read back (every field required). */
export const recordedParametersSchema = parameterFields.strict();

/** The module parameters to hand to Ignition for `p`. */
export function toIgnitionParameters(p: VeilnetParameters): {
  [VEILNET_MODULE_ID]: Record<string, bigint | string | boolean>;
} {
  return { [VEILNET_MODULE_ID]: { ...p } };
}
