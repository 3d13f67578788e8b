//! Chat: sessions (1:1 or group) with roles, messages, reactions, read markers and usage.
//! REST bodies under `/api/v1/chat` and the events pushed over the WebSocket.
//!
//! - `POST /api/v1/chat/sessions` [`CreateSession`] → 201 [`SessionView`]
//! - `GET /api/v1/chat/sessions` (`?limit=&cursor=`) → [`SessionList`], the caller's, newest first
//! - `GET /api/v1/chat/sessions/{id}` → [`SessionView`]
//! - `POST /api/v1/chat/sessions/{id}/participants` [`AddParticipant`] → 201 [`SessionView`]
//! - `PUT /api/v1/chat/sessions/{id}/participants/{user_id}` [`SetRole`] → [`SessionView`]
//! - `DELETE /api/v1/chat/sessions/{id}/participants/{user_id}` → 204 (removed, or left)
//! - `POST /api/v1/chat/sessions/{id}/messages` [`SendMessage`] → 201 [`MessageView`] (200 with
//!   the first one when `client_message_id` repeats)
//! - `GET /api/v1/chat/sessions/{id}/messages` (`?limit=&before=` newest first, or `?after=`
//!   oldest first) → [`MessagePage`]
//! - `PATCH /api/v1/chat/sessions/{id}/messages/{message_id}` [`EditMessage`] → [`MessageView`]
//! - `DELETE /api/v1/chat/sessions/{id}/messages/{message_id}` → [`MessageView`] (deleted)
//! - `PUT` / `DELETE /api/v1/chat/sessions/{id}/messages/{message_id}/reactions/{emoji}` →
//!   [`MessageView`]
//! - `PUT /api/v1/chat/sessions/{id}/read` [`MarkRead`] → [`ReadState`]
//! - `GET /api/v1/chat/sessions/{id}/usage` → [`Usage`]
//! - `POST /api/v1/chat/sessions/{id}/attachments` [`RequestUpload`] → 201 [`UploadTicket`]
//!   (then `PUT` the file as the ticket says, and send a message with its `attachment_id`)
//! - `GET /api/v1/chat/sessions/{id}/attachments/{attachment_id}` → [`AttachmentView`] with a
//!   `download_url`
//!
//! WebSocket: the client sends `chat-typing` `{session_id}`; every participant's connections
//! get the events in [`event`], each carrying a [`ChatEvent`].

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Longest message text, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Longest session title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Most participants a group session holds.
pub const MAX_PARTICIPANTS: usize = 100;
/// Longest reaction, in bytes (an emoji sequence with modifiers fits).
pub const MAX_REACTION_BYTES: usize = 32;
/// Most distinct reactions one message carries.
pub const MAX_REACTION_KINDS: usize = 50;
/// Unread counts stop counting here (`unread_count` is then this, with `unread_more`).
pub const UNREAD_CAP: u32 = 99;
/// Largest attachment, in bytes.
pub const MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;
/// Longest attachment file name, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 255;
/// How long an upload ticket's URL takes a PUT.
pub const UPLOAD_URL_SECONDS: u64 = 15 * 60;
/// How long a download URL works.
pub const DOWNLOAD_URL_SECONDS: u64 = 5 * 60;
/// The content types an attachment may have: `image/*` ones make `image` messages, all of
/// them `file` messages.
pub const ATTACHMENT_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/zip",
    "application/json",
    "audio/mpeg",
    "audio/ogg",
    "audio/webm",
    "video/mp4",
    "video/webm",
    "application/octet-stream",
];
pub const PAGE_DEFAULT_LIMIT: u32 = 50;
pub const PAGE_MAX_LIMIT: u32 = 200;

/// The WebSocket events of chat (to every connection of every participant).
pub mod event {
    pub const MESSAGE: &str = "chat-message";
    pub const MESSAGE_EDITED: &str = "chat-message-edited";
    pub const MESSAGE_DELETED: &str = "chat-message-deleted";
    pub const REACTION: &str = "chat-reaction";
    pub const PARTICIPANT_ADDED: &str = "chat-participant-added";
    pub const PARTICIPANT_REMOVED: &str = "chat-participant-removed";
    pub const TYPING: &str = "chat-typing";
    pub const READ: &str = "chat-read";
    pub const ALL: &[&str] =
        &[MESSAGE, MESSAGE_EDITED, MESSAGE_DELETED, REACTION, PARTICIPANT_ADDED, PARTICIPANT_REMOVED, TYPING, READ];
}

