// Browser end-to-end scenarios against a running local stack, each run as
//   node clients/js/test/scenarios.mjs <scenario> <base url>
// by local/tests/browser_e2e.rs. A scenario drives the demo pages like a user (fill, click),
// asserts what the pages show and what `getStats` reports, prints one JSON summary line
// last, and exits non-zero (with the pages' console output) when anything fails.
import assert from 'node:assert/strict';
import { launch, open, until, screenshot } from './browser.mjs';

const [scenario, base] = process.argv.slice(2);

/** Per remote user: inbound stats of one page's room, summed by user and kind. */
async function roomStats(page) {
  const rows = await page.evaluate(() => window.demo.room?.stats() ?? []);
  const by = {};
  for (const r of rows) {
    const u = (by[r.userId] ??= { audioPackets: 0, videoPackets: 0, framesDecoded: 0 });
    if (r.kind === 'audio') u.audioPackets += r.packetsReceived;
    else {
      u.videoPackets += r.packetsReceived;
      u.framesDecoded += r.framesDecoded ?? 0;
    }
  }
  return by;
}

async function joinRoom(page, name, room) {
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join-btn');
  await page.waitForSelector('#controls:not(.hidden)', { timeout: 20000 });
}

/** A demo page per name, each joined to `room` through the form. */
async function roomPages(ctx, names, room) {
  const pages = [];
  for (const n of names) {
    const p = await open(ctx, `${base}/`, n);
    await joinRoom(p, n, room);
    pages.push(p);
  }
  return pages;
}

/** Waits until the call page `p` decodes video and receives audio; its inbound counts. */
async function callDecodes(p, name, timeoutMs = 20000) {
  return until(`${name} to decode the other's video`, async () => {
    const s = await p.evaluate(async () => {
      const pc = window.demo.call?.pc;
      if (!pc) return null;
      const out = { framesDecoded: 0, audioPackets: 0 };
      (await pc.getStats()).forEach((s) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') out.framesDecoded += s.framesDecoded ?? 0;
        else out.audioPackets += s.packetsReceived ?? 0;
      });
      return out;
    });
    return s && s.framesDecoded > 0 && s.audioPackets > 0 && s;
  }, { timeoutMs });
}

/** The candidate types ({local, remote}) of each selected pair of `pcs` (in the page). */
async function selectedPairs(page, expr) {
  return page.evaluate(async (expr) => {
    const out = [];
    for (const pc of eval(expr).filter(Boolean)) {
      const stats = await pc.getStats();
      const byId = new Map();
      stats.forEach((s) => byId.set(s.id, s));
      stats.forEach((s) => {
        if (s.type !== 'transport' || !s.selectedCandidatePairId) return;
        const pair = byId.get(s.selectedCandidatePairId);
        const l = byId.get(pair.localCandidateId), r = byId.get(pair.remoteCandidateId);
        out.push({ local: l.candidateType, remote: r.candidateType, localAddress: `${l.address}:${l.port}`, relayProtocol: l.relayProtocol ?? null });
      });
    }
    return out;
  }, expr);
}

/** Waits until `page` decodes video and receives audio from each of `users`. */
async function decodesFrom(page, users, label) {
  return until(`${label} to decode video and receive audio from ${users.join(', ')}`, async () => {
    const s = await roomStats(page);
    return users.every((u) => s[u] && s[u].framesDecoded > 0 && s[u].audioPackets > 0) && s;
  });
}

async function tileVideoPlays(page, user) {
  return page.evaluate((u) => {
    const v = document.querySelector(`.tile[data-user="${u}"] video`);
    return !!v && v.videoWidth > 0 && v.readyState >= 2;
  }, user);
}

