//! 1:1 calls: initiate → (answer) → end, with history and the events both sides get.
//!
//! Stored as the call record, one history entry per participant with the user's totals
//! ([`crate::records::call`]) and the active-call lock of each side
//! ([`crate::records::user::ActiveCall`], its TTL the ring deadline, then the maximum call
//! length).
//!
//! Races are settled by transactions: an initiate puts both locks with `NotExists` (of many
//! initiates towards one callee exactly one succeeds; a lock whose ring deadline passed is
//! expired, so it no longer blocks), and answer and end both require the status they move
//! from (answer versus hang-up, or two answers: one wins, the other gets a conflict).
//! A call that rings past its deadline becomes missed, by the sweeper or by the next read.

use crate::clock::{Millis, rfc3339_ms};
use crate::p2p::room_members;
use crate::presence;
use crate::records::call::{self as record, history as hist_key, history_count as count_key, meta as call_key};
use crate::records::user::{self as users, ActiveCall};
use crate::sink::{ConnectionSink, SinkError};
use crate::store::{Cond, StoreError, Table, Write};
use std::collections::BTreeSet;
use std::sync::Arc;
use stratus_protocol::calls::{
    CallEvent, CallStatus, CallType, CallView, EndReason, HistoryEntry, InitiateCall, Outcome, Participant, Role,
};
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::{AppId, CallId, RoomId, UserId, is_valid_id};
use stratus_protocol::ws::{envelope, event};

#[derive(Debug, Clone)]
pub struct CallsConfig {
    /// How long a call rings before it becomes missed.
    pub ring_timeout_ms: Millis,
    /// How long an answered call holds its participants' locks at most.
    pub max_call_ms: Millis,
    /// The WebSocket URL clients signal on (returned as `signaling_url`).
    pub signaling_url: String,
    pub ringing_shards: u32,
}

impl Default for CallsConfig {
    fn default() -> Self {
        Self { ring_timeout_ms: 45_000, max_call_ms: 4 * 3600 * 1000, signaling_url: String::new(), ringing_shards: 4 }
    }
}

/// Calls' errors are the core's one rejection type.
pub type CallError = crate::error::Rejection;

fn rejected(code: ErrorCode, msg: impl Into<String>) -> CallError {
    CallError::Rejected(code, msg.into())
}

fn not_found() -> CallError {
    rejected(ErrorCode::CallNotFound, "no such call")
}

/// A call as stored.
pub use crate::records::call::Call;

impl Call {
    pub fn room(&self) -> RoomId {
        RoomId::from(format!("{CALL_ROOM}{}", self.id))
    }

    pub fn is_over(&self) -> bool {
        matches!(self.status, CallStatus::Ended | CallStatus::Failed)
    }

    fn overdue(&self, now: Millis) -> bool {
        self.status == CallStatus::Connecting && now >= self.ring_deadline
    }

    fn role_of(&self, user: &UserId) -> Option<Role> {
        if *user == self.caller {
            Some(Role::Caller)
        } else if *user == self.callee {
            Some(Role::Callee)
        } else {
            None
        }
    }

    fn event(&self) -> CallEvent {
        CallEvent {
            call_id: self.id.to_string(),
            status: self.status,
            call_type: self.call_type,
            caller_id: self.caller.to_string(),
            callee_id: self.callee.to_string(),
            room: self.room().into(),
            reason: self.end_reason,
            outcome: self.outcome,
            duration_seconds: self.duration_secs,
        }
    }
}

/// Calls of the deployment: what every app's calls share. The rules are an app's
/// ([`AppCalls`], from [`Calls::app`]): a call, its users and their history live in one app's
/// namespace, so a callee is looked up in the caller's app only.
pub struct Calls {
    /// The whole table; each app's namespace is made from it.
    root: Arc<dyn Table>,
    sink: Arc<dyn ConnectionSink>,
    cfg: CallsConfig,
}

/// The rules for one app's calls, over its namespace, pushing events through the sink.
pub struct AppCalls<'a> {
    calls: &'a Calls,
    table: Arc<dyn Table>,
}

impl std::ops::Deref for AppCalls<'_> {
    type Target = Calls;

    fn deref(&self) -> &Calls {
        self.calls
    }
}

