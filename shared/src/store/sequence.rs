//! Integer ids for users and sites from an atomic counter item.
//!
//! Creating users and sites is rare, so one counter item per kind is no hot key.

use super::{Db, StoreError, key, n};

impl Db {
    /// The next id of `kind` (`user`, `site`), starting at 1.
    pub(crate) async fn next_id(&self, kind: &str) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.tables.app)
            .set_key(Some(key(format!("SEQ#{kind}"), "SEQ")))
            .update_expression("ADD #v :one")
            .expression_attribute_names("#v", "value")
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(StoreError::dynamo("UpdateItem"))?;
        out.attributes()
            .and_then(|a| a.get("value"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| StoreError::Malformed(format!("sequence {kind} has no numeric value")))
    }
}
