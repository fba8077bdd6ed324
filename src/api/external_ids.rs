//! External ids on the wire: `{system, value}` in bodies and responses, `?external_id=system:value`
//! in list filters.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::domain::external_ids::{self as rules, ExternalId};
use crate::error::ApiError;

/// An identifier of this record in another system (a student information system, a OneRoster
/// export). Unique per system among records of the same kind; values are case-sensitive.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"system": "sis", "value": "12345"}))]
pub struct ExternalIdBody {
    /// The other system's name, e.g. `sis` or `oneroster`.
    #[validate(custom(function = "system"))]
    #[schema(min_length = 1, max_length = 32)]
    pub system: String,
    /// The record's id in that system.
    #[validate(custom(function = "value"))]
    #[schema(min_length = 1, max_length = 200)]
    pub value: String,
}

fn system(v: &str) -> Result<(), ValidationError> {
    check(rules::system_problem(v))
}

fn value(v: &str) -> Result<(), ValidationError> {
    check(rules::value_problem(v))
}

fn check(problem: Option<String>) -> Result<(), ValidationError> {
    match problem {
        None => Ok(()),
        Some(message) => {
            let mut e = ValidationError::new("external_id");
            e.message = Some(message.into());
            Err(e)
        }
    }
}

impl From<ExternalIdBody> for ExternalId {
    fn from(b: ExternalIdBody) -> ExternalId {
        ExternalId {
            system: b.system,
            value: b.value,
        }
    }
}

impl From<ExternalId> for ExternalIdBody {
    fn from(e: ExternalId) -> ExternalIdBody {
        ExternalIdBody {
            system: e.system,
            value: e.value,
        }
    }
}

/// Request bodies' lists into the command layer's.
pub fn into_ids(list: Vec<ExternalIdBody>) -> Vec<ExternalId> {
    list.into_iter().map(ExternalId::from).collect()
}

/// A merge-patch value of the list into the command layer's.
pub fn patch_ids(list: Option<Option<Vec<ExternalIdBody>>>) -> Option<Option<Vec<ExternalId>>> {
    list.map(|l| l.map(into_ids))
}

/// Stored ids into responses.
pub fn out_ids(list: Vec<ExternalId>) -> Vec<ExternalIdBody> {
    list.into_iter().map(ExternalIdBody::from).collect()
}

/// Parses `?external_id=system:value` (422 naming the parameter when malformed).
pub fn filter(text: Option<String>) -> Result<Option<ExternalId>, ApiError> {
    text.map(|t| rules::parse_filter(&t).map_err(|m| ApiError::validation("external_id", m)))
        .transpose()
}
