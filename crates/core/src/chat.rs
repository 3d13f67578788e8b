//! Chat: sessions of two (1:1) or more (group) participants with roles, messages (text,
//! image, file and the service's system messages), reactions, read markers and usage; events
//! to every connection of every participant.
//!
//! Stored in the session's partition ([`crate::records::chat`]). Every change is one
//! transaction that also moves the session's counters and checks what it depends on: a
//! message is written with its usage counters only while the session is open and the sender
//! still takes part; a reaction with its count only once per user and emoji; a participant
//! change with its system message only while the one changing it still holds their role. A
//! lost race is read back and reported as what won (or, for a repeated send or reaction, as
//! the first one's result).
//!
//! Who sees what: a session is visible to its participants only; anyone else, removed
//! participants included, gets `CHAT_SESSION_NOT_FOUND` (its existence is not revealed).
//!
//! Attachments go through the [`ObjectStore`]: a ticket (a presigned PUT of exactly the
//! declared file, and a pending `A#` record), the client's own upload, then the message that
//! names it, sent only once a HEAD shows the object as declared, in one transaction with the
//! record's move to attached and the usage counters. Downloads are presigned GETs handed to
//! participants; deleting the message deletes the object.

use crate::clock::{Millis, rfc3339_ms};
use crate::objects::{ObjectError, ObjectStore, PENDING_LIFETIME_MS, Upload};
use crate::presence;
use crate::records::chat::{self as rec, Attachment, Message, Participant, Session};
use crate::sink::{ConnectionSink, SinkError};
use crate::store::{Cond, StoreError, Table, Update, Write, query_all};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use stratus_protocol::chat::*;
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::{AppId, AttachmentId, ChatSessionId, MessageId, UserId, is_valid_id};
use stratus_protocol::ws::envelope;

#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// How long a session with a duration stays readable after it expires.
    pub retention_ms: Millis,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self { retention_ms: 30 * 24 * 3600 * 1000 }
    }
}

pub type ChatError = crate::error::Rejection;

fn rejected(code: ErrorCode, msg: impl Into<String>) -> ChatError {
    ChatError::Rejected(code, msg.into())
}

fn invalid(msg: impl Into<String>) -> ChatError {
    rejected(ErrorCode::ValidationError, msg)
}

fn no_session() -> ChatError {
    rejected(ErrorCode::ChatSessionNotFound, "no such chat session")
}

fn no_message() -> ChatError {
    rejected(ErrorCode::MessageNotFound, "no such message")
}

fn no_attachment() -> ChatError {
    rejected(ErrorCode::AttachmentNotFound, "no such attachment")
}

fn store_down(e: ObjectError) -> ChatError {
    ChatError::Store(StoreError::Unavailable(e.to_string()))
}

fn expired() -> ChatError {
    rejected(ErrorCode::ChatSessionExpired, "the session has expired; its history is read-only")
}

const ID_RULE: &str = "1-128 characters of A-Z a-z 0-9 . _ @ : -";

/// How a transaction that lost a race is retried before the caller hears `CONFLICT`.
const ATTEMPTS: usize = 4;

/// Where a page of messages starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// The newest, going back.
    Newest,
    /// Older than this message, going back.
    Before(MessageId),
    /// Newer than this message, going forward.
    After(MessageId),
}

/// Makes ids that sort by time (ULIDs: 48 bits of milliseconds, 80 random): within one
/// millisecond an instance counts up from the last, so its ids keep the order it made them in
/// (ids two instances make in the same millisecond are in no particular order).
#[derive(Default)]
struct Ids(std::sync::Mutex<(u64, u128)>);

impl Ids {
    fn next(&self, now: Millis) -> String {
        let ms = now.max(0) as u64;
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // A fresh random part leaves its top bit clear, room to count up.
        let random = if last.0 == ms { last.1 + 1 } else { rand::random::<u128>() & ((1u128 << 79) - 1) };
        *last = (ms, random);
        ulid::Ulid::from_parts(ms, random).to_string()
    }
}

fn text_of(raw: &str, what: &str, max: usize) -> Result<String, ChatError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(invalid(format!("{what} must not be empty")));
    }
    if t.chars().count() > max {
        return Err(invalid(format!("{what} is limited to {max} characters")));
    }
    if t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        return Err(invalid(format!("{what} must not hold control characters")));
    }
    Ok(t.to_owned())
}

fn emoji_of(raw: &str) -> Result<&str, ChatError> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_REACTION_BYTES
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#');
    if ok { Ok(raw) } else { Err(invalid(format!("a reaction is 1-{MAX_REACTION_BYTES} bytes without spaces or `#`"))) }
}

/// Chat of the deployment; each app's is [`Chats::app`].
pub struct Chats {
    sink: Arc<dyn ConnectionSink>,
    cfg: ChatConfig,
    ids: Ids,
    /// Where attachments go; without one, uploads answer `SERVICE_UNAVAILABLE`.
    objects: Option<Arc<dyn ObjectStore>>,
}

/// One app's chat, over its namespace.
pub struct AppChats<'a> {
    chats: &'a Chats,
    table: Arc<dyn Table>,
    app: AppId,
}

impl Chats {
    pub fn new(sink: Arc<dyn ConnectionSink>, cfg: ChatConfig) -> Self {
        Self { sink, cfg, ids: Ids::default(), objects: None }
    }

    pub fn set_objects(&mut self, objects: Option<Arc<dyn ObjectStore>>) {
        self.objects = objects;
    }

    pub fn app(&self, ns: &crate::tenant::Namespace) -> AppChats<'_> {
        AppChats { chats: self, table: ns.table.clone(), app: ns.app.clone() }
    }
}

/// The attachment of an `image` or `file` message: the content types each takes.
fn fits(kind: MessageType, content_type: &str) -> bool {
    match kind {
        MessageType::Image => content_type.starts_with("image/"),
        MessageType::File => true,
        _ => false,
    }
}

/// Seed 003's attachment as its body describes it, checked against the upload.
#[derive(Debug, Clone)]
pub struct Declared<'a> {
    pub url: &'a str,
    pub file_name: &'a str,
    pub size: u64,
    pub content_type: &'a str,
}

/// A session and the caller's part in it.
struct Seat {
    session: Session,
    me: Participant,
}

