//! `cogov demo`: fills an empty database with a living district, so a newcomer sees cogov at
//! work in one command. Everything is written through the same commands a person would use —
//! notice deadlines, quorum, roll calls, consent before referral — with the process's clock
//! moved through the past year (`db::set_clock`), so the history is one the rules allow.
//!
//! What it makes (at `--scale 1`): four schools in two time zones (Los Angeles and New York),
//! a school site council at each, two community-school steering committees with parity rules,
//! a district advisory committee and a community assembly; seats of every constituency, some
//! vacant; a year of monthly meetings with agendas in English and Spanish, written public
//! comment, roll-call votes and minutes approved at the following meeting; one cancelled
//! meeting; the next meetings noticed; service requests in several languages across categories
//! and partners, at every stage of their lifecycle; and users of every role, whose sign-in
//! details it returns once.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::json;

use crate::auth::policy::{Actor, Grant, Principal, Role};
use crate::auth::throttle::CommentLimits;
use crate::commands::{
    access, agenda, assemblies, councils, imports, meetings, minutes, motions, participation,
    people, schools, seats, services, Context, Expected, RequestFacts,
};
use crate::db::{self, Db};
use crate::domain::agenda::{ItemKind, Translation};
use crate::domain::council::{Constituency, CouncilKind};
use crate::domain::ids::{CouncilId, PersonId, SeatId};
use crate::domain::meeting::{MeetingType, Transition};
use crate::domain::services::{Action, ConsentClass, Giver};
use crate::domain::vote::{Choice, MotionKind, Threshold};
use crate::error::ApiError;

/// How big a district to make.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    /// Multiplies schools (4 per unit), their councils, meetings and service requests.
    pub scale: u32,
    /// Seeds the choices (attendance, votes, request outcomes), so two runs make the same story.
    pub seed: u64,
    /// How many months of history to make (12: a school year and a summer).
    pub months: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            scale: 1,
            seed: 7,
            months: 12,
        }
    }
}

/// A sign-in the demo created, shown once.
#[derive(Debug, Clone)]
pub struct DemoUser {
    pub username: String,
    pub password: String,
    pub role: &'static str,
    pub about: String,
}

/// What the demo made.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    pub schools: usize,
    pub councils: usize,
    pub meetings: usize,
    pub service_requests: usize,
    pub users: Vec<DemoUser>,
    /// An API client (client credentials) for scripts: id and secret.
    pub client: Option<(String, String)>,
    /// The council the sign-ins below are about (the first school's steering committee).
    pub featured_council: String,
}

/// Who a demo user is, for `add_user`.
struct DemoUserSpec {
    username: &'static str,
    display_name: &'static str,
    email: &'static str,
    role: &'static str,
    council: Option<String>,
    about: &'static str,
}

/// Creates a user who signs in, with a generated password that goes into the summary (shown
/// once), and returns the person's id.
async fn add_user(
    ctx: &Context,
    db: &Db,
    summary: &mut DemoSummary,
    spec: DemoUserSpec,
) -> Result<String, ApiError> {
    let secret = password();
    let person = access::bootstrap_user(
        ctx,
        db,
        access::NewUser {
            username: spec.username,
            display_name: spec.display_name,
            email: Some(spec.email.to_owned()),
            password: &secret,
            role: spec.role,
            council: spec.council,
        },
    )
    .await?;
    summary.users.push(DemoUser {
        username: spec.username.to_owned(),
        password: secret,
        role: spec.role,
        about: spec.about.to_owned(),
    });
    Ok(person)
}

/// A small deterministic generator: the same seed gives the same district.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const SCHOOLS: [(&str, &str, &str); 4] = [
    (
        "Roosevelt Community School",
        "America/Los_Angeles",
        "1200 E 4th St, Los Angeles, CA",
    ),
    (
        "César Chávez Elementary",
        "America/Los_Angeles",
        "455 Mission Rd, Los Angeles, CA",
    ),
    (
        "Frederick Douglass Academy",
        "America/New_York",
        "2581 Adam Clayton Powell Jr Blvd, New York, NY",
    ),
    (
        "Lincoln Community High School",
        "America/New_York",
        "1 Lincoln Sq, Bronx, NY",
    ),
];

const GIVEN: [&str; 24] = [
    "Ana", "Luis", "Mei", "Kwame", "Fatima", "Diego", "Nguyen", "Amara", "Jorge", "Aisha", "Tomás",
    "Lena", "Samuel", "Yesenia", "Omar", "Grace", "Mateo", "Priya", "Carlos", "Hana", "Dmitri",
    "Rosa", "Malik", "Sofía",
];
const FAMILY: [&str; 20] = [
    "García",
    "Johnson",
    "Tran",
    "Okafor",
    "Haddad",
    "Martínez",
    "Kim",
    "Williams",
    "López",
    "Hernández",
    "Chen",
    "Brown",
    "Rivera",
    "Patel",
    "Nguyen",
    "Davis",
    "Flores",
    "Ali",
    "Smith",
    "Morales",
];

