//! Wraparound services: the service catalog, partner organizations and their members, and
//! service requests (lifecycle, notes, consents, disclosure records).
//!
//! Who plays which part for a request is decided by `auth::policy::request_parties` from facts
//! gathered here; which transition a part may make, which notes it may read and whose consent
//! counts are domain rules (`domain::services`).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde_json::Value;

use super::{fields_ok, new_id, patch_optional, patch_required, require, Context, Expected, Patch};
use crate::auth::policy::{self, Principal, ServiceRequestFacts};
use crate::db::dialect::{try_lock_row, LockTable};
use crate::db::services::{
    categories, consents, disclosures, events, exceptions, members, notes, partners, requests,
    Category, Consent, Disclosure, DisclosureException, Event, Member, Note, Partner, Request,
    RequestFilter, Scope,
};
use crate::db::{self, AnyConnection, Db};
use crate::domain::reports;
use crate::domain::services::{
    self as rules, Action, AttributeDefinition, ConsentClass, ConsentFacts, Giver, Party, Status,
    Visibility,
};
use crate::error::{ApiError, FieldError};

fn problems_to_errors(problems: Vec<rules::Problem>) -> Vec<FieldError> {
    problems
        .into_iter()
        .map(|p| FieldError::new(p.field, p.message))
        .collect()
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::Internal(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::Internal(format!("stored {what}: {e}")))
}

// ---------------------------------------------------------------------------------------------
// The catalog

/// A category as stored, with its JSON columns read.
#[derive(Debug, Clone)]
pub struct CategoryRecord {
    pub row: Category,
    pub names: BTreeMap<String, String>,
    pub descriptions: BTreeMap<String, String>,
    pub consent_class: ConsentClass,
    pub attributes: Vec<AttributeDefinition>,
}

impl TryFrom<Category> for CategoryRecord {
    type Error = ApiError;

    fn try_from(row: Category) -> Result<Self, ApiError> {
        Ok(CategoryRecord {
            names: from_json("category names", &row.names)?,
            descriptions: from_json("category descriptions", &row.descriptions)?,
            consent_class: ConsentClass::parse(&row.consent_class).ok_or_else(|| {
                ApiError::Internal(format!("stored consent class {:?}", row.consent_class))
            })?,
            attributes: from_json("category attributes", &row.attributes)?,
            row,
        })
    }
}

pub struct NewCategory {
    pub code: String,
    pub names: BTreeMap<String, String>,
    pub descriptions: BTreeMap<String, String>,
    pub active: bool,
    pub first_contact_school_days: Option<i64>,
    pub pillar: Option<String>,
    pub sensitive: bool,
    pub consent_class: ConsentClass,
    pub attributes: Vec<AttributeDefinition>,
}

#[derive(Default)]
pub struct CategoryChanges {
    pub names: Patch<BTreeMap<String, String>>,
    pub descriptions: Patch<BTreeMap<String, String>>,
    pub active: Patch<bool>,
    pub first_contact_school_days: Patch<i64>,
    pub pillar: Patch<String>,
    pub sensitive: Patch<bool>,
    pub consent_class: Patch<ConsentClass>,
    pub attributes: Patch<Vec<AttributeDefinition>>,
}

fn check_category(
    names: &BTreeMap<String, String>,
    descriptions: &BTreeMap<String, String>,
    attributes: &[AttributeDefinition],
) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    rules::check_localized(names, "names", 200, true, &mut problems);
    rules::check_localized(descriptions, "descriptions", 4000, false, &mut problems);
    rules::check_definitions(attributes, &mut problems);
    fields_ok(problems_to_errors(problems))
}

fn find_category_row(conn: &mut AnyConnection, id: &str) -> Result<Category, ApiError> {
    categories::find(conn, id)?.ok_or_else(|| ApiError::not_found("service category", id))
}

pub fn list_categories(
    db: &Db,
    active: Option<bool>,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<CategoryRecord>, ApiError> {
    let rows = db.read(|conn| Ok::<_, ApiError>(categories::list(conn, active, after, fetch)?))?;
    rows.into_iter().map(CategoryRecord::try_from).collect()
}

pub fn find_category(db: &Db, id: &str) -> Result<CategoryRecord, ApiError> {
    CategoryRecord::try_from(db.read(|conn| find_category_row(conn, id))?)
}

pub async fn create_category(
    ctx: &Context,
    db: &Db,
    input: NewCategory,
) -> Result<CategoryRecord, ApiError> {
    require(
        policy::district_admin_only(&ctx.caller),
        "service categories",
        "",
    )?;
    check_category(&input.names, &input.descriptions, &input.attributes)?;
    let now = db::now();
    let row = Category {
        id: new_id(),
        code: input.code,
        names: to_json(&input.names)?,
        descriptions: to_json(&input.descriptions)?,
        active: input.active,
        first_contact_school_days: input.first_contact_school_days,
        pillar: input.pillar,
        sensitive: input.sensitive,
        consent_class: input.consent_class.as_str().to_owned(),
        attributes: to_json(&input.attributes)?,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let row = ctx
        .write(db, "create", Some(row.id.clone()), 201, move |conn| {
            categories::insert(conn, &row).map_err(|e| match e {
                db::StoreError::Duplicate(_) => ApiError::Conflict {
                    code: "duplicate-code",
                    detail: format!("a service category with code {:?} exists", row.code),
                },
                other => other.into(),
            })?;
            Ok(row)
        })
        .await?;
    CategoryRecord::try_from(row)
}

pub async fn update_category(
    ctx: &Context,
    db: &Db,
    id: String,
    expected: Expected,
    changes: CategoryChanges,
) -> Result<CategoryRecord, ApiError> {
    let caller = ctx.caller.clone();
    let row = ctx
        .write(db, "update", Some(id.clone()), 200, move |conn| {
            let row = find_category_row(conn, &id)?;
            require(
                policy::district_admin_only(&caller),
                "service category",
                &id,
            )?;
            expected.check(row.version)?;
            let mut rec = CategoryRecord::try_from(row)?;
            let (mut errors, mut changed) = (Vec::new(), false);
            patch_required(
                &mut rec.names,
                changes.names,
                "names",
                &mut errors,
                &mut changed,
            );
            patch_required(
                &mut rec.descriptions,
                changes.descriptions,
                "descriptions",
                &mut errors,
                &mut changed,
            );
            patch_required(
                &mut rec.row.active,
                changes.active,
                "active",
                &mut errors,
                &mut changed,
            );
            patch_optional(
                &mut rec.row.first_contact_school_days,
                changes.first_contact_school_days,
                &mut changed,
            );
            patch_optional(&mut rec.row.pillar, changes.pillar, &mut changed);
            patch_required(
                &mut rec.row.sensitive,
                changes.sensitive,
                "sensitive",
                &mut errors,
                &mut changed,
            );
            patch_required(
                &mut rec.consent_class,
                changes.consent_class,
                "consent_class",
                &mut errors,
                &mut changed,
            );
            patch_required(
                &mut rec.attributes,
                changes.attributes,
                "attributes",
                &mut errors,
                &mut changed,
            );
            fields_ok(errors)?;
            check_category(&rec.names, &rec.descriptions, &rec.attributes)?;
            let mut row = rec.row;
            if !changed {
                return Ok(row);
            }
            row.names = to_json(&rec.names)?;
            row.descriptions = to_json(&rec.descriptions)?;
            row.consent_class = rec.consent_class.as_str().to_owned();
            row.attributes = to_json(&rec.attributes)?;
            row.version += 1;
            row.updated_at = db::now();
            categories::update(conn, &row)?;
            Ok(row)
        })
        .await?;
    CategoryRecord::try_from(row)
}

// ---------------------------------------------------------------------------------------------
// Partner organizations

/// Where a partner organization serves which category.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Offering {
    pub category_id: String,
    pub school_id: String,
}

#[derive(Debug, Clone)]
pub struct PartnerRecord {
    pub row: Partner,
    pub offerings: Vec<Offering>,
}

impl TryFrom<Partner> for PartnerRecord {
    type Error = ApiError;

    fn try_from(row: Partner) -> Result<Self, ApiError> {
        Ok(PartnerRecord {
            offerings: from_json("partner offerings", &row.offerings)?,
            row,
        })
    }
}

pub struct NewPartner {
    pub name: String,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub offerings: Vec<Offering>,
    pub active: bool,
}

#[derive(Default)]
pub struct PartnerChanges {
    pub name: Patch<String>,
    pub contact_email: Patch<String>,
    pub contact_phone: Patch<String>,
    pub offerings: Patch<Vec<Offering>>,
    pub active: Patch<bool>,
}

/// Every offering names a category and a school that exist, once.
fn check_offerings(conn: &mut AnyConnection, offerings: &[Offering]) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for (i, o) in offerings.iter().enumerate() {
        if categories::find(conn, &o.category_id)?.is_none() {
            errors.push(FieldError::new(
                format!("offerings[{i}].category_id"),
                "no service category with this id",
            ));
        }
        if db::schools::find(conn, &o.school_id)?.is_none() {
            errors.push(FieldError::new(
                format!("offerings[{i}].school_id"),
                "no school with this id",
            ));
        }
        if offerings[..i].contains(o) {
            errors.push(FieldError::new(format!("offerings[{i}]"), "is repeated"));
        }
    }
    fields_ok(errors)
}

