//! Chat sessions: everything of one session in its partition `CHAT#<s>`, so a session's
//! page of messages, its participants or one user's reactions on a page are each one query.
//!
//! | sk | what |
//! |---|---|
//! | `META` | the session: kind, title, expiry, its usage counters |
//! | `P#<user>` | a participant: role, joined, read marker; in `gsi1` as `CHATS#<user>` / `<created>#<s>` (the user's sessions) |
//! | `M#<message id>` | a message (ids are ULIDs: the sort key orders by time); reaction counts as `rx:<emoji>` attributes |
//! | `C#<sender>#<client message id>` | the message a client id made (idempotent send) |
//! | `R#<user>#<message id>#<emoji>` | one user's reaction |
//! | `A#<attachment id>` | an upload: who, name, type, size, its object; the message once attached |
//! | `DM` under `CHATDM#<a>#<b>` | the 1:1 session of two users (without a duration) |
//!
//! An attachment's object lives in the object store under [`object_key`]
//! (`chat/<app>/<session>/<attachment id>`).
//!
//! A session with a duration puts `ttl` (its retention's end) on every item it writes, so
//! the whole session leaves the table together.

use super::codec;
use crate::clock::Millis;
use crate::store::{CmpOp, Cond, Item, Key, Query, SortKey, Update, Value};
use serde::{Deserialize, Serialize};
use stratus_protocol::chat::{ChatRole, MessageType, SystemEvent};
use stratus_protocol::ids::{AttachmentId, ChatSessionId, MessageId, UserId};

const PK: &str = "CHAT#";
const PARTICIPANT: &str = "P#";
const MESSAGE: &str = "M#";
const ATTACHMENT: &str = "A#";
const REACTION_ATTR: &str = "rx:";
/// Sorts after every `M#…` key (`$` follows `#`).
const END_OF_MESSAGES: &str = "M$";
const TTL: &str = "ttl";

fn pk(s: &str) -> String {
    format!("{PK}{s}")
}

pub fn meta(s: &str) -> Key {
    Key::new(pk(s), "META")
}

pub fn participant(s: &str, user: &str) -> Key {
    Key::new(pk(s), format!("{PARTICIPANT}{user}"))
}

pub fn message(s: &str, m: &str) -> Key {
    Key::new(pk(s), format!("{MESSAGE}{m}"))
}

pub fn attachment(s: &str, a: &str) -> Key {
    Key::new(pk(s), format!("{ATTACHMENT}{a}"))
}

/// Where attachment `a` of app `app`'s session `s` is in the object store.
pub fn object_key(app: &str, s: &str, a: &str) -> String {
    format!("chat/{app}/{s}/{a}")
}

pub fn client_id(s: &str, sender: &str, client_message_id: &str) -> Key {
    Key::new(pk(s), format!("C#{sender}#{client_message_id}"))
}

pub fn reaction(s: &str, user: &str, m: &str, emoji: &str) -> Key {
    Key::new(pk(s), format!("R#{user}#{m}#{emoji}"))
}

/// The 1:1 session of two users, whichever order they come in.
pub fn direct(a: &str, b: &str) -> Key {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    Key::new(format!("CHATDM#{x}#{y}"), "DM")
}

pub fn participants(s: &str) -> Query {
    Query::table(pk(s)).sk(SortKey::BeginsWith(PARTICIPANT.into())).limit(crate::store::MAX_PAGE)
}

fn sessions_of_pk(user: &str) -> String {
    format!("CHATS#{user}")
}

/// The user's sessions, newest first.
pub fn sessions_of(user: &str) -> Query {
    Query::index(crate::store::schema::GSI1, sessions_of_pk(user)).backward()
}

/// Every message (`M#…`) of the session, oldest first.
pub fn messages(s: &str) -> Query {
    Query::table(pk(s)).sk(SortKey::BeginsWith(MESSAGE.into()))
}

/// Messages older than `m` (and `m` itself, which the caller skips).
pub fn messages_through(s: &str, m: &str) -> Query {
    Query::table(pk(s)).sk(SortKey::Between(MESSAGE.into(), format!("{MESSAGE}{m}")))
}

