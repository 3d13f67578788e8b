//! `Value` ⇄ `AttributeValue`.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use stratus_core::store::{Item, StoreError, Value};

pub fn to_av(v: &Value) -> AttributeValue {
    match v {
        Value::S(s) => AttributeValue::S(s.clone()),
        Value::N(n) => AttributeValue::N(n.to_string()),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Null => AttributeValue::Null(true),
        Value::L(l) => AttributeValue::L(l.iter().map(to_av).collect()),
        Value::M(m) => AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), to_av(v))).collect()),
    }
}

pub fn from_av(av: &AttributeValue) -> Result<Value, StoreError> {
    Ok(match av {
        AttributeValue::S(s) => Value::S(s.clone()),
        AttributeValue::N(n) => {
            Value::N(n.parse().map_err(|_| StoreError::Invalid(format!("number `{n}` is not an integer")))?)
        }
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(l) => Value::L(l.iter().map(from_av).collect::<Result<_, _>>()?),
        AttributeValue::M(m) => {
            Value::M(m.iter().map(|(k, v)| Ok((k.clone(), from_av(v)?))).collect::<Result<_, StoreError>>()?)
        }
        other => return Err(StoreError::Invalid(format!("unsupported attribute type {other:?}"))),
    })
}

pub fn to_map(item: &Item) -> HashMap<String, AttributeValue> {
    item.iter().map(|(k, v)| (k.clone(), to_av(v))).collect()
}

pub fn from_map(map: &HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    map.iter().map(|(k, v)| Ok((k.clone(), from_av(v)?))).collect()
}