impl Calls {
    pub fn new(table: Arc<dyn Table>, sink: Arc<dyn ConnectionSink>, cfg: CallsConfig) -> Self {
        Self { root: table, sink, cfg }
    }

    pub fn config(&self) -> &CallsConfig {
        &self.cfg
    }

    /// The calls of namespace `ns`'s app.
    pub fn app(&self, ns: &crate::tenant::Namespace) -> AppCalls<'_> {
        AppCalls { calls: self, table: ns.table.clone() }
    }

    /// The sweeper's part for calls, for each of these apps: every call ringing past its
    /// deadline becomes missed.
    pub async fn expire_due(&self, apps: &[AppId], now: Millis) -> Result<usize, CallError> {
        let mut done = 0;
        for app in apps {
            done += self.app(&crate::tenant::Namespace::new(&self.root, app)).expire_due(now).await?;
        }
        Ok(done)
    }
}

impl AppCalls<'_> {
    /// Reads a call, finishing it first if it rang past its deadline.
    pub async fn load(&self, id: &CallId, now: Millis) -> Result<Option<Call>, CallError> {
        if !is_valid_id(id) {
            return Ok(None);
        }
        let Some(call) = self.table.get(&call_key(id)).await?.as_ref().and_then(record::decode) else {
            return Ok(None);
        };
        if call.overdue(now) {
            return Ok(Some(self.expire(call, now).await?));
        }
        Ok(Some(call))
    }

    /// A call `me` takes part in; anyone else gets `CALL_NOT_FOUND` (its existence is not
    /// revealed).
    pub async fn get_for(&self, me: &UserId, id: &CallId, now: Millis) -> Result<Call, CallError> {
        match self.load(id, now).await? {
            Some(c) if c.role_of(me).is_some() => Ok(c),
            _ => Err(not_found()),
        }
    }

    pub async fn initiate(&self, me: &UserId, req: &InitiateCall, now: Millis) -> Result<Call, CallError> {
        let (caller, callee) = (UserId::from(req.caller_id.as_str()), UserId::from(req.callee_id.as_str()));
        if &caller != me {
            return Err(rejected(ErrorCode::Forbidden, "caller_id must be the authenticated user"));
        }
        let call_type = CallType::parse(&req.call_type)
            .ok_or_else(|| rejected(ErrorCode::InvalidCallType, "call_type must be `voice` or `video`"))?;
        if !is_valid_id(&callee) {
            return Err(rejected(
                ErrorCode::ValidationError,
                "callee_id must be 1-128 characters of A-Z a-z 0-9 . _ @ : -",
            ));
        }
        if callee == caller {
            return Err(rejected(ErrorCode::ValidationError, "a user cannot call themselves"));
        }
        let callee_presence = presence::view(self.table.as_ref(), &callee).await?;
        if !callee_presence.online || matches!(callee_presence.status.as_str(), "dnd" | "offline") {
            return Err(rejected(ErrorCode::UserNotAvailable, format!("user `{callee}` is not available")));
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let deadline = now + self.cfg.ring_timeout_ms;
        // Locks outlive the deadline by under a second (TTL is in whole seconds).
        let lock_ttl = (deadline + 999).div_euclid(1000);
        let shard = (now.rem_euclid(i64::from(self.cfg.ringing_shards.max(1)))) as u32;
        let call = Call {
            id: CallId::from(id),
            call_type,
            status: CallStatus::Connecting,
            outcome: None,
            caller: caller.clone(),
            callee: callee.clone(),
            created_at: now,
            ring_deadline: deadline,
            answered_at: None,
            ended_at: None,
            end_reason: None,
            duration_secs: None,
        };
        let lock =
            |user: &str| users::encode_active_call(user, &ActiveCall { call_id: call.id.clone(), ttl: lock_ttl });
        let hist = |user: &str, role: Role, peer: &UserId| {
            let entry = record::History {
                call_id: call.id.clone(),
                call_type,
                role,
                peer: peer.clone(),
                created_at: now,
                ring_deadline: deadline,
                status: None,
                ended_at: None,
                duration: None,
            };
            record::encode_history(user, &entry)
        };
        let count =
            |user: &str| Write::Update { key: count_key(user), update: record::counted_start(call_type), cond: None };
        let res = self
            .table
            .transact(vec![
                Write::Put { item: record::encode_ringing(&call, shard), cond: Some(Cond::NotExists) },
                Write::Put { item: lock(&caller), cond: Some(Cond::NotExists) },
                Write::Put { item: lock(&callee), cond: Some(Cond::NotExists) },
                Write::Put { item: hist(&caller, Role::Caller, &callee), cond: None },
                Write::Put { item: hist(&callee, Role::Callee, &caller), cond: None },
                count(&caller),
                count(&callee),
            ])
            .await;
        match res {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) | Err(StoreError::TransactionConflict) => {
                return Err(rejected(ErrorCode::UserAlreadyInCall, "the caller or the callee is already in a call"));
            }
            Err(e) => return Err(e.into()),
        }
        self.push(&callee, &envelope(event::INCOMING_CALL, None, call.event())).await;
        self.push(&caller, &envelope(event::CALL_STATUS, None, call.event())).await;
        Ok(call)
    }

    pub async fn answer(&self, me: &UserId, id: &CallId, now: Millis) -> Result<Call, CallError> {
        let call = self.get_for(me, id, now).await?;
        if &call.callee != me {
            return Err(rejected(ErrorCode::Forbidden, "only the callee answers a call"));
        }
        match call.status {
            CallStatus::Connecting => {}
            CallStatus::Active => return Err(rejected(ErrorCode::Conflict, "the call is already answered")),
            _ => return Err(rejected(ErrorCode::CallAlreadyEnded, "the call has ended")),
        }
        let lock_ttl = (now + self.cfg.max_call_ms).div_euclid(1000);
        let mine = users::locked_by(id);
        let res = self
            .table
            .transact(vec![
                Write::Update { key: call_key(id), update: record::answered(now), cond: Some(record::ringing_at(now)) },
                Write::Update {
                    key: users::active_call(&call.caller),
                    update: users::lock_until(lock_ttl),
                    cond: Some(mine.clone()),
                },
                Write::Update {
                    key: users::active_call(&call.callee),
                    update: users::lock_until(lock_ttl),
                    cond: Some(mine),
                },
            ])
            .await;
        match res {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) | Err(StoreError::TransactionConflict) => {
                // Lost a race (a hang-up, a second answer, the deadline): report what won.
                let now_call = self.load(id, now).await?.ok_or_else(not_found)?;
                return Err(match now_call.status {
                    CallStatus::Active => rejected(ErrorCode::Conflict, "the call is already answered"),
                    _ => rejected(ErrorCode::CallAlreadyEnded, "the call has ended"),
                });
            }
            Err(e) => return Err(e.into()),
        }
        let call = Call { status: CallStatus::Active, answered_at: Some(now), ..call };
        self.push_both(&call).await;
        Ok(call)
    }

    /// `DELETE /calls/{id}`: either side ends the call. If it moves meanwhile (answered under
    /// our feet), the end is decided again on its new state.
    pub async fn end(&self, me: &UserId, id: &CallId, reason: EndReason, now: Millis) -> Result<Call, CallError> {
        for _ in 0..3 {
            let call = self.get_for(me, id, now).await?;
            if call.is_over() {
                return Err(rejected(ErrorCode::CallAlreadyEnded, "the call has already ended"));
            }
            let (status, outcome) = match (reason, call.status) {
                (EndReason::ConnectionFailed, _) => (CallStatus::Failed, Outcome::Failed),
                (_, CallStatus::Active) => (CallStatus::Ended, Outcome::Completed),
                _ => (CallStatus::Ended, Outcome::Missed),
            };
            if let Some(done) = self.finish(call, status, outcome, reason, now).await? {
                return Ok(done);
            }
        }
        Err(rejected(ErrorCode::Conflict, "the call keeps changing; try again"))
    }

    /// Ends a call that rang past its deadline as missed (by whoever sees it first).
    async fn expire(&self, call: Call, now: Millis) -> Result<Call, CallError> {
        let id = call.id.clone();
        match self.finish(call, CallStatus::Ended, Outcome::Missed, EndReason::Timeout, now).await? {
            Some(c) => Ok(c),
            // Someone else finished it first: read what they wrote.
            None => {
                let it = self.table.get(&call_key(&id)).await?;
                it.as_ref().and_then(record::decode).ok_or_else(not_found)
            }
        }
    }

    /// Moves `call` from its current status to an end; `None` if it changed meanwhile.
    async fn finish(
        &self,
        call: Call,
        status: CallStatus,
        outcome: Outcome,
        reason: EndReason,
        now: Millis,
    ) -> Result<Option<Call>, CallError> {
        let duration = call.answered_at.map(|a| ((now - a).max(0) / 1000) as u64).unwrap_or(0);
        let mine = Cond::NotExists.or(users::locked_by(&call.id));
        let hist_done = |user: &str| Write::Update {
            key: hist_key(user, call.created_at, &call.id),
            update: record::history_ended(outcome, now, duration),
            cond: None,
        };
        let counted = |user: &str| Write::Update {
            key: count_key(user),
            update: record::counted_end(call.call_type, outcome),
            cond: None,
        };
        let res = self
            .table
            .transact(vec![
                Write::Update {
                    key: call_key(&call.id),
                    update: record::ended(status, outcome, reason, now, duration),
                    cond: Some(record::status_is(call.status)),
                },
                Write::Delete { key: users::active_call(&call.caller), cond: Some(mine.clone()) },
                Write::Delete { key: users::active_call(&call.callee), cond: Some(mine) },
                hist_done(&call.caller),
                hist_done(&call.callee),
                counted(&call.caller),
                counted(&call.callee),
            ])
            .await;
        match res {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) | Err(StoreError::TransactionConflict) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let call = Call {
            status,
            outcome: Some(outcome),
            ended_at: Some(now),
            end_reason: Some(reason),
            duration_secs: Some(duration),
            ..call
        };
        self.push_both(&call).await;
        Ok(Some(call))
    }

    /// The calls `user` is in now (at most one: the lock allows no more).
    pub async fn active(&self, user: &UserId, now: Millis) -> Result<Vec<Call>, CallError> {
        let lock = self.table.get(&users::active_call(user)).await?;
        let Some(lock) = lock.as_ref().and_then(users::decode_active_call) else { return Ok(Vec::new()) };
        Ok(self.load(&lock.call_id, now).await?.filter(|c| !c.is_over()).into_iter().collect())
    }

    /// `user`'s history, newest first, filtered, with the total matching count.
    pub async fn history(
        &self,
        user: &UserId,
        call_type: Option<CallType>,
        outcome: Option<Outcome>,
        limit: u32,
        offset: u32,
        now: Millis,
    ) -> Result<(Vec<HistoryEntry>, u64), CallError> {
        // Calls that rang out but nobody has looked at yet are the newest few: finish them
        // so statuses and totals are current.
        let newest = self.table.query(&record::history_newest_first(user).limit(5)).await?;
        for h in newest.items.iter().filter_map(record::decode_history) {
            if h.status.is_none() && h.ring_deadline <= now {
                self.load(&h.call_id, now).await?;
            }
        }
        let totals = self.table.get(&count_key(user)).await?.unwrap_or_default();
        let total = record::count(&totals, call_type, outcome);
        let mut out = Vec::new();
        let mut skipped = 0u32;
        // Unfiltered, exactly offset + limit entries are needed; filtered, read in large pages.
        let page = if call_type.is_none() && outcome.is_none() { (offset + limit).clamp(1, 200) } else { 200 };
        let mut q = record::history_newest_first(user).limit(page);
        'pages: loop {
            let page = self.table.query(&q).await?;
            for h in page.items.iter().filter_map(record::decode_history) {
                let entry = entry_of(h);
                if call_type.is_some_and(|t| t != entry.call_type) || outcome.is_some_and(|o| Some(o) != entry.status) {
                    continue;
                }
                if skipped < offset {
                    skipped += 1;
                    continue;
                }
                out.push(entry);
                if out.len() as u32 == limit {
                    break 'pages;
                }
            }
            match page.next {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        Ok((out, total))
    }

    /// The sweeper's part for this app's calls: every call ringing past its deadline becomes
    /// missed.
    pub async fn expire_due(&self, now: Millis) -> Result<usize, CallError> {
        let mut done = 0;
        for shard in 0..self.cfg.ringing_shards.max(1) {
            let q = record::ringing_before(shard, now).limit(500);
            let page = self.table.query(&q).await?;
            for it in &page.items {
                if let Some(call) = record::decode(it).filter(|c| c.overdue(now)) {
                    self.expire(call, now).await?;
                    done += 1;
                }
            }
        }
        Ok(done)
    }

    /// The API view of a call, with who is in its signaling room now.
    pub async fn view(&self, call: &Call) -> Result<CallView, CallError> {
        let in_room: BTreeSet<UserId> =
            room_members(self.table.as_ref(), &call.room()).await?.into_iter().map(|p| p.user).collect();
        let status_of = |user: &UserId, joined: bool| {
            if in_room.contains(user) && !call.is_over() {
                "connected"
            } else if !joined && call.status == CallStatus::Connecting {
                "ringing"
            } else {
                "disconnected"
            }
        };
        Ok(CallView {
            call_id: call.id.to_string(),
            call_type: call.call_type,
            status: call.status,
            outcome: call.outcome,
            caller_id: call.caller.to_string(),
            callee_id: call.callee.to_string(),
            signaling_url: self.cfg.signaling_url.clone(),
            room: call.room().into(),
            created_at: rfc3339_ms(call.created_at),
            answered_at: call.answered_at.map(rfc3339_ms),
            ended_at: call.ended_at.map(rfc3339_ms),
            end_reason: call.end_reason,
            duration_seconds: call.duration_secs,
            participants: vec![
                Participant {
                    user_id: call.caller.to_string(),
                    role: Role::Caller,
                    joined_at: Some(rfc3339_ms(call.created_at)),
                    connection_status: status_of(&call.caller, true).to_owned(),
                },
                Participant {
                    user_id: call.callee.to_string(),
                    role: Role::Callee,
                    joined_at: call.answered_at.map(rfc3339_ms),
                    connection_status: status_of(&call.callee, call.answered_at.is_some()).to_owned(),
                },
            ],
        })
    }

    async fn push_both(&self, call: &Call) {
        let msg = envelope(event::CALL_STATUS, None, call.event());
        futures_util::future::join(self.push(&call.caller, &msg), self.push(&call.callee, &msg)).await;
    }

    /// Best effort: to every open connection of `user`. A gone connection is left to the
    /// signaling cleanup (the next relay to it, or the sweeper); any other failure is logged,
    /// since the user misses the event (the call's state is still right on the next read).
    async fn push(&self, user: &UserId, msg: &str) {
        match presence::connections(self.table.as_ref(), user).await {
            Ok(conns) => {
                let sent = futures_util::future::join_all(conns.iter().map(|c| self.sink.post(c, msg))).await;
                for (conn, r) in conns.iter().zip(sent) {
                    if let Err(SinkError::Failed(e)) = r {
                        tracing::warn!(error = %e, %user, connection_id = %conn, "could not post a call event");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, %user, "could not list connections for a call event"),
        }
    }
}

fn entry_of(h: record::History) -> HistoryEntry {
    HistoryEntry {
        call_id: h.call_id.into(),
        call_type: h.call_type,
        status: h.status,
        role: h.role,
        peer_id: h.peer.into(),
        created_at: rfc3339_ms(h.created_at),
        ended_at: h.ended_at.map(rfc3339_ms),
        duration_seconds: h.duration.unwrap_or(0),
    }
}

/// A call's signaling room is `call:<id>`.
const CALL_ROOM: &str = "call:";

/// The call a signaling room belongs to (`call:<id>`), if any.
pub fn call_id_of_room(room: &RoomId) -> Option<CallId> {
    room.strip_prefix(CALL_ROOM).map(CallId::from)
}

/// Whether `user` may join the signaling room of call `id` now.
pub async fn may_join_call_room(table: &dyn Table, user: &UserId, id: &CallId) -> Result<bool, StoreError> {
    let it = table.get(&call_key(id)).await?;
    Ok(it.as_ref().and_then(record::decode).is_some_and(|c| c.role_of(user).is_some() && !c.is_over()))
}