/// Agenda topics: English title, Spanish title and summary.
const TOPICS: [(&str, &str, &str); 10] = [
    (
        "After-school tutoring schedule",
        "Horario de tutoría después de clases",
        "Adopt the spring tutoring schedule.",
    ),
    (
        "Family resource center hours",
        "Horario del centro de recursos familiares",
        "Extend evening hours twice a week.",
    ),
    (
        "School safety plan",
        "Plan de seguridad escolar",
        "Annual review of the comprehensive safety plan.",
    ),
    (
        "Single plan for student achievement",
        "Plan escolar para el logro estudiantil",
        "Approve the plan's goals and budget.",
    ),
    (
        "Food pantry partnership",
        "Colaboración con la despensa de alimentos",
        "Renew the pantry partnership agreement.",
    ),
    (
        "Attendance outreach",
        "Acercamiento sobre asistencia",
        "Home visits for chronic absence.",
    ),
    (
        "Mental health services",
        "Servicios de salud mental",
        "Add a counsellor day each week.",
    ),
    (
        "Summer programme",
        "Programa de verano",
        "Approve the summer enrichment programme.",
    ),
    (
        "Budget priorities",
        "Prioridades del presupuesto",
        "Rank next year's spending priorities.",
    ),
    (
        "Community garden",
        "Huerto comunitario",
        "Use of the north lot for a garden.",
    ),
];

const COMMENTS: [&str; 6] = [
    "Please keep the tutoring on Saturdays too; we work weekdays.",
    "Por favor, ofrezcan interpretación en español en todas las reuniones.",
    "Thank you for the pantry — it helps our family every week.",
    "¿Podrían ampliar el horario del centro de recursos?",
    "Xin hãy thêm dịch vụ phiên dịch tiếng Việt.",
    "The crossing on 4th Street needs a guard in the mornings.",
];

/// The categories of wraparound services: code, English and Spanish names, consent class,
/// school days to first contact.
const CATEGORIES: [(&str, &str, &str, ConsentClass, i64); 6] = [
    (
        "food-assistance",
        "Food assistance",
        "Ayuda con alimentos",
        ConsentClass::General,
        2,
    ),
    (
        "health-care",
        "Health care",
        "Atención médica",
        ConsentClass::General,
        3,
    ),
    (
        "mental-health",
        "Counselling and mental health",
        "Consejería y salud mental",
        ConsentClass::OutpatientMentalHealth,
        2,
    ),
    (
        "housing",
        "Housing help",
        "Ayuda con la vivienda",
        ConsentClass::General,
        2,
    ),
    (
        "legal-aid",
        "Legal aid",
        "Asistencia legal",
        ConsentClass::General,
        5,
    ),
    ("tutoring", "Tutoring", "Tutoría", ConsentClass::General, 5),
];

const PARTNERS: [(&str, &str, &[usize]); 3] = [
    (
        "Eastside Family Resource Center",
        "referrals@eastside-frc.example.org",
        &[0, 3, 5],
    ),
    (
        "Community Health Partners",
        "intake@chp.example.org",
        &[1, 2],
    ),
    (
        "Neighborhood Legal Services",
        "help@nls.example.org",
        &[4, 3],
    ),
];

const LANGUAGES: [&str; 6] = ["en", "es", "es", "vi", "zh", "ar"];

fn admin_context(admin: &str) -> Context {
    imports::job_context(Some(&format!("person:{admin}")), "cli:demo")
}

fn acting_as(person: &str, role: Role) -> Context {
    Context::new(
        Principal {
            actor: Actor::Person(person.to_owned()),
            grants: vec![Grant {
                role,
                council_id: None,
            }],
            seated_on: Vec::new(),
            app: None,
        },
        RequestFacts::default(),
        "cli:demo",
    )
}

fn uuid(id: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(id).map_err(|e| ApiError::Internal(format!("stored id {id:?}: {e}")))
}

fn password() -> String {
    crate::auth::secrets::random(12)
}

/// 18:00 local time on `day` at the school, in UTC.
fn evening(day: NaiveDate, zone: &str) -> DateTime<Utc> {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    let local = day.and_hms_opt(18, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| local.and_utc())
}

/// The second Tuesday of the month `months` after `from`'s month.
fn second_tuesday(from: NaiveDate, months: u32) -> NaiveDate {
    let total = from.year() * 12 + from.month0() as i32 + months as i32;
    let first = NaiveDate::from_ymd_opt(total / 12, (total % 12) as u32 + 1, 1).unwrap_or(from);
    let to_tuesday = (7 + 1 - first.weekday().num_days_from_monday() as i64) % 7;
    first + Duration::days(to_tuesday + 7)
}

struct SeatedCouncil {
    id: String,
    zone: String,
    school_name: String,
    /// Voting seats with holders: (seat id, person id).
    members: Vec<(String, String)>,
    /// A council whose meetings the public comments on in Spanish as often as English.
    kind: CouncilKind,
}

