//! Wraparound services: the catalog's attribute definitions and how a request's answers are
//! checked against them (Open311 GeoReport v2 service definitions), the service-request
//! lifecycle and who may move it (DOMAIN rule 24, after the Gravity/SDOHCC referral task), and
//! whose consent a disclosure to a partner needs (DOMAIN rules 15, 18, 21).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Longest free-text answer to an attribute (`string` 200, `text` 4000 characters).
pub const STRING_MAX: usize = 200;
pub const TEXT_MAX: usize = 4000;
/// Most attributes on one category, and most values in one list.
pub const ATTRIBUTES_MAX: usize = 50;
pub const VALUES_MAX: usize = 100;

/// How an attribute is answered (Open311's datatypes; `date` is a calendar date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    String,
    Text,
    Number,
    Date,
    Singlevaluelist,
    Multivaluelist,
}

/// One choice of a list attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"key": "food", "name": {"en": "Food", "es": "Alimentos"}}))]
pub struct AttributeValue {
    /// The code stored in an answer.
    #[schema(max_length = 64)]
    pub key: String,
    /// What a person reads, by BCP 47 language tag.
    pub name: BTreeMap<String, String>,
}

/// A question a request of this category answers (an Open311 service-definition attribute).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "household_size", "datatype": "number", "required": true,
    "description": {"en": "How many people live in the home?", "es": "¿Cuántas personas viven en el hogar?"},
    "values": []}))]
pub struct AttributeDefinition {
    #[schema(max_length = 64)]
    pub code: String,
    pub datatype: Datatype,
    #[serde(default)]
    pub required: bool,
    /// The question and its help text, by BCP 47 language tag.
    #[serde(default)]
    pub description: BTreeMap<String, String>,
    /// The choices of a `singlevaluelist` or `multivaluelist` (empty otherwise).
    #[serde(default)]
    pub values: Vec<AttributeValue>,
}

/// A problem with one field, named by its path (`attributes.household_size`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

fn problem(out: &mut Vec<Problem>, field: impl Into<String>, message: impl Into<String>) {
    out.push(Problem {
        field: field.into(),
        message: message.into(),
    });
}

