// Shared by the demo pages: a token for a name from the local stack's development route
// (a real app gets tokens from its own backend), and a connected client.
import { StratusClient } from '/sdk/index.js';

export async function tokenFor(name) {
  const res = await fetch('/demo/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`);
  return body.access_token;
}

export async function connect(name) {
  // A token provider: every reconnect gets a fresh token.
  let first = await tokenFor(name);
  const client = new StratusClient({
    apiUrl: location.origin,
    token: async () => {
      const t = first ?? (await tokenFor(name));
      first = null;
      return t;
    },
  });
  await client.connect();
  return client;
}

export function status(el, text, error = false) {
  el.textContent = text;
  el.classList.toggle('error', error);
}

export function describe(e) {
  return e && e.code ? `${e.code}: ${e.message}` : String(e && e.message ? e.message : e);
}
