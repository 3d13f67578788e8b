// The 1:1 call demo: go online with a name, call someone by name (or answer their call),
// see each other, hang up.
import { connect, status, describe } from '/demo/common.js';
import { chatPanel } from '/demo/chat.js';

const $ = (id) => document.getElementById(id);
const say = (t, e) => status($('status'), t, e);
window.demo = { client: null, call: null, ended: null, chat: null };

// The call's chat: the 1:1 session of the two (the same one whoever asks, and kept across
// calls).
async function callChat(peer) {
  const client = window.demo.client;
  window.demo.chat ??= chatPanel($('chat'), client);
  try {
    const s = await client.chat.createSession([peer]);
    await window.demo.chat.open(s.session_id);
  } catch (e) {
    say(describe(e), true);
  }
}

function attach(call) {
  window.demo.call = call;
  window.demo.ended = null;
  $('remote-label').textContent = call.peerUserId;
  call.on('remoteStream', (s) => ($('remote').srcObject = s));
  call.on('status', (s) => say(`Call ${s}`));
  call.on('connectionState', (s) => {
    if (s !== 'connected') return;
    say(`In a call with ${call.peerUserId}`);
    callChat(call.peerUserId);
  });
  call.on('error', (e) => say(describe(e), true));
  call.on('ended', (e) => {
    window.demo.ended = e;
    $('local').srcObject = null;
    $('remote').srcObject = null;
    $('controls').classList.add('hidden');
    $('incoming').classList.add('hidden');
    $('dial').classList.remove('hidden');
    say(`Call ended${e.reason ? ` (${e.reason})` : ''}${e.durationSeconds !== undefined ? `, ${e.durationSeconds} s` : ''}`);
  });
}

$('online').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('online-btn').disabled = true;
  try {
    const client = await connect($('name').value.trim());
    window.demo.client = client;
    client.on('incomingCall', (call) => {
      attach(call);
      $('incoming-text').textContent = `${call.peerUserId} is calling (${call.callType})`;
      $('incoming').classList.remove('hidden');
      $('dial').classList.add('hidden');
    });
    $('online').classList.add('hidden');
    $('dial').classList.remove('hidden');
    say(`Online as ${client.userId}`);
  } catch (e) {
    say(describe(e), true);
    $('online-btn').disabled = false;
  }
});

$('dial').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const callee = $('callee').value.trim();
  try {
    say(`Calling ${callee}…`);
    const call = await window.demo.client.call(callee, $('voice').checked ? 'voice' : 'video');
    attach(call);
    $('local').srcObject = call.localStream;
    $('dial').classList.add('hidden');
    $('controls').classList.remove('hidden');
    say(`Ringing ${callee}…`);
  } catch (e) {
    say(describe(e), true);
  }
});

$('answer').addEventListener('click', async () => {
  const call = window.demo.call;
  $('incoming').classList.add('hidden');
  try {
    await call.answer();
    $('local').srcObject = call.localStream;
    $('controls').classList.remove('hidden');
  } catch (e) {
    say(describe(e), true);
  }
});

$('decline').addEventListener('click', () => window.demo.call?.hangup().catch((e) => say(describe(e), true)));
$('hangup').addEventListener('click', () => window.demo.call?.hangup().catch((e) => say(describe(e), true)));
