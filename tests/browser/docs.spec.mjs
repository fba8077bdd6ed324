// /docs works offline: Swagger UI and the OpenAPI document come from cogov itself, and the page
// asks no other host for anything.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, launch } from "./lib.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("/docs loads with no request to another host", async () => {
  const context = await browser.newContext();
  const own = new URL(BASE).host;
  const foreign = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.host === own || url.protocol === "data:" || url.protocol === "blob:") return route.continue();
    foreign.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  await page.goto(`${BASE}/docs/`);
  await page.waitForSelector(".swagger-ui .info .title", { timeout: 30000 });
  assert.match(await page.textContent(".swagger-ui .info .title"), /cogov API/);
  await page.waitForSelector(".opblock-tag", { timeout: 30000 });
  assert.deepEqual(foreign, [], "requests to other hosts");
  await context.close();
});
