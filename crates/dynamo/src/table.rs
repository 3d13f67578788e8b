//! `DynamoTable`: the `Table` trait on DynamoDB.

use crate::convert::{from_map, to_map};
use crate::expr::{Expr, is_expired};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValue, TransactWriteItem, Update as DdbUpdate,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use stratus_core::clock::Clock;
use stratus_core::store::schema::TableSpec;
use stratus_core::store::{
    Cond, Item, Key, MAX_PAGE, Page, Query, StoreError, Table, Update, Write, check_size, check_update, cursor, key_of,
};

/// How often an update or transaction retries after purging an expired item in its way.
const EXPIRED_RETRIES: usize = 3;

pub struct DynamoTable {
    client: Client,
    name: String,
    spec: &'static TableSpec,
    clock: Arc<dyn Clock>,
}

impl DynamoTable {
    pub fn new(client: Client, name: impl Into<String>, spec: &'static TableSpec, clock: Arc<dyn Clock>) -> Self {
        Self { client, name: name.into(), spec, clock }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn key_map(&self, key: &Key) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (self.spec.pk.to_owned(), AttributeValue::S(key.pk.clone())),
            (self.spec.sk.to_owned(), AttributeValue::S(key.sk.clone())),
        ])
    }

    fn check_item(&self, item: &Item) -> Result<Key, StoreError> {
        let key = key_of(self.spec, item)?;
        check_size(item)?;
        Ok(key)
    }

    /// The item as stored, expired or not (consistent read).
    async fn raw_get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(self.key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(map_err)?;
        out.item().map(from_map).transpose()
    }

    /// Deletes `key` if it is expired; true if something was in the way and is now gone.
    async fn purge_if_expired(&self, key: &Key, now: i64) -> Result<bool, StoreError> {
        match self.raw_get(key).await? {
            Some(it) if is_expired(&it, self.spec.ttl_attr, now) => {
                let mut e = Expr::default();
                let c = e.expired(self.spec.ttl_attr, now);
                let res = self
                    .client
                    .delete_item()
                    .table_name(&self.name)
                    .set_key(Some(self.key_map(key)))
                    .condition_expression(c)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .send()
                    .await;
                match res.map_err(map_err) {
                    Ok(_) | Err(StoreError::ConditionFailed) => Ok(true),
                    Err(e) => Err(e),
                }
            }
            _ => Ok(false),
        }
    }

    fn tx_item(&self, w: &Write, now: i64) -> Result<TransactWriteItem, StoreError> {
        let (pk, ttl) = (self.spec.pk, self.spec.ttl_attr);
        let mut e = Expr::default();
        let built = match w {
            Write::Put { item, cond } => {
                self.check_item(item)?;
                let c = cond.as_ref().map(|c| e.ttl_aware(c, pk, ttl, now));
                TransactWriteItem::builder().put(
                    Put::builder()
                        .table_name(&self.name)
                        .set_item(Some(to_map(item)))
                        .set_condition_expression(c)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(|e| StoreError::Invalid(e.to_string()))?,
                )
            }
            Write::Delete { key, cond } => {
                let c = cond.as_ref().map(|c| e.ttl_aware(c, pk, ttl, now));
                TransactWriteItem::builder().delete(
                    Delete::builder()
                        .table_name(&self.name)
                        .set_key(Some(self.key_map(key)))
                        .set_condition_expression(c)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(|e| StoreError::Invalid(e.to_string()))?,
                )
            }
            Write::Update { key, update, cond } => {
                check_update(self.spec, update)?;
                let u = e.update(update);
                let c = e.update_guard(cond.as_ref(), pk, ttl, now);
                TransactWriteItem::builder().update(
                    DdbUpdate::builder()
                        .table_name(&self.name)
                        .set_key(Some(self.key_map(key)))
                        .update_expression(u)
                        .condition_expression(c)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(|e| StoreError::Invalid(e.to_string()))?,
                )
            }
            Write::Check { key, cond } => {
                let c = e.ttl_aware(cond, pk, ttl, now);
                TransactWriteItem::builder().condition_check(
                    ConditionCheck::builder()
                        .table_name(&self.name)
                        .set_key(Some(self.key_map(key)))
                        .condition_expression(c)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(|e| StoreError::Invalid(e.to_string()))?,
                )
            }
        };
        Ok(built.build())
    }
}

/// Maps an SDK error to a store error by its service error code.
fn map_err<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            match e.code() {
                Some("ConditionalCheckFailedException") => StoreError::ConditionFailed,
                Some("TransactionConflictException") => StoreError::TransactionConflict,
                Some("ValidationException") => StoreError::Invalid(e.message().unwrap_or("validation").to_owned()),
                Some(code) => StoreError::Unavailable(format!("{code}: {}", e.message().unwrap_or(""))),
                None => StoreError::Unavailable(format!("{e:?}")),
            }
        }
        other => StoreError::Unavailable(format!("{other}")),
    }
}

