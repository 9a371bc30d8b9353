/**
 * The node's libp2p identity, kept in its data directory (`p2p-key`, mode 0600, the protobuf form of an
 * Ed25519 key) so that a restarted node keeps its PeerId and its peer record stays valid.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";

export async function loadOrCreatePeerKey(dataDir: string): Promise<PrivateKey> {
  const file = path.join(dataDir, "p2p-key");
  if (existsSync(file)) {
    try {
      return privateKeyFromProtobuf(readFileSync(file));
    } catch (error) {
      throw new Error(
        `${file} is not a libp2p private key (${(error as Error).message}); move it away to make a new identity`,
        { cause: error },
      );
    }
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = await generateKeyPair("Ed25519");
  writeFileSync(file, privateKeyToProtobuf(key), { mode: 0o600 });
  return key;
}