/// Fills `db` (which must hold no council yet). `progress` is told what is being made.
pub async fn run(
    db: &Db,
    options: DemoOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<DemoSummary, ApiError> {
    let existing = councils::list(db, &crate::db::councils::CouncilFilter::default(), None, 1)?;
    if !existing.is_empty() {
        return Err(ApiError::Conflict {
            code: "not-empty",
            detail: "cogov demo fills an empty database, and this one already has councils; point COGOV_DATABASE_URL at a new one".to_owned(),
        });
    }
    let real_now = Utc::now().naive_utc();
    let result = build(db, options, real_now, progress).await;
    db::set_clock(real_now);
    result
}

async fn build(
    db: &Db,
    options: DemoOptions,
    real_now: NaiveDateTime,
    progress: &mut dyn FnMut(&str),
) -> Result<DemoSummary, ApiError> {
    let mut dice = Dice(options.seed.max(1));
    let mut summary = DemoSummary::default();
    let year_ago = real_now - Duration::days(31 * i64::from(options.months.clamp(1, 60)) + 8);
    db::set_clock(year_ago);
    let boot = imports::job_context(None, "cli:demo");

    // People who sign in.
    let admin = add_user(
        &boot,
        db,
        &mut summary,
        DemoUserSpec {
            username: "admin",
            display_name: "Ada Admin",
            email: "ada.admin@district.example.org",
            role: "district_admin",
            council: None,
            about: "the whole district",
        },
    )
    .await?;
    let ctx = admin_context(&admin);

    progress("schools and councils");
    let mut seated = Vec::new();
    let mut assembly_school = None;
    let mut school_ids = Vec::new();
    for copy in 0..options.scale.max(1) {
        for (n, (name, zone, address)) in SCHOOLS.iter().enumerate() {
            let name = if copy == 0 {
                (*name).to_owned()
            } else {
                format!("{name} {}", copy + 1)
            };
            let school = schools::create(
                &ctx,
                db,
                schools::NewSchool {
                    name: name.clone(),
                    district_code: format!("D{:03}{}", copy, n + 1),
                    time_zone: (*zone).to_owned(),
                    address: Some((*address).to_owned()),
                    external_ids: Vec::new(),
                },
            )
            .await?;
            let school_id = school.row.id.clone();
            school_ids.push((school_id.clone(), name.clone()));
            assembly_school.get_or_insert((school_id.clone(), name.clone(), zone.to_string()));
            summary.schools += 1;
            let ssc = council(
                &ctx,
                db,
                &mut dice,
                Some(&school_id),
                CouncilKind::SchoolSiteCouncil,
                &format!("{name} School Site Council"),
                &[
                    (Constituency::Administrators, 1),
                    (Constituency::Teachers, 3),
                    (Constituency::ClassifiedStaff, 1),
                    (Constituency::Families, 5),
                ],
                None,
                year_ago,
            )
            .await?;
            seated.push(SeatedCouncil {
                id: ssc.0,
                zone: zone.to_string(),
                school_name: name.clone(),
                members: ssc.1,
                kind: CouncilKind::SchoolSiteCouncil,
            });
            if n % 2 == 0 {
                let parity = json!([{"type": "balance", "name": "community parity",
                    "left": ["families", "students", "community_organizations"],
                    "relation": "at_least",
                    "right": ["district", "administrators", "teachers", "classified_staff"]}]);
                let steering = council(
                    &ctx,
                    db,
                    &mut dice,
                    Some(&school_id),
                    CouncilKind::CommunitySchoolSteeringCommittee,
                    &format!("{name} Community School Steering Committee"),
                    &[
                        (Constituency::District, 1),
                        (Constituency::Administrators, 1),
                        (Constituency::Teachers, 2),
                        (Constituency::ClassifiedStaff, 1),
                        (Constituency::Students, 2),
                        (Constituency::Families, 3),
                        (Constituency::CommunityOrganizations, 3),
                    ],
                    Some(parity),
                    year_ago,
                )
                .await?;
                seated.push(SeatedCouncil {
                    id: steering.0,
                    zone: zone.to_string(),
                    school_name: name.clone(),
                    members: steering.1,
                    kind: CouncilKind::CommunitySchoolSteeringCommittee,
                });
            }
        }
    }
    let advisory = council(
        &ctx,
        db,
        &mut dice,
        None,
        CouncilKind::DistrictAdvisory,
        "District Community Schools Advisory Committee",
        &[
            (Constituency::District, 2),
            (Constituency::Teachers, 2),
            (Constituency::Students, 2),
            (Constituency::Families, 4),
            (Constituency::CommunityOrganizations, 3),
        ],
        None,
        year_ago,
    )
    .await?;
    seated.push(SeatedCouncil {
        id: advisory.0,
        zone: "America/Los_Angeles".to_owned(),
        school_name: "District office".to_owned(),
        members: advisory.1,
        kind: CouncilKind::DistrictAdvisory,
    });
    summary.councils = seated.len();
    let featured = seated
        .iter()
        .find(|c| c.kind == CouncilKind::CommunitySchoolSteeringCommittee)
        .map(|c| c.id.clone())
        .unwrap_or_default();
    summary.featured_council = featured.clone();

    // A year of meetings, council by council.
    for (n, c) in seated.iter().enumerate() {
        progress(&format!(
            "a year of meetings: council {} of {}",
            n + 1,
            seated.len()
        ));
        let quarterly = c.kind == CouncilKind::DistrictAdvisory;
        let mut previous_minutes: Option<String> = None;
        let first_day = year_ago.date() + Duration::days(20);
        let mut month = 0;
        loop {
            let day = second_tuesday(first_day, month);
            month += if quarterly { 3 } else { 1 };
            let starts = evening(day, &c.zone);
            if starts.naive_utc() > real_now - Duration::days(3) {
                break;
            }
            // No meetings in July.
            if day.month() == 7 {
                continue;
            }
            // One meeting a year is cancelled (a storm, a strike): noticed, then called off.
            let cancel = month == 4 && n % 3 == 0;
            let held = hold_meeting(
                &ctx,
                db,
                &mut dice,
                c,
                starts,
                previous_minutes.as_deref(),
                cancel,
            )
            .await?;
            summary.meetings += 1;
            if let Some(m) = held {
                previous_minutes = Some(m);
            }
        }
        // The next meeting is noticed now; the one after is being drafted.
        db::set_clock(real_now);
        let next = second_tuesday(real_now.date(), 1);
        let next = if next <= real_now.date() + Duration::days(5) {
            second_tuesday(real_now.date(), 2)
        } else {
            next
        };
        upcoming_meeting(
            &ctx,
            db,
            c,
            evening(next, &c.zone),
            previous_minutes.as_deref(),
        )
        .await?;
        summary.meetings += 1;
    }

    // A community assembly: anyone who registers votes.
    if let Some((school_id, name, zone)) = assembly_school {
        progress("a community assembly");
        db::set_clock(year_ago + (real_now - year_ago) / 2);
        assembly(&ctx, db, &mut dice, &school_id, &name, &zone).await?;
        summary.councils += 1;
        summary.meetings += 1;
    }

    // Staff, a family, a partner, and a script's client, as of today.
    db::set_clock(year_ago + Duration::days(1));
    add_user(
        &boot,
        db,
        &mut summary,
        DemoUserSpec {
            username: "staff",
            display_name: "Sam Staff",
            email: "sam.staff@district.example.org",
            role: "council_staff",
            council: Some(featured.clone()),
            about: "staff of the featured steering committee",
        },
    )
    .await?;
    let family = add_user(
        &boot,
        db,
        &mut summary,
        DemoUserSpec {
            username: "familia",
            display_name: "María López",
            email: "maria.lopez@example.net",
            role: "family",
            council: None,
            about: "a family with service requests of its own",
        },
    )
    .await?;
    let partner_person = add_user(
        &boot,
        db,
        &mut summary,
        DemoUserSpec {
            username: "partner",
            display_name: "Pat Partner",
            email: "pat@eastside-frc.example.org",
            role: "partner",
            council: None,
            about: "a caseworker at Eastside Family Resource Center",
        },
    )
    .await?;
    summary.client = Some(
        access::bootstrap_client(&boot, db, "Council reports script", "district_admin", None)
            .await?,
    );

    progress("service requests");
    summary.service_requests = service_requests(
        &ctx,
        db,
        &mut dice,
        &school_ids,
        &family,
        &partner_person,
        year_ago + Duration::days(2),
        real_now,
        options.scale.max(1) as usize * 15,
    )
    .await?;
    Ok(summary)
}

/// A council with seats; all but one seat of the largest constituency filled by new people.
#[allow(clippy::too_many_arguments)]
async fn council(
    ctx: &Context,
    db: &Db,
    dice: &mut Dice,
    school_id: Option<&str>,
    kind: CouncilKind,
    name: &str,
    seats_of: &[(Constituency, usize)],
    rules: Option<serde_json::Value>,
    since: NaiveDateTime,
) -> Result<(String, Vec<(String, String)>), ApiError> {
    let composition_rules = match rules {
        Some(r) => serde_json::from_value(r)
            .map_err(|e| ApiError::Internal(format!("demo composition rules: {e}")))?,
        None => Vec::new(),
    };
    let created = councils::create(
        ctx,
        db,
        councils::NewCouncil {
            school_id: school_id.map(uuid).transpose()?.map(Into::into),
            kind,
            regime: None,
            name: name.to_owned(),
            description: Some(format!(
                "{name}: families, students, staff and community partners deciding together."
            )),
            quorum_basis: None,
            regular_notice_hours: None,
            special_notice_hours: None,
            composition_rules,
            max_seats_per_person: None,
            speaker_seconds: None,
            assembly_quorum: None,
            external_ids: Vec::new(),
        },
    )
    .await?;
    let council_id = created.row.id.clone();
    let term_start = since.date();
    let mut members = Vec::new();
    // The last seat of the constituency with the most seats stays vacant.
    let largest = seats_of
        .iter()
        .enumerate()
        .max_by_key(|(_, (_, count))| *count)
        .map(|(i, _)| i);
    for (i, (constituency, count)) in seats_of.iter().enumerate() {
        for k in 0..*count {
            let seat = seats::create(
                ctx,
                db,
                CouncilId::from(uuid(&council_id)?),
                seats::NewSeat {
                    constituency: *constituency,
                    title: format!("{} seat {}", title_of(*constituency), k + 1),
                    voting: true,
                    term_start: Some(term_start),
                    term_end: Some(term_start + Duration::days(730)),
                },
                true,
            )
            .await?;
            if Some(i) == largest && k + 1 == *count {
                continue;
            }
            let person_name = format!("{} {}", dice.pick(&GIVEN), dice.pick(&FAMILY));
            let person = people::create(
                ctx,
                db,
                people::NewPerson {
                    display_name: person_name,
                    email: None,
                    phone: None,
                    preferred_language: (*dice.pick(&["en", "en", "es"])).to_owned(),
                    external_ids: Vec::new(),
                },
            )
            .await?;
            let seat_id = seat.seat.id.clone();
            seats::assign_holder(
                ctx,
                db,
                SeatId::from(uuid(&seat_id)?),
                Expected::Any,
                PersonId::from(uuid(&person.row.id)?),
                Some(term_start),
                true,
            )
            .await?;
            members.push((seat_id, person.row.id.clone()));
        }
    }
    Ok((council_id, members))
}

fn title_of(c: Constituency) -> &'static str {
    match c {
        Constituency::District => "District",
        Constituency::Administrators => "Administrator",
        Constituency::Teachers => "Teacher",
        Constituency::ClassifiedStaff => "Classified staff",
        Constituency::Students => "Student",
        Constituency::Families => "Family",
        Constituency::CommunityOrganizations => "Community organization",
    }
}

