//! Identity and access: bearer tokens, who the caller is, what they may do, and the audit trail
//! of every write and every read of protected records.

pub mod policy;
pub mod secrets;
pub mod throttle;
pub mod tokens;

use std::future::{ready, Ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use tracing_actix_web::RequestId;

use crate::db::{self, access::AuditEvent, AnyConnection};
use crate::error::ApiError;
use crate::state::AppState;
pub use policy::{Actor, Decision, Grant, Principal, Role};
pub use tokens::IdentityClaim;

/// The principal [`authenticate`] established for this request (anonymous when none).
fn principal_of(req: &HttpRequest) -> Principal {
    req.extensions()
        .get::<Principal>()
        .cloned()
        .unwrap_or_else(Principal::anonymous)
}

/// The caller of this request, as established by [`authenticate`].
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Caller(principal_of(req))))
    }
}

/// A caller that must be signed in: anonymous requests stop here with 401, before the body is
/// read (every write needs a signed-in caller).
pub struct SignedIn(pub Principal);

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Ready<Result<SignedIn, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = principal_of(req);
        ready(if principal.is_authenticated() {
            Ok(SignedIn(principal))
        } else {
            Err(ApiError::Unauthorized(
                "this needs a bearer token (Authorization: Bearer <token>)".to_owned(),
            ))
        })
    }
}

/// Turns a policy decision into the response a client sees.
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

fn bearer(req: &ServiceRequest) -> Option<Result<String, ApiError>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    let text = match value.to_str() {
        Ok(t) => t,
        Err(_) => {
            return Some(Err(ApiError::Unauthorized(
                "the Authorization header is not valid text".to_owned(),
            )))
        }
    };
    let mut parts = text.splitn(2, ' ');
    let scheme = parts.next().unwrap_or("");
    let token = parts.next().unwrap_or("").trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Some(Err(ApiError::Unauthorized(
            "use Authorization: Bearer <token>".to_owned(),
        )));
    }
    Some(Ok(token.to_owned()))
}

/// Who a verified token speaks for.
fn resolve(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let (claims, local) = state
        .tokens
        .verify(token)
        .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    let identity_claim = state.identity_claim;
    state.db.read(|conn| {
        let unknown =
            || ApiError::Unauthorized("the token's subject is not a cogov user".to_owned());
        let client = if local {
            claims.sub.strip_prefix("client:")
        } else {
            None
        };
        if let Some(client_id) = client {
            let row = db::access::client::by_client_id(conn, client_id)?.ok_or_else(unknown)?;
            if row.disabled {
                return Err(unknown());
            }
            return principal_for(conn, Actor::Client(row.client_id));
        }
        let person_id = match (local, claims.sub.strip_prefix("person:"), identity_claim) {
            (true, Some(id), _) => {
                let account = db::access::account::by_person(conn, id)?.ok_or_else(unknown)?;
                if account.disabled {
                    return Err(unknown());
                }
                account.person_id
            }
            (true, None, _) => return Err(unknown()),
            (false, _, IdentityClaim::Sub) => {
                let account = db::access::account::by_external_subject(conn, &claims.sub)?
                    .ok_or_else(unknown)?;
                if account.disabled {
                    return Err(unknown());
                }
                account.person_id
            }
            (false, _, IdentityClaim::Email) => {
                // Once bound, only the provider's subject counts: a later edit of anyone's
                // email (staff may edit people's records, people their own) changes nothing.
                if let Some(account) = db::access::account::by_external_subject(conn, &claims.sub)?
                {
                    if account.disabled {
                        return Err(unknown());
                    }
                    account.person_id
                } else {
                    let email = claims
                        .email
                        .as_deref()
                        .filter(|_| claims.email_verified != Some(false))
                        .ok_or_else(unknown)?;
                    bind_by_email(state, conn, &claims.sub, email)?.ok_or_else(unknown)?
                }
            }
        };
        principal_for(conn, Actor::Person(person_id))
    })
}

/// First sign-in of a provider subject under `jwt_identity_claim = email`: binds the subject to
/// the one account whose person has this email, and returns that person. Nothing is bound (and
/// the caller is unknown) when no account or several have the email, when that account is bound
/// already (to another subject), is disabled, or holds a privileged role (`district_admin`,
/// `council_staff`): emails are editable by staff and by people themselves, so a privileged
/// account is linked only by an operator (`cogov admin link-identity`).
fn bind_by_email(
    state: &AppState,
    conn: &mut AnyConnection,
    subject: &str,
    email: &str,
) -> Result<Option<String>, ApiError> {
    let accounts = db::access::account::by_person_email(conn, email)?;
    let [account] = accounts.as_slice() else {
        return Ok(None);
    };
    if account.disabled || account.external_subject.is_some() {
        return Ok(None);
    }
    let privileged = db::access::grant::of_subject(conn, "person", &account.person_id)?
        .iter()
        .any(|g| matches!(g.role.as_str(), "district_admin" | "council_staff"));
    if privileged {
        return Ok(None);
    }
    let account_id = account.id.clone();
    let owned_subject = subject.to_owned();
    // The binding is conditional on the account being unbound, and a subject can be bound to one
    // account only (unique index): of concurrent first sign-ins, at most one binds.
    let bound =
        state.db.write_blocking(|conn| {
            match db::access::account::bind_external_subject(
                conn,
                &account_id,
                &owned_subject,
                db::now(),
            ) {
                Ok(bound) => Ok(bound),
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Ok(false),
                Err(e) => Err(ApiError::from(e)),
            }
        })?;
    if !bound {
        // Another request may have bound this very subject a moment ago.
        return Ok(db::access::account::by_external_subject(conn, subject)?
            .filter(|a| a.id == account.id && !a.disabled)
            .map(|a| a.person_id));
    }
    tracing::info!(account = %account.id, "identity provider subject bound to an account by email");
    Ok(Some(account.person_id.clone()))
}

