//! The table definitions, once. The DynamoDB store creates tables from these (local stack,
//! tests), the embedded store indexes by them, and a test (`template_matches_schema`) fails
//! when `template.yaml` declares its tables differently.
//!
//! One table holds every entity (single-table design): keys are strings such as
//! `TOKEN#<jti>` / `TOKEN`, and `gsi1` serves the secondary access patterns
//! (by user, by room, ...). Items carry an optional `ttl` attribute in epoch seconds.

/// A global secondary index; it projects all attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    /// The resource's logical id in `template.yaml`.
    pub logical_id: &'static str,
    /// The environment variable a function reads the deployed table name from.
    pub name_env: &'static str,
    /// The table name used when none is configured (local stack, tests add a prefix).
    pub default_name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
    pub indexes: &'static [IndexSpec],
    /// The TTL attribute: epoch seconds after which an item is expired.
    pub ttl_attr: &'static str,
}

impl TableSpec {
    pub fn index(&self, name: &str) -> Option<&'static IndexSpec> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// Every key attribute (table and indexes), in a stable order.
    pub fn key_attrs(&self) -> Vec<&'static str> {
        let mut v = vec![self.pk, self.sk];
        for i in self.indexes {
            for a in [i.pk, i.sk] {
                if !v.contains(&a) {
                    v.push(a);
                }
            }
        }
        v
    }
}

pub const GSI1: &str = "gsi1";

pub const MAIN: TableSpec = TableSpec {
    logical_id: "MainTable",
    name_env: "STRATUS_TABLE",
    default_name: "stratus-main",
    pk: "pk",
    sk: "sk",
    indexes: &[IndexSpec { name: GSI1, pk: "gsi1pk", sk: "gsi1sk" }],
    ttl_attr: "ttl",
};

/// Every table the platform uses.
pub const TABLES: &[TableSpec] = &[MAIN];