fn find_partner_row(conn: &mut AnyConnection, id: &str) -> Result<Partner, ApiError> {
    partners::find(conn, id)?.ok_or_else(|| ApiError::not_found("partner organization", id))
}

pub fn list_partners(
    db: &Db,
    active: Option<bool>,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<PartnerRecord>, ApiError> {
    let rows = db.read(|conn| Ok::<_, ApiError>(partners::list(conn, active, after, fetch)?))?;
    rows.into_iter().map(PartnerRecord::try_from).collect()
}

pub fn find_partner(db: &Db, id: &str) -> Result<PartnerRecord, ApiError> {
    PartnerRecord::try_from(db.read(|conn| find_partner_row(conn, id))?)
}

pub async fn create_partner(
    ctx: &Context,
    db: &Db,
    input: NewPartner,
) -> Result<PartnerRecord, ApiError> {
    require(
        policy::district_admin_only(&ctx.caller),
        "partner organizations",
        "",
    )?;
    let now = db::now();
    let row = Partner {
        id: new_id(),
        name: input.name,
        contact_email: input.contact_email,
        contact_phone: input.contact_phone,
        offerings: to_json(&input.offerings)?,
        active: input.active,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let offerings = input.offerings;
    let row = ctx
        .write(db, "create", Some(row.id.clone()), 201, move |conn| {
            check_offerings(conn, &offerings)?;
            partners::insert(conn, &row)?;
            Ok(row)
        })
        .await?;
    PartnerRecord::try_from(row)
}

pub async fn update_partner(
    ctx: &Context,
    db: &Db,
    id: String,
    expected: Expected,
    changes: PartnerChanges,
) -> Result<PartnerRecord, ApiError> {
    let caller = ctx.caller.clone();
    let row = ctx
        .write(db, "update", Some(id.clone()), 200, move |conn| {
            let row = find_partner_row(conn, &id)?;
            require(
                policy::district_admin_only(&caller),
                "partner organization",
                &id,
            )?;
            expected.check(row.version)?;
            let mut rec = PartnerRecord::try_from(row)?;
            let (mut errors, mut changed) = (Vec::new(), false);
            patch_required(
                &mut rec.row.name,
                changes.name,
                "name",
                &mut errors,
                &mut changed,
            );
            patch_optional(
                &mut rec.row.contact_email,
                changes.contact_email,
                &mut changed,
            );
            patch_optional(
                &mut rec.row.contact_phone,
                changes.contact_phone,
                &mut changed,
            );
            patch_required(
                &mut rec.offerings,
                changes.offerings,
                "offerings",
                &mut errors,
                &mut changed,
            );
            patch_required(
                &mut rec.row.active,
                changes.active,
                "active",
                &mut errors,
                &mut changed,
            );
            fields_ok(errors)?;
            check_offerings(conn, &rec.offerings)?;
            let mut row = rec.row;
            if !changed {
                return Ok(row);
            }
            row.offerings = to_json(&rec.offerings)?;
            row.version += 1;
            row.updated_at = db::now();
            partners::update(conn, &row)?;
            Ok(row)
        })
        .await?;
    PartnerRecord::try_from(row)
}

pub fn list_members(
    ctx: &Context,
    db: &Db,
    partner_id: &str,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<Member>, ApiError> {
    db.read(|conn| {
        find_partner_row(conn, partner_id)?;
        require(
            policy::district_admin_only(&ctx.caller),
            "partner organization",
            partner_id,
        )?;
        Ok(members::of_partner(conn, partner_id, after, fetch)?)
    })
}

/// Makes a person a member of a partner organization (with the `partner` role, they then see
/// the requests referred to it under a consent in force).
pub async fn add_member(
    ctx: &Context,
    db: &Db,
    partner_id: String,
    person_id: String,
) -> Result<Member, ApiError> {
    let caller = ctx.caller.clone();
    let now = db::now();
    let row = Member {
        id: new_id(),
        partner_id,
        person_id,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    ctx.write(db, "create", Some(row.id.clone()), 201, move |conn| {
        find_partner_row(conn, &row.partner_id)?;
        require(
            policy::district_admin_only(&caller),
            "partner organization",
            &row.partner_id,
        )?;
        if db::people::find(conn, &row.person_id)?.is_none() {
            return Err(ApiError::validation("person_id", "no person with this id"));
        }
        members::insert(conn, &row).map_err(|e| match e {
            db::StoreError::Duplicate(_) => ApiError::Conflict {
                code: "already-member",
                detail: "this person is already a member of this organization".to_owned(),
            },
            other => other.into(),
        })?;
        Ok(row)
    })
    .await
}

pub async fn remove_member(
    ctx: &Context,
    db: &Db,
    partner_id: String,
    member_id: String,
    expected: Expected,
) -> Result<(), ApiError> {
    let caller = ctx.caller.clone();
    ctx.write(db, "delete", Some(member_id.clone()), 204, move |conn| {
        find_partner_row(conn, &partner_id)?;
        require(
            policy::district_admin_only(&caller),
            "partner organization",
            &partner_id,
        )?;
        let row = members::find(conn, &member_id)?
            .filter(|m| m.partner_id == partner_id)
            .ok_or_else(|| ApiError::not_found("partner member", &member_id))?;
        expected.check(row.version)?;
        members::delete(conn, &row)?;
        Ok(())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Service requests

pub struct NewRequest {
    pub school_id: String,
    pub category_id: String,
    pub subject_code: String,
    pub subject_birth_date: Option<NaiveDate>,
    /// Staff filing for a family name the family member; a family member files for themselves.
    pub family_person_id: Option<String>,
    /// Staff only: the student's own person record (they own the request from 18).
    pub subject_person_id: Option<String>,
    pub description: Option<String>,
    pub attributes: BTreeMap<String, Value>,
    pub preferred_language: String,
    pub contact_method: String,
    pub urgency: String,
}

/// A request with what the caller may see of it.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub row: Request,
    pub status: Status,
    pub attributes: BTreeMap<String, Value>,
    pub parties: Vec<Party>,
    /// The status history (only in single-request reads).
    pub history: Vec<Event>,
}

impl RequestView {
    pub fn is_staff(&self) -> bool {
        self.parties.contains(&Party::Staff)
    }
}

fn status_of(row: &Request) -> Result<Status, ApiError> {
    Status::parse(&row.status)
        .ok_or_else(|| ApiError::Internal(format!("stored status {:?}", row.status)))
}

fn facts(
    conn: &mut AnyConnection,
    caller: &Principal,
    row: &Request,
) -> Result<ServiceRequestFacts, ApiError> {
    let school_councils = db::services::council_ids_of_school(conn, &row.school_id)?;
    let caller_partners = match caller.person_id() {
        Some(p) => members::partners_of(conn, p)?,
        None => Vec::new(),
    };
    let consent_in_force = match &row.partner_id {
        Some(partner) => disclosure_allowed(conn, &row.id, partner)?,
        None => false,
    };
    Ok(ServiceRequestFacts {
        school_councils,
        family_person_id: row.family_person_id.clone(),
        subject_person_id: row.subject_person_id.clone(),
        subject_adult: rules::is_adult(row.subject_birth_date, db::today()),
        partner_id: row.partner_id.clone(),
        caller_partners,
        consent_in_force,
    })
}

/// Whether the partner may have the request: a consent in force names it, or a recorded 99.31
/// exception allowed disclosing it to the partner.
fn disclosure_allowed(
    conn: &mut AnyConnection,
    request_id: &str,
    partner_id: &str,
) -> Result<bool, ApiError> {
    Ok(consents::in_force(conn, request_id, partner_id)?.is_some()
        || exceptions::latest_for(conn, request_id, partner_id)?.is_some())
}

/// Loads a request and the parts the caller plays for it; 404 for callers who play none.
fn load(
    conn: &mut AnyConnection,
    caller: &Principal,
    id: &str,
) -> Result<(Request, Vec<Party>), ApiError> {
    let row =
        requests::find(conn, id)?.ok_or_else(|| ApiError::not_found("service request", id))?;
    let facts = facts(conn, caller, &row)?;
    let parties = policy::request_parties(caller, &facts);
    require(
        policy::read_request(caller, &parties),
        "service request",
        id,
    )?;
    Ok((row, parties))
}

fn view(row: Request, parties: Vec<Party>, history: Vec<Event>) -> Result<RequestView, ApiError> {
    Ok(RequestView {
        status: status_of(&row)?,
        attributes: from_json("request attributes", &row.attributes)?,
        row,
        parties,
        history,
    })
}

pub async fn create_request(
    ctx: &Context,
    db: &Db,
    input: NewRequest,
) -> Result<RequestView, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsWrite))?;
    let caller = ctx.caller.clone();
    let actor = caller
        .actor_key()
        .ok_or_else(|| ApiError::Unauthorized("this needs a bearer token".to_owned()))?;
    let now = db::now();
    let id = new_id();
    ctx.write(db, "create", Some(id.clone()), 201, move |conn| {
        let mut errors = Vec::new();
        if db::schools::find(conn, &input.school_id)?.is_none() {
            errors.push(FieldError::new("school_id", "no school with this id"));
        }
        let category = categories::find(conn, &input.category_id)?;
        match &category {
            None => errors.push(FieldError::new(
                "category_id",
                "no service category with this id",
            )),
            Some(c) if !c.active => errors.push(FieldError::new(
                "category_id",
                "this service category is not offered now",
            )),
            _ => {}
        }
        if let Some(c) = category {
            let rec = CategoryRecord::try_from(c)?;
            errors.extend(problems_to_errors(rules::check_answers(
                &rec.attributes,
                &input.attributes,
            )));
        }
        if let Some(b) = input.subject_birth_date {
            if b > db::today() {
                errors.push(FieldError::new(
                    "subject_birth_date",
                    "must not be in the future",
                ));
            }
        }
        fields_ok(errors)?;
        let councils = db::services::council_ids_of_school(conn, &input.school_id)?;
        require(
            policy::create_request(&caller, &councils),
            "school",
            &input.school_id,
        )?;
        let staff = caller.is_admin() || councils.iter().any(|c| caller.staffs(c));
        let family_person_id = if staff {
            if let Some(p) = &input.family_person_id {
                if db::people::find(conn, p)?.is_none() {
                    return Err(ApiError::validation(
                        "family_person_id",
                        "no person with this id",
                    ));
                }
            }
            if let Some(p) = &input.subject_person_id {
                if db::people::find(conn, p)?.is_none() {
                    return Err(ApiError::validation(
                        "subject_person_id",
                        "no person with this id",
                    ));
                }
            }
            input.family_person_id.clone()
        } else {
            if input.subject_person_id.is_some() {
                return Err(ApiError::validation(
                    "subject_person_id",
                    "only staff link a request to the student's own record",
                ));
            }
            // A family member files for themselves only.
            if input
                .family_person_id
                .as_deref()
                .is_some_and(|p| Some(p) != caller.person_id())
            {
                return Err(ApiError::validation(
                    "family_person_id",
                    "a family member files requests for themselves (leave this out)",
                ));
            }
            caller.person_id().map(str::to_owned)
        };
        let row = Request {
            id: id.clone(),
            school_id: input.school_id,
            category_id: input.category_id,
            subject_code: input.subject_code,
            subject_birth_date: input.subject_birth_date,
            family_person_id,
            description: input.description,
            attributes: to_json(&input.attributes)?,
            preferred_language: input.preferred_language,
            contact_method: input.contact_method,
            urgency: input.urgency,
            status: Status::Submitted.as_str().to_owned(),
            partner_id: None,
            created_by: actor.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
            subject_person_id: input.subject_person_id,
        };
        requests::insert(conn, &row)?;
        db::reports::tally(
            conn,
            &row.school_id,
            &row.category_id,
            &reports::month_key(row.created_at.date()),
            &row.status,
            "",
            1,
        )?;
        let event = Event {
            id: new_id(),
            request_id: id.clone(),
            action: "submit".to_owned(),
            from_status: None,
            to_status: Status::Submitted.as_str().to_owned(),
            actor,
            party: if staff { "staff" } else { "family" }.to_owned(),
            note: None,
            partner_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        events::insert(conn, &event)?;
        let f = facts(conn, &caller, &row)?;
        let parties = policy::request_parties(&caller, &f);
        view(row, parties, vec![event])
    })
    .await
}

pub fn find_request(ctx: &Context, db: &Db, id: &str) -> Result<RequestView, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsRead))?;
    db.read(|conn| {
        let (row, parties) = load(conn, &ctx.caller, id)?;
        let history = events::of_request(conn, id)?;
        view(row, parties, history)
    })
}

/// What the staff queue may filter by (on top of what the caller may see).
#[derive(Debug, Default)]
pub struct QueueFilter {
    pub school_id: Option<String>,
    pub category_id: Option<String>,
    pub status: Option<Status>,
    pub partner_id: Option<String>,
    pub urgency: Option<String>,
    /// Requests past their category's first-contact target still waiting for triage.
    pub overdue: Option<bool>,
    pub created_after: Option<NaiveDateTime>,
    pub created_before: Option<NaiveDateTime>,
    pub updated_after: Option<NaiveDateTime>,
    pub updated_before: Option<NaiveDateTime>,
    pub q: Option<String>,
}

fn scope(conn: &mut AnyConnection, caller: &Principal) -> Result<Option<Scope>, ApiError> {
    if caller.is_admin() {
        return Ok(None);
    }
    let schools = db::services::schools_of_councils(conn, &caller.staffed_councils())?;
    let family = if caller.has(policy::Role::Family) {
        caller.person_id().map(str::to_owned)
    } else {
        None
    };
    let partners = match (caller.has(policy::Role::Partner), caller.person_id()) {
        (true, Some(p)) => members::partners_of(conn, p)?,
        _ => Vec::new(),
    };
    Ok(Some(Scope {
        schools,
        family,
        adult_born_by: Some(rules::adult_born_by(db::today())),
        partners,
    }))
}

fn request_filter(
    conn: &mut AnyConnection,
    caller: &Principal,
    q: QueueFilter,
) -> Result<RequestFilter, ApiError> {
    Ok(RequestFilter {
        scope: scope(conn, caller)?,
        school_id: q.school_id,
        category_id: q.category_id,
        status: q.status.map(|s| s.as_str().to_owned()),
        partner_id: q.partner_id,
        urgency: q.urgency,
        overdue: None,
        created_after: q.created_after,
        created_before: q.created_before,
        updated_after: q.updated_after,
        updated_before: q.updated_before,
        q: q.q,
    })
}

/// Calendar days that `school_days` school days span at most (weekends between them).
pub fn calendar_days(school_days: i64) -> i64 {
    school_days + 2 * ((school_days + 4) / 5)
}

pub fn list_requests(
    ctx: &Context,
    db: &Db,
    q: QueueFilter,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<RequestView>, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsRead))?;
    require(policy::list_requests(&ctx.caller), "service requests", "")?;
    let overdue = q.overdue;
    db.read(|conn| {
        let filter = request_filter(conn, &ctx.caller, q)?;
        let rows = if overdue == Some(true) {
            // Overdue differs per category: take requests still waiting for a first contact
            // (submitted) and keep those past their category's target.
            let mut filter = filter;
            filter.status = Some(Status::Submitted.as_str().to_owned());
            let rows = requests::list(conn, &filter, after, fetch)?;
            let ids: Vec<String> = rows.iter().map(|r| r.category_id.clone()).collect();
            let cats = categories::by_ids(conn, &ids)?;
            let now = db::now();
            rows.into_iter()
                .filter(|r| {
                    cats.iter()
                        .find(|c| c.id == r.category_id)
                        .and_then(|c| c.first_contact_school_days)
                        .is_some_and(|d| r.created_at + Duration::days(calendar_days(d)) < now)
                })
                .collect()
        } else {
            requests::list(conn, &filter, after, fetch)?
        };
        // Details of requests of sensitive categories (the description and the answers) are
        // left out of lists: they are shown only when one request is read, so that every look
        // at them is in the audit trail under that request's id.
        let category_ids: Vec<String> = rows.iter().map(|r| r.category_id.clone()).collect();
        let sensitive: Vec<String> = categories::by_ids(conn, &category_ids)?
            .into_iter()
            .filter(|c| c.sensitive)
            .map(|c| c.id)
            .collect();
        let rows: Vec<Request> = rows
            .into_iter()
            .map(|mut r| {
                if sensitive.contains(&r.category_id) {
                    r.description = None;
                    r.attributes = "{}".to_owned();
                }
                r
            })
            .collect();
        // The caller's schools and organizations are looked up once for the page, not per row.
        let staffed = db::services::schools_of_councils(conn, &ctx.caller.staffed_councils())?;
        let today = db::today();
        let caller_partners = match ctx.caller.person_id() {
            Some(p) => members::partners_of(conn, p)?,
            None => Vec::new(),
        };
        rows.into_iter()
            .map(|row| {
                let staff = ctx.caller.is_admin() || staffed.contains(&row.school_id);
                let consent_in_force = match &row.partner_id {
                    Some(p) if caller_partners.contains(p) => disclosure_allowed(conn, &row.id, p)?,
                    _ => false,
                };
                let f = ServiceRequestFacts {
                    // Staff of the school: any of the caller's councils stands for them.
                    school_councils: if staff {
                        ctx.caller.staffed_councils()
                    } else {
                        Vec::new()
                    },
                    family_person_id: row.family_person_id.clone(),
                    subject_person_id: row.subject_person_id.clone(),
                    subject_adult: rules::is_adult(row.subject_birth_date, today),
                    partner_id: row.partner_id.clone(),
                    caller_partners: caller_partners.clone(),
                    consent_in_force,
                };
                let parties = policy::request_parties(&ctx.caller, &f);
                view(row, parties, Vec::new())
            })
            .collect()
    })
}