fn translated(es_title: &str) -> BTreeMap<String, Translation> {
    BTreeMap::from([(
        "es".to_owned(),
        Translation {
            title: es_title.to_owned(),
            summary: None,
        },
    )])
}

fn item(
    kind: ItemKind,
    title: &str,
    description: Option<&str>,
    by: Option<&str>,
    es: Option<&str>,
) -> agenda::NewItem {
    agenda::NewItem {
        kind,
        legal_basis: None,
        title: title.to_owned(),
        description: description.map(str::to_owned),
        presenter: None,
        proposed_by_seat_id: by.map(str::to_owned),
        minutes_allotted: Some(15),
        documents: Vec::new(),
        translations: es.map(translated).unwrap_or_default(),
    }
}

fn new_meeting(c: &SeatedCouncil, starts: DateTime<Utc>) -> meetings::NewMeeting {
    meetings::NewMeeting {
        meeting_type: MeetingType::Regular,
        title: format!(
            "Regular meeting / Reunión ordinaria — {}",
            starts.format("%B %Y")
        ),
        starts_at: starts,
        ends_at: Some(starts + Duration::hours(2)),
        time_zone: Some(c.zone.clone()),
        location: Some(format!("Library, {}", c.school_name)),
        remote_url: None,
        interpretation_languages: vec!["es".to_owned()],
        emergency_finding: None,
        media_notified_at: None,
    }
}