fn is_code(text: &str) -> bool {
    !text.is_empty()
        && text.chars().count() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Control characters other than tab, line feed and carriage return.
pub fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Checks text keyed by language: well-formed tags, 1 to `max` characters, no control characters.
pub fn check_localized(
    map: &BTreeMap<String, String>,
    field: &str,
    max: usize,
    required: bool,
    out: &mut Vec<Problem>,
) {
    if required && map.is_empty() {
        problem(out, field, "needs the text in at least one language");
    }
    if map.len() > 20 {
        problem(out, field, "at most 20 languages");
    }
    for (lang, text) in map {
        let at = format!("{field}.{lang}");
        if !super::is_language_tag(lang) {
            problem(
                out,
                at,
                "keys must be BCP 47 language tags such as en or es-MX",
            );
        } else if text.trim().is_empty() || text.chars().count() > max {
            problem(out, at, format!("must be 1 to {max} characters"));
        } else if has_control(text) {
            problem(out, at, "must not contain control characters");
        }
    }
}

/// Checks a category's attribute definitions: codes unique and well formed, list attributes
/// with unique value keys, other attributes without values.
pub fn check_definitions(defs: &[AttributeDefinition], out: &mut Vec<Problem>) {
    if defs.len() > ATTRIBUTES_MAX {
        problem(
            out,
            "attributes",
            format!("at most {ATTRIBUTES_MAX} attributes"),
        );
    }
    for (i, def) in defs.iter().enumerate() {
        let at = format!("attributes[{i}]");
        if !is_code(&def.code) {
            problem(
                out,
                format!("{at}.code"),
                "must be 1 to 64 letters, digits, '_', '-' or '.'",
            );
        } else if defs[..i].iter().any(|d| d.code == def.code) {
            problem(out, format!("{at}.code"), "is used by another attribute");
        }
        check_localized(
            &def.description,
            &format!("{at}.description"),
            1000,
            false,
            out,
        );
        let is_list = matches!(
            def.datatype,
            Datatype::Singlevaluelist | Datatype::Multivaluelist
        );
        if is_list && def.values.is_empty() {
            problem(out, format!("{at}.values"), "a list attribute needs values");
        }
        if !is_list && !def.values.is_empty() {
            problem(
                out,
                format!("{at}.values"),
                "only list attributes have values",
            );
        }
        if def.values.len() > VALUES_MAX {
            problem(
                out,
                format!("{at}.values"),
                format!("at most {VALUES_MAX} values"),
            );
        }
        for (j, v) in def.values.iter().enumerate() {
            let vat = format!("{at}.values[{j}]");
            if !is_code(&v.key) {
                problem(
                    out,
                    format!("{vat}.key"),
                    "must be 1 to 64 letters, digits, '_', '-' or '.'",
                );
            } else if def.values[..j].iter().any(|o| o.key == v.key) {
                problem(out, format!("{vat}.key"), "is used by another value");
            }
            check_localized(&v.name, &format!("{vat}.name"), 200, true, out);
        }
    }
}

fn check_text(text: &str, max: usize, field: &str, out: &mut Vec<Problem>) {
    if text.chars().count() > max {
        problem(out, field, format!("must be at most {max} characters"));
    } else if has_control(text) {
        problem(out, field, "must not contain control characters");
    } else if text.trim().is_empty() {
        problem(out, field, "must not be empty");
    }
}

/// Types answers sent as form text (Open311 `attribute[code]=value`) by their definitions, so that
/// [`check_answers`] judges them as it judges JSON answers: a `multivaluelist` becomes a list, a
/// `number` that reads as one a number; anything else stays text (or a list when a single-value
/// attribute was sent several times), and an unknown code is kept for the check to name.
pub fn typed_answers(
    defs: &[AttributeDefinition],
    answers: BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Value> {
    answers
        .into_iter()
        .map(|(code, mut values)| {
            let datatype = defs.iter().find(|d| d.code == code).map(|d| d.datatype);
            let value = if datatype == Some(Datatype::Multivaluelist) || values.len() != 1 {
                Value::Array(values.into_iter().map(Value::String).collect())
            } else {
                let text = values.pop().unwrap_or_default();
                let number = (datatype == Some(Datatype::Number))
                    .then(|| text.trim().parse::<serde_json::Number>().ok())
                    .flatten();
                match number {
                    Some(n) => Value::Number(n),
                    None => Value::String(text),
                }
            };
            (code, value)
        })
        .collect()
}

/// Checks a request's answers against its category's definitions and names every bad field:
/// unknown attributes, missing required ones, wrong types, unknown list codes, text too long or
/// with control characters. `null` counts as not answered.
pub fn check_answers(
    defs: &[AttributeDefinition],
    answers: &BTreeMap<String, Value>,
) -> Vec<Problem> {
    let mut out = Vec::new();
    for code in answers.keys() {
        if !defs.iter().any(|d| &d.code == code) {
            let shown: String = code.chars().take(64).collect();
            problem(
                &mut out,
                format!("attributes.{shown}"),
                "is not an attribute of this category",
            );
        }
    }
    for def in defs {
        let at = format!("attributes.{}", def.code);
        let value = match answers.get(&def.code) {
            None | Some(Value::Null) => {
                if def.required {
                    problem(&mut out, at, "is required");
                }
                continue;
            }
            Some(v) => v,
        };
        let known = |key: &str| def.values.iter().any(|v| v.key == key);
        match def.datatype {
            Datatype::String | Datatype::Text => {
                let max = if def.datatype == Datatype::String {
                    STRING_MAX
                } else {
                    TEXT_MAX
                };
                match value.as_str() {
                    Some(s) => check_text(s, max, &at, &mut out),
                    None => problem(&mut out, at, "must be a string"),
                }
            }
            Datatype::Number => {
                if !value.as_f64().is_some_and(f64::is_finite) {
                    problem(&mut out, at, "must be a number");
                }
            }
            Datatype::Date => {
                let ok = value
                    .as_str()
                    .is_some_and(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok());
                if !ok {
                    problem(&mut out, at, "must be a date (YYYY-MM-DD)");
                }
            }
            Datatype::Singlevaluelist => match value.as_str() {
                Some(s) if known(s) => {}
                Some(_) => problem(&mut out, at, "is not one of this attribute's value keys"),
                None => problem(&mut out, at, "must be one value key (a string)"),
            },
            Datatype::Multivaluelist => match value.as_array() {
                Some(items) => {
                    if def.required && items.is_empty() {
                        problem(&mut out, at.clone(), "is required (at least one value)");
                    }
                    for (i, item) in items.iter().enumerate() {
                        match item.as_str() {
                            Some(s) if known(s) => {
                                if items[..i].iter().any(|o| o.as_str() == Some(s)) {
                                    problem(&mut out, format!("{at}[{i}]"), "is repeated");
                                }
                            }
                            _ => problem(
                                &mut out,
                                format!("{at}[{i}]"),
                                "is not one of this attribute's value keys",
                            ),
                        }
                    }
                }
                None => problem(&mut out, at, "must be a list of value keys"),
            },
        }
    }
    out
}

/// Where a service request is (the closed-loop referral lifecycle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    Triaged,
    Referred,
    Accepted,
    Rejected,
    InProgress,
    Completed,
    Declined,
    Withdrawn,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Submitted,
        Status::Triaged,
        Status::Referred,
        Status::Accepted,
        Status::Rejected,
        Status::InProgress,
        Status::Completed,
        Status::Declined,
        Status::Withdrawn,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Triaged => "triaged",
            Status::Referred => "referred",
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Declined => "declined",
            Status::Withdrawn => "withdrawn",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// No transition leaves a closed request.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Status::Completed | Status::Declined | Status::Withdrawn | Status::Cancelled
        )
    }

    /// Open311's two-valued status.
    pub fn open311(self) -> &'static str {
        if self.is_closed() || self == Status::Rejected {
            "closed"
        } else {
            "open"
        }
    }
}

