/**
 * `veilnet slashing-protection export|import`: the signer's slashing-protection record (SIGNER_DATA_DIR)
 * to and from the EIP-3076-shaped interchange JSON (docs/distributed-key.md). Both open the record, so
 * the signer must be stopped (the record's lock says so otherwise). A malformed or conflicting import is
 * refused whole with one line; nothing is written then.
 */
import { readFileSync, writeFileSync } from "node:fs";

import { getAddress } from "ethers";

import { ConfigError, configSource, parseConfig } from "../platform/config.js";
import { SlashingProtection, SlashingProtectionError } from "../platform/signer/index.js";
import { slashingProtectionCommandSchema } from "./config.js";

function openRecord(configFile: string | undefined): SlashingProtection {
  const config = parseConfig(
    slashingProtectionCommandSchema,
    configSource(process.env, configFile ?? process.env.VEILNET_CONFIG),
  );
  try {
    return SlashingProtection.open(config.SIGNER_DATA_DIR, {
      chainId: config.SIGNER_CHAIN_ID,
      address: getAddress(config.SIGNER_ROLLUP_REGISTRY),
    });
  } catch (e) {
    if (e instanceof SlashingProtectionError) throw new ConfigError(`config: SIGNER_DATA_DIR: ${e.message}`);
    throw e;
  }
}

/** Prints the record (or writes it to `out`). */
export function exportSlashingProtection(opts: { out?: string; config?: string }): void {
  const record = openRecord(opts.config);
  try {
    const text = `${JSON.stringify(record.exportInterchange(), null, 2)}\n`;
    if (opts.out === undefined) process.stdout.write(text);
    else {
      writeFileSync(opts.out, text, { mode: 0o600 });
      process.stdout.write(`wrote the slashing-protection record of ${record.dir} to ${opts.out}\n`);
    }
  } finally {
    record.close();
  }
}

/** Merges the interchange file `file` into the record. */
export function importSlashingProtection(opts: { file: string; config?: string }): void {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(opts.file, "utf8"));
  } catch (e) {
    throw new ConfigError(`import: ${opts.file}: ${(e as Error).message}`);
  }
  const record = openRecord(opts.config);
  try {
    const { imported, known } = record.importInterchange(json);
    process.stdout.write(`imported ${imported} record(s) into ${record.dir} (${known} already held)\n`);
  } catch (e) {
    if (e instanceof SlashingProtectionError) throw new ConfigError(`import: ${opts.file}: ${e.message}`);
    throw e;
  } finally {
    record.close();
  }
}