pub fn count_requests(
    ctx: &Context,
    db: &Db,
    q: QueueFilter,
) -> Result<Vec<(Status, i64)>, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsRead))?;
    require(policy::list_requests(&ctx.caller), "service requests", "")?;
    db.read(|conn| {
        let filter = request_filter(conn, &ctx.caller, q)?;
        let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        let counts = requests::counts(conn, &filter, &names)?;
        Ok(Status::ALL
            .iter()
            .zip(counts)
            .map(|(s, (_, n))| (*s, n))
            .collect())
    })
}

/// What a disclosure is made under.
enum Basis {
    Consent(Consent),
    Exception(DisclosureException),
}

pub struct TransitionInput {
    pub note: Option<String>,
    /// For `refer`: the partner organization.
    pub partner_id: Option<String>,
}

/// Moves a request along its lifecycle: a versioned update of the request row (two racing
/// transitions: one wins, the other gets 412) with a history entry. `refer` needs a consent in
/// force for the partner, valid for the student's age today, and writes a disclosure record.
pub async fn transition(
    ctx: &Context,
    db: &Db,
    id: String,
    expected: Expected,
    action: Action,
    input: TransitionInput,
) -> Result<RequestView, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsWrite))?;
    let caller = ctx.caller.clone();
    let actor = caller.actor_key().unwrap_or_default();
    ctx.write(db, action.as_str(), Some(id.clone()), 200, move |conn| {
        let (mut row, parties) = load(conn, &caller, &id)?;
        let from = status_of(&row)?;
        let to = rules::transition(from, action, &parties).map_err(|r| ApiError::Conflict {
            code: "illegal-transition",
            detail: r.detail(),
        })?;
        expected.check(row.version)?;
        let party = rules::rule(action)
            .1
            .iter()
            .copied()
            .find(|p| parties.contains(p))
            .unwrap_or(Party::Staff);
        let now = db::now();
        let old_partner = row.partner_id.clone();
        if action == Action::Refer {
            let Some(partner_id) = input.partner_id.clone() else {
                return Err(ApiError::validation(
                    "partner_id",
                    "is required to refer a request",
                ));
            };
            let partner = partners::find(conn, &partner_id)?
                .ok_or_else(|| ApiError::validation("partner_id", "no partner organization with this id"))?;
            let partner = PartnerRecord::try_from(partner)?;
            if !partner.row.active {
                return Err(ApiError::validation(
                    "partner_id",
                    "this partner organization is not active",
                ));
            }
            if !partner
                .offerings
                .iter()
                .any(|o| o.category_id == row.category_id && o.school_id == row.school_id)
            {
                return Err(ApiError::Conflict {
                    code: "partner-does-not-serve",
                    detail: "this partner organization does not offer this service at this school".to_owned(),
                });
            }
            let consent = consents::in_force(conn, &id, &partner_id)?;
            let exception = exceptions::latest_for(conn, &id, &partner_id)?;
            let basis = match (consent, exception) {
                (Some(consent), exception) => {
                    let category =
                        CategoryRecord::try_from(find_category_row(conn, &row.category_id)?)?;
                    let giver = Giver::parse(&consent.giver)
                        .ok_or_else(|| ApiError::Internal("stored consent giver".to_owned()))?;
                    let valid = rules::consent_valid(&ConsentFacts {
                        class: category.consent_class,
                        giver,
                        birth_date: row.subject_birth_date,
                        on: db::today(),
                        provider_attestation: consent.provider_attestation,
                        parent_involvement_recorded: consent.parent_involvement.is_some(),
                    });
                    match (valid, exception) {
                        (Ok(()), _) => Basis::Consent(consent),
                        // A recorded exception still allows it when the consent no longer counts.
                        (Err(_), Some(exception)) => Basis::Exception(exception),
                        (Err(why), None) => {
                            return Err(ApiError::Conflict {
                                code: "consent-required",
                                detail: format!("the consent on file does not count now: {why}"),
                            })
                        }
                    }
                }
                (None, Some(exception)) => Basis::Exception(exception),
                (None, None) => {
                    return Err(ApiError::Conflict {
                        code: "consent-required",
                        detail: "no consent in force names this partner organization as recipient of this request's records, and no FERPA exception is recorded for it; record one first (POST /service-requests/{id}/consents or /exceptions)".to_owned(),
                    })
                }
            };
            let mut disclosure = Disclosure {
                id: new_id(),
                request_id: id.clone(),
                partner_id: partner_id.clone(),
                consent_id: None,
                records: String::new(),
                purpose: String::new(),
                disclosed_by: actor.clone(),
                disclosed_at: now,
                created_at: now,
                updated_at: now,
                version: 1,
                basis: "consent".to_owned(),
                exception_id: None,
                threat: None,
                legitimate_interest: None,
            };
            match basis {
                Basis::Consent(c) => {
                    disclosure.consent_id = Some(c.id);
                    disclosure.records = c.records;
                    disclosure.purpose = c.purpose;
                }
                Basis::Exception(e) => {
                    disclosure.exception_id = Some(e.id);
                    disclosure.basis = e.basis;
                    disclosure.threat = e.threat;
                    disclosure.legitimate_interest = e.legitimate_interest;
                    disclosure.records = e.records;
                    disclosure.purpose = e.purpose;
                }
            }
            disclosures::insert(conn, &disclosure)?;
            row.partner_id = Some(partner_id);
        } else if input.partner_id.is_some() {
            return Err(ApiError::validation(
                "partner_id",
                "is only sent to refer a request",
            ));
        }
        let event = Event {
            id: new_id(),
            request_id: id.clone(),
            action: action.as_str().to_owned(),
            from_status: Some(from.as_str().to_owned()),
            to_status: to.as_str().to_owned(),
            actor,
            party: party.as_str().to_owned(),
            note: input.note,
            partner_id: row.partner_id.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        events::insert(conn, &event)?;
        // The reports' summaries move with the request, in this transaction.
        let month = reports::month_key(row.created_at.date());
        db::reports::tally(
            conn,
            &row.school_id,
            &row.category_id,
            &month,
            from.as_str(),
            old_partner.as_deref().unwrap_or(""),
            -1,
        )?;
        db::reports::tally(
            conn,
            &row.school_id,
            &row.category_id,
            &month,
            to.as_str(),
            row.partner_id.as_deref().unwrap_or(""),
            1,
        )?;
        let measure = match action {
            Action::Triage => Some("first_contact"),
            Action::Complete => Some("completion"),
            _ => None,
        };
        if let Some(measure) = measure {
            let days = (now - row.created_at).num_days();
            db::reports::add_duration(
                conn,
                &row.school_id,
                &row.category_id,
                &month,
                measure,
                days,
            )?;
        }
        if let (Some(partner), true) = (&row.partner_id, reports::PARTNER_ACTIONS.contains(&action)) {
            db::reports::add_partner_action(
                conn,
                partner,
                &row.school_id,
                &row.category_id,
                &month,
                action.as_str(),
            )?;
        }
        row.status = to.as_str().to_owned();
        row.version += 1;
        row.updated_at = now;
        requests::update(conn, &row)?;
        let f = facts(conn, &caller, &row)?;
        let parties = policy::request_parties(&caller, &f);
        let history = events::of_request(conn, &id)?;
        view(row, parties, history)
    })
    .await
}

