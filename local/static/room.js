// The group-room demo: join a room with a name, publish camera and microphone, show a tile
// per participant with their name and mute state.
import { connect, status, describe } from '/demo/common.js';
import { chatPanel } from '/demo/chat.js';

const $ = (id) => document.getElementById(id);
const grid = $('grid');
const say = (t, e) => status($('status'), t, e);
// Exposed for the browser tests and for poking around in the console.
window.demo = { client: null, room: null, rejoins: 0, chat: null };

// The room's chat: whoever was alone in the room starts a group session with the first to
// join and, as its owner, adds everyone who joins after; the others open the session when
// they hear they were added (`chat-participant-added`, listened for from the start: the
// session may be made before our own join has answered).
let chatOwner = false;
function chatOf(client) {
  if (window.demo.chat) return window.demo.chat;
  const panel = (window.demo.chat = chatPanel($('chat'), client));
  client.chat.on('participantAdded', (e) => {
    if (e.participant?.user_id === client.userId && !panel.sessionId) panel.open(e.session_id);
  });
  return panel;
}

function roomChat(client, room, roomId, alone) {
  const panel = chatOf(client);
  room.on('participantJoined', async (p) => {
    if (p.userId === client.userId) return;
    try {
      if (!panel.sessionId && alone) {
        chatOwner = true;
        const s = await client.chat.createSession([p.userId], { isGroup: true, title: `Room ${roomId}` });
        await panel.open(s.session_id);
      } else if (panel.sessionId && chatOwner) {
        await client.chat.addParticipant(panel.sessionId, p.userId);
      }
    } catch (e) {
      // Already in (a rejoin): nothing to do.
      if (e?.code !== 'CONFLICT') say(describe(e), true);
    }
  });
}

function tile(id, user, stream, local) {
  let el = grid.querySelector(`[data-participant="${id}"]`);
  if (!el) {
    el = document.createElement('div');
    el.className = 'tile' + (local ? ' local' : '');
    el.dataset.participant = id;
    el.dataset.user = user;
    el.innerHTML = '<video autoplay playsinline></video><div class="label"><span class="name"></span><span class="icons"></span></div>';
    el.querySelector('.name').textContent = local ? `${user} (you)` : user;
    const v = el.querySelector('video');
    v.muted = local; // never play our own microphone back
    v.srcObject = stream;
    grid.append(el);
  }
  return el;
}

function showMute(el, audio, video) {
  el.classList.toggle('muted-audio', audio);
  el.classList.toggle('muted-video', video);
  el.querySelector('.icons').textContent = [audio ? '🔇' : '', video ? '📷✕' : ''].join(' ').trim();
}

function refresh(p) {
  const el = grid.querySelector(`[data-participant="${p.participantId}"]`);
  if (el) showMute(el, p.isMuted('audio'), p.isMuted('video'));
}

$('join').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('name').value.trim();
  const roomId = $('room').value.trim();
  $('join-btn').disabled = true;
  try {
    say('Connecting…');
    if (!window.demo.client) {
      window.demo.client = await connect(name);
      chatOf(window.demo.client);
      window.demo.client.signaling.on('state', (s) => s !== 'open' && say(`Connection: ${s}`));
    }
    const client = window.demo.client;
    say(`Joining ${roomId}…`);
    const room = await client.joinRoom(roomId, { publish: { audio: true, video: true, simulcast: $('simulcast').checked } });
    window.demo.room = room;
    roomChat(client, room, roomId, room.participants.size === 0);
    const me = new MediaStream(room.localTracks);
    showMute(tile(room.participantId, name, me, true), false, false);
    for (const p of room.participants.values()) { tile(p.participantId, p.userId, p.stream, false); refresh(p); }
    room.on('participantJoined', (p) => { tile(p.participantId, p.userId, p.stream, false); refresh(p); });
    room.on('participantLeft', (p) => grid.querySelector(`[data-participant="${p.participantId}"]`)?.remove());
    room.on('trackPublished', ({ participant }) => refresh(participant));
    room.on('trackUnpublished', ({ participant }) => refresh(participant));
    room.on('muteChanged', ({ participant }) => refresh(participant));
    room.on('trackSubscribed', ({ participant }) => {
      const v = tile(participant.participantId, participant.userId, participant.stream, false).querySelector('video');
      v.srcObject = participant.stream; // re-attach so the new track plays
      refresh(participant);
    });
    room.on('reconnecting', ({ reason }) => say(reason === 'moved' ? 'The room moved to another media node; rejoining…' : 'Reconnecting…'));
    room.on('reconnected', ({ participantId }) => {
      window.demo.rejoins += 1;
      grid.querySelector('.tile.local')?.setAttribute('data-participant', participantId);
      say(`In ${roomId} again`);
    });
    room.on('left', ({ reason, error }) => reason === 'failed' && say(`Lost the room: ${describe(error)}`, true));
    room.on('error', (e) => say(describe(e), true));
    $('join').classList.add('hidden');
    $('controls').classList.remove('hidden');
    say(`In ${roomId} as ${name}`);
  } catch (e) {
    say(describe(e), true);
    $('join-btn').disabled = false;
  }
});

// Mute pauses our producer of that kind: the others see it on our tile, and nothing is sent on.
function muteButton(id, kind, on, off) {
  $(id).addEventListener('click', async () => {
    const room = window.demo.room;
    const mute = !room.isMuted(kind);
    await room.setMuted(kind, mute).catch((e) => say(describe(e), true));
    $(id).textContent = room.isMuted(kind) ? on : off;
    showMute(grid.querySelector('.tile.local'), room.isMuted('audio'), room.isMuted('video'));
  });
}
muteButton('mic', 'audio', 'Unmute mic', 'Mute mic');
muteButton('cam', 'video', 'Start camera', 'Stop camera');

$('leave').addEventListener('click', async () => {
  await window.demo.room?.leave().catch((e) => say(describe(e), true));
  window.demo.room = null;
  grid.innerHTML = '';
  $('mic').textContent = 'Mute mic';
  $('cam').textContent = 'Stop camera';
  $('controls').classList.add('hidden');
  $('join').classList.remove('hidden');
  $('join-btn').disabled = false;
  say('Left the room');
});