/// A transition, as the action a caller posts (`POST /service-requests/{id}/{action}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Triage,
    Refer,
    Accept,
    Reject,
    Start,
    Complete,
    Decline,
    Withdraw,
    Cancel,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::Triage,
        Action::Refer,
        Action::Accept,
        Action::Reject,
        Action::Start,
        Action::Complete,
        Action::Decline,
        Action::Withdraw,
        Action::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Triage => "triage",
            Action::Refer => "refer",
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Start => "start",
            Action::Complete => "complete",
            Action::Decline => "decline",
            Action::Withdraw => "withdraw",
            Action::Cancel => "cancel",
        }
    }

    /// The participle, for messages ("cannot be referred").
    pub fn past(self) -> &'static str {
        match self {
            Action::Triage => "triaged",
            Action::Refer => "referred",
            Action::Accept => "accepted",
            Action::Reject => "rejected",
            Action::Start => "started",
            Action::Complete => "completed",
            Action::Decline => "declined",
            Action::Withdraw => "withdrawn",
            Action::Cancel => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// The part a caller plays for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The family that owns the request (the requester, for the Gravity task).
    Family,
    /// School staff: district admins and council staff of a council of the request's school.
    Staff,
    /// A member of the partner organization the request is referred to (the performer).
    Partner,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Family => "family",
            Party::Staff => "staff",
            Party::Partner => "partner",
        }
    }
}

/// The transition table: from which states an action may be taken, by whom, and where it leads.
/// `triage` and `refer` are staff work; `accept`, `reject`, `start`, `complete` and `decline`
/// belong to the partner (the performer); `withdraw` to the family (the requester);
/// `cancel` to staff.
pub fn rule(action: Action) -> (&'static [Status], &'static [Party], Status) {
    use Status::*;
    match action {
        Action::Triage => (&[Submitted], &[Party::Staff], Triaged),
        // A request rejected by one partner may be referred to another.
        Action::Refer => (&[Triaged, Rejected], &[Party::Staff], Referred),
        Action::Accept => (&[Referred], &[Party::Partner], Accepted),
        Action::Reject => (&[Referred], &[Party::Partner], Rejected),
        Action::Start => (&[Accepted], &[Party::Partner], InProgress),
        Action::Complete => (&[InProgress], &[Party::Partner], Completed),
        Action::Decline => (&[Accepted, InProgress], &[Party::Partner], Declined),
        Action::Withdraw => (
            &[Submitted, Triaged, Referred, Accepted, Rejected, InProgress],
            &[Party::Family],
            Withdrawn,
        ),
        Action::Cancel => (
            &[Submitted, Triaged, Referred, Accepted, Rejected, InProgress],
            &[Party::Staff],
            Cancelled,
        ),
    }
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    WrongState { from: Status, action: Action },
    WrongParty { parties: Vec<Party>, action: Action },
}

