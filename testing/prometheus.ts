/** Tests that need Debian's Prometheus (`apt-get install prometheus`): skipped without it, except in CI. */
import { existsSync } from "node:fs";

import { PROMTOOL, installHint } from "../devnet/monitoring/prometheus.js";

/**
 * Skips the suite when `binary` (default promtool) is not installed, with the install hint; under
 * REQUIRE_PROMETHEUS=1 (CI) it throws instead, as the browser test does with REQUIRE_BROWSER.
 */
export function requirePrometheus(ctx: Mocha.Context, binary = PROMTOOL): void {
  if (existsSync(binary)) return;
  const hint = installHint(binary);
  if (process.env.REQUIRE_PROMETHEUS === "1") throw new Error(hint);
  console.log(`        ${hint}; skipped`);
  ctx.skip();
}
