// Shared by the demo pages: a token for a name, and a connected client.
//
// Two modes. Against this local stack (the default) tokens come from its development route
// `/demo/token` (a real app gets them from its own backend). Against another deployment
// (a stack on AWS, say) the page is opened with that deployment's URLs and a token minted
// there: `/?api=https://…&ws=wss://…/prod&token=<access token>` (infra/README.md shows how);
// the token decides who you are, the name field only labels your tile. `&relay=1` (either
// mode) forces TURN: no direct or STUN candidates.
import { StratusClient } from '/sdk/index.js';

const params = new URLSearchParams(location.search);
export const remote = params.get('api')
  ? { apiUrl: params.get('api'), signalingUrl: params.get('ws') ?? undefined, token: params.get('token') ?? '' }
  : null;

export async function tokenFor(name) {
  if (remote) return remote.token;
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
  // A token provider: every reconnect gets a fresh token (the same one, remotely).
  let first = await tokenFor(name);
  const client = new StratusClient({
    apiUrl: remote ? remote.apiUrl : location.origin,
    signalingUrl: remote?.signalingUrl,
    iceTransportPolicy: params.get('relay') === '1' ? 'relay' : undefined,
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
