//! Wraparound services: the catalog, partner organizations and their members, service requests
//! with their status history, notes, consents and disclosure records.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::changes::{contains_pattern, lower, versioned_writes};
use super::schema::{
    councils, partner_members, partner_organizations, service_categories, service_consents,
    service_disclosure_exceptions, service_disclosures, service_request_events,
    service_request_notes, service_requests,
};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = service_categories, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Category {
    pub id: String,
    pub code: String,
    pub names: String,
    pub descriptions: String,
    pub active: bool,
    pub first_contact_school_days: Option<i64>,
    pub pillar: Option<String>,
    pub sensitive: bool,
    pub consent_class: String,
    pub attributes: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod categories {
    use super::*;
    versioned_writes!(service_categories, Category, "service_category");

    /// Categories in creation order; `active`: only active (or only inactive) ones.
    pub fn list(
        conn: &mut AnyConnection,
        active: Option<bool>,
        after: Option<&str>,
        fetch: i64,
    ) -> QueryResult<Vec<Category>> {
        let mut query = service_categories::table
            .select(Category::as_select())
            .into_boxed();
        if let Some(active) = active {
            query = query.filter(service_categories::active.eq(active));
        }
        if let Some(after) = after {
            query = query.filter(service_categories::id.gt(after.to_owned()));
        }
        query
            .order(service_categories::id.asc())
            .limit(fetch)
            .load(conn)
    }

    pub fn by_ids(conn: &mut AnyConnection, ids: &[String]) -> QueryResult<Vec<Category>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        service_categories::table
            .filter(service_categories::id.eq_any(ids))
            .select(Category::as_select())
            .load(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = partner_organizations, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Partner {
    pub id: String,
    pub name: String,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub offerings: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod partners {
    use super::*;
    versioned_writes!(partner_organizations, Partner, "partner_organization");

    pub fn list(
        conn: &mut AnyConnection,
        active: Option<bool>,
        after: Option<&str>,
        fetch: i64,
    ) -> QueryResult<Vec<Partner>> {
        let mut query = partner_organizations::table
            .select(Partner::as_select())
            .into_boxed();
        if let Some(active) = active {
            query = query.filter(partner_organizations::active.eq(active));
        }
        if let Some(after) = after {
            query = query.filter(partner_organizations::id.gt(after.to_owned()));
        }
        query
            .order(partner_organizations::id.asc())
            .limit(fetch)
            .load(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = partner_members, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Member {
    pub id: String,
    pub partner_id: String,
    pub person_id: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod members {
    use super::*;
    versioned_writes!(partner_members, Member, "partner_member");

    pub fn of_partner(
        conn: &mut AnyConnection,
        partner_id: &str,
        after: Option<&str>,
        fetch: i64,
    ) -> QueryResult<Vec<Member>> {
        let mut query = partner_members::table
            .filter(partner_members::partner_id.eq(partner_id.to_owned()))
            .select(Member::as_select())
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(partner_members::id.gt(after.to_owned()));
        }
        query
            .order(partner_members::id.asc())
            .limit(fetch)
            .load(conn)
    }

    /// The partner organizations a person is a member of.
    pub fn partners_of(conn: &mut AnyConnection, person_id: &str) -> QueryResult<Vec<String>> {
        partner_members::table
            .filter(partner_members::person_id.eq(person_id))
            .select(partner_members::partner_id)
            .load(conn)
    }
}

/// The councils of a school.
pub fn council_ids_of_school(
    conn: &mut AnyConnection,
    school_id: &str,
) -> QueryResult<Vec<String>> {
    councils::table
        .filter(councils::school_id.eq(school_id))
        .select(councils::id)
        .load(conn)
}

/// The schools of these councils (staff of a council are staff of its school).
pub fn schools_of_councils(
    conn: &mut AnyConnection,
    council_ids: &[String],
) -> QueryResult<Vec<String>> {
    if council_ids.is_empty() {
        return Ok(Vec::new());
    }
    councils::table
        .filter(councils::id.eq_any(council_ids))
        .filter(councils::school_id.is_not_null())
        .select(councils::school_id.assume_not_null())
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = service_requests, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Request {
    pub id: String,
    pub school_id: String,
    pub category_id: String,
    pub subject_code: String,
    pub subject_birth_date: Option<NaiveDate>,
    pub family_person_id: Option<String>,
    pub description: Option<String>,
    pub attributes: String,
    pub preferred_language: String,
    pub contact_method: String,
    pub urgency: String,
    pub status: String,
    pub partner_id: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// The student, when they have a person record (owns the request from 18).
    pub subject_person_id: Option<String>,
}

/// Which requests a caller sees: `None` fields add nothing; the set is the union of the
/// requests of `schools`, those of `family`, and those referred to one of `partners` under a
/// consent in force.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    pub schools: Vec<String>,
    /// The caller as family: the requests they own as a parent while the student is a minor,
    /// and those about themselves once they are 18.
    pub family: Option<String>,
    /// Students born on or before this day are 18 or older today (needed with `family`).
    pub adult_born_by: Option<NaiveDate>,
    pub partners: Vec<String>,
}

#[derive(Debug, Default)]
pub struct RequestFilter {
    /// `None`: every request (district admins).
    pub scope: Option<Scope>,
    pub school_id: Option<String>,
    pub category_id: Option<String>,
    pub status: Option<String>,
    pub partner_id: Option<String>,
    pub urgency: Option<String>,
    /// Only requests created before this time still in one of these statuses.
    pub overdue: Option<(NaiveDateTime, Vec<String>)>,
    pub created_after: Option<NaiveDateTime>,
    pub created_before: Option<NaiveDateTime>,
    pub updated_after: Option<NaiveDateTime>,
    pub updated_before: Option<NaiveDateTime>,
    /// Matches the subject code or the description, ignoring case.
    pub q: Option<String>,
}

type Boxed<'a> = service_requests::BoxedQuery<'a, <AnyConnection as Connection>::Backend>;

fn filtered<'a>(filter: &RequestFilter) -> Boxed<'a> {
    let mut query = service_requests::table.into_boxed();
    if let Some(scope) = &filter.scope {
        let consented = diesel::dsl::exists(
            service_consents::table
                .filter(service_consents::request_id.eq(service_requests::id))
                .filter(
                    service_consents::partner_id
                        .nullable()
                        .eq(service_requests::partner_id),
                )
                .filter(service_consents::withdrawn_at.is_null()),
        );
        let excepted = diesel::dsl::exists(
            service_disclosure_exceptions::table
                .filter(service_disclosure_exceptions::request_id.eq(service_requests::id))
                .filter(
                    service_disclosure_exceptions::partner_id
                        .nullable()
                        .eq(service_requests::partner_id),
                ),
        );
        let me = scope.family.clone().unwrap_or_default();
        // Without a cut-off nobody counts as adult (a day before any birth date).
        let adult_born_by = scope
            .adult_born_by
            .unwrap_or(NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default());
        let student_is_adult = service_requests::subject_birth_date
            .assume_not_null()
            .le(adult_born_by);
        let parent_of_minor = service_requests::family_person_id
            .eq(me.clone())
            .assume_not_null()
            .and(
                service_requests::subject_birth_date.is_null().or(
                    service_requests::subject_birth_date
                        .assume_not_null()
                        .gt(adult_born_by),
                ),
            );
        let adult_student = service_requests::subject_person_id
            .eq(me)
            .assume_not_null()
            .and(student_is_adult);
        query = query.filter(
            service_requests::school_id
                .eq_any(scope.schools.clone())
                .or(parent_of_minor)
                .or(adult_student)
                .or(service_requests::partner_id
                    .assume_not_null()
                    .eq_any(scope.partners.clone())
                    .and(consented.or(excepted))),
        );
    }
    if let Some(v) = &filter.school_id {
        query = query.filter(service_requests::school_id.eq(v.clone()));
    }
    if let Some(v) = &filter.category_id {
        query = query.filter(service_requests::category_id.eq(v.clone()));
    }
    if let Some(v) = &filter.status {
        query = query.filter(service_requests::status.eq(v.clone()));
    }
    if let Some(v) = &filter.partner_id {
        query = query.filter(service_requests::partner_id.eq(v.clone()));
    }
    if let Some(v) = &filter.urgency {
        query = query.filter(service_requests::urgency.eq(v.clone()));
    }
    if let Some((before, statuses)) = &filter.overdue {
        query = query
            .filter(service_requests::created_at.lt(*before))
            .filter(service_requests::status.eq_any(statuses.clone()));
    }
    if let Some(v) = filter.created_after {
        query = query.filter(service_requests::created_at.ge(v));
    }
    if let Some(v) = filter.created_before {
        query = query.filter(service_requests::created_at.lt(v));
    }
    if let Some(v) = filter.updated_after {
        query = query.filter(service_requests::updated_at.ge(v));
    }
    if let Some(v) = filter.updated_before {
        query = query.filter(service_requests::updated_at.lt(v));
    }
    if let Some(text) = &filter.q {
        let pattern = contains_pattern(text);
        query = query.filter(
            lower(service_requests::subject_code)
                .like(lower(pattern.clone()))
                .escape('\\')
                .or(lower(service_requests::description.assume_not_null())
                    .like(lower(pattern))
                    .escape('\\')),
        );
    }
    query
}

/// What replaces personal text when a request is anonymised.
pub const ANONYMISED: &str = "anonymised";

pub mod requests {
    use super::*;
    versioned_writes!(service_requests, Request, "service_request");

    /// Requests in creation order (ids are time-ordered).
    pub fn list(
        conn: &mut AnyConnection,
        filter: &RequestFilter,
        after: Option<&str>,
        fetch: i64,
    ) -> QueryResult<Vec<Request>> {
        let mut query = filtered(filter).select(Request::as_select());
        if let Some(after) = after {
            query = query.filter(service_requests::id.gt(after.to_owned()));
        }
        query
            .order(service_requests::id.asc())
            .limit(fetch)
            .load(conn)
    }

    /// Closed requests last changed before `before` that are not anonymised yet.
    pub fn closed_before(
        conn: &mut AnyConnection,
        statuses: &[&str],
        before: NaiveDateTime,
        fetch: i64,
    ) -> QueryResult<Vec<Request>> {
        let statuses: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
        service_requests::table
            .filter(service_requests::status.eq_any(statuses))
            .filter(service_requests::updated_at.lt(before))
            .filter(service_requests::subject_code.ne(ANONYMISED))
            .order(service_requests::id.asc())
            .limit(fetch)
            .select(Request::as_select())
            .load(conn)
    }

    /// How many requests match with each of these statuses (one count per status: a boxed
    /// query cannot be grouped).
    pub fn counts(
        conn: &mut AnyConnection,
        filter: &RequestFilter,
        statuses: &[&str],
    ) -> QueryResult<Vec<(String, i64)>> {
        statuses
            .iter()
            .map(|s| {
                filtered(filter)
                    .filter(service_requests::status.eq(s.to_string()))
                    .count()
                    .get_result(conn)
                    .map(|n| (s.to_string(), n))
            })
            .collect()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = service_request_events, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Event {
    pub id: String,
    pub request_id: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor: String,
    pub party: String,
    pub note: Option<String>,
    pub partner_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod events {
    use super::*;
    versioned_writes!(service_request_events, Event, "service_request_event");

    pub fn of_request(conn: &mut AnyConnection, request_id: &str) -> QueryResult<Vec<Event>> {
        service_request_events::table
            .filter(service_request_events::request_id.eq(request_id))
            .order(service_request_events::id.asc())
            .select(Event::as_select())
            .load(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = service_request_notes, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Note {
    pub id: String,
    pub request_id: String,
    pub visibility: String,
    pub body: String,
    pub author: String,
    pub party: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod notes {
    use super::*;
    versioned_writes!(service_request_notes, Note, "service_request_note");

    /// A request's notes of these visibilities, oldest first.
    pub fn of_request(
        conn: &mut AnyConnection,
        request_id: &str,
        visibilities: &[&str],
        after: Option<&str>,
        fetch: i64,
    ) -> QueryResult<Vec<Note>> {
        let vis: Vec<String> = visibilities.iter().map(|v| v.to_string()).collect();
        let mut query = service_request_notes::table
            .filter(service_request_notes::request_id.eq(request_id.to_owned()))
            .filter(service_request_notes::visibility.eq_any(vis))
            .select(Note::as_select())
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(service_request_notes::id.gt(after.to_owned()));
        }
        query
            .order(service_request_notes::id.asc())
            .limit(fetch)
            .load(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = service_consents, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Consent {
    pub id: String,
    pub request_id: String,
    pub partner_id: String,
    pub records: String,
    pub purpose: String,
    pub giver: String,
    pub given_by_name: String,
    pub given_on: NaiveDate,
    pub recorded_by: String,
    pub provider_attestation: bool,
    pub parent_involvement: Option<String>,
    pub withdrawn_at: Option<NaiveDateTime>,
    pub withdrawn_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod consents {
    use super::*;
    versioned_writes!(service_consents, Consent, "service_consent");

    pub fn of_request(conn: &mut AnyConnection, request_id: &str) -> QueryResult<Vec<Consent>> {
        service_consents::table
            .filter(service_consents::request_id.eq(request_id))
            .order(service_consents::id.asc())
            .select(Consent::as_select())
            .load(conn)
    }

    /// The consent in force for disclosing a request to a partner, if any.
    pub fn in_force(
        conn: &mut AnyConnection,
        request_id: &str,
        partner_id: &str,
    ) -> QueryResult<Option<Consent>> {
        service_consents::table
            .filter(service_consents::request_id.eq(request_id))
            .filter(service_consents::partner_id.eq(partner_id))
            .filter(service_consents::withdrawn_at.is_null())
            .select(Consent::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().next())
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = service_disclosures, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Disclosure {
    pub id: String,
    pub request_id: String,
    pub partner_id: String,
    pub consent_id: Option<String>,
    pub records: String,
    pub purpose: String,
    pub disclosed_by: String,
    pub disclosed_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// `consent`, or the exception's basis.
    pub basis: String,
    pub exception_id: Option<String>,
    pub threat: Option<String>,
    pub legitimate_interest: Option<String>,
}

pub mod disclosures {
    use super::*;
    versioned_writes!(service_disclosures, Disclosure, "service_disclosure");

    pub fn of_request(conn: &mut AnyConnection, request_id: &str) -> QueryResult<Vec<Disclosure>> {
        service_disclosures::table
            .filter(service_disclosures::request_id.eq(request_id))
            .order(service_disclosures::id.asc())
            .select(Disclosure::as_select())
            .load(conn)
    }
}

/// A recorded FERPA 99.31 exception allowing a disclosure to a partner without consent.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = service_disclosure_exceptions, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct DisclosureException {
    pub id: String,
    pub request_id: String,
    pub partner_id: String,
    pub basis: String,
    pub threat: Option<String>,
    pub legitimate_interest: Option<String>,
    pub records: String,
    pub purpose: String,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod exceptions {
    use super::*;
    versioned_writes!(
        service_disclosure_exceptions,
        DisclosureException,
        "service_disclosure_exception"
    );

    pub fn of_request(
        conn: &mut AnyConnection,
        request_id: &str,
    ) -> QueryResult<Vec<DisclosureException>> {
        service_disclosure_exceptions::table
            .filter(service_disclosure_exceptions::request_id.eq(request_id))
            .order(service_disclosure_exceptions::id.asc())
            .select(DisclosureException::as_select())
            .load(conn)
    }

    /// The latest exception recorded for disclosing a request to a partner, if any.
    pub fn latest_for(
        conn: &mut AnyConnection,
        request_id: &str,
        partner_id: &str,
    ) -> QueryResult<Option<DisclosureException>> {
        service_disclosure_exceptions::table
            .filter(service_disclosure_exceptions::request_id.eq(request_id))
            .filter(service_disclosure_exceptions::partner_id.eq(partner_id))
            .order(service_disclosure_exceptions::id.desc())
            .limit(1)
            .select(DisclosureException::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().next())
    }
}