impl Refusal {
    pub fn detail(&self) -> String {
        match self {
            Refusal::WrongState { from, action } => {
                let (allowed, _, _) = rule(*action);
                let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
                format!(
                    "a request that is {} cannot be {} (only from: {})",
                    from.as_str(),
                    action.past(),
                    names.join(", ")
                )
            }
            Refusal::WrongParty { parties, action } => {
                let (_, who, _) = rule(*action);
                let you: Vec<&str> = parties.iter().map(|p| p.as_str()).collect();
                let may: Vec<&str> = who.iter().map(|p| p.as_str()).collect();
                format!(
                    "only {} may {} a request; you act here as {}",
                    may.join(" or "),
                    action.as_str(),
                    if you.is_empty() {
                        "nobody".to_owned()
                    } else {
                        you.join(" and ")
                    }
                )
            }
        }
    }
}

/// Where `action` leads from `from` when taken by a caller playing `parties`, or why not.
/// The party is checked first: a family never learns more about staff actions than that they
/// are staff actions.
pub fn transition(from: Status, action: Action, parties: &[Party]) -> Result<Status, Refusal> {
    let (allowed, who, to) = rule(action);
    if !who.iter().any(|w| parties.contains(w)) {
        return Err(Refusal::WrongParty {
            parties: parties.to_vec(),
            action,
        });
    }
    if !allowed.contains(&from) {
        return Err(Refusal::WrongState { from, action });
    }
    Ok(to)
}

/// Who may read a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// The family, staff and (once referred) the partner.
    Family,
    /// Staff only.
    Staff,
    /// Staff and the partner the request is referred to; never the family.
    Partner,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Family => "family",
            Visibility::Staff => "staff",
            Visibility::Partner => "partner",
        }
    }

    pub fn parse(text: &str) -> Option<Visibility> {
        match text {
            "family" => Some(Visibility::Family),
            "staff" => Some(Visibility::Staff),
            "partner" => Some(Visibility::Partner),
            _ => None,
        }
    }
}

/// Whether a caller playing `parties` may read a note of `visibility`. `partner_has_access` is
/// whether the request is referred to the caller's partner organization under a consent in force.
pub fn may_read_note(visibility: Visibility, parties: &[Party], partner_has_access: bool) -> bool {
    parties.iter().any(|p| match p {
        Party::Staff => true,
        Party::Family => visibility == Visibility::Family,
        Party::Partner => partner_has_access && visibility != Visibility::Staff,
    })
}

/// Which visibilities a party may write: families write family notes; partners family or
/// partner notes; staff any.
pub fn may_write_note(visibility: Visibility, parties: &[Party], partner_has_access: bool) -> bool {
    parties.iter().any(|p| match p {
        Party::Staff => true,
        Party::Family => visibility == Visibility::Family,
        Party::Partner => partner_has_access && visibility != Visibility::Staff,
    })
}

/// What kind of consent a category's services need (set on the category).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentClass {
    /// Parent for a minor, the student from 18.
    General,
    /// As general, and a minor of 12 or more may consent alone with the provider's maturity
    /// attestation and a recorded parent-involvement decision (Fam. Code 6924; H&S 124260).
    OutpatientMentalHealth,
    /// Inpatient care or medication: never consented to by a minor.
    InpatientOrMedication,
}

impl ConsentClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentClass::General => "general",
            ConsentClass::OutpatientMentalHealth => "outpatient_mental_health",
            ConsentClass::InpatientOrMedication => "inpatient_or_medication",
        }
    }

    pub fn parse(text: &str) -> Option<ConsentClass> {
        match text {
            "general" => Some(ConsentClass::General),
            "outpatient_mental_health" => Some(ConsentClass::OutpatientMentalHealth),
            "inpatient_or_medication" => Some(ConsentClass::InpatientOrMedication),
            _ => None,
        }
    }
}

/// Who gave a consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Giver {
    /// A parent or guardian.
    Parent,
    /// The student themself.
    Student,
}

impl Giver {
    pub fn as_str(self) -> &'static str {
        match self {
            Giver::Parent => "parent",
            Giver::Student => "student",
        }
    }

    pub fn parse(text: &str) -> Option<Giver> {
        match text {
            "parent" => Some(Giver::Parent),
            "student" => Some(Giver::Student),
            _ => None,
        }
    }
}

/// What the consent rules look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentFacts {
    pub class: ConsentClass,
    pub giver: Giver,
    /// The student's birth date, when the request records one (needed only to tell whether the
    /// student is 18, or 12 or more).
    pub birth_date: Option<NaiveDate>,
    /// The day the consent is given or used.
    pub on: NaiveDate,
    pub provider_attestation: bool,
    pub parent_involvement_recorded: bool,
}