const scenarios = {
  // Three pages in one SFU room: each decodes the two others; a mute shows on the others'
  // tiles and stops forwarding; a page leaving removes its tile on the others.
  async room(ctx) {
    const room = `demo-${Date.now()}`;
    const names = ['alice', 'bob', 'carol'];
    const pages = await roomPages(ctx, names, room);
    const decoded = {};
    for (const [i, p] of pages.entries()) {
      const others = names.filter((_, j) => j !== i);
      decoded[names[i]] = await decodesFrom(p, others, names[i]);
      for (const o of others) await until(`${names[i]}'s tile of ${o} to play`, () => tileVideoPlays(p, o));
      assert.equal(await p.locator('.tile').count(), 3, `${names[i]} shows three tiles`);
    }
    const shot = await screenshot(pages[0], 'room-three-participants.png');

    // alice mutes her microphone: the others see it, and her audio stops reaching them.
    await pages[0].click('#mic');
    for (const p of pages.slice(1)) await p.waitForSelector('.tile[data-user="alice"].muted-audio', { timeout: 10000 });
    const before = (await roomStats(pages[1])).alice.audioPackets;
    await new Promise((r) => setTimeout(r, 1500));
    const during = (await roomStats(pages[1])).alice.audioPackets - before;
    assert.ok(during <= 5, `bob got ${during} audio packets from alice while she was muted`);
    await pages[0].click('#mic');
    for (const p of pages.slice(1)) await p.waitForSelector('.tile[data-user="alice"]:not(.muted-audio)', { timeout: 10000 });
    const resumedFrom = (await roomStats(pages[1])).alice.audioPackets;
    await until('alice\'s audio to flow again to bob', async () => (await roomStats(pages[1])).alice.audioPackets > resumedFrom + 10);

    // carol leaves: her tile goes from the others' grids.
    await pages[2].click('#leave');
    for (const p of pages.slice(0, 2)) await p.waitForSelector('.tile[data-user="carol"]', { state: 'detached', timeout: 10000 });
    assert.equal(await pages[0].locator('.tile').count(), 2);
    return { room, decoded, mutedAudioPackets: during, screenshot: shot };
  },

  // The demo pages of this stack pointed at another deployment (STRATUS_REMOTE: its API URL
  // and a token per name minted there), as infra/README.md uses them against AWS: two pages
  // join a room there across origins and decode each other.
  async 'remote-room'(ctx) {
    const remote = JSON.parse(process.env.STRATUS_REMOTE);
    const room = `remote-${Date.now()}`;
    const names = Object.keys(remote.tokens);
    const pages = [];
    for (const n of names) {
      const q = new URLSearchParams({ api: remote.api, token: remote.tokens[n] });
      const p = await open(ctx, `${base}/?${q}`, n);
      await joinRoom(p, n, room);
      pages.push(p);
    }
    const decoded = {};
    for (const [i, p] of pages.entries()) decoded[names[i]] = await decodesFrom(p, names.filter((_, j) => j !== i), names[i]);
    return { room, decoded, pageOrigin: await pages[0].evaluate(() => location.origin) };
  },

  // A 1:1 call peer to peer: alice calls bob through the calls API, bob answers, both decode
  // the other's video; alice hangs up and the call ends on both pages.
  async call(ctx) {
    const [a, b] = [await open(ctx, `${base}/demo/call.html`, 'alice'), await open(ctx, `${base}/demo/call.html`, 'bob')];
    for (const [p, n] of [[a, 'alice'], [b, 'bob']]) {
      await p.fill('#name', n);
      await p.click('#online-btn');
      await p.waitForSelector('#dial:not(.hidden)', { timeout: 20000 });
    }
    await a.fill('#callee', 'bob');
    await a.click('#call-btn');
    await b.waitForSelector('#incoming:not(.hidden)', { timeout: 10000 });
    assert.match(await b.textContent('#incoming-text'), /alice is calling/);
    await b.click('#answer');
    const decoded = {};
    for (const [p, n] of [[a, 'alice'], [b, 'bob']]) decoded[n] = await callDecodes(p, n);
    const callId = await a.evaluate(() => window.demo.call.callId);
    // The call's chat panel: the two's 1:1 session on both pages; a message crosses.
    const chatSession = await until('both pages to open the call\'s chat', async () => {
      const [sa, sb] = await Promise.all([a, b].map((p) => p.evaluate(() => window.demo.chat?.sessionId ?? null)));
      return sa && sa === sb && sa;
    });
    await b.fill('#chat .text', 'can you hear me?');
    await b.click('#chat .send');
    await a.waitForSelector('#chat li.msg[data-sender="bob"]:has-text("can you hear me?")', { timeout: 10000 });
    const shot = await screenshot(b, 'call-two-pages.png');
    await a.click('#hangup');
    const ended = {};
    for (const [p, n] of [[a, 'alice'], [b, 'bob']]) {
      ended[n] = await until(`the call to end on ${n}'s page`, () => p.evaluate(() => window.demo.ended));
      assert.match(await p.textContent('#status'), /Call ended/);
      assert.equal(await p.evaluate(() => window.demo.call.pc.connectionState), 'closed');
    }
    return { callId, decoded, ended, chatSession, screenshot: shot };
  },

  // One side of a 1:1 call in its own browser process (hosts in separate network
  // namespaces): STRATUS_ROLE=callee goes online as STRATUS_NAME, answers and waits for the
  // hang-up; STRATUS_ROLE=caller calls STRATUS_CALLEE and, once it decodes, waits
  // STRATUS_HOLD_MS (for the callee to decode too) and hangs up.
  async 'call-side'(ctx) {
    const role = process.env.STRATUS_ROLE, name = process.env.STRATUS_NAME;
    const p = await open(ctx, `${base}/demo/call.html`, name);
    await p.fill('#name', name);
    await p.click('#online-btn');
    await p.waitForSelector('#dial:not(.hidden)', { timeout: 20000 });
    console.log(JSON.stringify({ online: name }));
    if (role === 'caller') {
      await p.fill('#callee', process.env.STRATUS_CALLEE);
      await p.click('#call-btn');
    } else {
      await p.waitForSelector('#incoming:not(.hidden)', { timeout: 60000 });
      await p.click('#answer');
    }
    const decoded = await callDecodes(p, name, 45000);
    const pairs = await selectedPairs(p, '[window.demo.call.pc]');
    const iceServers = await p.evaluate(() => window.demo.call.pc.getConfiguration().iceServers.map((s) => ({ urls: s.urls, username: s.username })));
    if (role === 'caller') {
      await new Promise((r) => setTimeout(r, Number(process.env.STRATUS_HOLD_MS ?? 3000)));
      await p.click('#hangup');
    }
    await until(`the call to end on ${name}'s page`, () => p.evaluate(() => window.demo.ended), { timeoutMs: 30000 });
    return { name, role, decoded, pairs, iceServers };
  },

  // The SDK's ICE configuration with iceTransportPolicy 'relay' (the demo's ?relay=1): what
  // a peer connection would get, or the error when the deployment has no TURN.
  async 'relay-config'(ctx) {
    const p = await open(ctx, `${base}/?relay=1`, 'relay');
    return p.evaluate(async () => {
      const { connect } = await import('/demo/common.js');
      const client = await connect('relayer');
      try {
        const c = await client.ice.config();
        return { policy: c.iceTransportPolicy, urls: c.iceServers.flatMap((s) => s.urls) };
      } catch (e) {
        return { error: e.code, message: e.message };
      }
    });
  },

  // A bare RTCPeerConnection (no SDK) gathering relay candidates only with the TURN servers
  // in STRATUS_ICE (JSON): the relay candidates it got and the errors the TURN server gave.
  async 'turn-gather'(ctx) {
    const p = await open(ctx, `${base}/`, 'gather');
    return p.evaluate(async (iceServers) => {
      const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
      const relay = [], errors = [];
      pc.onicecandidate = (e) => e.candidate && relay.push(e.candidate.candidate);
      pc.onicecandidateerror = (e) => errors.push({ url: e.url, errorCode: e.errorCode, errorText: e.errorText });
      pc.createDataChannel('probe');
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
        setTimeout(resolve, 15000);
      });
      pc.close();
      return { relay, errors };
    }, JSON.parse(process.env.STRATUS_ICE));
  },

  // Two pages in a room on a stack whose gateway ends connections after a few seconds (as
  // API Gateway does after 2 hours): the SDK reconnects with a fresh token, joins again,
  // republishes and resubscribes, and the pages decode each other again.
  async reconnect(ctx) {
    const room = `reconnect-${Date.now()}`;
    const pages = await roomPages(ctx, ['alice', 'bob'], room);
    await decodesFrom(pages[0], ['bob'], 'alice');
    await decodesFrom(pages[1], ['alice'], 'bob');
    const first = await pages[0].evaluate(() => window.demo.room.participantId);
    for (const p of pages) {
      await until('the gateway to close the connection and the page to rejoin', () =>
        p.evaluate(() => window.demo.rejoins > 0), { timeoutMs: 30000 });
    }
    const second = await pages[0].evaluate(() => window.demo.room.participantId);
    assert.notEqual(second, first, 'a new connection is a new participant');
    const decoded = {
      alice: await decodesFrom(pages[0], ['bob'], 'alice after the reconnect'),
      bob: await decodesFrom(pages[1], ['alice'], 'bob after the reconnect'),
    };
    for (const p of pages) assert.equal(await p.locator('.tile').count(), 2, 'one tile each, no leftovers');
    return { room, participantIds: [first, second], decoded };
  },

  // The demo's chat panel on two room pages: the session starts when the second joins;
  // typing shows on the other page; an image sent with the file picker is decoded on the
  // other page; a 👍 there counts on the sender's; the SDK reports upload progress.
  async 'chat-panel'(ctx) {
    const room = `chat-${Date.now()}`;
    const [a, b] = await roomPages(ctx, ['alice', 'bob'], room);
    const session = await until('both pages to open the room chat', async () => {
      const [sa, sb] = await Promise.all([a, b].map((p) => p.evaluate(() => window.demo.chat?.sessionId ?? null)));
      return sa && sa === sb && sa;
    });
    await a.fill('#chat .text', 'hello b');
    await b.waitForSelector('#chat .typing:has-text("alice is typing")', { timeout: 10000 });
    await a.click('#chat .send');
    await b.waitForSelector('#chat li.msg[data-sender="alice"]:has-text("hello b")', { timeout: 10000 });

    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
    await a.setInputFiles('#chat .file', { name: 'dot.png', mimeType: 'image/png', buffer: png });
    const img = '#chat li.msg.image[data-sender="alice"] img';
    await b.waitForSelector(img, { timeout: 10000 });
    const decoded = await until('bob\'s page to decode alice\'s image', () =>
      b.evaluate((sel) => { const i = document.querySelector(sel); return i?.complete && i.naturalWidth > 0 && i.naturalWidth; }, img));
    await b.click('#chat li.msg.image .react');
    await a.waitForSelector('#chat li.msg.image .react[data-count="1"]', { timeout: 10000 });

    const progress = await a.evaluate(async (s) => {
      const seen = [];
      const m = await window.demo.client.chat.sendFile(s, new Blob([new Uint8Array(300000)], { type: 'application/pdf' }), {
        onProgress: (sent, total) => seen.push([sent, total]),
      });
      return { type: m.type, size: m.attachment.size, seen };
    }, session);
    assert.equal(progress.type, 'file');
    assert.ok(progress.seen.length >= 1 && progress.seen.at(-1)[0] === 300000 && progress.seen.at(-1)[1] === 300000, JSON.stringify(progress.seen));
    const shot = await screenshot(b, 'room-chat.png');
    return { room, session, decodedWidth: decoded, progressEvents: progress.seen.length, fileSize: progress.size, screenshot: shot };
  },

  // The SDK's chat module on its own (a blank page importing it): two clients, a group
  // session, a message and its event, typing, a reaction toggled both ways, an idempotent
  // retry, a page of history, a read marker, and a refusal as a typed error.
  async 'chat-sdk'(ctx) {
    const page = await open(ctx, `${base}/demo/call.html`, 'chat-sdk');
    return page.evaluate(async () => {
      const { StratusClient, StratusError } = await import('/sdk/index.js');
      const token = async (name) =>
        (await (await fetch('/demo/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) })).json()).access_token;
      const within = (p, what, ms = 5000) =>
        Promise.race([p, new Promise((_, no) => setTimeout(() => no(new Error(`no ${what} within ${ms} ms`)), ms))]);
      const ann = new StratusClient({ apiUrl: location.origin, token: await token('ann') });
      const ben = new StratusClient({ apiUrl: location.origin, token: await token('ben') });
      await ann.connect();
      await ben.connect();
      const out = {};
      const s = await ann.chat.createSession(['ben'], { isGroup: true, title: 'sdk chat' });
      out.role = s.role;
      const heard = ben.chat.once('message', (e) => e.message.text === 'hello ben');
      const sent = await ann.chat.send(s.session_id, 'hello ben');
      const ev = await within(heard, 'message event');
      out.eventMessageId = ev.message.message_id === sent.message_id;
      const typing = ben.chat.once('typing', (e) => e.session_id === s.session_id);
      ann.chat.typing(s.session_id);
      ann.chat.typing(s.session_id); // throttled: one event
      out.typingFrom = (await within(typing, 'typing event')).user_id;
      const reacted = ann.chat.once('reaction', (e) => e.added);
      const withIt = await ben.chat.toggleReaction(sent, '🎉');
      out.reactionEvent = (await within(reacted, 'reaction event')).emoji;
      out.afterAdd = withIt.reactions;
      out.afterToggle = (await ben.chat.toggleReaction(withIt, '🎉')).reactions;
      const a = await ann.chat.send(s.session_id, 'once', { clientMessageId: 'sdk-1' });
      const b = await ann.chat.send(s.session_id, 'once', { clientMessageId: 'sdk-1' });
      out.sameId = a.message_id === b.message_id;
      const page = await ben.chat.messages(s.session_id, { limit: 10 });
      out.texts = page.messages.map((m) => m.text);
      out.unreadBefore = (await ben.chat.session(s.session_id)).unread_count;
      out.unreadAfter = (await ben.chat.markRead(s.session_id, a.message_id)).unread_count;
      try {
        await ben.chat.addParticipant(s.session_id, 'cat');
      } catch (e) {
        out.memberAdds = { typed: e instanceof StratusError, code: e.code, status: e.status };
      }
      out.usage = await ann.chat.usage(s.session_id);
      ann.disconnect();
      ben.disconnect();
      return out;
    });
  },

  // The SDK on its own (a blank page importing it): refusals become typed errors with the
  // server's codes, selective subscription, and simulcast layer choice.
  async sdk(ctx) {
    const page = await open(ctx, `${base}/demo/call.html`, 'sdk');
    const r = await page.evaluate(async () => {
      const { StratusClient, StratusError } = await import('/sdk/index.js');
      const token = async (name) =>
        (await (await fetch('/demo/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) })).json()).access_token;
      const out = {};
      const code = (e) => ({ typed: e instanceof StratusError, code: e.code, status: e.status });
      // A forged token: the handshake is refused and the SDK says why.
      try {
        await new StratusClient({ apiUrl: location.origin, token: 'eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoibWFsbG9yeSJ9.c2ln', reconnect: false }).connect();
      } catch (e) {
        out.badToken = code(e);
      }
      const ann = new StratusClient({ apiUrl: location.origin, token: await token('ann') });
      const ben = new StratusClient({ apiUrl: location.origin, token: await token('ben') });
      await ann.connect();
      await ben.connect();
      // REST refusal: calling someone who is not online.
      try {
        await ann.call('nobody-online', 'video');
      } catch (e) {
        out.offline = code(e);
      }
      // WebSocket refusal: a room of one is full.
      const small = `solo-${Date.now()}`;
      await ann.createRoom(small, 1);
      const soloRoom = await ann.joinRoom(small);
      try {
        await ben.joinRoom(small);
      } catch (e) {
        out.full = code(e);
      }
      await soloRoom.leave();
      // Selective subscription and layers: ann publishes simulcast video and audio; ben
      // subscribes to the video only, then asks for the lowest and the highest layer.
      const id = `layers-${Date.now()}`;
      const pub = await ann.joinRoom(id, { publish: { audio: true, video: { width: 1280, height: 720 }, simulcast: true } });
      const sub = await ben.joinRoom(id, { autoSubscribe: false });
      const p = [...sub.participants.values()][0];
      const video = [...p.producers.values()].find((x) => x.kind === 'video');
      out.rids = video.rids;
      const track = await sub.subscribe(video.producerId);
      out.subscribedKinds = [...sub.participants.values()][0].tracks.size;
      const width = async (min, max, ms = 15000) => {
        const end = Date.now() + ms;
        let w = 0;
        while (Date.now() < end) {
          const s = (await sub.stats()).find((x) => x.kind === 'video');
          w = s?.frameWidth ?? 0;
          if (w >= min && w <= max) return w;
          await new Promise((r) => setTimeout(r, 250));
        }
        return `timeout (last ${w})`;
      };
      out.firstWidth = await width(1, 100000);
      await sub.setQuality(track.consumerId, 'low');
      out.lowWidth = await width(1, 400);
      await sub.setQuality(track.consumerId, 'high');
      out.highWidth = await width(out.lowWidth + 1, 100000, 20000);
      // setQuality(n): every video this participant receives; 10 maps to the lowest layer.
      const q = await sub.setQuality(10);
      out.quality10 = { spatialLayer: q.spatialLayer, consumers: q.consumers.length };
      out.quality10Width = await width(1, out.highWidth - 1, 20000);
      try {
        await sub.setQuality(150);
        out.badQuality = 'accepted';
      } catch (e) {
        out.badQuality = e.code;
      }
      await sub.leave();
      await pub.leave();
      ann.disconnect();
      ben.disconnect();
      return out;
    });
    assert.deepEqual(r.badToken, { typed: true, code: 'AUTH_TOKEN_INVALID', status: 401 }, JSON.stringify(r));
    assert.deepEqual(r.offline, { typed: true, code: 'USER_NOT_AVAILABLE', status: 409 }, JSON.stringify(r));
    assert.equal(r.full.code, 'ROOM_FULL', JSON.stringify(r));
    assert.equal(r.full.typed, true);
    assert.deepEqual(r.rids, ['q', 'h', 'f']);
    assert.equal(r.subscribedKinds, 1, 'only the video was subscribed');
    assert.equal(typeof r.lowWidth, 'number', `the low layer arrived: ${JSON.stringify(r)}`);
    assert.equal(typeof r.highWidth, 'number', `a higher layer arrived: ${JSON.stringify(r)}`);
    assert.ok(r.highWidth > r.lowWidth, JSON.stringify(r));
    assert.deepEqual(r.quality10, { spatialLayer: 0, consumers: 1 }, JSON.stringify(r));
    assert.equal(typeof r.quality10Width, 'number', `quality 10 brought a lower layer: ${JSON.stringify(r)}`);
    assert.equal(r.badQuality, 'VALIDATION_ERROR');
    return r;
  },

  // One page in the room named by STRATUS_ROOM, with a Rust peer (user RUST_USER) driven by
  // the Rust test: the page receives its audio and video, and stays until STRATUS_HOLD_MS.
  async 'rust-peer'(ctx) {
    const room = process.env.STRATUS_ROOM;
    const rust = process.env.STRATUS_RUST_USER ?? 'rusty';
    const p = await open(ctx, `${base}/`, 'browser');
    await joinRoom(p, 'browser', room);
    const got = await until(`the page to receive ${rust}'s audio and video`, async () => {
      const s = (await roomStats(p))[rust];
      return s && s.audioPackets > 20 && s.videoPackets > 20 && s;
    });
    console.log(JSON.stringify({ ready: true }));
    await new Promise((r) => setTimeout(r, Number(process.env.STRATUS_HOLD_MS ?? 5000)));
    const pairs = await selectedPairs(p, '[window.demo.room.sendPc, window.demo.room.recvPc]');
    return { room, receivedFromRust: got, pairs };
  },
};

const run = scenarios[scenario];
if (!run || !base) {
  console.error(`usage: node scenarios.mjs <${Object.keys(scenarios).join('|')}> <base url>`);
  process.exit(2);
}
const browser = await launch();
const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
let code = 0;
try {
  const summary = await run(ctx);
  console.log(JSON.stringify({ scenario, ok: true, ...summary }));
} catch (e) {
  code = 1;
  console.error(`scenario ${scenario} failed: ${e.stack ?? e}`);
  for (const p of ctx.pages()) for (const l of p.log ?? []) console.error(l);
  for (const [i, p] of ctx.pages().entries()) await screenshot(p, `failed-${scenario}-${i}.png`).catch(() => {});
} finally {
  await browser.close();
}
process.exit(code);