/// Drafts a meeting's agenda: the previous minutes for approval, a report, two topics proposed
/// by members. Returns the action items.
async fn draft_agenda(
    ctx: &Context,
    db: &Db,
    dice: &mut Dice,
    c: &SeatedCouncil,
    meeting_id: &str,
    previous_minutes: Option<&str>,
) -> Result<Vec<String>, ApiError> {
    let mut actions = Vec::new();
    if let Some(minutes_id) = previous_minutes {
        let approval = agenda::add_to_meeting(
            ctx,
            db,
            meeting_id.to_owned(),
            item(
                ItemKind::Action,
                "Approval of the previous meeting's minutes",
                None,
                None,
                Some("Aprobación del acta de la reunión anterior"),
            ),
        )
        .await?;
        minutes::update(
            ctx,
            db,
            minutes_id.to_owned(),
            Expected::Any,
            minutes::MinutesChanges {
                approval_item_id: Some(Some(approval.row.id.clone())),
                ..Default::default()
            },
        )
        .await?;
        actions.push(approval.row.id);
    }
    agenda::add_to_meeting(
        ctx,
        db,
        meeting_id.to_owned(),
        item(
            ItemKind::Information,
            "Principal's report",
            Some("Enrollment, attendance and events."),
            None,
            Some("Informe de la dirección"),
        ),
    )
    .await?;
    for _ in 0..2 {
        let (en, es, summary) = *dice.pick(&TOPICS);
        let by = c
            .members
            .get(dice.below(c.members.len() as u64) as usize)
            .map(|(seat, _)| seat.as_str());
        let added = agenda::add_to_meeting(
            ctx,
            db,
            meeting_id.to_owned(),
            item(ItemKind::Action, en, Some(summary), by, Some(es)),
        )
        .await?;
        actions.push(added.row.id);
    }
    Ok(actions)
}