#[async_trait]
impl Table for DynamoTable {
    fn describe(&self) -> String {
        format!("dynamodb:{}", self.name)
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let now = self.clock.now_secs();
        Ok(self.raw_get(key).await?.filter(|it| !is_expired(it, self.spec.ttl_attr, now)))
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), StoreError> {
        self.check_item(&item)?;
        let now = self.clock.now_secs();
        let mut e = Expr::default();
        let c = cond.as_ref().map(|c| e.ttl_aware(c, self.spec.pk, self.spec.ttl_attr, now));
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(to_map(&item)))
            .set_condition_expression(c)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<Option<Item>, StoreError> {
        let now = self.clock.now_secs();
        let mut e = Expr::default();
        let c = cond.as_ref().map(|c| e.ttl_aware(c, self.spec.pk, self.spec.ttl_attr, now));
        let out = self
            .client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(self.key_map(key)))
            .set_condition_expression(c)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(map_err)?;
        let old = out.attributes().map(from_map).transpose()?;
        Ok(old.filter(|it| !is_expired(it, self.spec.ttl_attr, now)))
    }

    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> Result<Item, StoreError> {
        check_update(self.spec, &update)?;
        for _ in 0..EXPIRED_RETRIES {
            let now = self.clock.now_secs();
            let mut e = Expr::default();
            let u = e.update(&update);
            let c = e.update_guard(cond.as_ref(), self.spec.pk, self.spec.ttl_attr, now);
            let res = self
                .client
                .update_item()
                .table_name(&self.name)
                .set_key(Some(self.key_map(key)))
                .update_expression(u)
                .condition_expression(c)
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .return_values(ReturnValue::AllNew)
                .send()
                .await
                .map_err(map_err);
            match res {
                // DynamoDB itself refuses an update that would grow the item past 400 KB
                // (ValidationException → `Invalid`), before writing anything.
                Ok(out) => return Ok(out.attributes().map(from_map).transpose()?.unwrap_or_default()),
                Err(StoreError::ConditionFailed) => {
                    // An expired item in the way fails the guard: remove it, then retry so
                    // the update applies to an absent item (and `cond` is judged on that).
                    if !self.purge_if_expired(key, now).await? {
                        return Err(StoreError::ConditionFailed);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::ConditionFailed)
    }

    async fn query(&self, q: &Query) -> Result<Page, StoreError> {
        if q.limit == 0 || q.limit > MAX_PAGE {
            return Err(StoreError::Invalid(format!("limit must be 1..={MAX_PAGE}")));
        }
        let (pk_attr, sk_attr) = match q.index {
            None => (self.spec.pk, self.spec.sk),
            Some(n) => {
                let ix = self.spec.index(n).ok_or_else(|| StoreError::Invalid(format!("no index `{n}`")))?;
                (ix.pk, ix.sk)
            }
        };
        let mut start: Option<HashMap<String, AttributeValue>> = match &q.cursor {
            Some(c) => Some(
                cursor::decode_map(c, self.spec, q.index, &q.pk)?
                    .into_iter()
                    .map(|(k, v)| (k, AttributeValue::S(v)))
                    .collect(),
            ),
            None => None,
        };
        let now = self.clock.now_secs();
        let mut items = Vec::new();
        // DynamoDB applies `Limit` before the TTL filter, so a page can come back short:
        // keep reading until the page is full or the partition is exhausted.
        loop {
            let mut e = Expr::default();
            let kc = e.key_cond(pk_attr, &q.pk, sk_attr, &q.sk);
            let filter = e.live(self.spec.ttl_attr, now);
            let out = self
                .client
                .query()
                .table_name(&self.name)
                .set_index_name(q.index.map(str::to_owned))
                .key_condition_expression(kc)
                .filter_expression(filter)
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .scan_index_forward(q.forward)
                .limit((q.limit as usize - items.len()) as i32)
                .set_exclusive_start_key(start.take())
                .set_consistent_read(q.index.is_none().then_some(true))
                .send()
                .await
                .map_err(map_err)?;
            for it in out.items() {
                items.push(from_map(it)?);
            }
            let lek = out.last_evaluated_key().cloned();
            match lek {
                Some(k) if items.len() < q.limit as usize => start = Some(k),
                Some(k) => {
                    let mut map = BTreeMap::new();
                    for (a, v) in k {
                        match v {
                            AttributeValue::S(s) => {
                                map.insert(a, s);
                            }
                            _ => return Err(StoreError::Invalid("non-string key attribute".into())),
                        }
                    }
                    return Ok(Page { items, next: Some(cursor::encode_map(&map)) });
                }
                None => return Ok(Page { items, next: None }),
            }
        }
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() || writes.len() > 100 {
            return Err(StoreError::Invalid("a transaction holds 1..=100 writes".into()));
        }
        for _ in 0..EXPIRED_RETRIES {
            let now = self.clock.now_secs();
            let items = writes.iter().map(|w| self.tx_item(w, now)).collect::<Result<Vec<_>, _>>()?;
            let res = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
            let err = match res {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            let reasons: Vec<Option<String>> = match &err {
                SdkError::ServiceError(se) => match se.err() {
                    TransactWriteItemsError::TransactionCanceledException(tc) => {
                        tc.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect()
                    }
                    _ => return Err(map_err(err)),
                },
                _ => return Err(map_err(err)),
            };
            if reasons.iter().any(|r| r.as_deref() == Some("TransactionConflict")) {
                return Err(StoreError::TransactionConflict);
            }
            if reasons.iter().any(|r| r.as_deref() == Some("ValidationError")) {
                return Err(StoreError::Invalid("transaction validation failed".into()));
            }
            // A failed update guard may be an expired item in the way: purge and retry.
            let mut purged = false;
            for w in &writes {
                if let Write::Update { key, .. } = w {
                    purged |= self.purge_if_expired(key, now).await?;
                }
            }
            if !purged {
                return Err(StoreError::ConditionFailed);
            }
        }
        Err(StoreError::ConditionFailed)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client.describe_table().table_name(&self.name).send().await.map_err(map_err)?;
        Ok(())
    }
}
