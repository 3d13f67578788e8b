//! Typed records to and from store items, through serde: a record derives `Serialize` and
//! `Deserialize`, and its field names are its attribute names. `None` fields are left out of
//! the item (so a condition on "attribute absent" means "field unset"); numbers are integers.
//!
//! Why not `serde_dynamo`: it targets the AWS SDK's `AttributeValue`, and this crate's store
//! has its own small [`Value`] so the domain never depends on the SDK. `serde_json::Value` is
//! the bridge: both sides are a few lines, and every record gets serde's derive.

use crate::store::{Item, Key, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value as Json};

/// The item for `rec` stored under `key`.
pub fn encode<T: Serialize>(key: Key, rec: &T) -> Item {
    let mut it = Item::new();
    match serde_json::to_value(rec) {
        Ok(Json::Object(fields)) => {
            for (name, v) in fields {
                if !v.is_null() {
                    it.insert(name, value(v));
                }
            }
        }
        // Records are structs; anything else is a mistake in this module, caught by its tests.
        other => debug_assert!(false, "a record must encode as a map, got {other:?}"),
    }
    it.insert("pk".into(), Value::S(key.pk));
    it.insert("sk".into(), Value::S(key.sk));
    it
}

/// The record an item holds; `None` when it lacks a required attribute or one has the wrong
/// type (such an item is skipped, as if absent, and logged).
pub fn decode<T: DeserializeOwned>(it: &Item) -> Option<T> {
    let map: Map<String, Json> = it.iter().map(|(k, v)| (k.clone(), json(v))).collect();
    match serde_json::from_value(Json::Object(map)) {
        Ok(rec) => Some(rec),
        Err(e) => {
            let pk = it.get("pk").and_then(Value::as_str).unwrap_or("?");
            tracing::warn!(error = %e, pk, record = std::any::type_name::<T>(), "an item does not decode; skipped");
            None
        }
    }
}

/// A nested record as one attribute's value (a map).
pub fn to_value<T: Serialize>(rec: &T) -> Value {
    serde_json::to_value(rec).map(value).unwrap_or(Value::Null)
}

fn value(j: Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(b),
        // Records hold integers only; a u64 above i64::MAX or a float saturates.
        Json::Number(n) => Value::N(n.as_i64().unwrap_or_else(|| n.as_f64().map_or(i64::MAX, |f| f as i64))),
        Json::String(s) => Value::S(s),
        Json::Array(a) => Value::L(a.into_iter().map(value).collect()),
        Json::Object(m) => Value::M(m.into_iter().map(|(k, v)| (k, value(v))).collect()),
    }
}

fn json(v: &Value) -> Json {
    match v {
        Value::S(s) => Json::String(s.clone()),
        Value::N(n) => Json::Number(Number::from(*n)),
        Value::Bool(b) => Json::Bool(*b),
        Value::Null => Json::Null,
        Value::L(l) => Json::Array(l.iter().map(json).collect()),
        Value::M(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Rec {
        name: String,
        n: i64,
        flag: bool,
        maybe: Option<String>,
        list: Vec<String>,
    }

    #[test]
    fn a_record_round_trips_and_unset_fields_are_absent() {
        let r = Rec { name: "a".into(), n: -3, flag: true, maybe: None, list: vec!["x".into()] };
        let it = encode(Key::new("P#1", "S"), &r);
        assert_eq!(it.get("pk"), Some(&Value::S("P#1".into())));
        assert_eq!(it.get("n"), Some(&Value::N(-3)));
        assert!(!it.contains_key("maybe"), "None is left out, not stored as null");
        assert_eq!(decode::<Rec>(&it), Some(r));
    }

    #[test]
    fn an_item_missing_a_required_attribute_does_not_decode() {
        let mut it =
            encode(Key::new("P#1", "S"), &Rec { name: "a".into(), n: 1, flag: false, maybe: None, list: vec![] });
        it.remove("n");
        assert_eq!(decode::<Rec>(&it), None);
        it.insert("n".into(), Value::S("one".into()));
        assert_eq!(decode::<Rec>(&it), None, "a wrong type is not read as a default");
    }
}
