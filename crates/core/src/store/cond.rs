//! Write conditions, evaluated in memory by the embedded store and translated to condition
//! expressions by the DynamoDB store.

use super::value::{Item, Value};
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// The item exists (and is not expired).
    Exists,
    /// The item is absent (or expired).
    NotExists,
    AttrExists(String),
    AttrNotExists(String),
    Cmp(String, CmpOp, Value),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    pub fn eq(attr: impl Into<String>, v: impl Into<Value>) -> Self {
        Cond::Cmp(attr.into(), CmpOp::Eq, v.into())
    }

    pub fn cmp(attr: impl Into<String>, op: CmpOp, v: impl Into<Value>) -> Self {
        Cond::Cmp(attr.into(), op, v.into())
    }

    pub fn and(self, other: Cond) -> Self {
        Cond::And(vec![self, other])
    }

    pub fn or(self, other: Cond) -> Self {
        Cond::Or(vec![self, other])
    }

    /// Evaluates against the current item; `None` is an absent (or expired) item, on which
    /// every attribute is missing.
    pub fn eval(&self, item: Option<&Item>) -> bool {
        match self {
            Cond::Exists => item.is_some(),
            Cond::NotExists => item.is_none(),
            Cond::AttrExists(a) => item.is_some_and(|i| i.contains_key(a)),
            Cond::AttrNotExists(a) => !item.is_some_and(|i| i.contains_key(a)),
            Cond::Cmp(a, op, v) => match item.and_then(|i| i.get(a)) {
                Some(actual) => compare(actual, *op, v),
                None => false,
            },
            Cond::And(cs) => cs.iter().all(|c| c.eval(item)),
            Cond::Or(cs) => cs.iter().any(|c| c.eval(item)),
            Cond::Not(c) => !c.eval(item),
        }
    }
}

/// DynamoDB comparison: numbers numerically, strings by UTF-8 bytes; `=`/`<>` on anything;
/// ordering across types is false.
pub fn compare(a: &Value, op: CmpOp, b: &Value) -> bool {
    let ord = match (a, b) {
        (Value::N(x), Value::N(y)) => Some(x.cmp(y)),
        (Value::S(x), Value::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => None,
    };
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => ord == Some(Ordering::Less),
        CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ord == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::value::item;

    #[test]
    fn missing_attributes_compare_false_both_ways() {
        let it = item([("n", Value::N(3))]);
        assert!(!Cond::eq("x", 3).eval(Some(&it)));
        assert!(!Cond::cmp("x", CmpOp::Ne, 3).eval(Some(&it)));
        assert!(Cond::cmp("n", CmpOp::Lt, 4).eval(Some(&it)));
        assert!(!Cond::cmp("n", CmpOp::Lt, "4").eval(Some(&it)), "cross-type order is false");
    }

    #[test]
    fn absent_item_satisfies_only_absence_conditions() {
        assert!(Cond::NotExists.eval(None));
        assert!(Cond::AttrNotExists("a".into()).eval(None));
        assert!(!Cond::Exists.eval(None));
        assert!(Cond::Not(Box::new(Cond::eq("a", 1))).eval(None));
    }
}