// Notes ---------------------------------------------------------------------------------------

fn partner_access(parties: &[Party]) -> bool {
    parties.contains(&Party::Partner)
}

pub fn list_notes(
    ctx: &Context,
    db: &Db,
    id: &str,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<Note>, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsRead))?;
    db.read(|conn| {
        let (_, parties) = load(conn, &ctx.caller, id)?;
        let visible: Vec<&str> = [Visibility::Family, Visibility::Staff, Visibility::Partner]
            .into_iter()
            .filter(|v| rules::may_read_note(*v, &parties, partner_access(&parties)))
            .map(|v| v.as_str())
            .collect();
        Ok(notes::of_request(conn, id, &visible, after, fetch)?)
    })
}

pub async fn add_note(
    ctx: &Context,
    db: &Db,
    id: String,
    visibility: Visibility,
    body: String,
) -> Result<Note, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsWrite))?;
    let caller = ctx.caller.clone();
    let actor = caller.actor_key().unwrap_or_default();
    let note_id = new_id();
    ctx.write(db, "create", Some(note_id.clone()), 201, move |conn| {
        let (_, parties) = load(conn, &caller, &id)?;
        if !rules::may_write_note(visibility, &parties, partner_access(&parties)) {
            return Err(ApiError::Forbidden(format!(
                "you may not write {} notes on this request",
                visibility.as_str()
            )));
        }
        let party = [Party::Staff, Party::Partner, Party::Family]
            .into_iter()
            .find(|p| parties.contains(p))
            .unwrap_or(Party::Staff);
        let now = db::now();
        let note = Note {
            id: note_id,
            request_id: id,
            visibility: visibility.as_str().to_owned(),
            body,
            author: actor,
            party: party.as_str().to_owned(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        notes::insert(conn, &note)?;
        Ok(note)
    })
    .await
}

// Consents and disclosures --------------------------------------------------------------------

pub struct NewConsent {
    pub partner_id: String,
    pub records: String,
    pub purpose: String,
    pub giver: Giver,
    pub given_by_name: String,
    pub given_on: Option<NaiveDate>,
    pub provider_attestation: bool,
    pub parent_involvement: Option<String>,
}

pub fn list_consents(ctx: &Context, db: &Db, id: &str) -> Result<Vec<Consent>, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsRead))?;
    db.read(|conn| {
        let (_, parties) = load(conn, &ctx.caller, id)?;
        require(policy::manage_consent(&parties), "service request", id)?;
        Ok(consents::of_request(conn, id)?)
    })
}

