/**
 * `veilnet keys`: a committee's threshold key by hand, as ssv-keys splits a validator key (DESIGN §9.4,
 * docs/distributed-key.md). Three steps, each by whoever holds what it needs:
 *
 *   veilnet keys split --committee <id> --enclave-key <operator>=<enclave public key> … --out dealing.json
 *       the dealer: reads the committee from L1, checks every enclave key against the operator's enclave
 *       there, splits a key (an existing one with --secret-key-file, else a fresh one) into shares sealed
 *       to the enclaves, signs the proof of possession for the committee's owner at the current key
 *       nonce, writes the dealing (mode 0600) and forgets the key;
 *   veilnet keys approve --dealing dealing.json --state-file enclave.json --operator <id>
 *       each operator: its enclave opens its share (checked against the commitments: a bad dealer is
 *       named) and prints its EIP-712 approval of the key;
 *   veilnet keys register --dealing dealing.json --approvals <sig>,<sig>,…
 *       anyone (SIGNER_PRIVATE_KEY pays): RollupRegistry.registerCommitteeKey with every member's
 *       approval, in member order.
 *
 * Then each operator's node runs with COMMITTEE_KEY_FILE=dealing.json. The DKG (platform/dkg) will
 * replace the dealer.
 */
import { readFileSync, writeFileSync } from "node:fs";

import { Wallet, computeAddress, getAddress, isHexString } from "ethers";
import { z } from "zod";

import { type KeyDealing, dealCommitteeKey, parseKeyDealing } from "../../enclave/committee/key-dealing.js";
import { Enclave } from "../../enclave/secret/enclave.js";
import { hexOf, proofOfPossession } from "../../platform/bls/index.js";
import { connectL1, loadDeployment } from "../../platform/chain.js";
import {
  ConfigError,
  commonConfigSchema,
  configSource,
  parseConfig,
  senderConfigSchema,
} from "../../platform/config.js";
import { rollupRegistryDomain } from "../../protocol/rollup.js";
import { OperatorRegistry__factory, RollupRegistry__factory } from "../../types/ethers-contracts/index.js";

/** Settings of `veilnet keys split` and `approve`. */
export const keysConfigSchema = z.object({
  L1_RPC_URL: commonConfigSchema.shape.L1_RPC_URL,
  VEILNET_DEPLOYMENTS_DIR: commonConfigSchema.shape.VEILNET_DEPLOYMENTS_DIR,
});

/** Settings of `veilnet keys register`. */
export const keysRegisterConfigSchema = keysConfigSchema.extend({
  SIGNER_PRIVATE_KEY: senderConfigSchema.shape.SIGNER_PRIVATE_KEY.describe("Key that pays for registerCommitteeKey"),
});

/** A dealing as `keys split` writes it: the dealing and the registration's proof of possession. */
export interface DealingFile extends KeyDealing {
  registration: { owner: string; nonce: string; proofOfPossession: string };
}

type Print = (line: string) => void;
const stdout: Print = (line) => process.stdout.write(`${line}\n`);

/** The command's settings (the environment, or the --config file). */
function settingsOf<S extends z.ZodTypeAny>(schema: S, config: string | undefined): z.infer<S> {
  return parseConfig(schema, configSource(process.env, config ?? process.env.VEILNET_CONFIG));
}

/** The L1 and the deployment the settings name. */
async function open(settings: z.infer<typeof keysConfigSchema>) {
  const { provider, chainId } = await connectL1(settings.L1_RPC_URL);
  const deployment = loadDeployment(chainId, settings.VEILNET_DEPLOYMENTS_DIR);
  return { provider, chainId, deployment };
}

function readDealing(file: string): DealingFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`error: --dealing: ${(error as Error).message}`);
  }
  const dealing = parseKeyDealing(text);
  const registration = (JSON.parse(text) as { registration?: DealingFile["registration"] }).registration;
  if (registration === undefined || !isHexString(registration.proofOfPossession, 128)) {
    throw new ConfigError(`error: --dealing: ${file} has no registration (write it with veilnet keys split)`);
  }
  return { ...dealing, registration };
}

/** Parses `--enclave-key <operator>=<0x04… public key>` values. */
function enclaveKeys(values: readonly string[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const value of values.flatMap((v) => v.split(","))) {
    const [id, key] = value.split("=");
    if (!/^[1-9][0-9]*$/.test(id ?? "") || key === undefined || !isHexString(key, 65)) {
      throw new ConfigError(`error: --enclave-key: "${value}" is not <operator id>=<65-byte enclave public key>`);
    }
    out.set(Number(id), key);
  }
  return out;
}