/// Messages newer than `m` (and `m` itself, which the caller skips).
pub fn messages_from(s: &str, m: &str) -> Query {
    Query::table(pk(s)).sk(SortKey::Between(format!("{MESSAGE}{m}"), END_OF_MESSAGES.into()))
}

/// `user`'s reactions on the messages from `first` to `last` (ids, in either order).
pub fn reactions_of(s: &str, user: &str, first: &str, last: &str) -> Query {
    let (lo, hi) = if first <= last { (first, last) } else { (last, first) };
    Query::table(pk(s))
        // `$` follows `#`: the bound sorts after every reaction on `hi`, whatever its bytes.
        .sk(SortKey::Between(format!("R#{user}#{lo}#"), format!("R#{user}#{hi}$")))
        .limit(crate::store::MAX_PAGE)
}

/// The (message id, emoji) of a reaction item read with [`reactions_of`].
pub fn decode_reaction(it: &Item, user: &str) -> Option<(MessageId, String)> {
    let rest = super::sk_id(it, &format!("R#{user}#"))?;
    let (m, emoji) = rest.split_once('#')?;
    Some((MessageId::from(m), emoji.to_owned()))
}

/// The session as stored, with its usage counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    #[serde(skip)]
    pub id: ChatSessionId,
    pub is_group: bool,
    pub title: Option<String>,
    pub created_by: UserId,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    /// Epoch seconds when the session leaves the table (sessions with a duration).
    pub ttl: Option<i64>,
    #[serde(default)]
    pub messages: u64,
    #[serde(default)]
    pub system_messages: u64,
    #[serde(default)]
    pub participants: u64,
    #[serde(default)]
    pub attachments: u64,
    #[serde(default)]
    pub attachment_bytes: u64,
    pub last_activity_at: Millis,
}

impl Session {
    pub fn expired(&self, now: Millis) -> bool {
        self.expires_at.is_some_and(|e| now >= e)
    }
}

pub fn encode_session(s: &Session) -> Item {
    codec::encode(meta(&s.id), s)
}

pub fn decode_session(it: &Item) -> Option<Session> {
    Some(Session { id: super::pk_id(it, PK)?.into(), ..codec::decode(it)? })
}

/// While the session takes messages at `now`.
pub fn open_at(now: Millis) -> Cond {
    Cond::Exists.and(Cond::AttrNotExists("expires_at".into()).or(Cond::cmp("expires_at", CmpOp::Gt, now)))
}

/// Usage after a message (or `system` message) at `now`.
pub fn counted_message(system: bool, now: Millis) -> Update {
    Update::default().add(if system { "system_messages" } else { "messages" }, 1).set("last_activity_at", now)
}

/// `u` (the session's usage) with an attachment of `size` bytes more.
pub fn counted_attachment(u: Update, size: u64) -> Update {
    u.add("attachments", 1).add("attachment_bytes", i64::try_from(size).unwrap_or(i64::MAX))
}

/// Usage after `by` participants joined (negative: left) at `now`, with the system message.
pub fn counted_participants(by: i64, now: Millis) -> Update {
    Update::default().add("participants", by).add("system_messages", 1).set("last_activity_at", now)
}

/// While fewer than `max` take part.
pub fn below(max: usize) -> Cond {
    Cond::cmp("participants", CmpOp::Lt, max as i64)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    #[serde(skip)]
    pub user: UserId,
    pub role: ChatRole,
    pub joined_at: Millis,
    pub last_read: Option<MessageId>,
}

#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    p: &'a Participant,
    gsi1pk: String,
    gsi1sk: String,
    ttl: Option<i64>,
}

/// A participant of `session`, listed among the user's sessions.
pub fn encode_participant(session: &Session, p: &Participant) -> Item {
    let listed = Listed {
        p,
        gsi1pk: sessions_of_pk(&p.user),
        gsi1sk: format!("{:013}#{}", session.created_at, session.id),
        ttl: session.ttl,
    };
    codec::encode(participant(&session.id, &p.user), &listed)
}

pub fn decode_participant(it: &Item) -> Option<Participant> {
    Some(Participant { user: super::sk_id(it, PARTICIPANT)?.into(), ..codec::decode(it)? })
}