/// Whole years of age on a day; a birthday counts from its first moment (29 February birthdays
/// count on 1 March in common years).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

/// The FERPA 99.31 exception a disclosure without consent is made under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionBasis {
    /// 99.31(a)(10), 99.36: an articulable and significant threat to health or safety.
    HealthOrSafetyEmergency,
    /// 99.31(a)(1): a school official (or a contractor under the school's direct control) with
    /// a legitimate educational interest.
    SchoolOfficial,
}

impl ExceptionBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionBasis::HealthOrSafetyEmergency => "health_or_safety_emergency",
            ExceptionBasis::SchoolOfficial => "school_official",
        }
    }

    pub fn parse(text: &str) -> Option<ExceptionBasis> {
        match text {
            "health_or_safety_emergency" => Some(ExceptionBasis::HealthOrSafetyEmergency),
            "school_official" => Some(ExceptionBasis::SchoolOfficial),
            _ => None,
        }
    }
}

/// What an exception must say: the threat for an emergency (99.32(a)(5)), the legitimate
/// educational interest for a school official; the other text is not part of that basis.
pub fn check_exception(
    basis: ExceptionBasis,
    threat: Option<&str>,
    legitimate_interest: Option<&str>,
) -> Vec<Problem> {
    let given = |t: Option<&str>| t.is_some_and(|t| !t.trim().is_empty());
    let mut problems = Vec::new();
    let (needed, needed_name, other, other_name) = match basis {
        ExceptionBasis::HealthOrSafetyEmergency => {
            (threat, "threat", legitimate_interest, "legitimate_interest")
        }
        ExceptionBasis::SchoolOfficial => {
            (legitimate_interest, "legitimate_interest", threat, "threat")
        }
    };
    if !given(needed) {
        problems.push(Problem {
            field: needed_name.to_owned(),
            message: format!("is required for the basis {}", basis.as_str()),
        });
    }
    if other.is_some() {
        problems.push(Problem {
            field: other_name.to_owned(),
            message: format!("is not part of the basis {}", basis.as_str()),
        });
    }
    problems
}

/// Whether a student born on `birth` is 18 or older on `on` (an unknown birth date: a minor).
pub fn is_adult(birth: Option<NaiveDate>, on: NaiveDate) -> bool {
    birth.is_some_and(|b| age_on(b, on) >= 18)
}

/// The last birth date of a student who is 18 or older on `on` (born on or before it).
pub fn adult_born_by(on: NaiveDate) -> NaiveDate {
    // 18 years are 216 months; a 29 February birthday comes on 1 March in other years, as in
    // `age_on`: born 2008-02-29 is a minor on 2026-02-28 (the cut-off is 2008-02-28).
    on.checked_sub_months(chrono::Months::new(216))
        .unwrap_or(NaiveDate::MIN)
}