/** `veilnet keys split`. */
export async function runKeysSplit(
  opts: { committee: string; enclaveKey: string[]; out: string; secretKeyFile?: string; config?: string },
  print: Print = stdout,
): Promise<DealingFile> {
  if (!/^[1-9][0-9]*$/.test(opts.committee))
    throw new ConfigError(`error: --committee: "${opts.committee}" is not an id`);
  const committeeId = BigInt(opts.committee);
  const keys = enclaveKeys(opts.enclaveKey);
  let secretKey: Uint8Array | undefined;
  if (opts.secretKeyFile !== undefined) {
    const hex = readFileSync(opts.secretKeyFile, "utf8").trim();
    if (!isHexString(hex, 32)) throw new ConfigError("error: --secret-key-file: not a 32-byte 0x-hex secret key");
    secretKey = Buffer.from(hex.slice(2), "hex");
  }
  const { provider, deployment } = await open(settingsOf(keysConfigSchema, opts.config));
  try {
    const operators = OperatorRegistry__factory.connect(deployment.addresses.OperatorRegistry, provider);
    const rollups = RollupRegistry__factory.connect(deployment.addresses.RollupRegistry, provider);
    const committee = await operators.committee(committeeId);
    const members = [];
    for (const id of committee.operatorIds.map(Number)) {
      const key = keys.get(id);
      if (key === undefined)
        throw new ConfigError(`error: --enclave-key: none for operator ${id} of committee ${committeeId}`);
      const enclave = getAddress((await operators.operators(id)).enclave);
      if (computeAddress(key) !== enclave) {
        throw new ConfigError(
          `error: --enclave-key: operator ${id}'s key is of enclave ${computeAddress(key)}, L1 has ${enclave}`,
        );
      }
      members.push({ operatorId: id, enclave, enclavePublicKey: key });
    }
    const dealt = dealCommitteeKey(committeeId, members, secretKey);
    const nonce = await rollups.committeeKeyNonce(committeeId);
    const pop = hexOf(proofOfPossession(dealt.secretKey, committee.owner, nonce).eip2537);
    dealt.secretKey.fill(0); // the dealer forgets the key
    const file: DealingFile = {
      ...dealt.dealing,
      registration: { owner: committee.owner, nonce: nonce.toString(), proofOfPossession: pop },
    };
    writeFileSync(opts.out, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
    print(
      `committee ${committeeId}: key ${dealt.dealing.publicKey.slice(0, 18)}…, ${members.length} shares (threshold ${dealt.dealing.threshold}) in ${opts.out}`,
    );
    print("next: each operator runs `veilnet keys approve`, then anyone `veilnet keys register`");
    return file;
  } finally {
    await provider.destroy();
  }
}

/** `veilnet keys approve`: prints this enclave's approval of the dealt key. */
export async function runKeysApprove(
  opts: { dealing: string; stateFile: string; operator: string; config?: string },
  print: Print = stdout,
): Promise<string> {
  const dealing = readDealing(opts.dealing);
  const enclave = Enclave.load(opts.stateFile);
  const { index } = enclave.loadCommitteeShare(dealing, Number(opts.operator));
  const { provider, chainId, deployment } = await open(settingsOf(keysConfigSchema, opts.config));
  try {
    const approval = await enclave.approveCommitteeKey(
      rollupRegistryDomain(BigInt(chainId), deployment.addresses.RollupRegistry),
      BigInt(dealing.registration.nonce),
    );
    print(approval);
    process.stderr.write(`operator ${opts.operator}: share ${index} opened and checked; its approval is above\n`);
    return approval;
  } finally {
    await provider.destroy();
  }
}

/** `veilnet keys register`: RollupRegistry.registerCommitteeKey with every member's approval. */
export async function runKeysRegister(
  opts: { dealing: string; approvals: string; config?: string },
  print: Print = stdout,
): Promise<string> {
  const dealing = readDealing(opts.dealing);
  const approvals = opts.approvals.split(",").map((a) => a.trim());
  if (approvals.length !== dealing.shares.length || !approvals.every((a) => isHexString(a, 65))) {
    throw new ConfigError(
      `error: --approvals: ${dealing.shares.length} 65-byte signatures in member order, comma-separated`,
    );
  }
  const settings = settingsOf(keysRegisterConfigSchema, opts.config);
  const { provider, deployment } = await open(settings);
  try {
    const payer = new Wallet(settings.SIGNER_PRIVATE_KEY, provider);
    const rollups = RollupRegistry__factory.connect(deployment.addresses.RollupRegistry, payer);
    const tx = await rollups.registerCommitteeKey(
      BigInt(dealing.committeeId),
      dealing.publicKey,
      dealing.registration.proofOfPossession,
      dealing.shares.map((s) => s.enclave),
      `0x${approvals.map((a) => a.slice(2)).join("")}`,
    );
    await tx.wait();
    print(`committee ${dealing.committeeId}'s threshold key registered in ${tx.hash}`);
    return tx.hash;
  } finally {
    await provider.destroy();
  }
}