/// Records a consent to disclose the request's records to a partner organization: by the
/// family (online) or by staff (a signed paper form). It must be valid for the student's age
/// on the day it is given.
pub async fn give_consent(
    ctx: &Context,
    db: &Db,
    id: String,
    input: NewConsent,
) -> Result<Consent, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsWrite))?;
    let caller = ctx.caller.clone();
    let actor = caller.actor_key().unwrap_or_default();
    let today = db::today();
    let given_on = input.given_on.unwrap_or(today);
    if given_on > today {
        return Err(ApiError::validation(
            "given_on",
            "must not be in the future",
        ));
    }
    let consent_id = new_id();
    ctx.write(db, "create", Some(consent_id.clone()), 201, move |conn| {
        let (row, parties) = load(conn, &caller, &id)?;
        require(policy::manage_consent(&parties), "service request", &id)?;
        if !parties.contains(&Party::Staff) {
            // A family member records their own consent: the student theirs, a parent a
            // parent's (staff record the others, e.g. a minor's own with the attestation).
            let is_student = caller.person_id().is_some()
                && caller.person_id() == row.subject_person_id.as_deref();
            let expected = if is_student {
                Giver::Student
            } else {
                Giver::Parent
            };
            if input.giver != expected {
                return Err(ApiError::validation(
                    "giver",
                    if is_student {
                        "you record your own consent here: giver must be student"
                    } else {
                        "you record a parent's consent here: giver must be parent"
                    },
                ));
            }
        }
        if partners::find(conn, &input.partner_id)?.is_none() {
            return Err(ApiError::validation(
                "partner_id",
                "no partner organization with this id",
            ));
        }
        let category = CategoryRecord::try_from(find_category_row(conn, &row.category_id)?)?;
        rules::consent_valid(&ConsentFacts {
            class: category.consent_class,
            giver: input.giver,
            birth_date: row.subject_birth_date,
            on: given_on,
            provider_attestation: input.provider_attestation,
            parent_involvement_recorded: input.parent_involvement.is_some(),
        })
        .map_err(|why| ApiError::Conflict {
            code: "consent-not-valid",
            detail: why.to_owned(),
        })?;
        let now = db::now();
        let consent = Consent {
            id: consent_id,
            request_id: id,
            partner_id: input.partner_id,
            records: input.records,
            purpose: input.purpose,
            giver: input.giver.as_str().to_owned(),
            given_by_name: input.given_by_name,
            given_on,
            recorded_by: actor,
            provider_attestation: input.provider_attestation,
            parent_involvement: input.parent_involvement,
            withdrawn_at: None,
            withdrawn_by: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        consents::insert(conn, &consent).map_err(|e| match e {
            db::StoreError::Duplicate(_) => ApiError::Conflict {
                code: "consent-exists",
                detail:
                    "a consent for this partner organization is already in force; withdraw it first"
                        .to_owned(),
            },
            other => other.into(),
        })?;
        Ok(consent)
    })
    .await
}

