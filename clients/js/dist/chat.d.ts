import { RestClient } from './api.js';
import { Emitter } from './emitter.js';
import type { AttachmentView, ChatEvent, ChatRole, MessagePage, MessageView, ReadState, SessionList, SessionView, UploadTicket, Usage } from './protocol.js';
import type { Signaling } from './signaling.js';
export interface ChatEvents {
    /** A new message (a system message too: joined, left, removed). */
    message: ChatEvent & {
        message: MessageView;
    };
    messageEdited: ChatEvent & {
        message: MessageView;
    };
    messageDeleted: ChatEvent & {
        message: MessageView;
    };
    /** `emoji` was added (`added`) or taken back; `message` has the new counts. */
    reaction: ChatEvent & {
        message: MessageView;
        emoji: string;
        added: boolean;
    };
    participantAdded: ChatEvent;
    participantRemoved: ChatEvent;
    /** `user_id` is typing in `session_id` (sent at most every few seconds while they type). */
    typing: ChatEvent;
    /** `user_id` read up to `last_read`. */
    read: ChatEvent & {
        last_read: string;
    };
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
export declare class Chat extends Emitter<ChatEvents> {
    private readonly api;
    private readonly signaling;
    private readonly me;
    private readonly lastTyping;
    constructor(api: RestClient, signaling: Signaling, me: () => string);
    /** A 1:1 session with `participants[0]` (the same one again, if there is one), or a group. */
    createSession(participants: string[], opts?: CreateSessionOptions): Promise<SessionView>;
    /** The caller's sessions, newest first; pass `next_cursor` back as `cursor`. */
    sessions(opts?: {
        limit?: number;
        cursor?: string;
    }): Promise<SessionList>;
    session(sessionId: string): Promise<SessionView>;
    addParticipant(sessionId: string, userId: string, role?: Exclude<ChatRole, 'owner'>): Promise<SessionView>;
    setRole(sessionId: string, userId: string, role: Exclude<ChatRole, 'owner'>): Promise<SessionView>;
    removeParticipant(sessionId: string, userId: string): Promise<void>;
    leave(sessionId: string): Promise<void>;
    usage(sessionId: string): Promise<Usage>;
    /**
     * Sends a text message. It carries a client message id (made here unless given), so the one
     * retry after a network failure cannot send it twice.
     */
    send(sessionId: string, text: string, opts?: {
        clientMessageId?: string;
    }): Promise<MessageView>;
    /**
     * Sends a file: asks for an upload ticket, uploads the file straight to the object store
     * (S3, or the local stack's own) with progress, then sends the message that attaches it.
     * An image goes as an `image` message, anything else as a `file`.
     */
    sendFile(sessionId: string, file: Blob & {
        name?: string;
    }, opts?: SendFileOptions): Promise<MessageView>;
    /** Uploads `file` with a fresh ticket; resolves with the ticket once the store has it. */
    upload(sessionId: string, file: Blob & {
        name?: string;
    }, onProgress?: (sent: number, total: number) => void): Promise<UploadTicket>;
    /** The attachment with a download URL (valid a few minutes), for participants. */
    attachment(sessionId: string, attachmentId: string): Promise<AttachmentView>;
    /** A page of messages: newest first, or with `after` oldest first. */
    messages(sessionId: string, opts?: PageOptions): Promise<MessagePage>;
    edit(sessionId: string, messageId: string, text: string): Promise<MessageView>;
    deleteMessage(sessionId: string, messageId: string): Promise<MessageView>;
    react(sessionId: string, messageId: string, emoji: string): Promise<MessageView>;
    unreact(sessionId: string, messageId: string, emoji: string): Promise<MessageView>;
    /** Adds `emoji`, or takes it back if the caller had it on `message`. */
    toggleReaction(message: MessageView, emoji: string): Promise<MessageView>;
    markRead(sessionId: string, messageId: string): Promise<ReadState>;
    /** Tells the others the caller is typing; call it on every keystroke (it is throttled). */
    typing(sessionId: string): void;
}
