// Chat (docs/api.md, "Chat"): sessions, messages, reactions, read markers, typing, and the
// live events every participant's connections get. REST for everything stored; the WebSocket
// for typing and the events.
import { Emitter } from './emitter.js';
import { StratusError } from './errors.js';
/** How often `typing()` tells the others at most, per session. */
const TYPING_EVERY_MS = 3000;
const seg = encodeURIComponent;
export class Chat extends Emitter {
    constructor(api, signaling, me) {
        super();
        this.api = api;
        this.signaling = signaling;
        this.me = me;
        this.lastTyping = new Map();
        const on = (wire, as) => signaling.on(wire, (e) => this.emit(as, e));
        on('chat-message', 'message');
        on('chat-message-edited', 'messageEdited');
        on('chat-message-deleted', 'messageDeleted');
        on('chat-reaction', 'reaction');
        on('chat-participant-added', 'participantAdded');
        on('chat-participant-removed', 'participantRemoved');
        on('chat-typing', 'typing');
        on('chat-read', 'read');
    }
    // Sessions
    /** A 1:1 session with `participants[0]` (the same one again, if there is one), or a group. */
    createSession(participants, opts = {}) {
        return this.api.request('POST', '/api/v1/chat/sessions', {
            participants,
            is_group: opts.isGroup ?? false,
            title: opts.title,
            duration_seconds: opts.durationSeconds,
        });
    }
    /** The caller's sessions, newest first; pass `next_cursor` back as `cursor`. */
    sessions(opts = {}) {
        return this.api.request('GET', `/api/v1/chat/sessions${query(opts)}`);
    }
    session(sessionId) {
        return this.api.request('GET', `/api/v1/chat/sessions/${seg(sessionId)}`);
    }
    addParticipant(sessionId, userId, role = 'member') {
        return this.api.request('POST', `/api/v1/chat/sessions/${seg(sessionId)}/participants`, { user_id: userId, role });
    }
    setRole(sessionId, userId, role) {
        return this.api.request('PUT', `/api/v1/chat/sessions/${seg(sessionId)}/participants/${seg(userId)}`, { role });
    }
    removeParticipant(sessionId, userId) {
        return this.api.request('DELETE', `/api/v1/chat/sessions/${seg(sessionId)}/participants/${seg(userId)}`);
    }
    leave(sessionId) {
        return this.removeParticipant(sessionId, this.me());
    }
    usage(sessionId) {
        return this.api.request('GET', `/api/v1/chat/sessions/${seg(sessionId)}/usage`);
    }
    // Messages
    /**
     * Sends a text message. It carries a client message id (made here unless given), so the one
     * retry after a network failure cannot send it twice.
     */
    async send(sessionId, text, opts = {}) {
        const body = { text, client_message_id: opts.clientMessageId ?? newClientId() };
        const path = `/api/v1/chat/sessions/${seg(sessionId)}/messages`;
        try {
            return await this.api.request('POST', path, body);
        }
        catch (e) {
            if (e instanceof StratusError && e.code === 'SERVICE_UNAVAILABLE') {
                return this.api.request('POST', path, body);
            }
            throw e;
        }
    }
    /**
     * Sends a file: asks for an upload ticket, uploads the file straight to the object store
     * (S3, or the local stack's own) with progress, then sends the message that attaches it.
     * An image goes as an `image` message, anything else as a `file`.
     */
    async sendFile(sessionId, file, opts = {}) {
        const ticket = await this.upload(sessionId, file, opts.onProgress);
        const type = opts.type ?? (file.type.startsWith('image/') ? 'image' : 'file');
        const body = {
            type,
            attachment_id: ticket.attachment_id,
            text: opts.caption,
            client_message_id: opts.clientMessageId ?? newClientId(),
        };
        return this.api.request('POST', `/api/v1/chat/sessions/${seg(sessionId)}/messages`, body);
    }
    /** Uploads `file` with a fresh ticket; resolves with the ticket once the store has it. */
    async upload(sessionId, file, onProgress) {
        const ticket = await this.api.request('POST', `/api/v1/chat/sessions/${seg(sessionId)}/attachments`, {
            file_name: file.name ?? 'file',
            content_type: file.type || 'application/octet-stream',
            size: file.size,
        });
        await put(ticket, file, onProgress);
        return ticket;
    }
    /** The attachment with a download URL (valid a few minutes), for participants. */
    attachment(sessionId, attachmentId) {
        return this.api.request('GET', `/api/v1/chat/sessions/${seg(sessionId)}/attachments/${seg(attachmentId)}`);
    }
    /** A page of messages: newest first, or with `after` oldest first. */
    messages(sessionId, opts = {}) {
        return this.api.request('GET', `/api/v1/chat/sessions/${seg(sessionId)}/messages${query(opts)}`);
    }
    edit(sessionId, messageId, text) {
        return this.api.request('PATCH', `/api/v1/chat/sessions/${seg(sessionId)}/messages/${seg(messageId)}`, { text });
    }
    deleteMessage(sessionId, messageId) {
        return this.api.request('DELETE', `/api/v1/chat/sessions/${seg(sessionId)}/messages/${seg(messageId)}`);
    }
    react(sessionId, messageId, emoji) {
        return this.api.request('PUT', reactionPath(sessionId, messageId, emoji));
    }
    unreact(sessionId, messageId, emoji) {
        return this.api.request('DELETE', reactionPath(sessionId, messageId, emoji));
    }
    /** Adds `emoji`, or takes it back if the caller had it on `message`. */
    toggleReaction(message, emoji) {
        const mine = message.reactions.some((r) => r.emoji === emoji && r.me);
        return (mine ? this.unreact : this.react).call(this, message.session_id, message.message_id, emoji);
    }
    markRead(sessionId, messageId) {
        return this.api.request('PUT', `/api/v1/chat/sessions/${seg(sessionId)}/read`, { message_id: messageId });
    }
    /** Tells the others the caller is typing; call it on every keystroke (it is throttled). */
    typing(sessionId) {
        const now = Date.now();
        if (now - (this.lastTyping.get(sessionId) ?? 0) < TYPING_EVERY_MS)
            return;
        this.lastTyping.set(sessionId, now);
        this.signaling.send('chat-typing', { session_id: sessionId });
    }
}
/** The ticket's PUT, by XMLHttpRequest where there is one (fetch reports no upload progress). */
function put(ticket, file, onProgress) {
    // The browser sets content-length from the body; it may not be set by hand.
    const headers = Object.entries(ticket.upload_headers).filter(([k]) => k !== 'content-length' && k !== 'host');
    const failed = (status, text) => new StratusError('ATTACHMENT_INCOMPLETE', `the upload was refused (${status}): ${storeError(text)}`, { status });
    if (typeof XMLHttpRequest === 'undefined') {
        return fetch(ticket.upload_url, { method: ticket.upload_method, headers, body: file }).then(async (r) => {
            if (!r.ok)
                throw failed(r.status, await r.text());
            onProgress?.(file.size, file.size);
        });
    }
    return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open(ticket.upload_method, ticket.upload_url);
        for (const [k, v] of headers)
            xhr.setRequestHeader(k, v);
        xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
        xhr.onload = () => {
            if (xhr.status >= 200 && xhr.status < 300) {
                onProgress?.(file.size, file.size);
                resolve();
            }
            else {
                reject(failed(xhr.status, xhr.responseText));
            }
        };
        xhr.onerror = () => reject(new StratusError('SERVICE_UNAVAILABLE', 'the upload did not reach the store'));
        xhr.send(file);
    });
}
/** S3's `<Code>` from an XML error body, or the body. */
function storeError(text) {
    return /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? text.slice(0, 200);
}
function reactionPath(sessionId, messageId, emoji) {
    return `/api/v1/chat/sessions/${seg(sessionId)}/messages/${seg(messageId)}/reactions/${seg(emoji)}`;
}
function query(opts) {
    const q = Object.entries(opts)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
    return q.length ? `?${q.join('&')}` : '';
}
function newClientId() {
    const b = crypto.getRandomValues(new Uint8Array(12));
    return `c-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}