/// Withdraws a consent: the partner organization loses access to the request at once.
pub async fn withdraw_consent(
    ctx: &Context,
    db: &Db,
    id: String,
    consent_id: String,
) -> Result<Consent, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsWrite))?;
    let caller = ctx.caller.clone();
    let actor = caller.actor_key().unwrap_or_default();
    ctx.write(db, "update", Some(consent_id.clone()), 200, move |conn| {
        let (_, parties) = load(conn, &caller, &id)?;
        require(policy::manage_consent(&parties), "service request", &id)?;
        let mut consent = consents::find(conn, &consent_id)?
            .filter(|c| c.request_id == id)
            .ok_or_else(|| ApiError::not_found("consent", &consent_id))?;
        if consent.withdrawn_at.is_some() {
            return Err(ApiError::Conflict {
                code: "consent-withdrawn",
                detail: "this consent is already withdrawn".to_owned(),
            });
        }
        let now = db::now();
        consent.withdrawn_at = Some(now);
        consent.withdrawn_by = Some(actor);
        consent.version += 1;
        consent.updated_at = now;
        consents::update(conn, &consent)?;
        Ok(consent)
    })
    .await
}

/// The FERPA record of disclosures of a request (99.32): readable by the family and staff.
pub fn list_disclosures(ctx: &Context, db: &Db, id: &str) -> Result<Vec<Disclosure>, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsRead))?;
    db.read(|conn| {
        let (_, parties) = load(conn, &ctx.caller, id)?;
        require(policy::manage_consent(&parties), "service request", id)?;
        Ok(disclosures::of_request(conn, id)?)
    })
}

// FERPA exceptions ----------------------------------------------------------------------------

pub struct NewException {
    pub partner_id: String,
    pub basis: rules::ExceptionBasis,
    pub threat: Option<String>,
    pub legitimate_interest: Option<String>,
    pub records: String,
    pub purpose: String,
}

