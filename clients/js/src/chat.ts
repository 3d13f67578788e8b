// Chat (docs/api.md, "Chat"): sessions, messages, reactions, read markers, typing, and the
// live events every participant's connections get. REST for everything stored; the WebSocket
// for typing and the events.

import { RestClient } from './api.js';
import { Emitter } from './emitter.js';
import { StratusError } from './errors.js';
import type {
  AttachmentView,
  ChatEvent,
  ChatRole,
  MessagePage,
  MessageView,
  ReadState,
  SessionList,
  SessionView,
  UploadTicket,
  Usage,
} from './protocol.js';
import type { Signaling } from './signaling.js';

export interface ChatEvents {
  /** A new message (a system message too: joined, left, removed). */
  message: ChatEvent & { message: MessageView };
  messageEdited: ChatEvent & { message: MessageView };
  messageDeleted: ChatEvent & { message: MessageView };
  /** `emoji` was added (`added`) or taken back; `message` has the new counts. */
  reaction: ChatEvent & { message: MessageView; emoji: string; added: boolean };
  participantAdded: ChatEvent;
  participantRemoved: ChatEvent;
  /** `user_id` is typing in `session_id` (sent at most every few seconds while they type). */
  typing: ChatEvent;
  /** `user_id` read up to `last_read`. */
  read: ChatEvent & { last_read: string };
}

export interface CreateSessionOptions {
  isGroup?: boolean;
  title?: string;
  /** No messages after this many seconds; the history stays readable. */
  durationSeconds?: number;
}

export interface PageOptions {
  limit?: number;
  /** Older than this message id, newest first (the default order). */
  before?: string;
  /** Newer than this message id, oldest first. */
  after?: string;
}

export interface SendFileOptions {
  /** Shown under the file. */
  caption?: string;
  /** Bytes sent so far of `total`, as the upload goes. */
  onProgress?: (sent: number, total: number) => void;
  clientMessageId?: string;
  /** `image` for `image/*` files, else `file` (the default). */
  type?: 'image' | 'file';
}

/** How often `typing()` tells the others at most, per session. */
const TYPING_EVERY_MS = 3000;

const seg = encodeURIComponent;

export class Chat extends Emitter<ChatEvents> {
  private readonly lastTyping = new Map<string, number>();

