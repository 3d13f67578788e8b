//! Calls: the call record (`CALL#<id>` / `META`; while ringing also `gsi1` = `RINGING#<shard>`
//! / `<deadline>#<id>` for the sweeper), each user's history entries (`HIST#<u>` /
//! `<created ms, 13 digits>#<id>`) and their totals (`HISTCOUNT#<u>` / `COUNT`).

use super::codec;
use crate::clock::Millis;
use crate::store::{CmpOp, Cond, Item, Key, Query, SortKey, Update, Value};
use serde::{Deserialize, Serialize};
use stratus_protocol::calls::{CallStatus, CallType, EndReason, Outcome, Role};
use stratus_protocol::ids::{CallId, UserId};

const PK: &str = "CALL#";

pub fn meta(id: &str) -> Key {
    Key::new(format!("{PK}{id}"), "META")
}

/// A history entry, ordered by creation time within the user's partition.
pub fn history(user: &str, created_at: i64, id: &str) -> Key {
    Key::new(history_pk(user), format!("{created_at:013}#{id}"))
}

fn history_pk(user: &str) -> String {
    format!("HIST#{user}")
}

/// The user's history, newest first.
pub fn history_newest_first(user: &str) -> Query {
    Query::table(history_pk(user)).backward()
}

pub fn history_count(user: &str) -> Key {
    Key::new(format!("HISTCOUNT#{user}"), "COUNT")
}

fn ringing_partition(shard: u32) -> String {
    format!("RINGING#{shard}")
}

/// Ringing calls of `shard` that rang before `now` (their `gsi1sk` is the ring deadline).
pub fn ringing_before(shard: u32, now: i64) -> Query {
    Query::index(crate::store::schema::GSI1, ringing_partition(shard)).sk(SortKey::Lt(format!("{now:013}~")))
}

/// A call as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// From the key (`CALL#<id>`), not an attribute.
    #[serde(skip)]
    pub id: CallId,
    pub call_type: CallType,
    pub status: CallStatus,
    pub outcome: Option<Outcome>,
    pub caller: UserId,
    pub callee: UserId,
    pub created_at: Millis,
    pub ring_deadline: Millis,
    pub answered_at: Option<Millis>,
    pub ended_at: Option<Millis>,
    pub end_reason: Option<EndReason>,
    #[serde(rename = "duration")]
    pub duration_secs: Option<u64>,
}

#[derive(Serialize)]
struct Ringing<'a> {
    #[serde(flatten)]
    call: &'a Call,
    gsi1pk: String,
    gsi1sk: String,
}

/// A new call's item, in ringing shard `shard` until its deadline.
pub fn encode_ringing(call: &Call, shard: u32) -> Item {
    let ringing =
        Ringing { call, gsi1pk: ringing_partition(shard), gsi1sk: format!("{:013}#{}", call.ring_deadline, call.id) };
    codec::encode(meta(&call.id), &ringing)
}

pub fn decode(it: &Item) -> Option<Call> {
    Some(Call { id: super::pk_id(it, PK)?.into(), ..codec::decode(it)? })
}

/// While the call is `status`.
pub fn status_is(status: CallStatus) -> Cond {
    Cond::eq(STATUS, status.as_str())
}

/// While it is still ringing at `now`.
pub fn ringing_at(now: Millis) -> Cond {
    status_is(CallStatus::Connecting).and(Cond::cmp("ring_deadline", CmpOp::Gt, now))
}

/// Answered at `now` (out of the ringing index).
pub fn answered(now: Millis) -> Update {
    Update::default().set(STATUS, CallStatus::Active.as_str()).set("answered_at", now).remove("gsi1pk").remove("gsi1sk")
}

/// Ended at `now` (out of the ringing index, if it was there).
pub fn ended(status: CallStatus, outcome: Outcome, reason: EndReason, now: Millis, duration_secs: u64) -> Update {
    Update::default()
        .set(STATUS, status.as_str())
        .set("outcome", outcome.as_str())
        .set("end_reason", reason.as_str())
        .set(ENDED_AT, now)
        .set(DURATION, duration_secs as i64)
        .remove("gsi1pk")
        .remove("gsi1sk")
}

const STATUS: &str = "status";
const ENDED_AT: &str = "ended_at";
const DURATION: &str = "duration";

/// One participant's history entry; `status` is set once the call ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub call_id: CallId,
    pub call_type: CallType,
    pub role: Role,
    pub peer: UserId,
    pub created_at: Millis,
    pub ring_deadline: Millis,
    pub status: Option<Outcome>,
    pub ended_at: Option<Millis>,
    pub duration: Option<u64>,
}

pub fn encode_history(user: &str, h: &History) -> Item {
    codec::encode(history(user, h.created_at, &h.call_id), h)
}

pub fn decode_history(it: &Item) -> Option<History> {
    codec::decode(it)
}

/// The entry of a call that ended at `now` as `outcome`.
pub fn history_ended(outcome: Outcome, now: Millis, duration_secs: u64) -> Update {
    Update::default().set(STATUS, outcome.as_str()).set(ENDED_AT, now).set(DURATION, duration_secs as i64)
}

/// The name of the history total for calls of a type, an outcome, both, or all.
fn counter(call_type: Option<CallType>, outcome: Option<Outcome>) -> String {
    match (call_type, outcome) {
        (None, None) => "all".to_owned(),
        (Some(t), None) => t.as_str().to_owned(),
        (None, Some(o)) => o.as_str().to_owned(),
        (Some(t), Some(o)) => format!("{}_{}", t.as_str(), o.as_str()),
    }
}

/// The totals after a call of `call_type` started.
pub fn counted_start(call_type: CallType) -> Update {
    Update::default().add(counter(None, None), 1).add(counter(Some(call_type), None), 1)
}

/// The totals after a call of `call_type` ended as `outcome`.
pub fn counted_end(call_type: CallType, outcome: Outcome) -> Update {
    Update::default().add(counter(None, Some(outcome)), 1).add(counter(Some(call_type), Some(outcome)), 1)
}

/// A total of the user's totals item (0 when never counted).
pub fn count(totals: &Item, call_type: Option<CallType>, outcome: Option<Outcome>) -> u64 {
    totals.get(&counter(call_type, outcome)).and_then(Value::as_n).unwrap_or(0).max(0) as u64
}