/// One past meeting from notice to draft minutes; returns the minutes' id (none if cancelled).
async fn hold_meeting(
    ctx: &Context,
    db: &Db,
    dice: &mut Dice,
    c: &SeatedCouncil,
    starts: DateTime<Utc>,
    previous_minutes: Option<&str>,
    cancel: bool,
) -> Result<Option<String>, ApiError> {
    let start = starts.naive_utc();
    db::set_clock(start - Duration::days(12));
    let meeting = meetings::create(ctx, db, c.id.clone(), new_meeting(c, starts)).await?;
    let meeting_id = meeting.row.id.clone();
    let actions = draft_agenda(ctx, db, dice, c, &meeting_id, previous_minutes).await?;
    db::set_clock(start - Duration::days(10));
    transition(ctx, db, &meeting_id, Transition::Publish, None).await?;
    if cancel {
        db::set_clock(start - Duration::days(2));
        transition(
            ctx,
            db,
            &meeting_id,
            Transition::Cancel,
            Some("The school is closed for a storm; items move to next month.".to_owned()),
        )
        .await?;
        // The approval of the earlier minutes moves with them.
        return Ok(previous_minutes.map(str::to_owned));
    }
    // Written comments arrive in the days before the meeting.
    for (k, action) in actions.iter().enumerate() {
        if dice.chance(60) {
            db::set_clock(start - Duration::days(3) + Duration::hours(k as i64));
            participation::submit_comment(
                &Context::new(Principal::anonymous(), RequestFacts::default(), "cli:demo"),
                db,
                &CommentLimits::default(),
                action.clone(),
                participation::NewComment {
                    author_name: dice
                        .chance(50)
                        .then(|| format!("{} {}", dice.pick(&GIVEN), dice.pick(&FAMILY))),
                    author_email: None,
                    body: (*dice.pick(&COMMENTS)).to_owned(),
                },
            )
            .await?;
        }
    }
    db::set_clock(start + Duration::minutes(2));
    transition(ctx, db, &meeting_id, Transition::Open, None).await?;
    let majority = c.members.len() / 2 + 1;
    let mut present = Vec::new();
    for (k, (seat, _)) in c.members.iter().enumerate() {
        let here = dice.chance(85) || c.members.len() - k <= majority.saturating_sub(present.len());
        meetings::record_attendance(
            ctx,
            db,
            meeting_id.clone(),
            meetings::AttendanceInput {
                seat_id: seat.clone(),
                present: here,
                remote_basis: None,
                arrived_at: None,
                departed_at: None,
            },
        )
        .await?;
        if here {
            present.push(seat.clone());
        }
    }
    for (k, action) in actions.iter().enumerate() {
        db::set_clock(start + Duration::minutes(10 + 20 * k as i64));
        for open in [true, false] {
            agenda::comment_period(ctx, db, action.clone(), Expected::Any, open).await?;
        }
        let motion = motions::make(
            ctx,
            db,
            meeting_id.clone(),
            motions::NewMotion {
                kind: MotionKind::Main,
                agenda_item_id: Some(action.clone()),
                text: "Move to approve as presented.".to_owned(),
                mover_seat_id: present[0].clone(),
                seconder_seat_id: present.get(1).cloned(),
                threshold: Threshold::Majority,
            },
        )
        .await?;
        // The minutes pass; a topic now and then does not.
        let contested = k > 0 || previous_minutes.is_none();
        let lean_no = contested && dice.chance(20);
        for seat in &present {
            let choice = match dice.below(100) {
                _ if !contested => Choice::Yes,
                r if r < 8 => Choice::Abstain,
                r if r < (if lean_no { 70 } else { 20 }) => Choice::No,
                _ => Choice::Yes,
            };
            motions::vote(ctx, db, motion.row.id.clone(), seat.clone(), choice, None).await?;
        }
        motions::close(ctx, db, motion.row.id.clone(), Expected::Any).await?;
    }
    db::set_clock(start + Duration::minutes(95));
    transition(ctx, db, &meeting_id, Transition::Adjourn, None).await?;
    db::set_clock(start + Duration::days(1));
    let drafted = minutes::draft(ctx, db, meeting_id.clone()).await?;
    minutes::update(
        ctx,
        db,
        drafted.row.id.clone(),
        Expected::Any,
        minutes::MinutesChanges {
            summary: Some(Some(format!(
                "The council met at {} with {} of {} members present.",
                c.school_name,
                present.len(),
                c.members.len()
            ))),
            ..Default::default()
        },
    )
    .await?;
    Ok(Some(drafted.row.id))
}

async fn transition(
    ctx: &Context,
    db: &Db,
    meeting_id: &str,
    action: Transition,
    reason: Option<String>,
) -> Result<(), ApiError> {
    meetings::transition(
        ctx,
        db,
        meeting_id.to_owned(),
        Expected::Any,
        action,
        reason,
    )
    .await?;
    Ok(())
}

/// The next meeting, noticed today with its agenda.
async fn upcoming_meeting(
    ctx: &Context,
    db: &Db,
    c: &SeatedCouncil,
    starts: DateTime<Utc>,
    previous_minutes: Option<&str>,
) -> Result<(), ApiError> {
    let meeting = meetings::create(ctx, db, c.id.clone(), new_meeting(c, starts)).await?;
    let mut dice = Dice(starts.timestamp() as u64 | 1);
    draft_agenda(ctx, db, &mut dice, c, &meeting.row.id, previous_minutes).await?;
    transition(ctx, db, &meeting.row.id, Transition::Publish, None).await
}

