//! Expressions with placeholders (`#n0`, `:v0`), so attribute names never clash with
//! DynamoDB's reserved words and values never need escaping.
//!
//! TTL: DynamoDB deletes expired items lazily, but our semantics say an expired item is
//! absent. A condition `C` is therefore sent as
//! - `#ttl <= :now OR C` when `C` holds on an absent item (an expired item passes, as an
//!   absent one would), or
//! - `(attribute_not_exists(#ttl) OR #ttl > :now) AND C` otherwise (an expired item fails).
//!
//! On a live item both reduce to `C`; on a truly absent item DynamoDB evaluates `C` itself.

use crate::convert::to_av;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use stratus_core::store::{CmpOp, Cond, SortKey, Update, Value};

#[derive(Default)]
pub struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub fn name(&mut self, attr: &str) -> String {
        if let Some((ph, _)) = self.names.iter().find(|(_, a)| *a == attr) {
            return ph.clone();
        }
        let ph = format!("#n{}", self.names.len());
        self.names.insert(ph.clone(), attr.to_owned());
        ph
    }

    pub fn value(&mut self, v: AttributeValue) -> String {
        let ph = format!(":v{}", self.values.len());
        self.values.insert(ph.clone(), v);
        ph
    }

    pub fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    pub fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    pub fn cond(&mut self, c: &Cond, pk: &str) -> String {
        match c {
            Cond::Exists => format!("attribute_exists({})", self.name(pk)),
            Cond::NotExists => format!("attribute_not_exists({})", self.name(pk)),
            Cond::AttrExists(a) => format!("attribute_exists({})", self.name(a)),
            Cond::AttrNotExists(a) => format!("attribute_not_exists({})", self.name(a)),
            Cond::Cmp(a, op, v) => {
                let op = match op {
                    CmpOp::Eq => "=",
                    CmpOp::Ne => "<>",
                    CmpOp::Lt => "<",
                    CmpOp::Le => "<=",
                    CmpOp::Gt => ">",
                    CmpOp::Ge => ">=",
                };
                format!("{} {op} {}", self.name(a), self.value(to_av(v)))
            }
            Cond::And(cs) | Cond::Or(cs) if cs.is_empty() => {
                // Empty AND is true, empty OR is false; spell them with the key attribute.
                let pk = self.name(pk);
                if matches!(c, Cond::And(_)) {
                    format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
                } else {
                    format!("(attribute_exists({pk}) AND attribute_not_exists({pk}))")
                }
            }
            Cond::And(cs) => self.join(cs, " AND ", pk),
            Cond::Or(cs) => self.join(cs, " OR ", pk),
            Cond::Not(c) => format!("(NOT {})", self.cond(c, pk)),
        }
    }

    fn join(&mut self, cs: &[Cond], sep: &str, pk: &str) -> String {
        let parts: Vec<String> = cs.iter().map(|c| self.cond(c, pk)).collect();
        format!("({})", parts.join(sep))
    }

    /// `attribute_not_exists(#ttl) OR #ttl > :now`
    pub fn live(&mut self, ttl: &str, now: i64) -> String {
        let t = self.name(ttl);
        let n = self.value(AttributeValue::N(now.to_string()));
        format!("(attribute_not_exists({t}) OR {t} > {n})")
    }

    /// `#ttl <= :now`
    pub fn expired(&mut self, ttl: &str, now: i64) -> String {
        let t = self.name(ttl);
        let n = self.value(AttributeValue::N(now.to_string()));
        format!("{t} <= {n}")
    }

    /// The condition for a put, delete or check: `c` with expired items treated as absent.
    pub fn ttl_aware(&mut self, c: &Cond, pk: &str, ttl: &str, now: i64) -> String {
        let inner = self.cond(c, pk);
        if c.eval(None) {
            let e = self.expired(ttl, now);
            format!("({e} OR {inner})")
        } else {
            let l = self.live(ttl, now);
            format!("({l} AND {inner})")
        }
    }

    /// The condition for an update: the item must not be expired (the caller purges an
    /// expired item and retries, so the update starts from nothing), and `c` must hold.
    pub fn update_guard(&mut self, c: Option<&Cond>, pk: &str, ttl: &str, now: i64) -> String {
        let l = self.live(ttl, now);
        match c {
            Some(c) => format!("({l} AND {})", self.cond(c, pk)),
            None => l,
        }
    }

    pub fn update(&mut self, u: &Update) -> String {
        let mut parts = Vec::new();
        if !u.set.is_empty() {
            let s: Vec<String> = u
                .set
                .iter()
                .map(|(a, v)| {
                    let n = self.name(a);
                    let v = self.value(to_av(v));
                    format!("{n} = {v}")
                })
                .collect();
            parts.push(format!("SET {}", s.join(", ")));
        }
        if !u.add.is_empty() {
            let s: Vec<String> = u
                .add
                .iter()
                .map(|(a, by)| {
                    let n = self.name(a);
                    let v = self.value(AttributeValue::N(by.to_string()));
                    format!("{n} {v}")
                })
                .collect();
            parts.push(format!("ADD {}", s.join(", ")));
        }
        if !u.remove.is_empty() {
            let s: Vec<String> = u.remove.iter().map(|a| self.name(a)).collect();
            parts.push(format!("REMOVE {}", s.join(", ")));
        }
        parts.join(" ")
    }

    /// Key condition for a query on partition `pk_attr` = `pk`, sort key `sk_attr`.
    pub fn key_cond(&mut self, pk_attr: &str, pk: &str, sk_attr: &str, sk: &SortKey) -> String {
        let p = self.name(pk_attr);
        let pv = self.value(AttributeValue::S(pk.to_owned()));
        let head = format!("{p} = {pv}");
        let mut s = |v: &String| self.value(AttributeValue::S(v.clone()));
        let tail = match sk {
            SortKey::Any => return head,
            SortKey::Eq(v) => format!("= {}", s(v)),
            SortKey::Lt(v) => format!("< {}", s(v)),
            SortKey::Gt(v) => format!("> {}", s(v)),
            SortKey::BeginsWith(v) => {
                let v = s(v);
                let n = self.name(sk_attr);
                return format!("{head} AND begins_with({n}, {v})");
            }
            SortKey::Between(a, b) => {
                let (a, b) = (s(a), s(b));
                format!("BETWEEN {a} AND {b}")
            }
        };
        let n = self.name(sk_attr);
        format!("{head} AND {n} {tail}")
    }
}

/// Whether `item` (raw from DynamoDB) is expired at `now`.
pub fn is_expired(item: &stratus_core::store::Item, ttl: &str, now: i64) -> bool {
    matches!(item.get(ttl), Some(Value::N(t)) if *t <= now)
}
