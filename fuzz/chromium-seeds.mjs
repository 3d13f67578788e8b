// Publish offers as Chromium makes them, kept as seeds of the media node's SDP fuzz target
// (fuzz/corpus/node_sdp/chromium-*): audio, video, audio + video, and simulcast video
// (rids q/h/f), from headless Chromium's fake devices, ICE gathering complete (the node does
// not trickle). The first byte picks the target's case: even = a send transport's publish;
// bit 1 video, bit 2 simulcast rids (fuzz/fuzz_targets/node_sdp.rs).
//
//   cd clients/js && node ../../fuzz/chromium-seeds.mjs
import { launch } from '../clients/js/test/browser.mjs';
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

const cases = [
  { name: 'audio', pick: 0, audio: true, video: false, simulcast: false },
  { name: 'video', pick: 2, audio: false, video: true, simulcast: false },
  { name: 'audio-video', pick: 2, audio: true, video: true, simulcast: false },
  { name: 'simulcast', pick: 6, audio: true, video: true, simulcast: true },
];

// A blank page on loopback: a secure context, so the fake devices are there.
const server = createServer((_, res) => res.end('<!doctype html><title>seeds</title>'));
await new Promise((up) => server.listen(0, '127.0.0.1', up));
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  for (const c of cases) {
    const sdp = await page.evaluate(async (c) => {
      const pc = new RTCPeerConnection();
      const media = await navigator.mediaDevices.getUserMedia({ audio: c.audio, video: c.video });
      for (const track of media.getTracks()) {
        const sendEncodings = track.kind === 'video' && c.simulcast
          ? [{ rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' }]
          : undefined;
        pc.addTransceiver(track, { direction: 'sendonly', streams: [media], sendEncodings });
      }
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise((done) => {
        if (pc.iceGatheringState === 'complete') return done();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && done();
        setTimeout(done, 3000);
      });
      const out = pc.localDescription.sdp;
      pc.close();
      return out;
    }, c);
    const bytes = Buffer.concat([Buffer.from([c.pick]), Buffer.from(sdp)]);
    const id = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    const file = new URL(`./corpus/node_sdp/chromium-publish-${c.name}-${id}`, import.meta.url);
    writeFileSync(file, bytes);
    console.log(`${c.name}: ${sdp.split('\n').length} lines -> ${file.pathname}`);
  }
} finally {
  await browser.close();
  server.close();
}