/// A community assembly's meeting: participants register and check in, vote on one item.
async fn assembly(
    ctx: &Context,
    db: &Db,
    dice: &mut Dice,
    school_id: &str,
    school_name: &str,
    zone: &str,
) -> Result<(), ApiError> {
    let created = councils::create(
        ctx,
        db,
        councils::NewCouncil {
            school_id: Some(uuid(school_id)?.into()),
            kind: CouncilKind::Assembly,
            regime: None,
            name: format!("{school_name} Community Assembly"),
            description: Some(
                "Everyone who comes votes: families, students, staff, neighbours.".to_owned(),
            ),
            quorum_basis: None,
            regular_notice_hours: None,
            special_notice_hours: None,
            composition_rules: Vec::new(),
            max_seats_per_person: None,
            speaker_seconds: None,
            assembly_quorum: Some(20),
            external_ids: Vec::new(),
        },
    )
    .await?;
    let now = db::now();
    let starts = evening(now.date() + Duration::days(12), zone);
    let c = SeatedCouncil {
        id: created.row.id.clone(),
        zone: zone.to_owned(),
        school_name: school_name.to_owned(),
        members: Vec::new(),
        kind: CouncilKind::Assembly,
    };
    let meeting = meetings::create(ctx, db, c.id.clone(), new_meeting(&c, starts)).await?;
    let topic = agenda::add_to_meeting(
        ctx,
        db,
        meeting.row.id.clone(),
        item(
            ItemKind::Action,
            "Priorities for the community school grant",
            Some("Rank the three uses of next year's grant."),
            None,
            Some("Prioridades para la subvención de escuela comunitaria"),
        ),
    )
    .await?;
    transition(ctx, db, &meeting.row.id, Transition::Publish, None).await?;
    db::set_clock(starts.naive_utc() - Duration::minutes(20));
    let constituencies = [
        Constituency::Families,
        Constituency::Families,
        Constituency::Students,
        Constituency::Teachers,
        Constituency::CommunityOrganizations,
    ];
    let mut participants = Vec::new();
    for _ in 0..40 {
        let p = assemblies::register(
            ctx,
            db,
            meeting.row.id.clone(),
            assemblies::NewParticipant {
                name: format!("{} {}", dice.pick(&GIVEN), dice.pick(&FAMILY)),
                constituency: *dice.pick(&constituencies),
                person_id: None,
            },
        )
        .await?;
        participants.push(p.id);
    }
    db::set_clock(starts.naive_utc() + Duration::minutes(1));
    transition(ctx, db, &meeting.row.id, Transition::Open, None).await?;
    let here: Vec<String> = participants
        .iter()
        .filter(|_| dice.chance(85))
        .cloned()
        .collect();
    assemblies::check_in(ctx, db, meeting.row.id.clone(), here.clone(), true).await?;
    for open in [true, false] {
        agenda::comment_period(ctx, db, topic.row.id.clone(), Expected::Any, open).await?;
    }
    let motion = assemblies::make_motion(
        ctx,
        db,
        meeting.row.id.clone(),
        assemblies::NewAssemblyMotion {
            agenda_item_id: topic.row.id.clone(),
            text: "Tutoring first, then the food pantry, then the garden.".to_owned(),
            mover_participant_id: here[0].clone(),
            threshold: Threshold::Majority,
        },
    )
    .await?;
    let votes = here
        .iter()
        .map(|p| {
            let choice = match dice.below(10) {
                0 => Choice::Abstain,
                1 | 2 => Choice::No,
                _ => Choice::Yes,
            };
            (p.clone(), choice)
        })
        .collect();
    assemblies::vote(ctx, db, motion.row.id.clone(), votes).await?;
    assemblies::close_motion(ctx, db, motion.row.id.clone(), Expected::Any).await?;
    db::set_clock(starts.naive_utc() + Duration::minutes(80));
    transition(ctx, db, &meeting.row.id, Transition::Adjourn, None).await?;
    db::set_clock(starts.naive_utc() + Duration::days(1));
    minutes::draft(ctx, db, meeting.row.id.clone()).await?;
    Ok(())
}

