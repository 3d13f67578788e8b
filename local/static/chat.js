// The demo's chat panel, on the room and call pages: messages of one chat session with
// images and files (uploaded with progress), a 👍 reaction per message, typing, and the
// live events of the others. The page decides which session it shows (`panel.open(id)`).
import { describe } from '/demo/common.js';

const TYPING_SHOWN_MS = 4000;

export function chatPanel(host, client) {
  host.innerHTML = `
    <h2>Chat</h2>
    <ul class="messages"></ul>
    <div class="typing"></div>
    <form class="compose">
      <input class="text" placeholder="Message" autocomplete="off" maxlength="4000">
      <label class="file-btn secondary" title="Send a file">📎<input class="file" type="file" hidden></label>
      <button class="send" type="submit">Send</button>
    </form>
    <progress class="upload hidden" max="1" value="0"></progress>
    <div class="chat-status status"></div>`;
  const q = (s) => host.querySelector(s);
  const list = q('.messages');
  const chat = client.chat;
  let session = null;
  let typingTimer = null;
  const say = (t, e) => { q('.chat-status').textContent = t; q('.chat-status').classList.toggle('error', !!e); };

  async function render(m) {
    let li = list.querySelector(`[data-message-id="${m.message_id}"]`);
    if (!li) {
      li = document.createElement('li');
      li.dataset.messageId = m.message_id;
      // Messages arrive in id (= time) order, except pages loaded after live ones.
      const after = [...list.children].find((x) => x.dataset.messageId > m.message_id);
      list.insertBefore(li, after ?? null);
    }
    li.dataset.sender = m.sender_id;
    li.className = `msg ${m.type}${m.deleted ? ' deleted' : ''}${m.sender_id === client.userId ? ' mine' : ''}`;
    li.innerHTML = '<span class="who"></span><span class="body"></span><span class="extra"></span><button class="react secondary" type="button"></button>';
    li.querySelector('.who').textContent = m.type === 'system' ? '' : `${m.sender_id}: `;
    li.querySelector('.body').textContent = m.deleted ? '(deleted)' : m.text ?? '';
    const thumbs = m.reactions.find((r) => r.emoji === '👍');
    const btn = li.querySelector('.react');
    btn.textContent = `👍 ${thumbs?.count ?? 0}`;
    btn.dataset.count = String(thumbs?.count ?? 0);
    btn.hidden = m.type === 'system' || m.deleted;
    btn.onclick = () => chat.toggleReaction(m, '👍').then(render).catch((e) => say(describe(e), true));
    if (m.attachment && !m.deleted) {
      const a = await chat.attachment(m.session_id, m.attachment.attachment_id);
      const extra = li.querySelector('.extra');
      if (m.type === 'image') {
        const img = document.createElement('img');
        img.alt = a.file_name;
        img.src = a.download_url;
        extra.append(img);
      } else {
        const link = document.createElement('a');
        link.href = a.download_url;
        link.textContent = `${a.file_name} (${a.size} bytes)`;
        extra.append(link);
      }
    }
    list.scrollTop = list.scrollHeight;
  }

  const mine = (e) => session && e.session_id === session;
  for (const kind of ['message', 'messageEdited', 'messageDeleted', 'reaction']) {
    chat.on(kind, (e) => mine(e) && render(e.message).catch((err) => say(describe(err), true)));
  }
  chat.on('typing', (e) => {
    if (!mine(e)) return;
    q('.typing').textContent = `${e.user_id} is typing…`;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => (q('.typing').textContent = ''), TYPING_SHOWN_MS);
  });
  q('.text').addEventListener('input', () => session && chat.typing(session));
  q('.compose').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = q('.text').value.trim();
    if (!session || !text) return;
    q('.text').value = '';
    await chat.send(session, text).then(render).catch((e) => say(describe(e), true));
  });
  q('.file').addEventListener('change', async () => {
    const file = q('.file').files[0];
    if (!session || !file) return;
    const bar = q('.upload');
    bar.classList.remove('hidden');
    try {
      const m = await chat.sendFile(session, file, { onProgress: (sent, total) => (bar.value = total ? sent / total : 1) });
      await render(m);
      say(`Sent ${file.name}`);
    } catch (e) {
      say(describe(e), true);
    } finally {
      bar.classList.add('hidden');
      q('.file').value = '';
    }
  });

  return {
    get sessionId() { return session; },
    /** Shows session `id`: its last page, then live events. */
    async open(id) {
      if (session === id) return;
      session = id;
      list.innerHTML = '';
      host.classList.remove('hidden');
      const page = await chat.messages(id, { limit: 50 });
      for (const m of page.messages.reverse()) await render(m);
    },
  };
}