  constructor(
    private readonly api: RestClient,
    private readonly signaling: Signaling,
    private readonly me: () => string,
  ) {
    super();
    const on = <K extends keyof ChatEvents>(wire: Parameters<Signaling['on']>[0], as: K) =>
      signaling.on(wire, (e) => this.emit(as, e as never));
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
  createSession(participants: string[], opts: CreateSessionOptions = {}): Promise<SessionView> {
    return this.api.request('POST', '/api/v1/chat/sessions', {
      participants,
      is_group: opts.isGroup ?? false,
      title: opts.title,
      duration_seconds: opts.durationSeconds,
    });
  }

  /** The caller's sessions, newest first; pass `next_cursor` back as `cursor`. */
  sessions(opts: { limit?: number; cursor?: string } = {}): Promise<SessionList> {
    return this.api.request('GET', `/api/v1/chat/sessions${query(opts)}`);
  }

  session(sessionId: string): Promise<SessionView> {
    return this.api.request('GET', `/api/v1/chat/sessions/${seg(sessionId)}`);
  }

  addParticipant(sessionId: string, userId: string, role: Exclude<ChatRole, 'owner'> = 'member'): Promise<SessionView> {
    return this.api.request('POST', `/api/v1/chat/sessions/${seg(sessionId)}/participants`, { user_id: userId, role });
  }

  setRole(sessionId: string, userId: string, role: Exclude<ChatRole, 'owner'>): Promise<SessionView> {
    return this.api.request('PUT', `/api/v1/chat/sessions/${seg(sessionId)}/participants/${seg(userId)}`, { role });
  }

  removeParticipant(sessionId: string, userId: string): Promise<void> {
    return this.api.request('DELETE', `/api/v1/chat/sessions/${seg(sessionId)}/participants/${seg(userId)}`);
  }

  leave(sessionId: string): Promise<void> {
    return this.removeParticipant(sessionId, this.me());
  }

  usage(sessionId: string): Promise<Usage> {
    return this.api.request('GET', `/api/v1/chat/sessions/${seg(sessionId)}/usage`);
  }

  // Messages

  /**
   * Sends a text message. It carries a client message id (made here unless given), so the one
   * retry after a network failure cannot send it twice.
   */
  async send(sessionId: string, text: string, opts: { clientMessageId?: string } = {}): Promise<MessageView> {
    const body = { text, client_message_id: opts.clientMessageId ?? newClientId() };
    const path = `/api/v1/chat/sessions/${seg(sessionId)}/messages`;
    try {
      return await this.api.request<MessageView>('POST', path, body);
    } catch (e) {
      if (e instanceof StratusError && e.code === 'SERVICE_UNAVAILABLE') {
        return this.api.request<MessageView>('POST', path, body);
      }
      throw e;
    }
  }

  /**
   * Sends a file: asks for an upload ticket, uploads the file straight to the object store
   * (S3, or the local stack's own) with progress, then sends the message that attaches it.
   * An image goes as an `image` message, anything else as a `file`.
   */
  async sendFile(sessionId: string, file: Blob & { name?: string }, opts: SendFileOptions = {}): Promise<MessageView> {
    const ticket = await this.upload(sessionId, file, opts.onProgress);
    const type = opts.type ?? (file.type.startsWith('image/') ? 'image' : 'file');
    const body = {
      type,
      attachment_id: ticket.attachment_id,
      text: opts.caption,
      client_message_id: opts.clientMessageId ?? newClientId(),
    };
    return this.api.request<MessageView>('POST', `/api/v1/chat/sessions/${seg(sessionId)}/messages`, body);
  }

  /** Uploads `file` with a fresh ticket; resolves with the ticket once the store has it. */
  async upload(
    sessionId: string,
    file: Blob & { name?: string },
    onProgress?: (sent: number, total: number) => void,
  ): Promise<UploadTicket> {
    const ticket = await this.api.request<UploadTicket>('POST', `/api/v1/chat/sessions/${seg(sessionId)}/attachments`, {
      file_name: file.name ?? 'file',
      content_type: file.type || 'application/octet-stream',
      size: file.size,
    });
    await put(ticket, file, onProgress);
    return ticket;
  }

  /** The attachment with a download URL (valid a few minutes), for participants. */
  attachment(sessionId: string, attachmentId: string): Promise<AttachmentView> {
    return this.api.request('GET', `/api/v1/chat/sessions/${seg(sessionId)}/attachments/${seg(attachmentId)}`);
  }

  /** A page of messages: newest first, or with `after` oldest first. */
  messages(sessionId: string, opts: PageOptions = {}): Promise<MessagePage> {
    return this.api.request('GET', `/api/v1/chat/sessions/${seg(sessionId)}/messages${query(opts)}`);
  }

  edit(sessionId: string, messageId: string, text: string): Promise<MessageView> {
    return this.api.request('PATCH', `/api/v1/chat/sessions/${seg(sessionId)}/messages/${seg(messageId)}`, { text });
  }

  deleteMessage(sessionId: string, messageId: string): Promise<MessageView> {
    return this.api.request('DELETE', `/api/v1/chat/sessions/${seg(sessionId)}/messages/${seg(messageId)}`);
  }

  react(sessionId: string, messageId: string, emoji: string): Promise<MessageView> {
    return this.api.request('PUT', reactionPath(sessionId, messageId, emoji));
  }

  unreact(sessionId: string, messageId: string, emoji: string): Promise<MessageView> {
    return this.api.request('DELETE', reactionPath(sessionId, messageId, emoji));
  }

  /** Adds `emoji`, or takes it back if the caller had it on `message`. */
  toggleReaction(message: MessageView, emoji: string): Promise<MessageView> {
    const mine = message.reactions.some((r) => r.emoji === emoji && r.me);
    return (mine ? this.unreact : this.react).call(this, message.session_id, message.message_id, emoji);
  }

  markRead(sessionId: string, messageId: string): Promise<ReadState> {
    return this.api.request('PUT', `/api/v1/chat/sessions/${seg(sessionId)}/read`, { message_id: messageId });
  }

  /** Tells the others the caller is typing; call it on every keystroke (it is throttled). */
  typing(sessionId: string): void {
    const now = Date.now();
    if (now - (this.lastTyping.get(sessionId) ?? 0) < TYPING_EVERY_MS) return;
    this.lastTyping.set(sessionId, now);
    this.signaling.send('chat-typing', { session_id: sessionId });
  }
}

/** The ticket's PUT, by XMLHttpRequest where there is one (fetch reports no upload progress). */
function put(ticket: UploadTicket, file: Blob, onProgress?: (sent: number, total: number) => void): Promise<void> {
  // The browser sets content-length from the body; it may not be set by hand.
  const headers = Object.entries(ticket.upload_headers).filter(([k]) => k !== 'content-length' && k !== 'host');
  const failed = (status: number, text: string) =>
    new StratusError('ATTACHMENT_INCOMPLETE', `the upload was refused (${status}): ${storeError(text)}`, { status });
  if (typeof XMLHttpRequest === 'undefined') {
    return fetch(ticket.upload_url, { method: ticket.upload_method, headers, body: file }).then(async (r) => {
      if (!r.ok) throw failed(r.status, await r.text());
      onProgress?.(file.size, file.size);
    });
  }
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(ticket.upload_method, ticket.upload_url);
    for (const [k, v] of headers) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress?.(file.size, file.size);
        resolve();
      } else {
        reject(failed(xhr.status, xhr.responseText));
      }
    };
    xhr.onerror = () => reject(new StratusError('SERVICE_UNAVAILABLE', 'the upload did not reach the store'));
    xhr.send(file);
  });
}

/** S3's `<Code>` from an XML error body, or the body. */
function storeError(text: string): string {
  return /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? text.slice(0, 200);
}

function reactionPath(sessionId: string, messageId: string, emoji: string): string {
  return `/api/v1/chat/sessions/${seg(sessionId)}/messages/${seg(messageId)}/reactions/${seg(emoji)}`;
}

function query(opts: object): string {
  const q = Object.entries(opts as Record<string, string | number | undefined>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return q.length ? `?${q.join('&')}` : '';
}

function newClientId(): string {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return `c-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}