/// The catalog, partners, and `per_school`-ish requests spread over the year, at every stage.
#[allow(clippy::too_many_arguments)]
async fn service_requests(
    ctx: &Context,
    db: &Db,
    dice: &mut Dice,
    school_ids: &[(String, String)],
    demo_family: &str,
    partner_person: &str,
    since: NaiveDateTime,
    real_now: NaiveDateTime,
    per_school: usize,
) -> Result<usize, ApiError> {
    db::set_clock(since);
    let mut categories = Vec::new();
    for (code, en, es, consent_class, days) in CATEGORIES {
        let created = services::create_category(
            ctx,
            db,
            services::NewCategory {
                code: code.to_owned(),
                names: BTreeMap::from([
                    ("en".to_owned(), en.to_owned()),
                    ("es".to_owned(), es.to_owned()),
                ]),
                descriptions: BTreeMap::new(),
                active: true,
                first_contact_school_days: Some(days),
                pillar: Some("integrated_student_supports".to_owned()),
                sensitive: consent_class != ConsentClass::General,
                consent_class,
                attributes: Vec::new(),
            },
        )
        .await?;
        categories.push(created.row.id.clone());
    }
    let mut partners: Vec<(String, Vec<usize>)> = Vec::new();
    for (n, (name, email, offers)) in PARTNERS.iter().enumerate() {
        let offerings = offers
            .iter()
            .flat_map(|c| {
                school_ids.iter().map(|(s, _)| services::Offering {
                    category_id: categories[*c].clone(),
                    school_id: s.clone(),
                })
            })
            .collect();
        let created = services::create_partner(
            ctx,
            db,
            services::NewPartner {
                name: (*name).to_owned(),
                contact_email: Some((*email).to_owned()),
                contact_phone: None,
                offerings,
                active: true,
            },
        )
        .await?;
        if n == 0 {
            services::add_member(ctx, db, created.row.id.clone(), partner_person.to_owned())
                .await?;
        }
        partners.push((created.row.id.clone(), offers.to_vec()));
    }
    // Families who file (through staff, or the demo family itself).
    let mut families = Vec::new();
    for _ in 0..12 {
        let p = people::create(
            ctx,
            db,
            people::NewPerson {
                display_name: format!("{} {}", dice.pick(&GIVEN), dice.pick(&FAMILY)),
                email: None,
                phone: None,
                preferred_language: (*dice.pick(&LANGUAGES)).to_owned(),
                external_ids: Vec::new(),
            },
        )
        .await?;
        families.push(p.row.id.clone());
    }
    let partner_ctx = acting_as(partner_person, Role::Partner);
    let family_ctx = acting_as(demo_family, Role::Family);
    let total = school_ids.len() * per_school;
    let mut made = 0;
    for n in 0..total {
        let (school, _) = &school_ids[n % school_ids.len()];
        let category = dice.below(categories.len() as u64) as usize;
        let span = (real_now - since).num_minutes() - 60;
        let filed = since + Duration::minutes(30 + (n as i64 * span) / total as i64);
        db::set_clock(filed);
        let language = (*dice.pick(&LANGUAGES)).to_owned();
        let ours = n % 9 == 0;
        let filer = if ours { &family_ctx } else { ctx };
        let request = services::create_request(
            filer,
            db,
            services::NewRequest {
                school_id: school.clone(),
                category_id: categories[category].clone(),
                subject_code: format!("STU-{:06}", 100_000 + dice.below(900_000)),
                subject_birth_date: NaiveDate::from_ymd_opt(
                    2010 + dice.below(8) as i32,
                    1 + dice.below(12) as u32,
                    1 + dice.below(28) as u32,
                ),
                family_person_id: (!ours).then(|| families[n % families.len()].clone()),
                subject_person_id: None,
                description: Some(match language.as_str() {
                    "es" => "Necesitamos ayuda, por favor.".to_owned(),
                    "vi" => "Chúng tôi cần giúp đỡ.".to_owned(),
                    "zh" => "我们需要帮助。".to_owned(),
                    "ar" => "نحتاج إلى المساعدة.".to_owned(),
                    _ => "We could use some help.".to_owned(),
                }),
                attributes: BTreeMap::new(),
                preferred_language: language,
                contact_method: (*dice.pick(&["email", "phone", "text"])).to_owned(),
                urgency: (*dice.pick(&["routine", "soon", "urgent"])).to_owned(),
            },
        )
        .await?;
        made += 1;
        let id = request.row.id.clone();
        // How far it got: the newest are still waiting; most of the rest are done.
        let age_days = (real_now - filed).num_days();
        let stage = if age_days < 7 {
            dice.below(3)
        } else {
            2 + dice.below(6)
        };
        if stage == 0 {
            continue;
        }
        let mut at = filed + Duration::hours(6 + dice.below(60) as i64);
        let step = |clock: &mut NaiveDateTime, dice: &mut Dice| {
            *clock += Duration::hours(4 + dice.below(96) as i64);
            db::set_clock((*clock).min(real_now));
        };
        db::set_clock(at.min(real_now));
        move_on(
            ctx,
            db,
            &id,
            Action::Triage,
            None,
            Some("Reviewed by the coordinator."),
        )
        .await?;
        if stage == 1 {
            continue;
        }
        if dice.chance(8) {
            step(&mut at, dice);
            move_on(
                ctx,
                db,
                &id,
                Action::Cancel,
                None,
                Some("Already served by another programme."),
            )
            .await?;
            continue;
        }
        let Some((partner, _)) = partners
            .iter()
            .find(|(_, offers)| offers.contains(&category))
        else {
            continue;
        };
        step(&mut at, dice);
        services::give_consent(
            ctx,
            db,
            id.clone(),
            services::NewConsent {
                partner_id: partner.clone(),
                records: "Contact details and the request".to_owned(),
                purpose: "Referral for services".to_owned(),
                giver: Giver::Parent,
                given_by_name: "Parent or guardian".to_owned(),
                given_on: Some(db::today()),
                provider_attestation: false,
                parent_involvement: None,
            },
        )
        .await?;
        move_on(ctx, db, &id, Action::Refer, Some(partner.clone()), None).await?;
        if stage == 2 {
            continue;
        }
        // Only the member partner's own caseworker acts in the demo; others' stay referred.
        let acting = if *partner == partners[0].0 {
            &partner_ctx
        } else {
            continue;
        };
        step(&mut at, dice);
        move_on(acting, db, &id, Action::Accept, None, None).await?;
        if stage == 3 {
            continue;
        }
        step(&mut at, dice);
        move_on(acting, db, &id, Action::Start, None, None).await?;
        if stage == 4 {
            continue;
        }
        step(&mut at, dice);
        move_on(
            acting,
            db,
            &id,
            Action::Complete,
            None,
            Some("Connected with the service; family confirmed."),
        )
        .await?;
    }
    Ok(made)
}

async fn move_on(
    ctx: &Context,
    db: &Db,
    id: &str,
    action: Action,
    partner_id: Option<String>,
    note: Option<&str>,
) -> Result<(), ApiError> {
    services::transition(
        ctx,
        db,
        id.to_owned(),
        Expected::Any,
        action,
        services::TransitionInput {
            note: note.map(str::to_owned),
            partner_id,
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_tuesdays() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(
            second_tuesday(d, 0),
            NaiveDate::from_ymd_opt(2026, 11, 10).unwrap()
        );
        assert_eq!(
            second_tuesday(d, 1),
            NaiveDate::from_ymd_opt(2026, 12, 8).unwrap()
        );
        assert_eq!(
            second_tuesday(d, 2),
            NaiveDate::from_ymd_opt(2027, 1, 12).unwrap()
        );
    }

    #[test]
    fn evenings_are_local() {
        let d = NaiveDate::from_ymd_opt(2026, 7, 14).unwrap();
        assert_eq!(
            evening(d, "America/New_York").to_rfc3339(),
            "2026-07-14T22:00:00+00:00"
        );
        assert_eq!(
            evening(d, "America/Los_Angeles").to_rfc3339(),
            "2026-07-15T01:00:00+00:00"
        );
    }

    #[test]
    fn dice_repeat_with_a_seed() {
        let (mut a, mut b) = (Dice(7), Dice(7));
        let xs: Vec<u64> = (0..5).map(|_| a.below(100)).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.below(100)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().any(|x| *x != xs[0]));
    }
}
