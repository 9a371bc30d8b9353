// Adds lock-file entries for native packages of other platforms.
//
// The npm registry reachable from the project's machines mirrors only some platforms' builds of
// packages that ship native binaries as optional dependencies (@nomicfoundation/edr-*, msgpackr-extract
// for BullMQ, …), so `npm install` leaves the other platforms' optional dependencies out of
// package-lock.json, and `npm ci` then refuses the lock ("Missing: … from lock file") everywhere.
// This writes those entries (version, os, cpu, libc from the package name, optional), without integrity:
// npm skips them by platform here, and fetches them from the public registry on those platforms.
//
//   node scripts/lock-platform-entries.mjs      (after any `npm install`)
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));

const OS = ["darwin", "linux", "win32", "freebsd", "android", "openbsd", "sunos", "aix"];
const CPU = ["arm64", "x64", "arm", "ia32", "ppc64", "s390x", "riscv64", "loong64"];

/** os / cpu / libc of a platform package, read from its name (e.g. edr-linux-arm64-musl). */
function platformOf(name) {
  const parts = name.split("/").pop().split("-");
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  if (os === undefined || cpu === undefined) return undefined;
  const libc = parts.includes("musl") ? ["musl"] : parts.includes("gnu") ? ["glibc"] : undefined;
  return { os: [os], cpu: [cpu], ...(libc !== undefined ? { libc } : {}) };
}

let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = path === "" ? "" : `${path}/`;
    const nested = `${base}node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (lock.packages[nested] !== undefined || lock.packages[hoisted] !== undefined) continue;
    const platform = platformOf(name);
    if (platform === undefined) continue; // not a platform build: leave it to npm
    lock.packages[hoisted] = { version, dev: entry.dev, optional: true, ...platform };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
console.log(`lock-platform-entries: ${added} entr${added === 1 ? "y" : "ies"} added`);