impl AppChats<'_> {
    // -----------------------------------------------------------------------------------
    // Reading

    async fn session(&self, id: &ChatSessionId) -> Result<Option<Session>, ChatError> {
        if !is_valid_id(id) {
            return Ok(None);
        }
        Ok(self.table.get(&rec::meta(id)).await?.as_ref().and_then(rec::decode_session))
    }

    async fn participant(&self, id: &ChatSessionId, user: &UserId) -> Result<Option<Participant>, ChatError> {
        Ok(self.table.get(&rec::participant(id, user)).await?.as_ref().and_then(rec::decode_participant))
    }

    /// The session and `me`'s place in it, or `CHAT_SESSION_NOT_FOUND` for anyone not in it.
    async fn seat(&self, me: &UserId, id: &ChatSessionId) -> Result<Seat, ChatError> {
        if !is_valid_id(id) {
            return Err(no_session());
        }
        let (s, p) = futures_util::future::join(self.session(id), self.participant(id, me)).await;
        match (s?, p?) {
            (Some(session), Some(me)) => Ok(Seat { session, me }),
            _ => Err(no_session()),
        }
    }

    /// A seat in a session that still takes changes at `now`.
    async fn open_seat(&self, me: &UserId, id: &ChatSessionId, now: Millis) -> Result<Seat, ChatError> {
        let seat = self.seat(me, id).await?;
        if seat.session.expired(now) {
            return Err(expired());
        }
        Ok(seat)
    }

    async fn participants(&self, id: &ChatSessionId) -> Result<Vec<Participant>, ChatError> {
        let items = query_all(self.table.as_ref(), rec::participants(id)).await?;
        Ok(items.iter().filter_map(rec::decode_participant).collect())
    }

    async fn message(&self, id: &ChatSessionId, m: &MessageId) -> Result<Option<Message>, ChatError> {
        if !is_valid_id(m) {
            return Ok(None);
        }
        Ok(self.table.get(&rec::message(id, m)).await?.as_ref().and_then(rec::decode_message))
    }

    /// Unread messages after `marker` that others sent (system and deleted ones aside), up to
    /// [`UNREAD_CAP`]; and whether there are more.
    async fn unread(
        &self,
        id: &ChatSessionId,
        me: &UserId,
        marker: Option<&MessageId>,
    ) -> Result<(u32, bool), ChatError> {
        let mut q = match marker {
            Some(m) => rec::messages_from(id, m),
            None => rec::messages(id),
        }
        .limit(100);
        let mut n = 0u32;
        // At most three pages: past that a client shows "99+" anyway.
        for _ in 0..3 {
            let page = self.table.query(&q).await?;
            for m in page.items.iter().filter_map(rec::decode_message) {
                let counts = Some(&m.id) != marker
                    && m.sender != *me
                    && m.message_type != MessageType::System
                    && m.deleted_at.is_none();
                if counts {
                    n += 1;
                    if n > UNREAD_CAP {
                        return Ok((UNREAD_CAP, true));
                    }
                }
            }
            match page.next {
                Some(c) => q.cursor = Some(c),
                None => return Ok((n, false)),
            }
        }
        Ok((n, true))
    }

    async fn view(&self, seat: &Seat, now: Millis) -> Result<SessionView, ChatError> {
        let (parts, unread) = futures_util::future::join(
            self.participants(&seat.session.id),
            self.unread(&seat.session.id, &seat.me.user, seat.me.last_read.as_ref()),
        )
        .await;
        let (unread_count, unread_more) = unread?;
        let s = &seat.session;
        Ok(SessionView {
            session_id: s.id.to_string(),
            is_group: s.is_group,
            title: s.title.clone(),
            created_by: s.created_by.to_string(),
            created_at: rfc3339_ms(s.created_at),
            expires_at: s.expires_at.map(rfc3339_ms),
            expired: s.expired(now),
            participants: parts?.iter().map(participant_view).collect(),
            role: seat.me.role,
            unread_count,
            unread_more,
            last_activity_at: Some(rfc3339_ms(s.last_activity_at)),
        })
    }

    /// The messages' views for `me`, with `me`'s reactions among them marked.
    async fn message_views(
        &self,
        id: &ChatSessionId,
        me: &UserId,
        ms: &[Message],
    ) -> Result<Vec<MessageView>, ChatError> {
        let mine: HashSet<(MessageId, String)> = match (ms.first(), ms.last()) {
            (Some(a), Some(b)) if ms.iter().any(|m| !m.reactions.is_empty()) => {
                let items = query_all(self.table.as_ref(), rec::reactions_of(id, me, &a.id, &b.id)).await?;
                items.iter().filter_map(|it| rec::decode_reaction(it, me)).collect()
            }
            _ => HashSet::new(),
        };
        Ok(ms.iter().map(|m| message_view(id, m, |e| mine.contains(&(m.id.clone(), e.to_owned())))).collect())
    }

    async fn one_view(&self, id: &ChatSessionId, me: &UserId, m: &Message) -> Result<MessageView, ChatError> {
        Ok(self.message_views(id, me, std::slice::from_ref(m)).await?.remove(0))
    }

    pub async fn get(&self, me: &UserId, id: &ChatSessionId, now: Millis) -> Result<SessionView, ChatError> {
        let seat = self.seat(me, id).await?;
        self.view(&seat, now).await
    }

    /// `me`'s sessions, newest first; `cursor` is a page's `next_cursor`.
    pub async fn list(
        &self,
        me: &UserId,
        limit: u32,
        cursor: Option<String>,
        now: Millis,
    ) -> Result<SessionList, ChatError> {
        let q = rec::sessions_of(me).limit(limit).after(cursor);
        let page = match self.table.query(&q).await {
            Err(StoreError::Invalid(_)) => return Err(invalid("cursor is not one this list gave")),
            other => other?,
        };
        let mut sessions = Vec::new();
        for it in &page.items {
            let (Some(id), Some(p)) = (rec::session_of_participant(it), rec::decode_participant(it)) else { continue };
            if let Some(session) = self.session(&id).await? {
                sessions.push(self.view(&Seat { session, me: p }, now).await?);
            }
        }
        Ok(SessionList { sessions, next_cursor: page.next })
    }

    pub async fn usage(&self, me: &UserId, id: &ChatSessionId) -> Result<Usage, ChatError> {
        let s = self.seat(me, id).await?.session;
        Ok(Usage {
            session_id: s.id.to_string(),
            messages: s.messages,
            system_messages: s.system_messages,
            participants: s.participants,
            attachments: s.attachments,
            attachment_bytes: s.attachment_bytes,
            first_activity_at: rfc3339_ms(s.created_at),
            last_activity_at: rfc3339_ms(s.last_activity_at),
        })
    }

    pub async fn messages(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        from: Start,
        limit: u32,
    ) -> Result<MessagePage, ChatError> {
        self.seat(me, id).await?;
        let (q, skip) = match &from {
            Start::Newest => (rec::messages(id).backward(), None),
            Start::Before(m) => (rec::messages_through(id, m).backward(), Some(m)),
            Start::After(m) => (rec::messages_from(id, m), Some(m)),
        };
        if skip.is_some_and(|m| !is_valid_id(m)) {
            return Err(invalid("before and after take a message id"));
        }
        // One more than asked (and the cursor itself), to know whether a next page exists.
        let mut q = q.limit(limit + 2);
        let mut ms = Vec::new();
        loop {
            let page = self.table.query(&q).await?;
            ms.extend(page.items.iter().filter_map(rec::decode_message).filter(|m| Some(&m.id) != skip));
            match page.next {
                Some(c) if ms.len() <= limit as usize => q.cursor = Some(c),
                _ => break,
            }
        }
        let more = ms.len() > limit as usize;
        ms.truncate(limit as usize);
        let next_cursor = if more { ms.last().map(|m| m.id.to_string()) } else { None };
        Ok(MessagePage { messages: self.message_views(id, me, &ms).await?, next_cursor })
    }

    // -----------------------------------------------------------------------------------
    // Sessions and participants

    pub async fn create(&self, me: &UserId, req: &CreateSession, now: Millis) -> Result<SessionView, ChatError> {
        let mut others = BTreeSet::new();
        for p in &req.participants {
            if !is_valid_id(p) {
                return Err(invalid(format!("participants are user ids of {ID_RULE}")));
            }
            if p != me.as_str() {
                others.insert(UserId::from(p.as_str()));
            }
        }
        // Created with its participants in one transaction (DynamoDB takes 100 writes).
        let max_at_creation = 49;
        match (req.is_group, others.len()) {
            (false, 1) => {}
            (false, _) => return Err(invalid("a 1:1 session has exactly one other participant")),
            (true, 0) => return Err(invalid("a group session needs at least one other participant")),
            (true, n) if n > max_at_creation => {
                return Err(invalid(format!(
                    "a group starts with at most {max_at_creation} others; add more later (up to {MAX_PARTICIPANTS})"
                )));
            }
            _ => {}
        }
        let title = match &req.title {
            Some(t) => Some(text_of(t, "title", MAX_TITLE_CHARS)?),
            None => None,
        };
        let expires_at = match req.duration_seconds {
            None => None,
            Some(0) => return Err(invalid("duration_seconds must be positive")),
            Some(d) => Some(now.saturating_add(i64::try_from(d).unwrap_or(i64::MAX / 4).min(i64::MAX / 4) * 1000)),
        };
        let direct = (!req.is_group && expires_at.is_none()).then(|| rec::direct(me, others.first().unwrap_or(me)));
        if let Some(key) = &direct
            && let Some(existing) = self.existing_direct(me, key, now).await?
        {
            return Ok(existing);
        }
        let session = Session {
            id: ChatSessionId::from(self.chats.ids.next(now)),
            is_group: req.is_group,
            title,
            created_by: me.clone(),
            created_at: now,
            expires_at,
            ttl: expires_at.map(|e| (e.saturating_add(self.chats.cfg.retention_ms) + 999).div_euclid(1000)),
            messages: 0,
            system_messages: 1,
            participants: others.len() as u64 + 1,
            attachments: 0,
            attachment_bytes: 0,
            last_activity_at: now,
        };
        let owner = Participant { user: me.clone(), role: ChatRole::Owner, joined_at: now, last_read: None };
        let mut writes = vec![
            Write::Put { item: rec::encode_session(&session), cond: Some(Cond::NotExists) },
            Write::Put { item: rec::encode_participant(&session, &owner), cond: Some(Cond::NotExists) },
            Write::Put {
                item: rec::encode_message(
                    &session,
                    &system(self.chats.ids.next(now), me, SystemKind::Created, None, now),
                ),
                cond: Some(Cond::NotExists),
            },
        ];
        for u in &others {
            let p = Participant { user: u.clone(), role: ChatRole::Member, joined_at: now, last_read: None };
            writes.push(Write::Put { item: rec::encode_participant(&session, &p), cond: Some(Cond::NotExists) });
        }
        if direct.is_some() {
            let other = others.first().unwrap_or(me);
            writes.push(Write::Put { item: rec::encode_direct(me, other, &session.id), cond: Some(Cond::NotExists) });
        }
        match self.table.transact(writes).await {
            Ok(()) => {}
            // Written after all (a retried write whose answer was lost): the id is ours.
            Err(StoreError::ConditionFailed) if self.session(&session.id).await?.is_some() => {}
            // Two first messages between the same two users at once: the other made it.
            Err(StoreError::ConditionFailed | StoreError::TransactionConflict) if direct.is_some() => {
                let key = direct.as_ref().expect("direct");
                return self.existing_direct(me, key, now).await?.ok_or_else(|| {
                    rejected(ErrorCode::Conflict, "the session was being created at the same time; try again")
                });
            }
            Err(e) => return Err(e.into()),
        }
        let view = self.view(&Seat { session, me: owner }, now).await?;
        for p in &view.participants {
            let mut ev = ChatEvent::new(&view.session_id, me);
            ev.participant = Some(p.clone());
            self.push(&UserId::from(p.user_id.as_str()), event::PARTICIPANT_ADDED, &ev).await;
        }
        Ok(view)
    }

    async fn existing_direct(
        &self,
        me: &UserId,
        key: &crate::store::Key,
        now: Millis,
    ) -> Result<Option<SessionView>, ChatError> {
        let Some(id) = self.table.get(key).await?.as_ref().and_then(rec::decode_direct) else { return Ok(None) };
        match self.seat(me, &id).await {
            Ok(seat) => Ok(Some(self.view(&seat, now).await?)),
            Err(_) => Ok(None),
        }
    }

    pub async fn add_participant(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        req: &AddParticipant,
        now: Millis,
    ) -> Result<SessionView, ChatError> {
        let user = UserId::from(req.user_id.as_str());
        if !is_valid_id(&user) {
            return Err(invalid(format!("user_id must be {ID_RULE}")));
        }
        let role = req.role.unwrap_or(ChatRole::Member);
        let seat = self.open_seat(me, id, now).await?;
        if !seat.session.is_group {
            return Err(invalid("a 1:1 session's participants do not change"));
        }
        if !seat.me.role.moderates() {
            return Err(rejected(ErrorCode::Forbidden, "only the owner and admins add participants"));
        }
        match role {
            ChatRole::Member => {}
            ChatRole::Admin if seat.me.role == ChatRole::Owner => {}
            ChatRole::Admin => return Err(rejected(ErrorCode::Forbidden, "only the owner makes admins")),
            ChatRole::Owner => return Err(invalid("a session has one owner, its creator")),
        }
        let p = Participant { user: user.clone(), role, joined_at: now, last_read: None };
        let note = system(self.chats.ids.next(now), &user, SystemKind::Joined, Some(me), now);
        let writes = vec![
            Write::Put { item: rec::encode_participant(&seat.session, &p), cond: Some(Cond::NotExists) },
            Write::Update {
                key: rec::meta(id),
                update: rec::counted_participants(1, now),
                cond: Some(rec::open_at(now).and(rec::below(MAX_PARTICIPANTS))),
            },
            Write::Put { item: rec::encode_message(&seat.session, &note), cond: Some(Cond::NotExists) },
            Write::Check { key: rec::participant(id, me), cond: rec::role_in(&[ChatRole::Owner, ChatRole::Admin]) },
        ];
        if let Err(e) = self.transact(writes).await {
            // Why: already in, full, expired, or the caller lost their role meanwhile.
            let now_seat = self.open_seat(me, id, now).await?;
            if self.participant(id, &user).await?.is_some() {
                return Err(rejected(ErrorCode::Conflict, format!("`{user}` already takes part")));
            }
            if now_seat.session.participants >= MAX_PARTICIPANTS as u64 {
                return Err(rejected(ErrorCode::Conflict, format!("a session holds at most {MAX_PARTICIPANTS}")));
            }
            if !now_seat.me.role.moderates() {
                return Err(rejected(ErrorCode::Forbidden, "only the owner and admins add participants"));
            }
            return Err(e);
        }
        let seat = self.seat(me, id).await?;
        let view = self.view(&seat, now).await?;
        let mut ev = ChatEvent::new(id, me);
        ev.participant = Some(participant_view(&p));
        self.push_all(&view, event::PARTICIPANT_ADDED, &ev).await;
        self.announce(&view, &seat.session.id, &note, me).await;
        Ok(view)
    }

    pub async fn set_role(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        user: &UserId,
        role: ChatRole,
        now: Millis,
    ) -> Result<SessionView, ChatError> {
        let seat = self.open_seat(me, id, now).await?;
        if seat.me.role != ChatRole::Owner {
            return Err(rejected(ErrorCode::Forbidden, "only the owner changes roles"));
        }
        if role == ChatRole::Owner || user == me {
            return Err(invalid("ownership does not move; roles are member or admin"));
        }
        let res = self
            .table
            .update(
                &rec::participant(id, user),
                rec::set_role(role),
                Some(rec::role_in(&[ChatRole::Member, ChatRole::Admin])),
            )
            .await;
        match res {
            Ok(_) => {}
            Err(StoreError::ConditionFailed) => return Err(no_participant(user)),
            Err(e) => return Err(e.into()),
        }
        self.get(me, id, now).await
    }

    /// Removes `user` (the owner or an admin removing a member; the owner an admin), or `me`
    /// leaving. The owner does not leave.
    pub async fn remove_participant(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        user: &UserId,
        now: Millis,
    ) -> Result<(), ChatError> {
        let seat = self.open_seat(me, id, now).await?;
        if !seat.session.is_group {
            return Err(invalid("a 1:1 session's participants do not change"));
        }
        let leaving = user == me;
        let target = if leaving { Some(seat.me.clone()) } else { self.participant(id, user).await? };
        let Some(target) = target else { return Err(no_participant(user)) };
        if target.role == ChatRole::Owner {
            return Err(rejected(ErrorCode::Forbidden, "the owner cannot leave or be removed"));
        }
        // Who may remove whom: the owner anyone, an admin members.
        let allowed = if leaving {
            vec![]
        } else if target.role == ChatRole::Admin {
            vec![ChatRole::Owner]
        } else {
            vec![ChatRole::Owner, ChatRole::Admin]
        };
        if !leaving && !allowed.contains(&seat.me.role) {
            return Err(rejected(ErrorCode::Forbidden, "you may not remove this participant"));
        }
        let kind = if leaving { SystemKind::Left } else { SystemKind::Removed };
        let note = system(self.chats.ids.next(now), user, kind, (!leaving).then_some(me), now);
        let mut writes = vec![
            Write::Delete { key: rec::participant(id, user), cond: Some(rec::role_in(&[target.role])) },
            Write::Update {
                key: rec::meta(id),
                update: rec::counted_participants(-1, now),
                cond: Some(rec::open_at(now)),
            },
            Write::Put { item: rec::encode_message(&seat.session, &note), cond: Some(Cond::NotExists) },
        ];
        if !leaving {
            writes.push(Write::Check { key: rec::participant(id, me), cond: rec::role_in(&allowed) });
        }
        if let Err(e) = self.transact(writes).await {
            self.open_seat(me, id, now).await?;
            if self.participant(id, user).await?.is_none() {
                return Err(no_participant(user));
            }
            return Err(e);
        }
        let parts = self.participants(id).await?;
        let mut ev = ChatEvent::new(id, me);
        ev.participant = Some(participant_view(&target));
        let mut told: Vec<&UserId> = parts.iter().map(|p| &p.user).collect();
        let remaining = told.clone();
        told.push(user);
        self.push_to(&told, event::PARTICIPANT_REMOVED, &ev).await;
        let mut msg = ChatEvent::new(id, me);
        msg.message = Some(message_view(id, &note, |_| false));
        self.push_to(&remaining, event::MESSAGE, &msg).await;
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Messages

    /// Sends a message; `false` with the first message when `client_message_id` was sent before.
    pub async fn send(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        req: &SendMessage,
        now: Millis,
    ) -> Result<(MessageView, bool), ChatError> {
        self.send_as(me, id, req, false, now).await
    }

    /// Seed 003's send: an `image` or `file` message may come before its attachment
    /// ([`AppChats::attach`]).
    pub async fn send_awaiting_attachment(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        req: &SendMessage,
        now: Millis,
    ) -> Result<(MessageView, bool), ChatError> {
        self.send_as(me, id, req, true, now).await
    }

    async fn send_as(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        req: &SendMessage,
        awaiting: bool,
        now: Millis,
    ) -> Result<(MessageView, bool), ChatError> {
        let kind = req.message_type.unwrap_or(MessageType::Text);
        let attachment = match (kind, &req.attachment_id) {
            (MessageType::System, _) => return Err(invalid("system messages are the service's own")),
            (MessageType::Text, None) => None,
            (MessageType::Text, Some(_)) => return Err(invalid("a text message has no attachment_id")),
            (_, None) if awaiting => None,
            (_, None) => return Err(invalid("image and file messages carry an attachment_id")),
            (_, Some(a)) if !is_valid_id(a) => return Err(no_attachment()),
            (_, Some(a)) => Some(AttachmentId::from(a.as_str())),
        };
        // An attachment's text is an optional caption.
        let text = match (&attachment, req.text.as_deref().map(str::trim)) {
            (Some(_), None | Some("")) => None,
            (_, t) => Some(text_of(t.unwrap_or(""), "text", MAX_TEXT_CHARS)?),
        };
        if let Some(c) = &req.client_message_id
            && (!is_valid_id(c) || c.len() > 64)
        {
            return Err(invalid("client_message_id is 1-64 characters of A-Z a-z 0-9 . _ @ : -"));
        }
        let seat = self.seat(me, id).await?;
        if let Some(first) = self.replayed(id, me, req.client_message_id.as_deref()).await? {
            return Ok((first, false));
        }
        if seat.session.expired(now) {
            return Err(expired());
        }
        let upload = match &attachment {
            Some(a) => Some(self.uploaded(me, id, a, kind).await?),
            None => None,
        };
        let m = Message {
            client_message_id: req.client_message_id.clone(),
            text,
            attachment: upload.as_ref().map(Attachment::reference),
            ..Message::new(MessageId::from(self.chats.ids.next(now)), me.clone(), kind, String::new(), now)
        };
        let counted = match &upload {
            Some(a) => rec::counted_attachment(rec::counted_message(false, now), a.size),
            None => rec::counted_message(false, now),
        };
        let mut writes = vec![
            Write::Put { item: rec::encode_message(&seat.session, &m), cond: Some(Cond::NotExists) },
            Write::Update { key: rec::meta(id), update: counted, cond: Some(rec::open_at(now)) },
            // Still a participant; a sender has read what they answer.
            Write::Update { key: rec::participant(id, me), update: rec::read(&m.id), cond: Some(Cond::Exists) },
        ];
        if let Some(c) = &m.client_message_id {
            let item = rec::encode_client_id(&seat.session, me, c, &m.id);
            writes.push(Write::Put { item, cond: Some(Cond::NotExists) });
        }
        if let Some(a) = &upload {
            writes.push(Write::Update {
                key: rec::attachment(id, &a.id),
                update: rec::attached_to(&m.id, &seat.session),
                cond: Some(rec::pending_of(me)),
            });
        }
        if let Err(e) = self.transact(writes).await {
            // Written after all (a store client that retried a write whose answer it lost
            // finds its own first attempt in the way): the id is this request's own.
            let ours = self.message(id, &m.id).await?.is_some();
            if !ours {
                if let Some(first) = self.replayed(id, me, req.client_message_id.as_deref()).await? {
                    return Ok((first, false));
                }
                self.open_seat(me, id, now).await?;
                if let Some(a) = &attachment {
                    self.uploaded(me, id, a, kind).await?;
                }
                return Err(e);
            }
        }
        if let Some(a) = &upload {
            self.keep(id, a).await;
        }
        let view = message_view(id, &m, |_| false);
        let mut ev = ChatEvent::new(id, me);
        ev.message = Some(view.clone());
        self.push_session(id, event::MESSAGE, &ev).await;
        Ok((view, true))
    }

    /// The message `client_message_id` made before, if it did.
    async fn replayed(
        &self,
        id: &ChatSessionId,
        me: &UserId,
        client_message_id: Option<&str>,
    ) -> Result<Option<MessageView>, ChatError> {
        let Some(c) = client_message_id else { return Ok(None) };
        let it = self.table.get(&rec::client_id(id, me, c)).await?;
        let Some(m) = it.as_ref().and_then(rec::decode_client_id) else { return Ok(None) };
        match self.message(id, &m).await? {
            Some(m) => Ok(Some(self.one_view(id, me, &m).await?)),
            None => Ok(None),
        }
    }

    // -----------------------------------------------------------------------------------
    // Attachments

    fn objects(&self) -> Result<&Arc<dyn ObjectStore>, ChatError> {
        self.chats
            .objects
            .as_ref()
            .ok_or_else(|| rejected(ErrorCode::ServiceUnavailable, "attachments are not configured on this deployment"))
    }

    fn object_key(&self, id: &ChatSessionId, a: &AttachmentId) -> String {
        rec::object_key(&self.app, id, a)
    }

    async fn attachment_record(&self, id: &ChatSessionId, a: &AttachmentId) -> Result<Option<Attachment>, ChatError> {
        if !is_valid_id(a) {
            return Ok(None);
        }
        Ok(self.table.get(&rec::attachment(id, a)).await?.as_ref().and_then(rec::decode_attachment))
    }

    /// An upload ticket: a presigned PUT of exactly this file, and the pending attachment a
    /// message then names.
    pub async fn request_upload(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        req: &RequestUpload,
        now: Millis,
    ) -> Result<UploadTicket, ChatError> {
        let file_name = text_of(&req.file_name, "file_name", MAX_FILE_NAME_CHARS)?;
        if file_name.contains(['/', '\\', '\n', '\t']) {
            return Err(invalid("file_name is a name without path separators"));
        }
        let content_type = req.content_type.trim().to_ascii_lowercase();
        if !ATTACHMENT_TYPES.contains(&content_type.as_str()) {
            return Err(rejected(
                ErrorCode::AttachmentTypeNotAllowed,
                format!("attachments are one of: {}", ATTACHMENT_TYPES.join(", ")),
            ));
        }
        if req.size == 0 {
            return Err(invalid("size is the file's length in bytes, above 0"));
        }
        if req.size > MAX_ATTACHMENT_BYTES {
            return Err(rejected(
                ErrorCode::AttachmentTooLarge,
                format!("an attachment is at most {MAX_ATTACHMENT_BYTES} bytes"),
            ));
        }
        let objects = self.objects()?;
        let session = self.open_seat(me, id, now).await?.session;
        let pending_until = (now.saturating_add(PENDING_LIFETIME_MS) + 999).div_euclid(1000);
        let a = Attachment {
            id: AttachmentId::from(self.chats.ids.next(now)),
            uploader: me.clone(),
            file_name,
            content_type,
            size: req.size,
            created_at: now,
            message_id: None,
            ttl: Some(session.ttl.map_or(pending_until, |t| t.min(pending_until))),
        };
        let key = self.object_key(id, &a.id);
        let expires_at = now + (UPLOAD_URL_SECONDS as i64) * 1000;
        let up = Upload { key: &key, content_type: &a.content_type, size: a.size };
        let signed = objects.presign_put(&up, now, expires_at).await.map_err(store_down)?;
        self.table.put(rec::encode_attachment(&session, &a), Some(Cond::NotExists)).await?;
        Ok(UploadTicket {
            attachment_id: a.id.to_string(),
            upload_url: signed.url,
            upload_method: signed.method.to_owned(),
            upload_headers: signed.headers.into_iter().collect(),
            expires_at: rfc3339_ms(expires_at),
            url: objects.object_url(&key),
        })
    }

    /// `me`'s pending attachment `a`, uploaded as declared (the object is there, with that
    /// length and type) and fit for a `kind` message. An upload of another length or type
    /// is deleted: the ticket's URL takes another try while it lasts.
    async fn uploaded(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        a: &AttachmentId,
        kind: MessageType,
    ) -> Result<Attachment, ChatError> {
        let objects = self.objects()?;
        let rec = self.attachment_record(id, a).await?.filter(|r| r.uploader == *me).ok_or_else(no_attachment)?;
        if rec.message_id.is_some() {
            return Err(rejected(ErrorCode::Conflict, "this attachment is attached to another message"));
        }
        if !fits(kind, &rec.content_type) {
            return Err(invalid(format!("an image message's attachment is an image, not {}", rec.content_type)));
        }
        let key = self.object_key(id, a);
        let Some(info) = objects.head(&key).await.map_err(store_down)? else {
            return Err(rejected(ErrorCode::AttachmentIncomplete, "the attachment is not uploaded yet"));
        };
        let ct = info.content_type.as_deref().unwrap_or("").to_ascii_lowercase();
        if info.size != rec.size || ct != rec.content_type {
            if let Err(e) = objects.delete(&key).await {
                tracing::warn!(error = %e, key, "could not delete a mismatched upload");
            }
            return Err(rejected(
                ErrorCode::AttachmentIncomplete,
                format!(
                    "the upload is {} bytes of `{ct}`, not the {} bytes of `{}` declared; upload it again",
                    info.size, rec.size, rec.content_type
                ),
            ));
        }
        Ok(rec)
    }

    /// Takes an attached upload out of the pending lifecycle (best effort: until it is, the
    /// lifecycle may remove it a day after its upload; logged).
    async fn keep(&self, id: &ChatSessionId, a: &Attachment) {
        let Ok(objects) = self.objects() else { return };
        let key = self.object_key(id, &a.id);
        for _ in 0..3 {
            match objects.keep(&key).await {
                Ok(()) => return,
                Err(e) => tracing::warn!(error = %e, key, "could not keep an attached upload"),
            }
        }
    }

    /// The attachment's view with a download URL, for a participant; an attachment of a
    /// deleted message, or not attached yet, is not found.
    pub async fn attachment(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        a: &AttachmentId,
        now: Millis,
    ) -> Result<AttachmentView, ChatError> {
        self.seat(me, id).await?;
        let rec = self.attachment_record(id, a).await?.ok_or_else(no_attachment)?;
        let m = rec.message_id.as_ref().ok_or_else(no_attachment)?;
        let msg = self.message(id, m).await?.ok_or_else(no_attachment)?;
        if msg.attachment.as_ref().is_none_or(|r| r.id != rec.id) {
            return Err(no_attachment());
        }
        let expires_at = now + (DOWNLOAD_URL_SECONDS as i64) * 1000;
        let key = self.object_key(id, a);
        let url = self.objects()?.presign_get(&key, &rec.file_name, now, expires_at).await.map_err(store_down)?;
        Ok(AttachmentView {
            download_url: Some(url),
            download_expires_at: Some(rfc3339_ms(expires_at)),
            ..attachment_view(&rec.reference())
        })
    }

    /// The attachment a seed-003 `url` names in this session (the ticket's `url`).
    pub fn attachment_of_url(&self, id: &ChatSessionId, url: &str) -> Result<AttachmentId, ChatError> {
        let objects = self.objects()?;
        let prefix = objects.object_url(&self.object_key(id, &AttachmentId::from("")));
        match url.strip_prefix(&prefix) {
            Some(a) if is_valid_id(a) && objects.object_url(&self.object_key(id, &AttachmentId::from(a))) == url => {
                Ok(AttachmentId::from(a))
            }
            _ => Err(invalid("attachment.url is the `url` of an upload ticket of this session")),
        }
    }

    /// Seed 003's `POST /chat/attachment`: attaches `me`'s upload to `me`'s message `m`
    /// (sent without one), which becomes an `image` or `file` message.
    pub async fn attach(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        m: &MessageId,
        kind: MessageType,
        declared: &Declared<'_>,
        now: Millis,
    ) -> Result<MessageView, ChatError> {
        if !matches!(kind, MessageType::Image | MessageType::File) {
            return Err(invalid("attachment.type is `image` or `file`"));
        }
        let seat = self.open_seat(me, id, now).await?;
        let a = self.attachment_of_url(id, declared.url)?;
        let msg = self.message(id, m).await?.ok_or_else(no_message)?;
        if msg.sender != *me || msg.message_type == MessageType::System || msg.deleted_at.is_some() {
            return Err(rejected(ErrorCode::Forbidden, "an attachment goes on a message of your own"));
        }
        if msg.attachment.is_some() {
            return Err(rejected(ErrorCode::Conflict, "the message has an attachment already"));
        }
        if msg.message_type != MessageType::Text && msg.message_type != kind {
            return Err(invalid(format!("the message was sent as `{}`", msg.message_type.as_str())));
        }
        let up = self.uploaded(me, id, &a, kind).await?;
        if up.file_name != declared.file_name || up.size != declared.size || up.content_type != declared.content_type {
            return Err(invalid(format!(
                "the attachment's name, size and mimeType are the upload's: `{}`, {}, `{}`",
                up.file_name, up.size, up.content_type
            )));
        }
        let r = up.reference();
        let writes = vec![
            Write::Update {
                key: rec::message(id, m),
                update: rec::with_attachment(&r, kind),
                cond: Some(rec::bare_from(me)),
            },
            Write::Update {
                key: rec::meta(id),
                update: rec::counted_attachment(Update::default(), up.size),
                cond: Some(rec::open_at(now)),
            },
            Write::Update {
                key: rec::attachment(id, &a),
                update: rec::attached_to(m, &seat.session),
                cond: Some(rec::pending_of(me)),
            },
            Write::Check { key: rec::participant(id, me), cond: Cond::Exists },
        ];
        if let Err(e) = self.transact(writes).await {
            // The same attach repeated (its answer lost) is done; anything else is explained.
            let now_msg = self.message(id, m).await?.ok_or_else(no_message)?;
            if now_msg.attachment.as_ref().is_some_and(|x| x.id == a) {
                return self.one_view(id, me, &now_msg).await;
            }
            self.open_seat(me, id, now).await?;
            self.uploaded(me, id, &a, kind).await?;
            return Err(e);
        }
        self.keep(id, &up).await;
        let msg = Message { attachment: Some(r), message_type: kind, ..msg };
        let view = self.one_view(id, me, &msg).await?;
        let mut ev = ChatEvent::new(id, me);
        ev.message = Some(message_view(id, &msg, |_| false));
        self.push_session(id, event::MESSAGE_EDITED, &ev).await;
        Ok(view)
    }

    pub async fn edit(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        m: &MessageId,
        req: &EditMessage,
        now: Millis,
    ) -> Result<MessageView, ChatError> {
        let text = text_of(&req.text, "text", MAX_TEXT_CHARS)?;
        self.open_seat(me, id, now).await?;
        let msg = self.message(id, m).await?.ok_or_else(no_message)?;
        if msg.sender != *me || msg.message_type == MessageType::System {
            return Err(rejected(ErrorCode::Forbidden, "only the sender edits a message"));
        }
        if msg.deleted_at.is_some() {
            return Err(rejected(ErrorCode::Conflict, "the message is deleted"));
        }
        let res = self.table.update(&rec::message(id, m), rec::edited(&text, now), Some(rec::live_from(me))).await;
        match res {
            Ok(_) => {}
            Err(StoreError::ConditionFailed) => return Err(rejected(ErrorCode::Conflict, "the message is deleted")),
            Err(e) => return Err(e.into()),
        }
        let msg = Message { text: Some(text), edited_at: Some(now), ..msg };
        let view = self.one_view(id, me, &msg).await?;
        let mut ev = ChatEvent::new(id, me);
        ev.message = Some(message_view(id, &msg, |_| false));
        self.push_session(id, event::MESSAGE_EDITED, &ev).await;
        Ok(view)
    }

    /// Deletes a message: the sender's own, or anyone's by the owner or an admin. A deleted
    /// message stays in the history as deleted (its text gone); deleting it again changes
    /// nothing.
    pub async fn delete(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        m: &MessageId,
        now: Millis,
    ) -> Result<MessageView, ChatError> {
        let seat = self.open_seat(me, id, now).await?;
        let msg = self.message(id, m).await?.ok_or_else(no_message)?;
        if msg.deleted_at.is_some() {
            return self.one_view(id, me, &msg).await;
        }
        let own = msg.sender == *me && msg.message_type != MessageType::System;
        if !own && !seat.me.role.moderates() {
            return Err(rejected(ErrorCode::Forbidden, "only the sender, the owner or an admin deletes a message"));
        }
        let mut writes = vec![Write::Update {
            key: rec::message(id, m),
            update: rec::deleted(me, now),
            cond: Some(if own { rec::live_from(me) } else { rec::live() }),
        }];
        if !own {
            writes.push(Write::Check {
                key: rec::participant(id, me),
                cond: rec::role_in(&[ChatRole::Owner, ChatRole::Admin]),
            });
        }
        if let Err(e) = self.transact(writes).await {
            let now_msg = self.message(id, m).await?.ok_or_else(no_message)?;
            if now_msg.deleted_at.is_some() {
                return self.one_view(id, me, &now_msg).await;
            }
            return Err(e);
        }
        if let (Some(a), Ok(objects)) = (&msg.attachment, self.objects()) {
            let key = self.object_key(id, &a.id);
            if let Err(e) = objects.delete(&key).await {
                tracing::warn!(error = %e, key, "could not delete a deleted message's attachment");
            }
        }
        let msg = Message { text: None, attachment: None, deleted_at: Some(now), deleted_by: Some(me.clone()), ..msg };
        let view = self.one_view(id, me, &msg).await?;
        let mut ev = ChatEvent::new(id, me);
        ev.message = Some(message_view(id, &msg, |_| false));
        self.push_session(id, event::MESSAGE_DELETED, &ev).await;
        Ok(view)
    }

    /// Adds (`add`) or takes back `me`'s `emoji` on a message; doing what is already done
    /// changes nothing, so two concurrent adds count once.
    pub async fn react(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        m: &MessageId,
        emoji: &str,
        add: bool,
        now: Millis,
    ) -> Result<MessageView, ChatError> {
        let emoji = emoji_of(emoji)?;
        let session = self.open_seat(me, id, now).await?.session;
        let msg = self.message(id, m).await?.ok_or_else(no_message)?;
        if msg.deleted_at.is_some() {
            return Err(rejected(ErrorCode::Conflict, "the message is deleted"));
        }
        if add && msg.reactions.len() >= MAX_REACTION_KINDS && !msg.reactions.iter().any(|(e, _)| e == emoji) {
            return Err(invalid(format!("a message carries at most {MAX_REACTION_KINDS} different reactions")));
        }
        let key = rec::reaction(id, me, m, emoji);
        let writes = if add {
            vec![
                Write::Put { item: rec::encode_reaction(&session, me, m, emoji), cond: Some(Cond::NotExists) },
                Write::Update { key: rec::message(id, m), update: rec::reacted(emoji, 1), cond: Some(rec::live()) },
                Write::Check { key: rec::participant(id, me), cond: Cond::Exists },
            ]
        } else {
            vec![
                Write::Delete { key, cond: Some(Cond::Exists) },
                Write::Update { key: rec::message(id, m), update: rec::reacted(emoji, -1), cond: Some(Cond::Exists) },
            ]
        };
        let changed = match self.transact(writes).await {
            Ok(()) => true,
            Err(e) => {
                // Already so (the usual case: a repeat, or two at once), or the message or
                // the seat went away.
                self.seat(me, id).await?;
                let now_msg = self.message(id, m).await?.ok_or_else(no_message)?;
                if now_msg.deleted_at.is_some() {
                    return Err(rejected(ErrorCode::Conflict, "the message is deleted"));
                }
                let has = self.table.get(&rec::reaction(id, me, m, emoji)).await?.is_some();
                if has != add {
                    return Err(e);
                }
                false
            }
        };
        let msg = self.message(id, m).await?.ok_or_else(no_message)?;
        let view = self.one_view(id, me, &msg).await?;
        if changed {
            let mut ev = ChatEvent::new(id, me);
            ev.message = Some(message_view(id, &msg, |_| false));
            ev.emoji = Some(emoji.to_owned());
            ev.added = Some(add);
            self.push_session(id, event::REACTION, &ev).await;
        }
        Ok(view)
    }

    /// Moves `me`'s read marker forward to `m` (never back).
    pub async fn mark_read(
        &self,
        me: &UserId,
        id: &ChatSessionId,
        m: &MessageId,
        _now: Millis,
    ) -> Result<ReadState, ChatError> {
        self.seat(me, id).await?;
        if self.message(id, m).await?.is_none() {
            return Err(no_message());
        }
        let res = self.table.update(&rec::participant(id, me), rec::read(m), Some(rec::read_before(m))).await;
        let moved = match res {
            Ok(_) => true,
            Err(StoreError::ConditionFailed) => false,
            Err(e) => return Err(e.into()),
        };
        let seat = self.seat(me, id).await?;
        let last = seat.me.last_read.clone().unwrap_or_else(|| m.clone());
        let (unread_count, unread_more) = self.unread(id, me, Some(&last)).await?;
        if moved {
            let mut ev = ChatEvent::new(id, me);
            ev.last_read = Some(last.to_string());
            self.push_session(id, event::READ, &ev).await;
        }
        Ok(ReadState {
            session_id: id.to_string(),
            user_id: me.to_string(),
            last_read: last.into(),
            unread_count,
            unread_more,
        })
    }

    /// `chat-typing`: told to the other participants, stored nowhere.
    pub async fn typing(&self, me: &UserId, id: &ChatSessionId, now: Millis) -> Result<(), ChatError> {
        let seat = self.open_seat(me, id, now).await?;
        let ev = ChatEvent::new(id, me);
        for p in self.participants(&seat.session.id).await? {
            if p.user != *me {
                self.push(&p.user, event::TYPING, &ev).await;
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Writing and telling

    /// Runs a transaction, retrying conflicts with other writes in flight; a failed condition
    /// comes back as `CONFLICT` for the caller to explain better if it can.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), ChatError> {
        for attempt in 0..ATTEMPTS {
            match self.table.transact(writes.clone()).await {
                Ok(()) => return Ok(()),
                // Retried at once: this crate has no timer (time is its callers'), and a
                // conflict means the other writer has already finished.
                Err(StoreError::TransactionConflict) if attempt + 1 < ATTEMPTS => {}
                Err(StoreError::ConditionFailed) => {
                    return Err(rejected(ErrorCode::Conflict, "the session changed meanwhile; try again"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(rejected(ErrorCode::Conflict, "the session is busy; try again"))
    }

    async fn announce(&self, view: &SessionView, id: &ChatSessionId, note: &Message, by: &UserId) {
        let mut ev = ChatEvent::new(id, by);
        ev.message = Some(message_view(id, note, |_| false));
        self.push_all(view, event::MESSAGE, &ev).await;
    }

    async fn push_all(&self, view: &SessionView, kind: &str, ev: &ChatEvent) {
        let users: Vec<UserId> = view.participants.iter().map(|p| UserId::from(p.user_id.as_str())).collect();
        self.push_to(&users.iter().collect::<Vec<_>>(), kind, ev).await;
    }

    /// To every participant of the session as it is now.
    async fn push_session(&self, id: &ChatSessionId, kind: &str, ev: &ChatEvent) {
        match self.participants(id).await {
            Ok(parts) => self.push_to(&parts.iter().map(|p| &p.user).collect::<Vec<_>>(), kind, ev).await,
            Err(e) => tracing::warn!(error = %e, session_id = %id, "could not list participants for a chat event"),
        }
    }

    /// To these users, all at once.
    async fn push_to(&self, users: &[&UserId], kind: &str, ev: &ChatEvent) {
        let msg = envelope(kind, None, ev);
        futures_util::future::join_all(users.iter().map(|u| self.post_user(u, &msg))).await;
    }

    async fn push(&self, user: &UserId, kind: &str, ev: &ChatEvent) {
        self.post_user(user, &envelope(kind, None, ev)).await;
    }

    /// Best effort, to every open connection of `user` (as call events are).
    async fn post_user(&self, user: &UserId, msg: &str) {
        match presence::connections(self.table.as_ref(), user).await {
            Ok(conns) => {
                let sent = futures_util::future::join_all(conns.iter().map(|c| self.chats.sink.post(c, msg))).await;
                for (conn, r) in conns.iter().zip(sent) {
                    if let Err(SinkError::Failed(e)) = r {
                        tracing::warn!(error = %e, %user, connection_id = %conn, "could not post a chat event");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, %user, "could not list connections for a chat event"),
        }
    }
}

fn no_participant(user: &UserId) -> ChatError {
    rejected(ErrorCode::ParticipantNotFound, format!("`{user}` does not take part"))
}

fn system(id: String, user: &UserId, kind: SystemKind, by: Option<&UserId>, now: Millis) -> Message {
    let text = match kind {
        SystemKind::Created => format!("{user} created the session"),
        SystemKind::Joined => format!("{user} joined"),
        SystemKind::Left => format!("{user} left"),
        SystemKind::Removed => format!("{user} was removed"),
    };
    Message {
        system: Some(SystemEvent { kind, user_id: user.to_string(), by: by.map(|b| b.to_string()) }),
        ..Message::new(MessageId::from(id), by.unwrap_or(user).clone(), MessageType::System, text, now)
    }
}

fn attachment_view(a: &rec::AttachmentRef) -> AttachmentView {
    AttachmentView {
        attachment_id: a.id.to_string(),
        file_name: a.file_name.clone(),
        content_type: a.content_type.clone(),
        size: a.size,
        download_url: None,
        download_expires_at: None,
    }
}

fn participant_view(p: &Participant) -> ChatParticipant {
    ChatParticipant {
        user_id: p.user.to_string(),
        role: p.role,
        joined_at: rfc3339_ms(p.joined_at),
        last_read: p.last_read.as_ref().map(|m| m.to_string()),
    }
}

fn message_view(id: &ChatSessionId, m: &Message, mine: impl Fn(&str) -> bool) -> MessageView {
    MessageView {
        message_id: m.id.to_string(),
        session_id: id.to_string(),
        sender_id: m.sender.to_string(),
        message_type: m.message_type,
        text: m.text.clone(),
        created_at: rfc3339_ms(m.created_at),
        edited_at: m.edited_at.map(rfc3339_ms),
        deleted: m.deleted_at.is_some(),
        deleted_by: m.deleted_by.as_ref().map(|u| u.to_string()),
        client_message_id: m.client_message_id.clone(),
        system: m.system.clone(),
        attachment: m.attachment.as_ref().map(attachment_view),
        reactions: m
            .reactions
            .iter()
            .map(|(e, n)| ReactionCount { emoji: e.clone(), count: *n, me: mine(e) })
            .collect(),
    }
}
