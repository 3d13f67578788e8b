//! Query cursors: base64url JSON of the last returned item's key attributes, i.e. exactly
//! DynamoDB's `LastEvaluatedKey` for our all-string key schema. Both stores emit and accept
//! the same format, and reject a cursor that belongs to another partition or index.

use super::schema::TableSpec;
use super::{Key, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::BTreeMap;

fn bad() -> StoreError {
    StoreError::Invalid("invalid cursor".into())
}

/// The key attributes a cursor for this query carries.
pub fn attrs(spec: &TableSpec, index: Option<&str>) -> Result<Vec<&'static str>, StoreError> {
    let mut v = vec![spec.pk, spec.sk];
    if let Some(name) = index {
        let ix = spec.index(name).ok_or_else(|| StoreError::Invalid(format!("no index `{name}`")))?;
        v.extend([ix.pk, ix.sk]);
    }
    Ok(v)
}

pub fn encode_map(map: &BTreeMap<String, String>) -> String {
    // A map of strings always serializes.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(map).expect("string map serializes"))
}

/// Decodes and checks a cursor into its attribute map.
pub fn decode_map(
    cursor: &str,
    spec: &TableSpec,
    index: Option<&str>,
    query_pk: &str,
) -> Result<BTreeMap<String, String>, StoreError> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let map: BTreeMap<String, String> = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let want = attrs(spec, index)?;
    if map.len() != want.len() || want.iter().any(|a| !map.contains_key(*a)) {
        return Err(bad());
    }
    let part = match index {
        Some(name) => spec.index(name).map(|i| i.pk).ok_or_else(bad)?,
        None => spec.pk,
    };
    if map[part] != query_pk {
        return Err(bad());
    }
    Ok(map)
}

/// Cursor after the item at (`sortv`, `key`): `sortv` is the index sort value for index
/// queries and the table sort key otherwise.
pub fn encode(spec: &TableSpec, index: Option<&str>, query_pk: &str, sortv: &str, key: &Key) -> String {
    let mut map = BTreeMap::from([(spec.pk.to_owned(), key.pk.clone()), (spec.sk.to_owned(), key.sk.clone())]);
    if let Some(ix) = index.and_then(|n| spec.index(n)) {
        map.insert(ix.pk.to_owned(), query_pk.to_owned());
        map.insert(ix.sk.to_owned(), sortv.to_owned());
    }
    encode_map(&map)
}

/// The (sort value, table key) position a cursor stands at.
pub fn decode(
    cursor: &str,
    spec: &TableSpec,
    index: Option<&str>,
    query_pk: &str,
) -> Result<(String, Key), StoreError> {
    let map = decode_map(cursor, spec, index, query_pk)?;
    let key = Key::new(map[spec.pk].clone(), map[spec.sk].clone());
    let sortv = match index.and_then(|n| spec.index(n)) {
        Some(ix) => map[ix.sk].clone(),
        None => key.sk.clone(),
    };
    Ok((sortv, key))
}
