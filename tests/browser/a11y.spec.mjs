// axe-core on every public page, in English and Spanish, and on the comment form shown again
// with its errors.
import { test, before, after } from "node:test";
import { BASE, SEED, launch, assertAccessible } from "./lib.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const pages = [
  "/public/",
  `/public/councils/${SEED.council}`,
  `/public/meetings/${SEED.next}`,
  `/public/meetings/${SEED.past}`,
  "/public/no-such-page",
];

for (const lang of ["en", "es"]) {
  for (const path of pages) {
    test(`${path} in ${lang} has no accessibility violations`, async () => {
      const context = await browser.newContext({ bypassCSP: true });
      const page = await context.newPage();
      await page.goto(`${BASE}${path}?lang=${lang}`);
      await assertAccessible(page);
      await context.close();
    });
  }
}

test("the comment form with its errors has no accessibility violations", async () => {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${BASE}/public/meetings/${SEED.next}`);
  const form = `form[action^="/public/agenda-items/${SEED.item}/comments"]`;
  await page.fill(`${form} textarea[name=body]`, "  ");
  await page.fill(`${form} input[name=author_email]`, "not-an-email@");
  // The browser's own check of type=email would stop the post; the server's check is tested.
  await page.evaluate((f) => document.querySelector(f).setAttribute("novalidate", ""), form);
  await Promise.all([page.waitForNavigation(), page.click(`${form} button[type=submit]`)]);
  await assertAccessible(page);
  await context.close();
});