fn principal_for(conn: &mut AnyConnection, actor: Actor) -> Result<Principal, ApiError> {
    let (kind, id) = match &actor {
        Actor::Person(id) => ("person", id.as_str()),
        Actor::Client(id) => ("client", id.as_str()),
        Actor::Anonymous => return Ok(Principal::anonymous()),
    };
    let grants = db::access::grant::of_subject(conn, kind, id)?
        .into_iter()
        .filter_map(|g| {
            Role::parse(&g.role).map(|role| Grant {
                role,
                council_id: g.council_id,
            })
        })
        .collect();
    let seated_on = match &actor {
        Actor::Person(id) => db::access::seated_now(conn, id)?,
        _ => Vec::new(),
    };
    Ok(Principal {
        actor,
        grants,
        seated_on,
    })
}

/// Requests the audit trail records: every write, and every read of protected records (people,
/// grants, the audit trail itself, `/me`). Sign-ins are recorded by the token endpoint itself.
fn audited(method: &Method, path: &str) -> bool {
    if !path.starts_with("/api/v1/") || path == "/api/v1/auth/token" {
        return false;
    }
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    [
        "/api/v1/people",
        "/api/v1/grants",
        "/api/v1/audit-events",
        "/api/v1/me",
    ]
    .iter()
    .any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// What an audit event says about the caller and the request.
pub struct RequestFacts {
    pub request_id: Option<String>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestFacts {
    pub fn of(req: &HttpRequest) -> RequestFacts {
        RequestFacts {
            request_id: req.extensions().get::<RequestId>().map(|id| id.to_string()),
            client_address: req.peer_addr().map(|a| a.ip().to_string()),
            user_agent: req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(200).collect()),
        }
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
    }
}

fn action_of(method: &Method, pattern: &str) -> &'static str {
    match *method {
        Method::GET | Method::HEAD if pattern.ends_with('}') => "read",
        Method::GET | Method::HEAD => "list",
        Method::POST => "create",
        Method::DELETE => "delete",
        _ => "update",
    }
}

/// Establishes the caller (401 for a bad token), runs the request, and records it in the audit
/// trail when it is a write or a read of protected records. A protected read whose audit record
/// cannot be written is not served (503): no disclosure goes unrecorded.
pub async fn authenticate<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    // The token endpoint reads its own Authorization header (HTTP Basic client credentials).
    let credentials = if req.path() == "/api/v1/auth/token" {
        None
    } else {
        bearer(&req)
    };
    let principal = match credentials {
        None => Ok(Principal::anonymous()),
        Some(Err(e)) => Err(e),
        Some(Ok(token)) => resolve(&state, &token),
    };
    let audit = audited(req.method(), req.path());
    let principal = match principal {
        Ok(p) => p,
        Err(err) => {
            let (http_req, _) = req.into_parts();
            if audit {
                let facts = RequestFacts::of(&http_req);
                let event = audit_event(
                    &Principal::anonymous(),
                    &facts,
                    "authenticate",
                    http_req.path(),
                    None,
                    401,
                );
                let _ = state
                    .db
                    .write(move |conn| {
                        db::access::audit::record(conn, &event).map_err(ApiError::from)
                    })
                    .await;
            }
            let res = HttpResponse::from_error(err);
            return Ok(ServiceResponse::new(http_req, res).map_into_right_body());
        }
    };
    req.extensions_mut().insert(principal.clone());
    let method = req.method().clone();
    let res = next.call(req).await?;
    if !audit {
        return Ok(res.map_into_left_body());
    }
    let request = res.request();
    let pattern = request
        .match_pattern()
        .unwrap_or_else(|| request.path().to_owned());
    let created = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| l.rsplit('/').next())
        .map(str::to_owned);
    let resource_id = created.or_else(|| {
        request
            .match_info()
            .iter()
            .next()
            .map(|(_, v)| v.to_owned())
    });
    let facts = RequestFacts::of(request);
    let status = res.status().as_u16();
    let event = audit_event(
        &principal,
        &facts,
        action_of(&method, &pattern),
        &pattern,
        resource_id,
        status,
    );
    let recorded = state
        .db
        .write(move |conn| db::access::audit::record(conn, &event).map_err(ApiError::from))
        .await;
    match recorded {
        Ok(()) => Ok(res.map_into_left_body()),
        Err(err) if method == Method::GET => {
            tracing::error!(error = %err, "audit record failed; the read is refused");
            let (http_req, _) = res.into_parts();
            let res = HttpResponse::from_error(ApiError::Unavailable(
                "the audit trail cannot be written".to_owned(),
            ));
            Ok(ServiceResponse::new(http_req, res).map_into_right_body())
        }
        Err(err) => {
            tracing::error!(error = %err, "audit record of a write failed");
            Ok(res.map_into_left_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_audited() {
        assert!(audited(&Method::POST, "/api/v1/councils"));
        assert!(audited(&Method::DELETE, "/api/v1/seats/x/holder"));
        assert!(audited(&Method::GET, "/api/v1/people"));
        assert!(audited(&Method::GET, "/api/v1/people/abc"));
        assert!(audited(&Method::GET, "/api/v1/audit-events"));
        assert!(!audited(&Method::GET, "/api/v1/councils/abc"));
        assert!(!audited(&Method::GET, "/api/v1/peoplex"));
        assert!(!audited(&Method::POST, "/api/v1/auth/token"));
        assert!(!audited(&Method::GET, "/health/live"));
    }
}
