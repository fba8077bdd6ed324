// A family member with no account, in a real browser: finds the council's next meeting on the
// public page in Spanish, sees the calendar feed, reads the agenda, sends a written comment with
// JavaScript turned off, and reads the approved minutes with each member's vote.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, SEED, launch, watchConsole } from "./lib.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("district → council → meeting, switching to Spanish, without console errors", async () => {
  const context = await browser.newContext({ locale: "en-US" });
  const page = await context.newPage();
  const errors = watchConsole(page);

  await page.goto(`${BASE}/public/`);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await page.textContent("h1"), "Councils of the district");

  await page.click('nav.langs a[hreflang="es"]');
  assert.equal(await page.getAttribute("html", "lang"), "es");
  assert.equal(await page.textContent("h1"), "Consejos del distrito");

  await page.click(`a[href^="/public/councils/${SEED.council}"]`);
  assert.equal(await page.textContent("h1"), "Roosevelt Steering Committee");
  assert.equal(await page.getAttribute("html", "lang"), "es", "the choice follows the links");
  const council = await page.textContent("main");
  assert.match(council, /Vacante/);
  assert.match(council, /Familias/);
  const feed = await page.getAttribute('a[href$="/meetings.ics"]', "href");
  assert.equal(feed, `/api/v1/councils/${SEED.council}/meetings.ics`);
  const ics = await page.request.get(BASE + feed);
  assert.equal(ics.status(), 200);
  assert.match(await ics.text(), /BEGIN:VCALENDAR/);

  await page.click(`section[aria-labelledby=upcoming] a[href^="/public/meetings/${SEED.next}"]`);
  assert.match(await page.textContent("h1"), /April meeting/);
  const agenda = await page.textContent("#agenda ~ ol, .agenda");
  assert.match(agenda, /Programa después de clases/);
  assert.match(agenda, /Program budget/);
  assert.match(await page.textContent("main"), /Cómo comentar/);

  // Keyboard: the skip link is the first stop and leads to the content.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.className), "skip");

  assert.deepEqual(errors, []);
  await context.close();
});

test("a written comment with JavaScript disabled, then shown escaped", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, locale: "es-MX" });
  const page = await context.newPage();
  const errors = watchConsole(page);
  await page.goto(`${BASE}/public/meetings/${SEED.next}`);
  assert.equal(await page.getAttribute("html", "lang"), "es", "Spanish from Accept-Language");

  const form = `form[action^="/public/agenda-items/${SEED.item}/comments"]`;
  // Only spaces: the server refuses it and shows the form again with the field marked.
  await page.fill(`${form} textarea[name=body]`, "   ");
  await page.fill(`${form} input[name=author_name]`, "Lucía");
  await Promise.all([page.waitForNavigation(), page.click(`${form} button[type=submit]`)]);
  assert.match(await page.textContent('[role="alert"]'), /Su comentario no se envió/);
  assert.equal(await page.getAttribute(`${form} textarea[name=body]`, "aria-invalid"), "true");
  assert.equal(await page.inputValue(`${form} input[name=author_name]`), "Lucía");
  // Chromium reports the 422 status of that page; it is the answer the test asked for.
  assert.equal(errors.length, 1, errors.join("\n"));
  assert.match(errors[0], /status of 422/);
  errors.length = 0;

  const text = `<b>Más horas</b> para el programa ${Date.now()}`;
  await page.fill(`${form} textarea[name=body]`, text);
  await Promise.all([page.waitForNavigation(), page.click(`${form} button[type=submit]`)]);
  assert.match(page.url(), /\?sent=1/);
  assert.match(await page.textContent('[role="status"]'), /Gracias/);
  await page.click(`#item-${SEED.item} details summary`);
  assert.ok(
    (await page.locator(".comment").allTextContents()).includes(text),
    "the comment is shown as text, not markup",
  );
  assert.equal(await page.locator(".comment b").count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the approved minutes show each member's vote", async () => {
  const context = await browser.newContext({ locale: "en-US" });
  const page = await context.newPage();
  const errors = watchConsole(page);
  await page.goto(`${BASE}/public/meetings/${SEED.past}?lang=es`);
  const minutes = await page.textContent("section[aria-labelledby=minutes]");
  assert.match(minutes, /The council adopted the reading plan\./);
  const rows = await page.locator("section[aria-labelledby=minutes] table:has(caption:text('Cómo votó cada miembro')) tbody tr").allTextContents();
  assert.equal(rows.length, 4, rows.join("\n"));
  assert.ok(rows.some((r) => r.includes("Ben Okafor") && r.includes("No")), rows.join("\n"));
  assert.ok(rows.some((r) => r.includes("David Kim") && r.includes("Abstención")), rows.join("\n"));
  assert.deepEqual(errors, []);
  await context.close();
});