/// Whether a consent is valid for the student's age on `facts.on`, or why not.
///
/// - From 18 only the student consents; a parent's consent no longer suffices (99.5).
/// - Before 18 a parent consents; a student of 12 or more may consent alone to outpatient
///   mental-health services, with the provider's maturity attestation and the
///   parent-involvement decision recorded (Fam. Code 6924; H&S 124260).
/// - A minor never consents to inpatient care or medication.
/// - Without a birth date the student is taken to be a minor: only a parent's consent counts.
pub fn consent_valid(facts: &ConsentFacts) -> Result<(), &'static str> {
    let age = facts.birth_date.map(|b| age_on(b, facts.on));
    let adult = age.is_some_and(|a| a >= 18);
    match (facts.giver, adult) {
        (Giver::Parent, false) => Ok(()),
        (Giver::Parent, true) => {
            Err("the student is 18 or older: consent must now come from the student, not a parent")
        }
        (Giver::Student, true) => Ok(()),
        (Giver::Student, false) => match facts.class {
            ConsentClass::General => {
                Err("a minor cannot consent to this service alone; a parent must consent")
            }
            ConsentClass::InpatientOrMedication => Err(
                "a minor can never consent to inpatient care or medication; a parent must consent",
            ),
            ConsentClass::OutpatientMentalHealth => {
                if age.is_none_or(|a| a < 12) {
                    Err("a minor may consent alone to outpatient mental-health services only from age 12 (the request needs the student's birth date)")
                } else if !facts.provider_attestation {
                    Err("a minor's own consent needs the provider's attestation that the minor is mature enough to participate")
                } else if !facts.parent_involvement_recorded {
                    Err("a minor's own consent needs the provider's parent-involvement decision recorded")
                } else {
                    Ok(())
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs() -> Vec<AttributeDefinition> {
        serde_json::from_value(json!([
            {"code": "household_size", "datatype": "number", "required": true},
            {"code": "needs", "datatype": "multivaluelist", "required": true,
             "values": [{"key": "food", "name": {"en": "Food"}}, {"key": "housing", "name": {"en": "Housing"}}]},
            {"code": "time", "datatype": "singlevaluelist",
             "values": [{"key": "am", "name": {"en": "Morning"}}, {"key": "pm", "name": {"en": "Afternoon"}}]},
            {"code": "since", "datatype": "date"},
            {"code": "summary", "datatype": "string"},
            {"code": "story", "datatype": "text"}
        ]))
        .unwrap()
    }

    fn answers(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    fn fields(p: &[Problem]) -> Vec<&str> {
        p.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn form_answers_are_typed_by_their_definitions() {
        let form: BTreeMap<String, Vec<String>> = [
            ("household_size", vec!["4"]),
            ("needs", vec!["food"]),
            ("time", vec!["pm", "am"]),
            ("summary", vec!["12"]),
            ("pets", vec!["2"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
        .collect();
        let typed = typed_answers(&defs(), form);
        assert_eq!(typed["household_size"], json!(4));
        assert_eq!(typed["needs"], json!(["food"]));
        assert_eq!(typed["time"], json!(["pm", "am"]));
        assert_eq!(typed["summary"], json!("12"));
        assert_eq!(typed["pets"], json!("2"));
        let p = check_answers(&defs(), &typed);
        assert_eq!(fields(&p), ["attributes.pets", "attributes.time"], "{p:?}");
    }

    #[test]
    fn good_answers_pass() {
        let p = check_answers(
            &defs(),
            &answers(json!({"household_size": 4, "needs": ["food"], "time": "pm",
                "since": "2026-09-01", "summary": "Necesitamos ayuda", "story": "Línea 1\nLínea 2"})),
        );
        assert!(p.is_empty(), "{p:?}");
        // Optional attributes may be left out or null.
        let p = check_answers(
            &defs(),
            &answers(json!({"household_size": 1.5, "needs": ["food", "housing"], "time": null})),
        );
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn every_bad_field_is_named() {
        let p = check_answers(
            &defs(),
            &answers(
                json!({"household_size": "four", "time": "noon", "since": "09/01/2026",
                "summary": "x".repeat(201), "story": "bell\u{7}", "pets": true}),
            ),
        );
        assert_eq!(
            fields(&p),
            [
                "attributes.pets",
                "attributes.household_size",
                "attributes.needs",
                "attributes.time",
                "attributes.since",
                "attributes.summary",
                "attributes.story"
            ]
        );
        assert!(p[2].message.contains("required"));
    }

    #[test]
    fn list_answers_use_known_codes_once() {
        let p = check_answers(
            &defs(),
            &answers(json!({"household_size": 2, "needs": ["food", "cars", "food", 3]})),
        );
        assert_eq!(
            fields(&p),
            [
                "attributes.needs[1]",
                "attributes.needs[2]",
                "attributes.needs[3]"
            ]
        );
        let p = check_answers(&defs(), &answers(json!({"household_size": 2, "needs": []})));
        assert_eq!(fields(&p), ["attributes.needs"]);
        let p = check_answers(
            &defs(),
            &answers(json!({"household_size": 2, "needs": "food"})),
        );
        assert_eq!(fields(&p), ["attributes.needs"]);
    }

    #[test]
    fn text_limits_and_types() {
        let ok = "é".repeat(TEXT_MAX);
        let p = check_answers(
            &defs(),
            &answers(json!({"household_size": 2, "needs": ["food"], "story": ok, "summary": " "})),
        );
        assert_eq!(fields(&p), ["attributes.summary"]);
        let p = check_answers(
            &defs(),
            &answers(
                json!({"household_size": 2, "needs": ["food"], "story": "é".repeat(TEXT_MAX + 1), "summary": 5}),
            ),
        );
        assert_eq!(fields(&p), ["attributes.summary", "attributes.story"]);
        let p = check_answers(
            &defs(),
            &answers(json!({"household_size": true, "needs": ["food"], "since": "2026-02-30"})),
        );
        assert_eq!(
            fields(&p),
            ["attributes.household_size", "attributes.since"]
        );
    }

    #[test]
    fn definitions_are_checked() {
        let bad: Vec<AttributeDefinition> = serde_json::from_value(json!([
            {"code": "a b", "datatype": "string"},
            {"code": "x", "datatype": "singlevaluelist"},
            {"code": "x", "datatype": "number", "values": [{"key": "k", "name": {"en": "K"}}]},
            {"code": "y", "datatype": "multivaluelist", "description": {"en_US": "?"},
             "values": [{"key": "k", "name": {}}, {"key": "k", "name": {"es": "K"}}]}
        ]))
        .unwrap();
        let mut p = Vec::new();
        check_definitions(&bad, &mut p);
        assert_eq!(
            fields(&p),
            [
                "attributes[0].code",
                "attributes[1].values",
                "attributes[2].code",
                "attributes[2].values",
                "attributes[3].description.en_US",
                "attributes[3].values[0].name",
                "attributes[3].values[1].key"
            ]
        );
        let mut p = Vec::new();
        check_definitions(&defs(), &mut p);
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn the_happy_path_of_a_referral() {
        use Action::*;
        let staff = [Party::Staff];
        let partner = [Party::Partner];
        let mut s = Status::Submitted;
        for (action, who, to) in [
            (Triage, &staff, Status::Triaged),
            (Refer, &staff, Status::Referred),
            (Accept, &partner, Status::Accepted),
            (Start, &partner, Status::InProgress),
            (Complete, &partner, Status::Completed),
        ] {
            s = transition(s, action, who).unwrap();
            assert_eq!(s, to);
        }
        // Nothing leaves a closed request.
        for action in Action::ALL {
            for party in [Party::Family, Party::Staff, Party::Partner] {
                if let Ok(to) = transition(Status::Completed, action, &[party]) {
                    panic!("{action:?} by {party:?} left completed for {to:?}");
                }
            }
        }
    }

    #[test]
    fn wrong_parties_are_refused() {
        use Action::*;
        // The requester never sets the performer's states (SDOHCC).
        for action in [
            Accept, Reject, Start, Complete, Decline, Triage, Refer, Cancel,
        ] {
            let e = transition(Status::Referred, action, &[Party::Family]).unwrap_err();
            assert!(matches!(e, Refusal::WrongParty { .. }), "{action:?}");
        }
        // Staff do not act for the partner; the partner does not triage or withdraw.
        assert!(transition(Status::Referred, Accept, &[Party::Staff]).is_err());
        assert!(transition(Status::Submitted, Triage, &[Party::Partner]).is_err());
        assert!(transition(Status::Referred, Withdraw, &[Party::Partner]).is_err());
        let e = transition(Status::InProgress, Complete, &[Party::Family]).unwrap_err();
        assert!(
            e.detail().contains("only partner may complete"),
            "{}",
            e.detail()
        );
        assert!(e.detail().contains("family"), "{}", e.detail());
    }

    #[test]
    fn wrong_states_are_refused_naming_both() {
        let e = transition(Status::Submitted, Action::Accept, &[Party::Partner]).unwrap_err();
        assert_eq!(
            e,
            Refusal::WrongState {
                from: Status::Submitted,
                action: Action::Accept
            }
        );
        assert_eq!(
            e.detail(),
            "a request that is submitted cannot be accepted (only from: referred)"
        );
        assert!(transition(Status::Submitted, Action::Refer, &[Party::Staff]).is_err());
        assert_eq!(
            transition(Status::Rejected, Action::Refer, &[Party::Staff]),
            Ok(Status::Referred)
        );
        assert_eq!(
            transition(Status::InProgress, Action::Withdraw, &[Party::Family]),
            Ok(Status::Withdrawn)
        );
        assert_eq!(
            transition(Status::Accepted, Action::Cancel, &[Party::Staff]),
            Ok(Status::Cancelled)
        );
        // Every status and action name round-trips.
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn note_visibility_matrix() {
        use Visibility::*;
        let f = [Party::Family];
        let s = [Party::Staff];
        let p = [Party::Partner];
        assert!(may_read_note(Family, &f, false));
        assert!(!may_read_note(Staff, &f, false));
        assert!(!may_read_note(Partner, &f, false));
        for v in [Family, Staff, Partner] {
            assert!(may_read_note(v, &s, false));
            assert!(!may_read_note(v, &p, false), "partner before referral");
        }
        assert!(may_read_note(Family, &p, true));
        assert!(may_read_note(Partner, &p, true));
        assert!(!may_read_note(Staff, &p, true));
        assert!(!may_write_note(Staff, &f, false));
        assert!(may_write_note(Family, &f, false));
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn facts(class: ConsentClass, giver: Giver, birth: Option<&str>, on: &str) -> ConsentFacts {
        ConsentFacts {
            class,
            giver,
            birth_date: birth.map(d),
            on: d(on),
            provider_attestation: false,
            parent_involvement_recorded: false,
        }
    }

    #[test]
    fn an_exception_says_what_its_basis_needs() {
        use ExceptionBasis::*;
        assert!(check_exception(HealthOrSafetyEmergency, Some("threat"), None).is_empty());
        let p = check_exception(HealthOrSafetyEmergency, Some("  "), Some("x"));
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].field, "threat");
        assert_eq!(p[1].field, "legitimate_interest");
        assert!(check_exception(SchoolOfficial, None, Some("tutoring contract")).is_empty());
        assert_eq!(
            check_exception(SchoolOfficial, None, None)[0].field,
            "legitimate_interest"
        );
    }

    #[test]
    fn the_adult_cut_off_agrees_with_age_on() {
        for (birth, on) in [
            ("2008-11-25", "2026-11-24"),
            ("2008-11-25", "2026-11-25"),
            ("2008-02-29", "2026-02-28"),
            ("2008-02-29", "2026-03-01"),
            ("2008-12-31", "2026-12-30"),
        ] {
            let (b, o) = (d(birth), d(on));
            assert_eq!(
                b <= adult_born_by(o),
                is_adult(Some(b), o),
                "{birth} on {on}"
            );
        }
        assert!(!is_adult(None, d("2026-11-25")));
    }

    #[test]
    fn ages_switch_on_the_birthday() {
        assert_eq!(age_on(d("2008-11-25"), d("2026-11-24")), 17);
        assert_eq!(age_on(d("2008-11-25"), d("2026-11-25")), 18);
        assert_eq!(age_on(d("2008-02-29"), d("2026-02-28")), 17);
        assert_eq!(age_on(d("2008-02-29"), d("2026-03-01")), 18);
    }

    #[test]
    fn consent_moves_to_the_student_at_18() {
        use ConsentClass::*;
        let birth = Some("2008-11-25");
        assert!(consent_valid(&facts(General, Giver::Parent, birth, "2026-11-24")).is_ok());
        assert!(consent_valid(&facts(General, Giver::Parent, birth, "2026-11-25")).is_err());
        assert!(consent_valid(&facts(General, Giver::Student, birth, "2026-11-25")).is_ok());
        assert!(consent_valid(&facts(General, Giver::Student, birth, "2026-11-24")).is_err());
        // Without a birth date, only a parent's consent counts.
        assert!(consent_valid(&facts(General, Giver::Parent, None, "2026-11-24")).is_ok());
        assert!(consent_valid(&facts(General, Giver::Student, None, "2026-11-24")).is_err());
        // An adult consents to anything.
        assert!(consent_valid(&facts(
            InpatientOrMedication,
            Giver::Student,
            birth,
            "2027-01-01"
        ))
        .is_ok());
    }

    #[test]
    fn minors_consent_alone_only_to_outpatient_mental_health_from_12() {
        use ConsentClass::*;
        let mut f = facts(
            OutpatientMentalHealth,
            Giver::Student,
            Some("2014-06-01"),
            "2026-11-25",
        );
        assert!(consent_valid(&f).is_err(), "no attestation");
        f.provider_attestation = true;
        assert!(consent_valid(&f).is_err(), "no parent-involvement decision");
        f.parent_involvement_recorded = true;
        assert!(consent_valid(&f).is_ok());
        // 11 years old: no.
        f.birth_date = Some(d("2015-06-01"));
        assert!(consent_valid(&f).is_err());
        // Unknown age: no.
        f.birth_date = None;
        assert!(consent_valid(&f).is_err());
        // Never inpatient or medication, attested or not.
        f.birth_date = Some(d("2010-01-01"));
        f.class = InpatientOrMedication;
        assert!(consent_valid(&f).is_err());
        f.class = General;
        assert!(consent_valid(&f).is_err());
    }
}
