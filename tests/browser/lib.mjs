// What every browser spec shares: the server under test, the seeded ids, Chromium, and the
// checks run on every page (console errors, axe-core).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);

export const BASE = process.env.COGOV_BASE_URL ?? "http://127.0.0.1:8080";
export const SEED = JSON.parse(readFileSync(process.env.COGOV_SEED_FILE ?? "seed.json", "utf8"));
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** Debian's Chromium (CHROMIUM overrides the path). */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

/** Collects console errors and uncaught page errors of a page. */
export function watchConsole(page) {
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
  return errors;
}

/**
 * Runs axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on the page open in a context made with
 * `bypassCSP: true` (the pages themselves allow no script at all), and fails on any violation.
 */
export async function assertAccessible(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } }),
  );
  const found = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(" ")).join("\n    ")}`,
  );
  assert.deepEqual(found, [], `${page.url()}: accessibility violations`);
  assert.ok(result.passes.length > 0, "axe-core ran its rules");
}
