/**
 * The child of the kill -9 test (test/platform/share-signer.ts): opens the slashing-protection record in
 * argv[2] and asks the LocalShareSigner for a signature of the test header at first batch argv[3]
 * (variant argv[4]). The signer's afterRecord hook — reached once the record is fsync'd, before the
 * signature is made — prints "recorded" and blocks, so the parent's SIGKILL lands between the record
 * and the signature. Without the block (argv[5] = "sign") it prints the signature and exits.
 */
import { writeSync } from "node:fs";

import { LocalShareSigner } from "../platform/signer/share-signer.js";
import { SlashingProtection } from "../platform/signer/slashing-protection.js";
import { TEST_DOMAIN, TEST_REGISTRY, headerAt, testShares } from "./signer.js";

const [dir, first, variant, mode] = process.argv.slice(2) as [string, string, string, string | undefined];
const [share] = testShares(1);
const protection = SlashingProtection.open(dir, TEST_REGISTRY);
const signer = new LocalShareSigner({
  shares: [share!],
  protection,
  afterRecord: () => {
    writeSync(1, "recorded\n");
    if (mode !== "sign") Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
  },
});
try {
  const { signature } = signer.signNow(
    share!.publicKey,
    headerAt(BigInt(first), BigInt(first), Number(variant)),
    TEST_DOMAIN,
  );
  writeSync(1, `signature ${signature}\n`);
} catch (e) {
  writeSync(1, `refused ${(e as Error).message}\n`);
}
protection.close();
