//! Who may do what: pure functions over the caller's grants and the facts about the object. No
//! I/O here; handlers gather the facts and ask. See docs/AUTH.md for the table this implements.

use serde::Serialize;

use crate::domain::apps::Scope;
use crate::domain::services::Party;
use utoipa::ToSchema;

/// A role granted to a person or an API client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, everywhere.
    DistrictAdmin,
    /// Runs the councils it is granted for: their settings, seats and holders.
    CouncilStaff,
    /// A family member: sees their own records (and, later, their own service requests).
    Family,
    /// A member of a partner organization (later: the service requests referred to it).
    Partner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::DistrictAdmin => "district_admin",
            Role::CouncilStaff => "council_staff",
            Role::Family => "family",
            Role::Partner => "partner",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "district_admin" => Some(Role::DistrictAdmin),
            "council_staff" => Some(Role::CouncilStaff),
            "family" => Some(Role::Family),
            "partner" => Some(Role::Partner),
            _ => None,
        }
    }
}

/// One grant: a role, for one council when the role is per council.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub council_id: Option<String>,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    /// A person, by their cogov person id.
    Person(String),
    /// An API client, by its public `client_id`.
    Client(String),
}

/// The caller with everything granted to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub actor: Actor,
    pub grants: Vec<Grant>,
    /// Councils where the caller currently holds a seat (the derived `council_member` role).
    pub seated_on: Vec<String>,
    /// Set when a third-party app calls for a family with a token the family allowed it: the
    /// caller is then the family member, with no more than the `family` role, narrowed further
    /// by the scopes.
    pub app: Option<AppAccess>,
}

/// A third-party app acting for the person of a [`Principal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAccess {
    /// The app's public `client_id`.
    pub client_id: String,
    /// The family's grant to the app.
    pub grant_id: String,
    /// What the family allowed it (and the token carries).
    pub scopes: Vec<Scope>,
}

impl Principal {
    pub fn anonymous() -> Principal {
        Principal {
            actor: Actor::Anonymous,
            grants: Vec::new(),
            seated_on: Vec::new(),
            app: None,
        }
    }

    pub fn is_authenticated(&self) -> bool {
        self.actor != Actor::Anonymous
    }

    pub fn person_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::Person(id) => Some(id),
            _ => None,
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    pub fn is_admin(&self) -> bool {
        self.has(Role::DistrictAdmin)
    }

    /// District admin, or staff of this council.
    pub fn staffs(&self, council_id: &str) -> bool {
        self.is_admin()
            || self.grants.iter().any(|g| {
                g.role == Role::CouncilStaff && g.council_id.as_deref() == Some(council_id)
            })
    }

    /// How records name this caller as their creator (`person:<id>`, `client:<client_id>`).
    pub fn actor_key(&self) -> Option<String> {
        match &self.actor {
            Actor::Anonymous => None,
            Actor::Person(id) => Some(format!("person:{id}")),
            Actor::Client(id) => Some(format!("client:{id}")),
        }
    }

    /// The councils this caller is council staff of.
    pub fn staffed_councils(&self) -> Vec<String> {
        self.grants
            .iter()
            .filter(|g| g.role == Role::CouncilStaff)
            .filter_map(|g| g.council_id.clone())
            .collect()
    }

    /// Role names for the audit log and `/me`, `council_member` included when derived.
    pub fn role_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .grants
            .iter()
            .map(|g| match &g.council_id {
                Some(c) => format!("{}:{c}", g.role.as_str()),
                None => g.role.as_str().to_owned(),
            })
            .collect();
        names.extend(self.seated_on.iter().map(|c| format!("council_member:{c}")));
        names
    }
}

/// What a rule decided. `Hidden` is answered as 404 so that ids cannot be probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Not signed in: 401.
    SignIn,
    /// Signed in, may see the object but not do this: 403.
    Forbid,
    /// May not even know the object exists: 404.
    Hidden,
}

fn allow_if(p: &Principal, ok: bool) -> Decision {
    match (ok, p.is_authenticated()) {
        (true, _) => Decision::Allow,
        (false, false) => Decision::SignIn,
        (false, true) => Decision::Forbid,
    }
}