/// Records a FERPA 99.31 exception that lets staff refer the request to a partner without
/// consent: a health or safety emergency (with the threat, 99.36) or a school official with a
/// legitimate educational interest (99.31(a)(1)). Staff of the request's school only; written
/// once and never changed. Each referral under it writes a disclosure record naming it, which
/// the family reads.
pub async fn record_exception(
    ctx: &Context,
    db: &Db,
    id: String,
    input: NewException,
) -> Result<DisclosureException, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsWrite))?;
    let caller = ctx.caller.clone();
    let actor = caller.actor_key().unwrap_or_default();
    let exception_id = new_id();
    ctx.write(db, "create", Some(exception_id.clone()), 201, move |conn| {
        let (_, parties) = load(conn, &caller, &id)?;
        require(policy::record_exception(&parties), "service request", &id)?;
        let mut errors = problems_to_errors(rules::check_exception(
            input.basis,
            input.threat.as_deref(),
            input.legitimate_interest.as_deref(),
        ));
        if partners::find(conn, &input.partner_id)?.is_none() {
            errors.push(FieldError::new(
                "partner_id",
                "no partner organization with this id",
            ));
        }
        fields_ok(errors)?;
        let now = db::now();
        let row = DisclosureException {
            id: exception_id,
            request_id: id,
            partner_id: input.partner_id,
            basis: input.basis.as_str().to_owned(),
            threat: input.threat,
            legitimate_interest: input.legitimate_interest,
            records: input.records,
            purpose: input.purpose,
            recorded_by: actor,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        exceptions::insert(conn, &row)?;
        Ok(row)
    })
    .await
}

/// The FERPA exceptions recorded for a request, and whether the caller reads as staff: staff
/// and the family.
pub fn list_exceptions(
    ctx: &Context,
    db: &Db,
    id: &str,
) -> Result<(Vec<DisclosureException>, bool), ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsRead))?;
    db.read(|conn| {
        let (_, parties) = load(conn, &ctx.caller, id)?;
        require(policy::manage_consent(&parties), "service request", id)?;
        Ok((
            exceptions::of_request(conn, id)?,
            parties.contains(&Party::Staff),
        ))
    })
}

// The public directory (HSDS) -----------------------------------------------------------------

/// The most organizations and categories the public directory lists (a district has tens).
pub const DIRECTORY_MAX: i64 = 10_000;

/// What the public directory publishes: active partner organizations, the active categories,
/// and the schools their offerings name. Never anything about a family or a request.
pub struct Directory {
    pub partners: Vec<PartnerRecord>,
    pub categories: Vec<CategoryRecord>,
    pub schools: Vec<db::schools::School>,
}

pub fn directory(db: &Db) -> Result<Directory, ApiError> {
    let (partners, categories, schools) = db.read(|conn| {
        let partners = partners::list(conn, Some(true), None, DIRECTORY_MAX)?;
        let categories = categories::list(conn, Some(true), None, DIRECTORY_MAX)?;
        let schools = db::schools::list(
            conn,
            &db::schools::SchoolFilter::default(),
            None,
            DIRECTORY_MAX,
        )?;
        Ok::<_, ApiError>((partners, categories, schools))
    })?;
    Ok(Directory {
        partners: partners
            .into_iter()
            .map(PartnerRecord::try_from)
            .collect::<Result<_, _>>()?,
        categories: categories
            .into_iter()
            .map(CategoryRecord::try_from)
            .collect::<Result<_, _>>()?,
        schools,
    })
}

// A family's export ------------------------------------------------------------------------------

/// The most requests one export holds.
pub const EXPORT_MAX: i64 = 1_000;

/// One request in a family's export: what the family may see of it.
pub struct ExportedRequest {
    pub request: RequestView,
    pub notes: Vec<Note>,
    pub consents: Vec<Consent>,
    pub disclosures: Vec<Disclosure>,
}

/// Everything cogov holds about the caller's own service requests that the family may see
/// (data portability; FERPA's right to inspect): each request with its history, family notes,
/// consents and disclosure record.
pub fn export_family(ctx: &Context, db: &Db) -> Result<Vec<ExportedRequest>, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsRead))?;
    let me = match (ctx.caller.has(policy::Role::Family), ctx.caller.person_id()) {
        (true, Some(me)) => me.to_owned(),
        _ => {
            return Err(ApiError::Forbidden(
                "the export is for family members, of their own requests".to_owned(),
            ))
        }
    };
    db.read(|conn| {
        let filter = RequestFilter {
            scope: Some(Scope {
                family: Some(me.clone()),
                adult_born_by: Some(rules::adult_born_by(db::today())),
                ..Default::default()
            }),
            ..Default::default()
        };
        let rows = requests::list(conn, &filter, None, EXPORT_MAX)?;
        rows.into_iter()
            .map(|row| {
                let id = row.id.clone();
                let history = events::of_request(conn, &id)?;
                Ok(ExportedRequest {
                    request: view(row, vec![Party::Family], history)?,
                    notes: notes::of_request(
                        conn,
                        &id,
                        &[Visibility::Family.as_str()],
                        None,
                        EXPORT_MAX,
                    )?,
                    consents: consents::of_request(conn, &id)?,
                    disclosures: disclosures::of_request(conn, &id)?,
                })
            })
            .collect()
    })
}

// Retention -------------------------------------------------------------------------------------

/// The most requests one anonymisation run changes (run it again for more).
pub const ANONYMISE_MAX: i64 = 1_000;

/// Anonymises closed requests (completed, declined, withdrawn, cancelled, rejected) last
/// changed before `closed_before`: the subject code, birth date, family link, description,
/// answers, note bodies and signers' names are removed. The status history and the disclosure
/// record stay (FERPA keeps the record of disclosures as long as the request is kept).
/// District admins only; returns how many requests were anonymised.
pub async fn anonymise_closed(
    ctx: &Context,
    db: &Db,
    closed_before: NaiveDate,
) -> Result<usize, ApiError> {
    require(
        policy::district_admin_only(&ctx.caller),
        "service requests",
        "",
    )?;
    let before = closed_before.and_hms_opt(0, 0, 0).unwrap_or_default();
    let (_, anonymised) = anonymise_batch(ctx, db, before).await?;
    Ok(anonymised)
}

/// The retention setting applied once, as of `now`: every request closed and last changed more
/// than `retention_days` days before `now` is anonymised as [`anonymise_closed`] does, in runs of
/// at most [`ANONYMISE_MAX`]. Called by the retention job and `cogov retention run`, which act
/// with the deployment's own authority (the setting is the district's decision); not reachable
/// over HTTP. Several app instances may run it at once: each request is taken under a row lock
/// that skips requests another instance holds, and a request already anonymised is left alone,
/// so no request is anonymised twice. Returns how many requests this call anonymised.
pub async fn apply_retention(
    ctx: &Context,
    db: &Db,
    retention_days: u32,
    now: NaiveDateTime,
) -> Result<usize, ApiError> {
    let before = now - Duration::days(i64::from(retention_days));
    let mut total = 0;
    // Each batch anonymises what it found unless another instance held it; a bound keeps two
    // instances from chasing each other's batches for long.
    for _ in 0..100 {
        let (found, anonymised) = anonymise_batch(ctx, db, before).await?;
        total += anonymised;
        if found < ANONYMISE_MAX as usize {
            break;
        }
    }
    Ok(total)
}