/// The session id of a participant item read from [`sessions_of`].
pub fn session_of_participant(it: &Item) -> Option<ChatSessionId> {
    super::pk_id(it, PK).map(ChatSessionId::from)
}

/// While the participant has one of these roles.
pub fn role_in(roles: &[ChatRole]) -> Cond {
    Cond::Exists.and(Cond::Or(roles.iter().map(|r| Cond::eq("role", r.as_str())).collect()))
}

pub fn set_role(role: ChatRole) -> Update {
    Update::default().set("role", role.as_str())
}

/// The read marker moved to `m`.
pub fn read(m: &MessageId) -> Update {
    Update::default().set("last_read", m.as_str())
}

/// While the participant's marker is before `m` (or unset).
pub fn read_before(m: &MessageId) -> Cond {
    Cond::Exists.and(Cond::AttrNotExists("last_read".into()).or(Cond::cmp("last_read", CmpOp::Lt, m.as_str())))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    #[serde(skip)]
    pub id: MessageId,
    pub sender: UserId,
    pub message_type: MessageType,
    pub text: Option<String>,
    pub created_at: Millis,
    pub edited_at: Option<Millis>,
    pub deleted_at: Option<Millis>,
    pub deleted_by: Option<UserId>,
    pub client_message_id: Option<String>,
    pub system: Option<SystemEvent>,
    /// `image` and `file` messages; gone once deleted.
    #[serde(default)]
    pub attachment: Option<AttachmentRef>,
    /// From the `rx:<emoji>` attributes, counts above zero, in emoji order.
    #[serde(skip)]
    pub reactions: Vec<(String, u32)>,
}

impl Message {
    /// A message as sent at `at`: not edited, deleted or reacted to yet.
    pub fn new(id: MessageId, sender: UserId, message_type: MessageType, text: String, at: Millis) -> Self {
        Message {
            id,
            sender,
            message_type,
            text: Some(text),
            created_at: at,
            edited_at: None,
            deleted_at: None,
            deleted_by: None,
            client_message_id: None,
            system: None,
            attachment: None,
            reactions: vec![],
        }
    }
}

/// What a message says of its attachment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub id: AttachmentId,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
}

/// An upload the sender asked for: pending until a message attaches it (`message_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    #[serde(skip)]
    pub id: AttachmentId,
    pub uploader: UserId,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub created_at: Millis,
    pub message_id: Option<MessageId>,
    /// Pending: a day after the ticket (as the object's lifecycle); attached: the session's.
    pub ttl: Option<i64>,
}

impl Attachment {
    pub fn reference(&self) -> AttachmentRef {
        AttachmentRef {
            id: self.id.clone(),
            file_name: self.file_name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
        }
    }
}

pub fn encode_attachment(session: &Session, a: &Attachment) -> Item {
    codec::encode(attachment(&session.id, &a.id), a)
}

pub fn decode_attachment(it: &Item) -> Option<Attachment> {
    Some(Attachment { id: super::sk_id(it, ATTACHMENT)?.into(), ..codec::decode(it)? })
}

/// While the attachment is `uploader`'s and attached to nothing.
pub fn pending_of(uploader: &UserId) -> Cond {
    Cond::Exists.and(Cond::AttrNotExists("message_id".into())).and(Cond::eq("uploader", uploader.as_str()))
}

/// The attachment now belongs to message `m`, and lives as long as its session.
pub fn attached_to(m: &MessageId, session: &Session) -> Update {
    let u = Update::default().set("message_id", m.as_str());
    match session.ttl {
        Some(t) => u.set(TTL, t),
        None => u.remove(TTL),
    }
}

/// Message `m` gets `a` (seed 003's attachment to a sent message), and the type it makes.
pub fn with_attachment(a: &AttachmentRef, kind: MessageType) -> Update {
    Update::default().set("attachment", codec::to_value(a)).set("message_type", kind.as_str())
}

/// While the message is `sender`'s, not deleted, and has no attachment.
pub fn bare_from(sender: &UserId) -> Cond {
    live_from(sender).and(Cond::AttrNotExists("attachment".into()))
}

#[derive(Serialize)]
struct Stored<'a> {
    #[serde(flatten)]
    m: &'a Message,
    ttl: Option<i64>,
}

