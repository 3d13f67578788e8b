// Chat (docs/api.md, "Chat"): sessions, messages, reactions, read markers, typing, and the
// live events every participant's connections get. REST for everything stored; the WebSocket
// for typing and the events.

import { RestClient } from './api.js';
import { Emitter } from './emitter.js';
import { StratusError } from './errors.js';
import type {
  ChatEvent,
  ChatRole,
  MessagePage,
  MessageView,
  ReadState,
  SessionList,
  SessionView,
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