/// What an app acting for a family may do: people who call themselves, and API clients, are not
/// narrowed here; an app needs the scope (`None`: nothing an app may do at all).
pub fn app_may(p: &Principal, scope: Option<Scope>) -> Decision {
    match &p.app {
        None => Decision::Allow,
        Some(app) if scope.is_some_and(|s| app.scopes.contains(&s)) => Decision::Allow,
        Some(_) => Decision::Forbid,
    }
}

/// Inviting a family contact to an account, or to reset its password: district admins and
/// council staff.
pub fn invite_family(p: &Principal) -> Decision {
    allow_if(p, p.is_admin() || p.has(Role::CouncilStaff))
}

/// Public records (schools, councils, seats and holders' names, composition, seat history, rule
/// overrides) are readable by anyone.
pub fn read_public() -> Decision {
    Decision::Allow
}

/// Creating, changing or deleting schools, creating and deleting councils, managing grants,
/// listing people, reading the audit log.
pub fn district_admin_only(p: &Principal) -> Decision {
    allow_if(p, p.is_admin())
}

/// Changing a council, its seats and who holds them.
pub fn manage_council(p: &Principal, council_id: &str) -> Decision {
    allow_if(p, p.staffs(council_id))
}

/// Adding a person to the directory (to seat them): district admins and council staff.
pub fn create_person(p: &Principal) -> Decision {
    allow_if(p, p.is_admin() || p.has(Role::CouncilStaff))
}

/// Facts about a person record that decide who may see it.
#[derive(Debug, Default, Clone)]
pub struct PersonFacts {
    /// Councils where the person holds or has held a seat.
    pub seated_ever_on: Vec<String>,
    /// Councils where the person holds a seat now.
    pub seated_now_on: Vec<String>,
    /// Who added the person (`person:<id>` or `client:<client_id>`).
    pub created_by: Option<String>,
}

/// Listing and searching people: district admins see everyone; council staff see the people
/// they added and those seated now on councils they staff (the list is narrowed to those).
pub fn list_people(p: &Principal) -> Decision {
    allow_if(p, p.is_admin() || p.has(Role::CouncilStaff))
}

/// Whether the caller is related to the person now: staff of a council the person sits on now,
/// or the one who added them. Rights over a record come from a current relationship or a
/// grant; having once seated someone does not keep their contact details open to you.
fn staff_related(p: &Principal, facts: &PersonFacts) -> bool {
    facts.seated_now_on.iter().any(|c| p.staffs(c))
        || (facts.created_by.is_some() && facts.created_by == p.actor_key())
}

/// Reading a person's record (it holds contact details): district admins, the person, staff of a
/// council the person sits on now or who added them, and fellow members of a council the person
/// sits on now. Anyone else is told the record does not exist.
pub fn read_person(p: &Principal, person_id: &str, facts: &PersonFacts) -> Decision {
    let fellow_member = facts.seated_now_on.iter().any(|c| p.seated_on.contains(c));
    let ok = p.is_admin()
        || p.person_id() == Some(person_id)
        || staff_related(p, facts)
        || fellow_member;
    if ok {
        Decision::Allow
    } else if p.is_authenticated() {
        Decision::Hidden
    } else {
        Decision::SignIn
    }
}

/// Whether the caller sees a person's withheld directory information (FERPA 99.37): district
/// admins, the person, and staff related to them now (a legitimate interest). Fellow council
/// members and the public do not.
pub fn sees_withheld_directory(p: &Principal, person_id: &str, facts: &PersonFacts) -> bool {
    p.is_admin() || p.person_id() == Some(person_id) || staff_related(p, facts)
}

/// Setting the McKinney-Vento flag: district admins and staff related to the person now.
pub fn flag_homeless_youth(p: &Principal, facts: &PersonFacts) -> Decision {
    allow_if(p, p.is_admin() || staff_related(p, facts))
}

/// Changing a person's record: district admins, the person, and staff related to them now.
pub fn update_person(p: &Principal, person_id: &str, facts: &PersonFacts) -> Decision {
    match read_person(p, person_id, facts) {
        Decision::Allow => {
            let ok = p.is_admin() || p.person_id() == Some(person_id) || staff_related(p, facts);
            allow_if(p, ok)
        }
        other => other,
    }
}