/// A participant's role: owners and admins add and remove participants and delete others'
/// messages; only the owner makes or unmakes admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    Member,
    Admin,
    Owner,
}

impl ChatRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::Member => "member",
            ChatRole::Admin => "admin",
            ChatRole::Owner => "owner",
        }
    }

    /// May add and remove participants and delete others' messages.
    pub fn moderates(self) -> bool {
        self >= ChatRole::Admin
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Text,
    Image,
    File,
    /// Written by the service: joins, leaves, removals.
    System,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Text => "text",
            MessageType::Image => "image",
            MessageType::File => "file",
            MessageType::System => "system",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// The others (the creator is added as owner). A 1:1 session names exactly one.
    pub participants: Vec<String>,
    #[serde(default)]
    pub is_group: bool,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub title: Option<String>,
    /// Seconds from creation after which no message may be sent; history stays readable
    /// for the deployment's retention after that. Absent: the session does not expire.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub duration_seconds: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct AddParticipant {
    pub user_id: String,
    /// `member` (default) or `admin` (the owner only).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub role: Option<ChatRole>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    /// `member` or `admin`; ownership does not move.
    pub role: ChatRole,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ChatParticipant {
    pub user_id: String,
    pub role: ChatRole,
    pub joined_at: String,
    /// The last message this participant has read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_read: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SessionView {
    pub session_id: String,
    pub is_group: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub title: Option<String>,
    pub created_by: String,
    pub created_at: String,
    /// When sending stops (sessions with a duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub expires_at: Option<String>,
    /// Past `expires_at`: the history is read-only.
    pub expired: bool,
    pub participants: Vec<ChatParticipant>,
    /// The caller's role.
    pub role: ChatRole,
    /// Messages after the caller's read marker that others sent, up to [`UNREAD_CAP`].
    pub unread_count: u32,
    /// More unread than `unread_count` says.
    pub unread_more: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_activity_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// `text` (default), `image` or `file`; `system` is the service's own.
    #[serde(default, rename = "type")]
    #[ts(optional = nullable)]
    pub message_type: Option<MessageType>,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub text: Option<String>,
    /// The client's own id for this message (1-64 characters): a retry with the same id
    /// creates nothing new and answers with the first message.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub client_message_id: Option<String>,
    /// `image` and `file` messages: an uploaded attachment of the sender's (from
    /// [`UploadTicket`]); `text` is then an optional caption.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub attachment_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RequestUpload {
    /// Shown to the others, and the name a download saves under (1-255 characters).
    pub file_name: String,
    /// One of [`ATTACHMENT_TYPES`].
    pub content_type: String,
    /// Exactly the file's length in bytes (1 to [`MAX_ATTACHMENT_BYTES`]).
    pub size: u64,
}

/// Where and how to upload: `PUT` the file's bytes to `upload_url` with `upload_headers`
/// (a browser sets `content-length` itself) before `expires_at`; the store refuses another
/// type or length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UploadTicket {
    pub attachment_id: String,
    pub upload_url: String,
    pub upload_method: String,
    pub upload_headers: std::collections::BTreeMap<String, String>,
    pub expires_at: String,
    /// The object's address without a signature (seed 003's attachment `url`).
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AttachmentView {
    pub attachment_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// `GET /…/attachments/{attachment_id}` only: a download URL for a while.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub download_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub download_expires_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReactionCount {
    pub emoji: String,
    pub count: u32,
    /// The caller is among them.
    pub me: bool,
}

/// What a system message says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum SystemKind {
    Created,
    Joined,
    Left,
    Removed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SystemEvent {
    pub kind: SystemKind,
    pub user_id: String,
    /// Who did it, when not the user themself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MessageView {
    /// Sorts by creation time (a ULID).
    pub message_id: String,
    pub session_id: String,
    pub sender_id: String,
    #[serde(rename = "type")]
    pub message_type: MessageType,
    /// Absent once deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub text: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub edited_at: Option<String>,
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub deleted_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub client_message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub system: Option<SystemEvent>,
    /// `image` and `file` messages (absent once deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub attachment: Option<AttachmentView>,
    pub reactions: Vec<ReactionCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MessagePage {
    /// Newest first (`before`, or no cursor), or oldest first (`after`).
    pub messages: Vec<MessageView>,
    /// Pass as the same parameter (`before` or `after`) for the next page; absent at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    pub message_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReadState {
    pub session_id: String,
    pub user_id: String,
    pub last_read: String,
    pub unread_count: u32,
    pub unread_more: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Usage {
    pub session_id: String,
    /// Messages sent (system messages not counted; deleted ones still are).
    pub messages: u64,
    pub system_messages: u64,
    /// Current participants.
    pub participants: u64,
    pub attachments: u64,
    pub attachment_bytes: u64,
    /// The session's creation.
    pub first_activity_at: String,
    /// The last message, or change of participants.
    pub last_activity_at: String,
}

/// What a chat event carries: the session, and one of a message, a participant change, a
/// reaction, typing or a read marker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ChatEvent {
    pub session_id: String,
    /// Whose action it is.
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub message: Option<MessageView>,
    /// `chat-participant-added` / `-removed`: who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub participant: Option<ChatParticipant>,
    /// `chat-reaction`: which, and whether it was added or taken back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub emoji: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub added: Option<bool>,
    /// `chat-read`: the reader's new marker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_read: Option<String>,
}

impl ChatEvent {
    pub fn new(session_id: &str, user_id: &str) -> Self {
        Self {
            session_id: session_id.into(),
            user_id: user_id.into(),
            message: None,
            participant: None,
            emoji: None,
            added: None,
            last_read: None,
        }
    }
}

/// `chat-typing` from a client.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Typing {
    pub session_id: String,
}

/// Seed 003's chat routes, with its bodies as written (camelCase, `sessionID` and all) and
/// its `{status, message, data}` envelope. They are served by the same rules as the routes
/// above; a body names the acting user (`creatorId`, `senderID`, `reaction.userId`), which
/// must be the token's.
///
/// - `POST /chat/session` [`SeedCreateSession`] → 201, `data`: [`SessionView`]
/// - `POST /chat/message` [`SeedSendMessage`] → 201, `data`: [`MessageView`]
/// - `POST /chat/reaction` [`SeedReaction`] → 200, `data`: [`MessageView`]
/// - `POST /chat/attachment` [`SeedAttachment`] → 200, `data`: [`MessageView`] (the caller's
///   own message, now with the attachment; `url` names an upload of the caller's)
/// - `GET /chat/messages/{sessionID}` (`?limit=&before=&after=`) → 200, `data`: [`MessagePage`]
/// - `GET /chat/usage/{sessionID}` → 200, `data`: [`Usage`]
pub mod seed {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SeedCreateSession {
        #[serde(rename = "creatorId")]
        pub creator_id: String,
        pub participants: Vec<String>,
        /// Nanoseconds (a Go `time.Duration`); absent or 0: no expiry.
        #[serde(default)]
        pub duration: Option<u64>,
        #[serde(default, rename = "isGroup")]
        pub is_group: Option<bool>,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SeedSendMessage {
        #[serde(rename = "sessionID")]
        pub session_id: String,
        #[serde(rename = "senderID")]
        pub sender_id: String,
        /// In a 1:1 session the other participant; in a group, one of them (the message goes
        /// to the whole session either way).
        #[serde(default, rename = "receiverID")]
        pub receiver_id: Option<String>,
        pub message: String,
        #[serde(default, rename = "type")]
        pub message_type: Option<String>,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SeedReactionBody {
        /// The emoji.
        #[serde(rename = "type")]
        pub kind: String,
        #[serde(rename = "userId")]
        pub user_id: String,
        /// The client's clock; the server keeps its own.
        #[serde(default)]
        pub timestamp: Option<String>,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SeedReaction {
        #[serde(rename = "sessionId")]
        pub session_id: String,
        #[serde(rename = "messageId")]
        pub message_id: String,
        pub reaction: SeedReactionBody,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SeedAttachmentBody {
        /// `image` or `file`.
        #[serde(rename = "type")]
        pub kind: String,
        /// An upload this service issued: the ticket's `url`.
        pub url: String,
        pub name: String,
        pub size: u64,
        #[serde(rename = "mimeType")]
        pub mime_type: String,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SeedAttachment {
        #[serde(rename = "sessionId")]
        pub session_id: String,
        #[serde(rename = "messageId")]
        pub message_id: String,
        pub attachment: SeedAttachmentBody,
    }

    /// Every answer of the seed's routes, errors too (`data: null`).
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct SeedEnvelope<T> {
        pub status: u16,
        pub message: String,
        pub data: Option<T>,
    }
}
