// Adds lock-file entries for EDR's native packages of other platforms.
//
// The npm registry reachable from the project's machines mirrors only the linux packages of
// @nomicfoundation/edr, so `npm install` leaves the other platforms' optional dependencies out of
// package-lock.json, and `npm ci` then refuses the lock ("Missing: … from lock file") everywhere.
// This writes those entries (version, os, cpu, libc, optional), without integrity: on linux npm
// skips them by platform, on other platforms npm fetches them from the public registry.
//
//   node scripts/lock-platform-entries.mjs      (after any `npm install`)
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const platforms = {
  "darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
  "darwin-x64": { os: ["darwin"], cpu: ["x64"] },
  "linux-arm64-gnu": { os: ["linux"], cpu: ["arm64"], libc: ["glibc"] },
  "linux-arm64-musl": { os: ["linux"], cpu: ["arm64"], libc: ["musl"] },
  "linux-x64-gnu": { os: ["linux"], cpu: ["x64"], libc: ["glibc"] },
  "linux-x64-musl": { os: ["linux"], cpu: ["x64"], libc: ["musl"] },
  "win32-x64-msvc": { os: ["win32"], cpu: ["x64"] },
};
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  if (!path.endsWith("node_modules/@nomicfoundation/edr")) continue;
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = path.replace(/@nomicfoundation\/edr$/, name);
    if (lock.packages[key] !== undefined) continue;
    const platform = platforms[name.replace("@nomicfoundation/edr-", "")];
    if (platform === undefined) throw new Error(`unknown EDR platform package ${name}`);
    lock.packages[key] = {
      version,
      dev: entry.dev,
      license: entry.license,
      optional: true,
      ...platform,
      engines: entry.engines,
    };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
console.log(`lock-platform-entries: ${added} entr${added === 1 ? "y" : "ies"} added`);
