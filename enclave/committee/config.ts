/**
 * Settings of `npx veilnet node --operator` (a committee member), besides the sequencer node's: who this
 * operator is, its committee, and its p2p endpoint.
 */
import { getAddress } from "ethers";
import { z } from "zod";

const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/** The committee sizes L1 allows: n = 3f + 1 for f = 0…4. */
export const COMMITTEE_SIZES: readonly number[] = [1, 4, 7, 10, 13];

/** Parses COMMITTEE_MEMBERS: `id=enclaveAddress` pairs, comma-separated, ids ascending. */
function members(text: string, ctx: z.RefinementCtx): Map<number, string> {
  const out = new Map<number, string>();
  const entries = text
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  for (const entry of entries) {
    const match = /^(\d+)=(0x[0-9a-fA-F]{40})$/.exec(entry);
    if (match === null) {
      ctx.addIssue({ code: "custom", message: `"${entry}" is not <operator id>=<enclave address>` });
      return out;
    }
    const id = Number(match[1]);
    if (id < 1 || out.has(id) || (out.size > 0 && id <= Math.max(...out.keys()))) {
      ctx.addIssue({ code: "custom", message: `operator ids must be ≥ 1, distinct and ascending (at ${id})` });
      return out;
    }
    out.set(id, getAddress(match[2] ?? ""));
  }
  if (!COMMITTEE_SIZES.includes(out.size)) {
    ctx.addIssue({ code: "custom", message: `a committee has 1, 4, 7, 10 or 13 members, not ${out.size}` });
  }
  return out;
}

const list = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s) =>
      s
        .split(",")
        .map((e) => e.trim())
        .filter((e) => e !== ""),
    );

const committeeMembers = z
  .string()
  .min(1)
  .transform(members)
  .describe(
    "The committee: <operator id>=<enclave address> pairs, comma-separated, ids ascending (1, 4, 7, 10 or 13 members)",
  );

const p2pFields = (listen: string) => ({
  P2P_LISTEN: list(listen).describe("Multiaddrs the p2p node listens on, comma-separated (e.g. /ip4/0.0.0.0/tcp/9100)"),
  P2P_BOOTSTRAP: list("").describe("Multiaddrs with /p2p/<peer id> of peers to dial first, comma-separated"),
  P2P_DHT: bool.default("true").describe("Find further peers through kad-dht (true/false)"),
  P2P_MDNS: bool.default("false").describe("Find peers on the LAN through mdns (true/false)"),
});

/**
 * A validator's (optional) link to the committee: with P2P_BOOTSTRAP (or P2P_MDNS, or COMMITTEE_MEMBERS)
 * set it joins the committee's gossip, forwards the transactions its users send to the committee and
 * checks every replayed batch against the decided record and its certificate; unset, it stays
 * read-only and trusts L1's check of the rollups' signers.
 */
export const followerConfigSchema = z.object({
  COMMITTEE_ID: z.coerce
    .bigint()
    .min(1n)
    .optional()
    .describe("The committee whose gossip this node follows (default: the OperatorRegistry's active committee)"),
  COMMITTEE_MEMBERS: committeeMembers
    .optional()
    .describe("Override of the committee's members (default: from OperatorRegistry events)"),
  ...p2pFields("/ip4/127.0.0.1/tcp/0"),
});

export const operatorConfigSchema = z.object({
  OPERATOR_ID: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe("This operator's id in the OperatorRegistry (default: the member whose enclave this node runs)"),
  COMMITTEE_ID: z.coerce
    .bigint()
    .min(1n)
    .optional()
    .describe("The committee this operator sequences in (default: the OperatorRegistry's active committee)"),
  COMMITTEE_MEMBERS: committeeMembers
    .optional()
    .describe(
      "Override of the committee, <operator id>=<enclave address> pairs, ids ascending (default: the active committee's, from OperatorRegistry events)",
    ),
  ...p2pFields("/ip4/127.0.0.1/tcp/9100"),
  ROLLUP_FAILOVER_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(5000)
    .describe(
      "A member posts a rollup this long (times its distance from the rollup's leader) after the leader should have",
    ),
  COMMITTEE_KEY_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The committee's dealt threshold key (JSON of a key dealing; this member's share is sealed to its enclave). With it, and the key registered on L1, rollups carry one threshold signature (default: ECDSA signatures of a quorum)",
    ),
  COMMITTEE_SIGNER_URL: z
    .string()
    .url()
    .optional()
    .describe(
      "With COMMITTEE_KEY_FILE: sign with this member's share through a remote signer (`veilnet signer`, EIP-3030 paths) instead of the enclave; it keeps the slashing-protection record",
    ),
  COMMITTEE_SIGNER_TOKEN: z
    .string()
    .min(32)
    .optional()
    .describe("The remote signer's SIGNER_AUTH_TOKEN (sent as a bearer token)"),
});

export type OperatorConfig = z.infer<typeof operatorConfigSchema>;