/// One anonymisation run over at most [`ANONYMISE_MAX`] requests closed and last changed before
/// `before`, in one transaction with its audit event: how many were found and how many this run
/// anonymised (the others were taken by another instance meanwhile).
async fn anonymise_batch(
    ctx: &Context,
    db: &Db,
    before: NaiveDateTime,
) -> Result<(usize, usize), ApiError> {
    ctx.write(db, "update", None, 200, move |conn| {
        let closed = [
            Status::Completed.as_str(),
            Status::Declined.as_str(),
            Status::Withdrawn.as_str(),
            Status::Cancelled.as_str(),
            Status::Rejected.as_str(),
        ];
        let found = requests::closed_before(conn, &closed, before, ANONYMISE_MAX)?;
        let now = db::now();
        let count = found.len();
        let mut anonymised = 0;
        for candidate in found {
            let id = candidate.id.clone();
            if !try_lock_row(conn, LockTable::ServiceRequests, &id)? {
                continue;
            }
            // Read again under the lock: another instance may have anonymised it meanwhile.
            let Some(mut row) = requests::find(conn, &id)? else {
                continue;
            };
            if row.subject_code == db::services::ANONYMISED {
                continue;
            }
            anonymised += 1;
            row.subject_code = db::services::ANONYMISED.to_owned();
            row.subject_birth_date = None;
            row.family_person_id = None;
            row.description = None;
            row.attributes = "{}".to_owned();
            row.version += 1;
            row.updated_at = now;
            requests::update(conn, &row)?;
            for mut note in
                notes::of_request(conn, &id, &["family", "staff", "partner"], None, EXPORT_MAX)?
            {
                note.body = db::services::ANONYMISED.to_owned();
                note.version += 1;
                note.updated_at = now;
                notes::update(conn, &note)?;
            }
            for mut event in events::of_request(conn, &id)? {
                if event.note.is_some() {
                    event.note = Some(db::services::ANONYMISED.to_owned());
                    event.version += 1;
                    event.updated_at = now;
                    events::update(conn, &event)?;
                }
            }
            for mut consent in consents::of_request(conn, &id)? {
                consent.given_by_name = db::services::ANONYMISED.to_owned();
                consent.parent_involvement = consent
                    .parent_involvement
                    .map(|_| db::services::ANONYMISED.to_owned());
                consent.version += 1;
                consent.updated_at = now;
                consents::update(conn, &consent)?;
            }
        }
        Ok((count, anonymised))
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The Open311 GeoReport v2 facade: the same requests, named by service code

/// A request with the catalog category it was filed under (its Open311 service).
pub struct Open311Request {
    pub view: RequestView,
    pub category: Option<CategoryRecord>,
}

/// A request as a GeoReport v2 client sends it: the service code and the answers as form text.
pub struct Open311New {
    pub service_code: String,
    pub school_id: String,
    pub subject_code: String,
    pub description: Option<String>,
    /// Answers by attribute code, every value sent for the code (`attribute[code][]` repeats).
    pub answers: BTreeMap<String, Vec<String>>,
    pub preferred_language: String,
    pub contact_method: String,
    pub urgency: String,
}

/// The most catalog categories a service code is looked up among.
const MAX_CATEGORIES: i64 = 10_000;

fn active_category(db: &Db, code: &str) -> Result<Option<CategoryRecord>, ApiError> {
    Ok(list_categories(db, Some(true), None, MAX_CATEGORIES)?
        .into_iter()
        .find(|c| c.row.code == code))
}

fn with_categories(db: &Db, views: Vec<RequestView>) -> Result<Vec<Open311Request>, ApiError> {
    let ids: Vec<String> = views.iter().map(|v| v.row.category_id.clone()).collect();
    let cats = db.read(|conn| Ok::<_, ApiError>(categories::by_ids(conn, &ids)?))?;
    views
        .into_iter()
        .map(|view| {
            let category = cats
                .iter()
                .find(|c| c.id == view.row.category_id)
                .cloned()
                .map(CategoryRecord::try_from)
                .transpose()?;
            Ok(Open311Request { view, category })
        })
        .collect()
}

/// Files a request sent through Open311: the service code names the category, and the form
/// text of each answer is typed by the category's definition before the same checks and the
/// same write as [`create_request`].
pub async fn create_open311_request(
    ctx: &Context,
    db: &Db,
    input: Open311New,
) -> Result<Open311Request, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsWrite))?;
    let category = active_category(db, &input.service_code)?.ok_or_else(|| {
        ApiError::validation("service_code", "no service offered now with this code")
    })?;
    let attributes = rules::typed_answers(&category.attributes, input.answers);
    let new = NewRequest {
        school_id: input.school_id,
        category_id: category.row.id.clone(),
        subject_code: input.subject_code,
        subject_birth_date: None,
        family_person_id: None,
        subject_person_id: None,
        description: input.description,
        attributes,
        preferred_language: input.preferred_language,
        contact_method: input.contact_method,
        urgency: input.urgency,
    };
    let view = create_request(ctx, db, new).await?;
    Ok(Open311Request {
        view,
        category: Some(category),
    })
}

/// One request through Open311 (404 for callers who play no part for it).
pub fn find_open311_request(ctx: &Context, db: &Db, id: &str) -> Result<Open311Request, ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsRead))?;
    let view = find_request(ctx, db, id)?;
    let mut found = with_categories(db, vec![view])?;
    found
        .pop()
        .ok_or_else(|| ApiError::not_found("service request", id))
}

/// What an Open311 request list filters by.
pub struct Open311Filter {
    /// Only these requests (the others filters are then ignored).
    pub ids: Vec<String>,
    pub service_code: Option<String>,
    pub start: Option<NaiveDateTime>,
    pub end: Option<NaiveDateTime>,
    /// `open` or `closed`.
    pub status: Option<String>,
}

/// The requests the caller sees, as Open311 lists them, with the id the next page starts after.
/// A page looks at `limit` requests and holds those that pass the `status` filter.
pub fn list_open311_requests(
    ctx: &Context,
    db: &Db,
    filter: Open311Filter,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<Open311Request>, Option<String>), ApiError> {
    ctx.for_app(Some(crate::domain::apps::Scope::ServiceRequestsRead))?;
    require(policy::list_requests(&ctx.caller), "service requests", "")?;
    if !filter.ids.is_empty() {
        let mut views = Vec::new();
        for id in &filter.ids {
            match find_request(ctx, db, id) {
                Ok(v) => views.push(v),
                Err(ApiError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        return Ok((with_categories(db, views)?, None));
    }
    let category_id = match &filter.service_code {
        Some(code) => match active_category(db, code)? {
            Some(c) => Some(c.row.id),
            None => return Ok((Vec::new(), None)),
        },
        None => None,
    };
    let q = QueueFilter {
        category_id,
        created_after: filter.start,
        created_before: filter.end,
        ..Default::default()
    };
    let mut views = list_requests(ctx, db, q, after, limit + 1)?;
    let next = if views.len() as i64 > limit {
        views.truncate(limit.max(0) as usize);
        views.last().map(|v| v.row.id.clone())
    } else {
        None
    };
    let views = views
        .into_iter()
        .filter(|v| {
            filter
                .status
                .as_deref()
                .is_none_or(|s| v.status.open311() == s)
        })
        .collect();
    Ok((with_categories(db, views)?, next))
}

#[cfg(test)]
mod tests {
    #[test]
    fn school_days_span_weekends() {
        assert_eq!(super::calendar_days(0), 0);
        assert_eq!(super::calendar_days(2), 4);
        assert_eq!(super::calendar_days(5), 7);
        assert_eq!(super::calendar_days(6), 10);
    }
}