pub fn encode_message(session: &Session, m: &Message) -> Item {
    codec::encode(message(&session.id, &m.id), &Stored { m, ttl: session.ttl })
}

pub fn decode_message(it: &Item) -> Option<Message> {
    let mut reactions: Vec<(String, u32)> = it
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(REACTION_ATTR)?.to_owned(), v.as_n()?)))
        .filter(|(_, n)| *n > 0)
        .map(|(e, n)| (e, n.min(u32::MAX as i64) as u32))
        .collect();
    reactions.sort();
    Some(Message { id: super::sk_id(it, MESSAGE)?.into(), reactions, ..codec::decode(it)? })
}

/// While the message exists and is not deleted.
pub fn live() -> Cond {
    Cond::Exists.and(Cond::AttrNotExists("deleted_at".into()))
}

/// While the message is `sender`'s and not deleted.
pub fn live_from(sender: &UserId) -> Cond {
    live().and(Cond::eq("sender", sender.as_str()))
}

pub fn edited(text: &str, now: Millis) -> Update {
    Update::default().set("text", text).set("edited_at", now)
}

pub fn deleted(by: &UserId, now: Millis) -> Update {
    Update::default().set("deleted_at", now).set("deleted_by", by.as_str()).remove("text").remove("attachment")
}

/// One more (or, with -1, one fewer) of `emoji` on the message.
pub fn reacted(emoji: &str, by: i64) -> Update {
    Update::default().add(format!("{REACTION_ATTR}{emoji}"), by)
}

/// A small item under `key`: these fields, and the session's TTL.
fn marker(key: Key, fields: &[(&str, &str)], ttl: Option<i64>) -> Item {
    let mut it = Item::new();
    it.insert("pk".into(), Value::S(key.pk));
    it.insert("sk".into(), Value::S(key.sk));
    for (k, v) in fields {
        it.insert((*k).into(), Value::S((*v).into()));
    }
    if let Some(t) = ttl {
        it.insert(TTL.into(), Value::N(t));
    }
    it
}

/// Session `session`'s 1:1 pointer for users `a` and `b`.
pub fn encode_direct(a: &str, b: &str, session: &ChatSessionId) -> Item {
    marker(direct(a, b), &[("session_id", session)], None)
}

pub fn decode_direct(it: &Item) -> Option<ChatSessionId> {
    it.get("session_id").and_then(Value::as_str).map(ChatSessionId::from)
}

/// What `sender`'s client message id `client_id` made in `session`.
pub fn encode_client_id(session: &Session, sender: &str, client_message_id: &str, m: &MessageId) -> Item {
    marker(client_id(&session.id, sender, client_message_id), &[("message_id", m)], session.ttl)
}

pub fn decode_client_id(it: &Item) -> Option<MessageId> {
    it.get("message_id").and_then(Value::as_str).map(MessageId::from)
}

pub fn encode_reaction(session: &Session, user: &str, m: &str, emoji: &str) -> Item {
    marker(reaction(&session.id, user, m, emoji), &[], session.ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_reads_back_with_its_reaction_counts_above_zero() {
        let s = Session {
            id: "S1".into(),
            is_group: true,
            title: None,
            created_by: "a".into(),
            created_at: 5,
            expires_at: None,
            ttl: Some(99),
            messages: 0,
            system_messages: 0,
            participants: 2,
            attachments: 0,
            attachment_bytes: 0,
            last_activity_at: 5,
        };
        let m = Message::new("01ABC".into(), "a".into(), MessageType::Text, "hi".into(), 7);
        let mut it = encode_message(&s, &m);
        assert_eq!(it.get("ttl"), Some(&Value::N(99)), "a message leaves with its session");
        it.insert("rx:👍".into(), Value::N(2));
        it.insert("rx:🎉".into(), Value::N(0));
        let back = decode_message(&it).unwrap();
        assert_eq!(back.id, "01ABC");
        assert_eq!(back.reactions, vec![("👍".to_owned(), 2)]);
    }

    #[test]
    fn a_direct_session_key_does_not_depend_on_who_asks() {
        assert_eq!(direct("bob", "alice"), direct("alice", "bob"));
    }
}
