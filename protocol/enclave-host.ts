/**
 * The enclave host interface (DESIGN §4): the JSON-RPC methods an enclave node serves to its operator's
 * own processes on ENCLAVE_HOST_PORT (loopback by default), apart from the public L2 JSON-RPC. Shared by
 * the node (enclave/host) and its client (the secret-responder), so both check the same formats.
 *
 * The interface never hands out the network secret and never encrypts to a key the caller chooses: a
 * caller names a secret request on L1 (its id and the transaction that made it), and the enclave reads
 * the requester, its report and its key from L1 itself, verifies the report, and answers with the secret
 * encrypted to that key and its own signature, or refuses with a reason.
 */
import { isAddress, isHexString } from "ethers";
import { z } from "zod";

/** The enclave's identity and whether it holds the secret (`EnclaveStatus`). Takes no params. */
export const ENCLAVE_STATUS_METHOD = "enclave_status";
/** Answers one secret request (params: `[SecretRequestLocator]`; result: `SecretRequestAnswer`). */
export const ANSWER_SECRET_REQUEST_METHOD = "enclave_answerSecretRequest";

/** The methods of the host interface; nothing else is served there. */
export const ENCLAVE_HOST_METHODS: ReadonlySet<string> = new Set([ENCLAVE_STATUS_METHOD, ANSWER_SECRET_REQUEST_METHOD]);

/** The host interface's own JSON-RPC error codes, besides JSON-RPC's. */
export const EnclaveHostErrorCodes = {
  /** The node's L1 does not know the request or its transaction (yet, or no longer after a reorg): retry later. */
  unknownToL1: -32010,
} as const;

const address = z.string().refine((v) => isAddress(v), { message: "expected a 0x-address" });
const bytes32 = z.string().refine((v): boolean => isHexString(v, 32), { message: "expected 32 bytes of 0x-hex" });
const hex = z.string().refine((v): boolean => isHexString(v), { message: "expected 0x-hex" });
/** A uint256 as a decimal string (JSON has no integers that large). */
const uint = z.string().regex(/^(0|[1-9]\d{0,77})$/, { message: "expected a decimal integer" });

/**
 * Names a secret request on L1: its id and the hash of the requestNetworkSecret transaction that made it
 * (where the enclave reads the requester's report). Nothing else is accepted: no key, no report.
 */
export const secretRequestLocatorSchema = z
  .object({
    requestId: uint.describe("EnclaveRegistry request id, decimal"),
    transactionHash: bytes32.describe("hash of the requestNetworkSecret transaction that made the request"),
  })
  .strict();

export type SecretRequestLocator = z.infer<typeof secretRequestLocatorSchema>;

export const enclaveStatusSchema = z.object({
  /** Enclave id: the address of the enclave key (the responder of its answers). */
  address,
  /** Code measurement of the enclave (bytes32, lower case). */
  measurement: bytes32,
  hasSecret: z.boolean(),
  /** keccak256 of the network secret it holds (compare with EnclaveRegistry.secretCommitment), or null. */
  secretCommitment: bytes32.nullable(),
});

export type EnclaveStatus = z.infer<typeof enclaveStatusSchema>;

/**
 * Why the enclave refused to answer a request (low-cardinality: a metric label):
 * - `report-unavailable`: the report cannot be read back from the named transaction (not a direct
 *   requestNetworkSecret call to the registry, or not the one that made the request);
 * - `requester-mismatch`: the request in that transaction is not the one L1 committed to;
 * - the rest: the requester's report failed verification (enclave/secret's RefusalCode).
 */
export const SECRET_REFUSAL_CODES = [
  "report-unavailable",
  "requester-mismatch",
  "malformed-report",
  "verifier-rejected",
  "measurement-mismatch",
  "expired",
  "pubkey-mismatch",
] as const;

export type SecretRefusalCode = (typeof SECRET_REFUSAL_CODES)[number];

/** The request's fields as EnclaveRegistry.respondNetworkSecret takes them back (uints as decimal strings). */
export const secretRequestFieldsSchema = z.object({
  enclaveId: address,
  payer: address,
  bounty: uint,
  createdAt: uint,
});

export const secretRequestAnswerSchema = z.discriminatedUnion("outcome", [
  /**
   * The enclave answers: the secret encrypted to the requester's key (from L1), the responder's EIP-712
   * signature, and the public inputs it checked (the request's fields and the requester's report), which
   * respondNetworkSecret takes back.
   */
  z.object({
    outcome: z.literal("answered"),
    requestId: uint,
    responder: address,
    encryptedSecret: hex,
    signature: hex,
    request: secretRequestFieldsSchema,
    report: hex,
  }),
  /** The request is no longer open on L1: nothing to answer. */
  z.object({ outcome: z.literal("closed"), requestId: uint, status: z.enum(["answered", "cancelled"]) }),
  /** The enclave will not answer this request. */
  z.object({ outcome: z.literal("refused"), requestId: uint, code: z.enum(SECRET_REFUSAL_CODES), reason: z.string() }),
]);

export type SecretRequestAnswer = z.infer<typeof secretRequestAnswerSchema>;
