// A third-party app acting for a family, in a real browser: the family (invited by the school)
// sees the consent page in Spanish with JavaScript off, signs in and allows; the app gets the
// code at its redirect URI, exchanges it with its PKCE verifier, calls the API, refreshes, and
// revokes. The consent page passes axe-core.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createHash, randomBytes } from "node:crypto";
import { BASE, launch, watchConsole, assertAccessible } from "./lib.mjs";

const ADMIN_ID = process.env.COGOV_ADMIN_CLIENT_ID;
const ADMIN_SECRET = process.env.COGOV_ADMIN_CLIENT_SECRET;

async function form(path, fields, headers = {}) {
  const res = await fetch(BASE + path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

async function api(token, method, path, body) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** A tiny app back end: the redirect URI, which records the query it was sent. */
async function redirectTarget() {
  const hits = [];
  const server = createServer((req, res) => {
    // Only the redirects count (the browser also asks for /favicon.ico).
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/callback") hits.push(url);
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end("<!doctype html><html lang=\"en\"><title>Family Helper</title><main><h1>Connected</h1></main></html>");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, hits, uri: `http://127.0.0.1:${server.address().port}/callback` };
}

test("an app acts for a family: consent in the browser, code, token, API, refresh, revoke", async () => {
  assert.ok(ADMIN_ID && ADMIN_SECRET, "COGOV_ADMIN_CLIENT_ID and COGOV_ADMIN_CLIENT_SECRET are set");
  const admin = await form("/api/v1/auth/token", {
    grant_type: "client_credentials", client_id: ADMIN_ID, client_secret: ADMIN_SECRET,
  });
  assert.equal(admin.status, 200);
  const adminToken = admin.body.access_token;

  // The school invites a family contact, who opens the account.
  const person = await api(adminToken, "POST", "/api/v1/people", { display_name: "Rosa Familia" });
  assert.equal(person.status, 201);
  const invitation = await api(adminToken, "POST", "/api/v1/family-invitations", {
    person_id: person.body.id, purpose: "sign_up", relationship: "parent",
  });
  assert.equal(invitation.status, 201);
  const username = `rosa${Date.now()}`;
  const password = "una frase de acceso larga";
  const accepted = await api(null, "POST", "/api/v1/family-invitations/accept", {
    code: invitation.body.code, username, password,
  });
  assert.equal(accepted.status, 200);

  const target = await redirectTarget();
  const browser = await launch();
  try {
    const registered = await api(adminToken, "POST", "/api/v1/apps", {
      name: "Family Helper", owner: "Helper Co.", redirect_uris: [target.uri], scopes: ["service_requests:read"],
    });
    assert.equal(registered.status, 201);
    const clientId = registered.body.client_id;
    const verifier = randomBytes(48).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const url = `${BASE}/oauth/authorize?${new URLSearchParams({
      response_type: "code", client_id: clientId, redirect_uri: target.uri, scope: "service_requests:read",
      state: "st-8431", code_challenge: challenge, code_challenge_method: "S256",
    })}`;

    // The consent page is accessible (axe-core needs a context that may run its script).
    const axeContext = await browser.newContext({ bypassCSP: true, locale: "es-ES" });
    const axePage = await axeContext.newPage();
    await axePage.goto(url);
    await assertAccessible(axePage);
    await axeContext.close();

    // The family, with JavaScript off, reads what the app will do, signs in and allows.
    const context = await browser.newContext({ javaScriptEnabled: false, locale: "es-ES" });
    const page = await context.newPage();
    const errors = watchConsole(page);
    await page.goto(url);
    assert.match(await page.textContent("h1"), /aplicación/);
    const main = await page.textContent("main");
    assert.match(main, /Family Helper/);
    assert.match(main, /Ver sus solicitudes de servicios/);
    await page.getByLabel("Nombre de usuario").fill(username);
    await page.getByLabel("Contraseña").fill(password);
    await page.getByRole("button", { name: "Iniciar sesión y permitir" }).click();
    await page.waitForURL((u) => u.toString().startsWith(target.uri));
    assert.deepEqual(errors, []);
    await context.close();

    const back = target.hits.at(-1);
    assert.equal(back.searchParams.get("state"), "st-8431");
    const code = back.searchParams.get("code");
    assert.ok(code, "the redirect carries a code");

    // The app's back end: code and verifier for tokens.
    const tokens = await form("/api/v1/auth/token", {
      grant_type: "authorization_code", client_id: clientId, code, redirect_uri: target.uri, code_verifier: verifier,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(tokens.body.scope, "service_requests:read");
    const list = await api(tokens.body.access_token, "GET", "/api/v1/service-requests");
    assert.equal(list.status, 200);
    // The code works once.
    const again = await form("/api/v1/auth/token", {
      grant_type: "authorization_code", client_id: clientId, code, redirect_uri: target.uri, code_verifier: verifier,
    });
    assert.equal(again.status, 400);
    assert.equal(again.body.error, "invalid_grant");

    // Allow again (the reused code revoked the first grant), then refresh and revoke.
    const context2 = await browser.newContext({ javaScriptEnabled: false });
    const page2 = await context2.newPage();
    await page2.goto(url);
    await page2.getByLabel(/Username|Nombre de usuario/).fill(username);
    await page2.getByLabel(/Password|Contraseña/).fill(password);
    await page2.getByRole("button", { name: /Sign in and allow|Iniciar sesión y permitir/ }).click();
    await page2.waitForURL((u) => u.toString().startsWith(target.uri));
    await context2.close();
    const code2 = target.hits.at(-1).searchParams.get("code");
    const fresh = await form("/api/v1/auth/token", {
      grant_type: "authorization_code", client_id: clientId, code: code2, redirect_uri: target.uri, code_verifier: verifier,
    });
    assert.equal(fresh.status, 200);
    const renewed = await form("/api/v1/auth/token", {
      grant_type: "refresh_token", client_id: clientId, refresh_token: fresh.body.refresh_token,
    });
    assert.equal(renewed.status, 200);
    assert.equal((await api(renewed.body.access_token, "GET", "/api/v1/service-requests")).status, 200);
    const revoked = await form("/oauth/revoke", { token: renewed.body.refresh_token, client_id: clientId });
    assert.equal(revoked.status, 200);
    assert.equal((await api(renewed.body.access_token, "GET", "/api/v1/service-requests")).status, 401);
  } finally {
    await browser.close();
    target.server.close();
  }
});