/// Deleting a person: district admins only (others who may see the record get 403).
pub fn delete_person(p: &Principal, person_id: &str, facts: &PersonFacts) -> Decision {
    match read_person(p, person_id, facts) {
        Decision::Allow => allow_if(p, p.is_admin()),
        other => other,
    }
}

/// Facts about a service request that decide which parts a caller plays for it.
#[derive(Debug, Default, Clone)]
pub struct ServiceRequestFacts {
    /// The councils of the request's school (their staff are the school's staff).
    pub school_councils: Vec<String>,
    /// The family member (parent) who filed or owns the request.
    pub family_person_id: Option<String>,
    /// The student the request is about, when they have a person record.
    pub subject_person_id: Option<String>,
    /// Whether the student is 18 or older today: then the student, not the parent, owns the
    /// request (FERPA 99.5).
    pub subject_adult: bool,
    /// The partner organization the request is referred to.
    pub partner_id: Option<String>,
    /// The partner organizations the caller is a member of.
    pub caller_partners: Vec<String>,
    /// Whether a consent to disclose the request to `partner_id` is in force, or a recorded
    /// 99.31 exception allows the disclosure to it.
    pub consent_in_force: bool,
}

/// The parts a caller plays for a service request: staff (district admins, and council staff of
/// a council of the request's school), the family (a `family` caller who owns the request), the
/// partner (a `partner` caller who is a member of the organization the request is referred to,
/// while a consent to disclose it to that organization is in force).
pub fn request_parties(p: &Principal, facts: &ServiceRequestFacts) -> Vec<Party> {
    let mut parties = Vec::new();
    if p.is_admin() || facts.school_councils.iter().any(|c| p.staffs(c)) {
        parties.push(Party::Staff);
    }
    // The family side: the parent while the student is a minor; from the 18th birthday the
    // student (a `family` account linked as the request's subject), and no longer the parent.
    let me = p.person_id();
    let parent_of_minor = me == facts.family_person_id.as_deref() && !facts.subject_adult;
    let adult_student = me == facts.subject_person_id.as_deref() && facts.subject_adult;
    if p.has(Role::Family) && me.is_some() && (parent_of_minor || adult_student) {
        parties.push(Party::Family);
    }
    if p.has(Role::Partner)
        && facts.consent_in_force
        && facts
            .partner_id
            .as_ref()
            .is_some_and(|id| facts.caller_partners.contains(id))
    {
        parties.push(Party::Partner);
    }
    parties
}

/// Reading a service request: anyone who plays a part for it; everyone else is told it does
/// not exist.
pub fn read_request(p: &Principal, parties: &[Party]) -> Decision {
    if !parties.is_empty() {
        Decision::Allow
    } else if p.is_authenticated() {
        Decision::Hidden
    } else {
        Decision::SignIn
    }
}

/// Filing a service request: a family member (for themselves), or staff of the school (for a
/// family).
pub fn create_request(p: &Principal, school_councils: &[String]) -> Decision {
    let staff = p.is_admin() || school_councils.iter().any(|c| p.staffs(c));
    allow_if(p, staff || p.has(Role::Family))
}

/// Listing service requests: every signed-in caller (the list holds only the requests the caller
/// plays a part for).
pub fn list_requests(p: &Principal) -> Decision {
    allow_if(p, p.is_authenticated())
}

/// Reading reports (aggregates over service requests and councils): district admins (every
/// school) and council staff (the schools of their councils). Families, partners and apps
/// acting for a family never.
pub fn read_reports(p: &Principal) -> Decision {
    if p.app.is_some() {
        return Decision::Forbid;
    }
    allow_if(p, p.is_admin() || p.has(Role::CouncilStaff))
}

/// Recording or withdrawing a consent, and reading disclosure records: the family and staff
/// (never the partner).
/// Recording a FERPA exception in place of consent: staff of the request's school only (the
/// family reads them; a partner never does).
pub fn record_exception(parties: &[Party]) -> Decision {
    if parties.contains(&Party::Staff) {
        Decision::Allow
    } else {
        Decision::Forbid
    }
}

