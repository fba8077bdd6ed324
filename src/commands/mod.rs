//! The command layer: what a caller may do, one module per aggregate.
//!
//! Every operation is a function that takes the caller ([`Context`]), its input and storage, and
//! does load → authorize (`auth::policy`) → domain rule (`domain`) → write (`db`, with its change
//! log entry) → audit event, the write and its audit event in one transaction. The HTTP handlers
//! (`api`), the CLI, importers and background jobs all call these functions; none of them holds a
//! business rule, and nothing here knows about HTTP.

pub mod access;
pub mod accounts;
pub mod agenda;
pub mod apps;
pub mod assemblies;
pub mod calendar;
pub mod changes;
pub mod councils;
pub mod external_ids;
pub mod findings;
pub mod governance_reports;
pub mod idempotency;
pub mod imports;
pub mod meetings;
pub mod minutes;
pub mod motions;
pub mod participation;
pub mod people;
pub mod public;
pub mod record;
pub mod reports;
pub mod schools;
pub mod seats;
pub mod services;
pub mod sign_in;
pub mod webhooks;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::auth::policy::{Actor, Decision, Principal};
use crate::db::{self, access::AuditEvent, AnyConnection, Db};
use crate::error::ApiError;

/// Facts about the request an audit event records.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    pub request_id: Option<String>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
}

/// Who is asking, for which operation, and where its audit record goes.
#[derive(Debug, Clone)]
pub struct Context {
    pub caller: Principal,
    pub facts: RequestFacts,
    /// The operation as the audit trail names it: the matched route template of an API request
    /// (`/api/v1/councils/{council_id}`), or `cli:<command>` for the command line.
    pub operation: String,
    /// Set once a command has committed its audit event with its write; the HTTP layer then
    /// records nothing more for the request.
    recorded: Arc<AtomicBool>,
    /// Set once the command checked that an app acting for a family has the scope it needs
    /// ([`Context::for_app`]); an app's write without that check is refused.
    app_checked: Arc<AtomicBool>,
}