pub fn manage_consent(parties: &[Party]) -> Decision {
    if parties
        .iter()
        .any(|p| matches!(p, Party::Family | Party::Staff))
    {
        Decision::Allow
    } else {
        Decision::Forbid
    }
}

/// Reading a meeting: anyone once its notice was published; before that (a draft, or a draft
/// cancelled unpublished) only the council's staff. Anyone else is told it does not exist.
pub fn read_meeting(p: &Principal, council_id: &str, published: bool) -> Decision {
    if published || p.staffs(council_id) {
        Decision::Allow
    } else {
        Decision::Hidden
    }
}

/// Whether a council's meeting list shows the caller meetings never published.
pub fn sees_unpublished_meetings(p: &Principal, council_id: &str) -> bool {
    p.staffs(council_id)
}

/// Proposing an agenda item to a council: its staff and its seat holders.
pub fn propose_item(p: &Principal, council_id: &str) -> Decision {
    allow_if(
        p,
        p.staffs(council_id) || p.seated_on.iter().any(|c| c == council_id),
    )
}

/// Reading an agenda item: on a meeting, whoever may read the meeting; a proposal (pending or
/// declined) only the council's staff and whoever proposed it. Others are told it does not
/// exist.
pub fn read_agenda_item(
    p: &Principal,
    council_id: &str,
    meeting_published: Option<bool>,
    proposed_by: Option<&str>,
) -> Decision {
    let proposer = proposed_by.is_some() && proposed_by == p.actor_key().as_deref();
    match meeting_published {
        Some(published) => read_meeting(p, council_id, published),
        None if p.staffs(council_id) || proposer => Decision::Allow,
        None => Decision::Hidden,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, grants: &[(Role, Option<&str>)], seated_on: &[&str]) -> Principal {
        Principal {
            actor: Actor::Person(id.to_owned()),
            grants: grants
                .iter()
                .map(|(role, council)| Grant {
                    role: *role,
                    council_id: council.map(str::to_owned),
                })
                .collect(),
            seated_on: seated_on.iter().map(|s| s.to_string()).collect(),
            app: None,
        }
    }

    #[test]
    fn staff_manage_only_their_councils() {
        let staff = person("s", &[(Role::CouncilStaff, Some("A"))], &[]);
        assert_eq!(manage_council(&staff, "A"), Decision::Allow);
        assert_eq!(manage_council(&staff, "B"), Decision::Forbid);
        assert_eq!(
            manage_council(&Principal::anonymous(), "A"),
            Decision::SignIn
        );
        let admin = person("a", &[(Role::DistrictAdmin, None)], &[]);
        assert_eq!(manage_council(&admin, "B"), Decision::Allow);
    }

    #[test]
    fn person_records_are_hidden_from_strangers() {
        let facts = PersonFacts {
            seated_ever_on: vec!["A".into()],
            seated_now_on: vec!["A".into()],
            created_by: None,
        };
        let stranger = person("x", &[(Role::Family, None)], &[]);
        assert_eq!(read_person(&stranger, "p", &facts), Decision::Hidden);
        assert_eq!(
            read_person(&Principal::anonymous(), "p", &facts),
            Decision::SignIn
        );
        assert_eq!(
            read_person(&person("p", &[], &[]), "p", &facts),
            Decision::Allow
        );
        let fellow = person("m", &[], &["A"]);
        assert_eq!(read_person(&fellow, "p", &facts), Decision::Allow);
        assert_eq!(update_person(&fellow, "p", &facts), Decision::Forbid);
        let other_staff = person("s", &[(Role::CouncilStaff, Some("B"))], &[]);
        assert_eq!(read_person(&other_staff, "p", &facts), Decision::Hidden);
        let staff = person("s", &[(Role::CouncilStaff, Some("A"))], &[]);
        assert_eq!(update_person(&staff, "p", &facts), Decision::Allow);
        assert_eq!(delete_person(&staff, "p", &facts), Decision::Forbid);
    }

    #[test]
    fn former_members_are_not_fellows() {
        let facts = PersonFacts {
            seated_ever_on: vec!["A".into()],
            seated_now_on: vec![],
            created_by: None,
        };
        let member = person("m", &[], &["A"]);
        assert_eq!(read_person(&member, "p", &facts), Decision::Hidden);
    }

    /// Seating someone and vacating the seat at once must not leave their record open to the
    /// staff who did it: rights come from a current relationship.
    #[test]
    fn staff_rights_end_with_the_relationship() {
        let staff = person("s", &[(Role::CouncilStaff, Some("A"))], &[]);
        let former = PersonFacts {
            seated_ever_on: vec!["A".into()],
            seated_now_on: vec![],
            created_by: Some("person:other".into()),
        };
        assert_eq!(read_person(&staff, "p", &former), Decision::Hidden);
        assert_eq!(update_person(&staff, "p", &former), Decision::Hidden);
        let added = PersonFacts {
            created_by: Some("person:s".into()),
            ..Default::default()
        };
        assert_eq!(read_person(&staff, "p", &added), Decision::Allow);
        assert_eq!(update_person(&staff, "p", &added), Decision::Allow);
        assert_eq!(list_people(&staff), Decision::Allow);
        assert_eq!(
            list_people(&person("f", &[(Role::Family, None)], &[])),
            Decision::Forbid
        );
    }

    #[test]
    fn drafts_are_for_staff_only() {
        let staff = person("s", &[(Role::CouncilStaff, Some("A"))], &[]);
        let member = person("m", &[], &["A"]);
        assert_eq!(read_meeting(&staff, "A", false), Decision::Allow);
        assert_eq!(read_meeting(&member, "A", false), Decision::Hidden);
        assert_eq!(
            read_meeting(&Principal::anonymous(), "A", false),
            Decision::Hidden
        );
        assert_eq!(
            read_meeting(&Principal::anonymous(), "A", true),
            Decision::Allow
        );
        assert!(!sees_unpublished_meetings(&member, "A"));
        assert!(sees_unpublished_meetings(&staff, "A"));
    }

    #[test]
    fn role_names_include_derived_membership() {
        let p = person("p", &[(Role::CouncilStaff, Some("A"))], &["B"]);
        assert_eq!(p.role_names(), ["council_staff:A", "council_member:B"]);
    }

    #[test]
    fn request_parties_follow_relationships_and_consent() {
        let facts = ServiceRequestFacts {
            school_councils: vec!["C".into()],
            family_person_id: Some("f".into()),
            subject_person_id: Some("s18".into()),
            subject_adult: false,
            partner_id: Some("P".into()),
            caller_partners: vec![],
            consent_in_force: true,
        };
        let family = person("f", &[(Role::Family, None)], &[]);
        assert_eq!(request_parties(&family, &facts), [Party::Family]);
        let other_family = person("g", &[(Role::Family, None)], &[]);
        assert!(request_parties(&other_family, &facts).is_empty());
        assert_eq!(read_request(&other_family, &[]), Decision::Hidden);
        let staff = person("s", &[(Role::CouncilStaff, Some("C"))], &[]);
        assert_eq!(request_parties(&staff, &facts), [Party::Staff]);
        let other_staff = person("s", &[(Role::CouncilStaff, Some("D"))], &[]);
        assert!(request_parties(&other_staff, &facts).is_empty());
        let partner = person("p", &[(Role::Partner, None)], &[]);
        let member = ServiceRequestFacts {
            caller_partners: vec!["P".into()],
            ..facts.clone()
        };
        assert_eq!(request_parties(&partner, &member), [Party::Partner]);
        let withdrawn = ServiceRequestFacts {
            consent_in_force: false,
            ..member.clone()
        };
        assert!(request_parties(&partner, &withdrawn).is_empty());
        // From the 18th birthday the student owns the request and the parent no longer does.
        let student = person("s18", &[(Role::Family, None)], &[]);
        assert!(request_parties(&student, &facts).is_empty());
        let adult = ServiceRequestFacts {
            subject_adult: true,
            ..facts.clone()
        };
        assert_eq!(request_parties(&student, &adult), [Party::Family]);
        assert!(request_parties(&family, &adult).is_empty());
        assert_eq!(manage_consent(&[Party::Partner]), Decision::Forbid);
        assert_eq!(manage_consent(&[Party::Family]), Decision::Allow);
    }
}