impl Context {
    pub fn new(caller: Principal, facts: RequestFacts, operation: impl Into<String>) -> Context {
        Context {
            caller,
            facts,
            operation: operation.into(),
            recorded: Arc::new(AtomicBool::new(false)),
            app_checked: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A context whose audit mark is shared with the HTTP layer (see [`Context::recorded`]).
    pub fn with_mark(
        caller: Principal,
        facts: RequestFacts,
        operation: impl Into<String>,
        recorded: Arc<AtomicBool>,
    ) -> Context {
        Context {
            caller,
            facts,
            operation: operation.into(),
            recorded,
            app_checked: Arc::new(AtomicBool::new(false)),
        }
    }

    /// True once this request's audit event was committed together with its write.
    pub fn recorded(&self) -> bool {
        self.recorded.load(Ordering::Acquire)
    }

    /// Checks that an app acting for a family holds `scope` (people and API clients pass), and
    /// notes the check for [`Context::write`]. Commands an app may use call this first; `None`
    /// refuses every app.
    pub fn for_app(&self, scope: Option<crate::domain::apps::Scope>) -> Result<(), ApiError> {
        if crate::auth::policy::app_may(&self.caller, scope) != Decision::Allow {
            let needed = scope.map_or("".to_owned(), |s| format!(" (it needs {})", s.as_str()));
            return Err(ApiError::Forbidden(format!(
                "the app was not allowed to do this for you{needed}"
            )));
        }
        self.app_checked.store(true, Ordering::Release);
        Ok(())
    }

    /// Notes that this request's audit event was committed by a command acting under another
    /// context (a family taking up an invitation speaks for itself).
    pub(crate) fn mark_recorded(&self) {
        self.recorded.store(true, Ordering::Release);
    }

    /// Marks an app's context as checked for the token endpoint, whose writes (codes exchanged,
    /// refresh tokens rotated) are the app's own.
    pub(crate) fn token_endpoint(&self) {
        self.app_checked.store(true, Ordering::Release);
    }

    /// An app's write through a command that never asked [`Context::for_app`] is refused: what
    /// an app may do is listed, not assumed.
    fn app_write_allowed(&self) -> Result<Option<String>, ApiError> {
        match &self.caller.app {
            None => Ok(None),
            Some(_) if !self.app_checked.load(Ordering::Acquire) => Err(ApiError::Forbidden(
                "apps cannot do this for a family".to_owned(),
            )),
            Some(app) => Ok(Some(app.grant_id.clone())),
        }
    }

    /// Turns a policy decision into an error the caller sees.
    pub fn require(&self, decision: Decision, what: &str, id: &str) -> Result<(), ApiError> {
        require(decision, what, id)
    }

    /// The audit event this context writes for an outcome.
    pub fn audit_event(
        &self,
        action: &str,
        resource_id: Option<String>,
        status: u16,
    ) -> AuditEvent {
        audit_event(
            &self.caller,
            &self.facts,
            action,
            &self.operation,
            resource_id,
            status,
        )
    }

    /// Runs a write and its audit event in one transaction: `work` runs first; when it
    /// succeeds, the event (`action` on `resource_id`, answered with `status`) is written in the
    /// same transaction, so a committed change always has its audit event and an audit event
    /// never describes a change that did not happen. A failed `work` writes nothing here; the
    /// HTTP layer records the refusal separately.
    pub async fn write<T>(
        &self,
        db: &Db,
        action: &'static str,
        resource_id: Option<String>,
        status: u16,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
    {
        let app_grant = self.app_write_allowed()?;
        let event = self.audit_event(action, resource_id, status);
        let out = db
            .write(move |conn| {
                let out = work(conn)?;
                if let Some(grant) = &app_grant {
                    db::apps::grant::touch(conn, grant, event.occurred_at)?;
                }
                db::access::audit::record(conn, &event)?;
                Ok::<_, ApiError>(out)
            })
            .await?;
        self.recorded.store(true, Ordering::Release);
        Ok(out)
    }

    /// As [`Context::write`], for a write whose record id is known only once it has run (an id
    /// made inside the transaction): `id_of` names it for the audit event.
    pub async fn write_with_id<T>(
        &self,
        db: &Db,
        action: &'static str,
        status: u16,
        id_of: fn(&T) -> String,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
    {
        let app_grant = self.app_write_allowed()?;
        let mut event = self.audit_event(action, None, status);
        let out = db
            .write(move |conn| {
                let out = work(conn)?;
                if let Some(grant) = &app_grant {
                    db::apps::grant::touch(conn, grant, event.occurred_at)?;
                }
                event.resource_id = Some(id_of(&out));
                db::access::audit::record(conn, &event)?;
                Ok::<_, ApiError>(out)
            })
            .await?;
        self.recorded.store(true, Ordering::Release);
        Ok(out)
    }
}

/// Turns a policy decision into the error a caller sees.
pub fn require(decision: Decision, what: &str, id: &str) -> Result<(), ApiError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::SignIn => Err(ApiError::Unauthorized(
            "this needs a bearer token (Authorization: Bearer <token>)".to_owned(),
        )),
        Decision::Forbid => Err(ApiError::Forbidden(format!(
            "your roles do not allow this on {what} {id}"
        ))),
        Decision::Hidden => Err(ApiError::not_found(what, id)),
    }
}

/// Builds an audit event.
pub fn audit_event(
    principal: &Principal,
    facts: &RequestFacts,
    action: &str,
    resource: &str,
    resource_id: Option<String>,
    status: u16,
) -> AuditEvent {
    let (actor_kind, actor_id) = match &principal.actor {
        Actor::Anonymous => ("anonymous", None),
        Actor::Person(id) => ("person", Some(id.clone())),
        Actor::Client(id) => ("client", Some(id.clone())),
    };
    let outcome = match status {
        0..=399 => "allowed",
        401 | 403 | 404 | 429 => "denied",
        _ => "failed",
    };
    AuditEvent {
        id: uuid::Uuid::now_v7().to_string(),
        occurred_at: db::now(),
        actor_kind: actor_kind.to_owned(),
        actor_id,
        roles: principal.role_names().join(" "),
        action: action.to_owned(),
        resource: resource.to_owned(),
        resource_id,
        outcome: outcome.to_owned(),
        status: i64::from(status),
        request_id: facts.request_id.clone(),
        client_address: facts.client_address.clone(),
        user_agent: facts.user_agent.clone(),
        app_client_id: principal.app.as_ref().map(|a| a.client_id.clone()),
    }
}

/// Which versions of a record a change may apply to (from `If-Match`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Any version (`If-Match: *`).
    Any,
    /// One of these versions.
    Versions(Vec<i64>),
    /// Only weak tags were sent: they never match (RFC 9110 §13.1.1 strong comparison).
    Weak(Vec<String>),
}

impl Expected {
    /// Refuses a change to a record whose current version the caller did not name. The write
    /// itself checks the version again in its statement (`db::changes::versioned_writes`).
    pub fn check(&self, current: i64) -> Result<(), ApiError> {
        match self {
            Expected::Any => Ok(()),
            Expected::Versions(v) if v.contains(&current) => Ok(()),
            Expected::Versions(_) => Err(ApiError::PreconditionFailed(format!(
                "the resource has changed since you read it (current ETag \"{current}\"); read it again and retry"
            ))),
            Expected::Weak(tags) => Err(ApiError::PreconditionFailed(format!(
                "weak ETags such as {} cannot be used in If-Match (RFC 9110 compares If-Match \
                 strongly); send the strong ETag this API returns, e.g. \"{current}\"",
                tags.first().map(String::as_str).unwrap_or("W/\"…\"")
            ))),
        }
    }
}

/// A change to a field in a JSON merge patch (RFC 7396): absent, set, or cleared with `null`.
pub type Patch<T> = Option<Option<T>>;

/// Applies a merge-patch value to a required field: `null` is refused (422 naming the field).
pub fn patch_required<T: PartialEq>(
    target: &mut T,
    value: Patch<T>,
    field: &str,
    errors: &mut Vec<crate::error::FieldError>,
    changed: &mut bool,
) {
    match value {
        None => {}
        Some(None) => errors.push(crate::error::FieldError::new(
            field,
            "is required and cannot be null",
        )),
        Some(Some(v)) if *target != v => {
            *target = v;
            *changed = true;
        }
        Some(Some(_)) => {}
    }
}

/// Applies a merge-patch value to an optional field: `null` clears it.
pub fn patch_optional<T: PartialEq>(target: &mut Option<T>, value: Patch<T>, changed: &mut bool) {
    if let Some(v) = value {
        if *target != v {
            *target = v;
            *changed = true;
        }
    }
}

/// Fails with every collected field error at once.
pub fn fields_ok(errors: Vec<crate::error::FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Fails with every (field, message) problem a domain check found, at once.
pub fn problems_ok<F: Into<String>, M: Into<String>>(
    problems: impl IntoIterator<Item = (F, M)>,
) -> Result<(), ApiError> {
    fields_ok(field_errors(problems))
}

/// The 422 for (field, message) problems a domain check found.
pub fn invalid<F: Into<String>, M: Into<String>>(
    problems: impl IntoIterator<Item = (F, M)>,
) -> ApiError {
    ApiError::Validation(field_errors(problems))
}

fn field_errors<F: Into<String>, M: Into<String>>(
    problems: impl IntoIterator<Item = (F, M)>,
) -> Vec<crate::error::FieldError> {
    problems
        .into_iter()
        .map(|(field, message)| crate::error::FieldError::new(field, message))
        .collect()
}

/// A new record id: UUIDv7, time-ordered, made by the application on both backends.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
