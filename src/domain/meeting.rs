//! Meetings: their types, their lifecycle, and the notice the open-meeting laws require before
//! one may be held (DOMAIN rules 2–4).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::council::text_enum;
use super::Regime;

/// What sort of meeting it is; decides the notice it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingType {
    /// Held on the council's regular schedule (72 hours' notice by default).
    Regular,
    /// Called by the chair or a majority (Brown Act: 24 hours' notice by default; the Greene Act
    /// knows no shorter notice than a regular meeting's).
    Special,
    /// Brown Act 54956.5: needs a recorded emergency finding; notice rules are lifted.
    Emergency,
}

text_enum!(MeetingType {
    Regular => "regular",
    Special => "special",
    Emergency => "emergency",
});

/// Where a meeting is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    /// Being prepared; visible to the council's staff only.
    Draft,
    /// Notice and agenda published.
    Noticed,
    /// Called to order.
    InSession,
    /// In recess; `open` resumes it.
    Recessed,
    /// Over.
    Adjourned,
    /// Called off, with a reason.
    Cancelled,
}

text_enum!(MeetingStatus {
    Draft => "draft",
    Noticed => "noticed",
    InSession => "in_session",
    Recessed => "recessed",
    Adjourned => "adjourned",
    Cancelled => "cancelled",
});

/// A lifecycle action, each an explicit `POST /meetings/{meeting_id}/<action>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Publish,
    Open,
    Recess,
    Adjourn,
    Cancel,
}

text_enum!(Transition {
    Publish => "publish",
    Open => "open",
    Recess => "recess",
    Adjourn => "adjourn",
    Cancel => "cancel",
});

impl Transition {
    /// The status this action leads to from `from`, or `None` when it is not allowed there.
    /// The one place the meeting state machine is written down.
    pub fn apply(self, from: MeetingStatus) -> Option<MeetingStatus> {
        use MeetingStatus::*;
        match (self, from) {
            (Transition::Publish, Draft) => Some(Noticed),
            (Transition::Open, Noticed | Recessed) => Some(InSession),
            (Transition::Recess, InSession) => Some(Recessed),
            (Transition::Adjourn, InSession | Recessed) => Some(Adjourned),
            (Transition::Cancel, Draft | Noticed) => Some(Cancelled),
            _ => None,
        }
    }

    /// The statuses this action may start from (for error messages).
    pub fn allowed_from(self) -> Vec<MeetingStatus> {
        MeetingStatus::ALL
            .iter()
            .copied()
            .filter(|s| self.apply(*s).is_some())
            .collect()
    }
}

/// The finding an emergency meeting rests on (Brown Act 54956.5(a)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyFinding {
    /// Work stoppage, crippling activity or other activity severely impairing public health or
    /// safety: media that asked get telephone notice at least 1 hour before.
    Emergency,
    /// Crippling disaster, mass destruction, terrorist act or threat so immediate that one hour's
    /// notice could endanger health or safety: notice at or near the time members are told.
    DireEmergency,
}

text_enum!(EmergencyFinding {
    Emergency => "emergency",
    DireEmergency => "dire_emergency",
});

/// Hours before an emergency meeting by which media that asked must be told (54956.5(b)).
pub const EMERGENCY_MEDIA_NOTICE_HOURS: i64 = 1;

/// What decides whether a meeting's notice may be published now.
#[derive(Debug, Clone)]
pub struct NoticeFacts {
    pub regime: Regime,
    pub meeting_type: MeetingType,
    pub regular_notice_hours: i64,
    pub special_notice_hours: i64,
    pub starts_at: DateTime<Utc>,
    pub time_zone: Tz,
    pub emergency_finding: Option<EmergencyFinding>,
    pub media_notified_at: Option<DateTime<Utc>>,
}

/// Why a notice may not be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeRefusal {
    /// Fewer hours remain than the rule requires.
    TooLate {
        rule: String,
        hours: i64,
        /// The deadline in the meeting's local time, e.g. `Saturday 13 March 2027, 17:00 PST
        /// (America/Los_Angeles)`.
        deadline: String,
    },
    /// An emergency meeting without a recorded finding.
    FindingRequired,
    /// An emergency (not dire) meeting whose media notice is missing or later than 1 hour before.
    MediaNoticeRequired { latest: String },
}

impl NoticeRefusal {
    /// The stable problem code.
    pub fn code(&self) -> &'static str {
        match self {
            NoticeRefusal::TooLate { .. } => "notice-too-late",
            NoticeRefusal::FindingRequired => "emergency-finding-required",
            NoticeRefusal::MediaNoticeRequired { .. } => "media-notice-required",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            NoticeRefusal::TooLate { rule, hours, deadline } => format!(
                "{rule} requires the notice and agenda to be posted at least {hours} clock hours before the meeting starts; the deadline was {deadline}"
            ),
            NoticeRefusal::FindingRequired => "an emergency meeting needs a recorded finding (emergency_finding: emergency or dire_emergency, Gov. Code 54956.5(a)) before it is noticed".to_owned(),
            NoticeRefusal::MediaNoticeRequired { latest } => format!(
                "an emergency meeting needs the time media that asked were told by telephone (media_notified_at), at least {EMERGENCY_MEDIA_NOTICE_HOURS} hour before it starts, i.e. by {latest}, unless the finding is dire_emergency (Gov. Code 54956.5(b))"
            ),
        }
    }
}

/// A moment in the meeting's own time zone, for people: `Saturday 13 March 2027, 17:00 PST
/// (America/Los_Angeles)`.
pub fn local_time(at: DateTime<Utc>, tz: Tz) -> String {
    format!(
        "{} ({})",
        at.with_timezone(&tz).format("%A %-d %B %Y, %H:%M %Z"),
        tz.name()
    )
}

/// The rule and notice hours a meeting needs, or `None` when notice periods are lifted (an
/// emergency meeting outside the Greene Act).
pub fn notice_rule(facts: &NoticeFacts) -> Option<(String, i64)> {
    let (rule, hours) = match (facts.regime, facts.meeting_type) {
        (Regime::Greene, MeetingType::Regular) => (
            "the Greene Act (Ed. Code 35147(c)(1))".to_owned(),
            facts.regular_notice_hours,
        ),
        (Regime::Greene, _) => (
            "the Greene Act (Ed. Code 35147(c)(1)), which has no shorter notice for special or emergency meetings,".to_owned(),
            facts.regular_notice_hours,
        ),
        (_, MeetingType::Regular) => (
            format!(
                "the {} (Gov. Code 54954.2(a)) for a regular meeting",
                act(facts.regime)
            ),
            facts.regular_notice_hours,
        ),
        (_, MeetingType::Special) => (
            format!(
                "the {} (Gov. Code 54956) for a special meeting",
                act(facts.regime)
            ),
            facts.special_notice_hours,
        ),
        (_, MeetingType::Emergency) => return None,
    };
    Some((rule, hours))
}

fn act(regime: Regime) -> &'static str {
    match regime {
        Regime::Brown => "Brown Act",
        Regime::Greene => "Greene Act",
        Regime::Voluntary => "council's notice rule (Brown Act default)",
    }
}

/// The latest moment the notice may be published: `hours` clock hours before the start. Clock
/// hours are elapsed time, so a daylight-saving change inside the window moves the local
/// deadline by an hour (72 hours before 18:00 on the Tuesday after spring-forward is 17:00 on
/// the Saturday before).
pub fn notice_deadline(facts: &NoticeFacts) -> Option<DateTime<Utc>> {
    notice_rule(facts).map(|(_, hours)| facts.starts_at - Duration::hours(hours))
}

/// Whether the notice of a meeting may be published at `now` (DOMAIN rules 2–4).
pub fn check_notice(facts: &NoticeFacts, now: DateTime<Utc>) -> Result<(), NoticeRefusal> {
    if let Some((rule, hours)) = notice_rule(facts) {
        let deadline = facts.starts_at - Duration::hours(hours);
        if now > deadline {
            return Err(NoticeRefusal::TooLate {
                rule,
                hours,
                deadline: local_time(deadline, facts.time_zone),
            });
        }
        return Ok(());
    }
    match facts.emergency_finding {
        None => Err(NoticeRefusal::FindingRequired),
        Some(EmergencyFinding::DireEmergency) => Ok(()),
        Some(EmergencyFinding::Emergency) => {
            let latest = facts.starts_at - Duration::hours(EMERGENCY_MEDIA_NOTICE_HOURS);
            match facts.media_notified_at {
                Some(at) if at <= latest && at <= now => Ok(()),
                _ => Err(NoticeRefusal::MediaNoticeRequired {
                    latest: local_time(latest, facts.time_zone),
                }),
            }
        }
    }
}

/// Why a member attends remotely (Gov. Code 54953(b); AB 2449 / SB 707). Written to the minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RemoteBasis {
    /// From a teleconference location listed on the agenda and open to the public (counts
    /// towards quorum).
    TeleconferenceLocation,
    /// "Just cause" under 54953(f) (capped per year; quorum must be present in person).
    JustCause,
    /// Emergency circumstances under 54953(f) (quorum must be present in person).
    EmergencyCircumstances,
}

text_enum!(RemoteBasis {
    TeleconferenceLocation => "teleconference_location",
    JustCause => "just_cause",
    EmergencyCircumstances => "emergency_circumstances",
});

/// One seat holder's attendance, as quorum sees it.
#[derive(Debug, Clone, Copy)]
pub struct Attendee {
    pub voting: bool,
    /// Present now (arrived and not departed).
    pub present: bool,
    pub remote: Option<RemoteBasis>,
}

/// Whether a meeting has quorum now (DOMAIN rules 10–11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"basis": "filled_voting_seats", "filled_voting_seats": 9, "authorized_voting_seats": 10,
    "required": 5, "present_voting": 5, "in_person_voting": 4, "remote_voting": 1,
    "in_person_required": false, "met": true, "roll_call_required": true}))]
pub struct MeetingQuorum {
    pub basis: super::QuorumBasis,
    pub filled_voting_seats: u32,
    pub authorized_voting_seats: u32,
    /// Members needed: a majority of the seats the basis counts.
    pub required: u32,
    /// Voting members present now, in person or remotely.
    pub present_voting: u32,
    pub in_person_voting: u32,
    pub remote_voting: u32,
    /// A member attends under 54953(f) (just cause or emergency circumstances): then quorum
    /// must be present in person.
    pub in_person_required: bool,
    pub met: bool,
    /// Any member attends remotely: every vote must be taken by roll call (54953(b)(2)).
    pub roll_call_required: bool,
}

/// Quorum from the council's basis and who is present. Only voting members count; members
/// present, not members voting (RONR 40:1).
pub fn quorum(
    basis: super::QuorumBasis,
    filled_voting: u32,
    authorized_voting: u32,
    attendees: &[Attendee],
) -> MeetingQuorum {
    let required = super::council::quorum_required(basis, filled_voting, authorized_voting);
    let present: Vec<&Attendee> = attendees.iter().filter(|a| a.voting && a.present).collect();
    let remote = present.iter().filter(|a| a.remote.is_some()).count() as u32;
    let in_person = present.len() as u32 - remote;
    let in_person_required = present.iter().any(|a| {
        matches!(
            a.remote,
            Some(RemoteBasis::JustCause | RemoteBasis::EmergencyCircumstances)
        )
    });
    let counted = if in_person_required {
        in_person
    } else {
        present.len() as u32
    };
    MeetingQuorum {
        basis,
        filled_voting_seats: filled_voting,
        authorized_voting_seats: authorized_voting,
        required,
        present_voting: present.len() as u32,
        in_person_voting: in_person,
        remote_voting: remote,
        in_person_required,
        met: counted >= required,
        roll_call_required: attendees.iter().any(|a| a.present && a.remote.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn la(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        chrono_tz::America::Los_Angeles
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn facts(regime: Regime, meeting_type: MeetingType, starts_at: DateTime<Utc>) -> NoticeFacts {
        NoticeFacts {
            regime,
            meeting_type,
            regular_notice_hours: 72,
            special_notice_hours: 24,
            starts_at,
            time_zone: chrono_tz::America::Los_Angeles,
            emergency_finding: None,
            media_notified_at: None,
        }
    }

    #[test]
    fn the_state_machine() {
        use MeetingStatus::*;
        assert_eq!(Transition::Publish.apply(Draft), Some(Noticed));
        assert_eq!(Transition::Publish.apply(Noticed), None);
        assert_eq!(Transition::Open.apply(Draft), None);
        assert_eq!(Transition::Open.apply(Noticed), Some(InSession));
        assert_eq!(Transition::Recess.apply(InSession), Some(Recessed));
        assert_eq!(Transition::Open.apply(Recessed), Some(InSession));
        assert_eq!(Transition::Adjourn.apply(Recessed), Some(Adjourned));
        assert_eq!(Transition::Adjourn.apply(Noticed), None);
        assert_eq!(Transition::Cancel.apply(Noticed), Some(Cancelled));
        assert_eq!(Transition::Cancel.apply(InSession), None);
        for t in Transition::ALL {
            assert_eq!(t.apply(Adjourned), None, "adjourned is final");
            assert_eq!(t.apply(Cancelled), None, "cancelled is final");
        }
        assert_eq!(Transition::Adjourn.allowed_from(), [InSession, Recessed]);
    }

    /// Spring forward (Sunday 14 March 2027): 72 clock hours before Tuesday 18:00 PDT is
    /// Saturday 17:00 PST, not 18:00.
    #[test]
    fn seventy_two_clock_hours_across_spring_forward() {
        let f = facts(Regime::Brown, MeetingType::Regular, la(2027, 3, 16, 18));
        let deadline = notice_deadline(&f).unwrap();
        assert_eq!(deadline, la(2027, 3, 13, 17));
        assert_eq!(
            local_time(deadline, f.time_zone),
            "Saturday 13 March 2027, 17:00 PST (America/Los_Angeles)"
        );
        assert!(check_notice(&f, la(2027, 3, 13, 17)).is_ok());
        let late = check_notice(&f, la(2027, 3, 13, 17) + Duration::seconds(1)).unwrap_err();
        assert_eq!(late.code(), "notice-too-late");
        assert!(late.detail().contains("17:00 PST"), "{}", late.detail());
        assert!(late.detail().contains("54954.2"), "{}", late.detail());
        // A calendar-day count would have allowed posting until Saturday 18:00 local.
        assert!(check_notice(&f, la(2027, 3, 13, 18)).is_err());
    }

    /// Fall back (Sunday 7 November 2027): 72 clock hours before Tuesday 18:00 PST is Saturday
    /// 19:00 PDT.
    #[test]
    fn seventy_two_clock_hours_across_fall_back() {
        let f = facts(Regime::Greene, MeetingType::Regular, la(2027, 11, 9, 18));
        let deadline = notice_deadline(&f).unwrap();
        assert_eq!(deadline, la(2027, 11, 6, 19));
        assert!(check_notice(&f, la(2027, 11, 6, 19)).is_ok());
        let late = check_notice(&f, la(2027, 11, 6, 19) + Duration::minutes(1)).unwrap_err();
        assert!(
            late.detail()
                .contains("Saturday 6 November 2027, 19:00 PDT"),
            "{}",
            late.detail()
        );
        assert!(late.detail().contains("35147"), "{}", late.detail());
    }

    #[test]
    fn special_meetings_need_24_hours_under_brown_and_72_under_greene() {
        let start = la(2027, 1, 20, 18);
        let now = start - Duration::hours(30);
        assert!(check_notice(&facts(Regime::Brown, MeetingType::Special, start), now).is_ok());
        assert!(check_notice(&facts(Regime::Voluntary, MeetingType::Special, start), now).is_ok());
        let greene = check_notice(&facts(Regime::Greene, MeetingType::Special, start), now);
        assert_eq!(greene.unwrap_err().code(), "notice-too-late");
        let brown = check_notice(
            &facts(Regime::Brown, MeetingType::Special, start),
            start - Duration::hours(23),
        )
        .unwrap_err();
        assert!(brown.detail().contains("54956"), "{}", brown.detail());
    }

    #[test]
    fn emergencies_need_a_finding_and_media_notice_unless_dire() {
        let start = la(2027, 1, 20, 18);
        let mut f = facts(Regime::Brown, MeetingType::Emergency, start);
        let now = start - Duration::minutes(30);
        assert_eq!(
            check_notice(&f, now).unwrap_err(),
            NoticeRefusal::FindingRequired
        );
        f.emergency_finding = Some(EmergencyFinding::Emergency);
        assert_eq!(
            check_notice(&f, now).unwrap_err().code(),
            "media-notice-required"
        );
        f.media_notified_at = Some(start - Duration::minutes(59));
        assert!(check_notice(&f, now).is_err(), "59 minutes is too late");
        f.media_notified_at = Some(start - Duration::hours(1));
        assert!(check_notice(&f, now).is_ok());
        f.media_notified_at = Some(now + Duration::minutes(1));
        assert!(check_notice(&f, now).is_err(), "a notice not given yet");
        f.emergency_finding = Some(EmergencyFinding::DireEmergency);
        f.media_notified_at = None;
        assert!(check_notice(&f, now).is_ok());
        // Under the Greene Act an emergency meeting still needs the regular notice.
        let greene = facts(Regime::Greene, MeetingType::Emergency, start);
        assert_eq!(
            check_notice(&greene, now).unwrap_err().code(),
            "notice-too-late"
        );
    }

    #[test]
    fn quorum_counts_present_voting_members() {
        use crate::domain::QuorumBasis::*;
        let here = Attendee {
            voting: true,
            present: true,
            remote: None,
        };
        let advisory = Attendee {
            voting: false,
            ..here
        };
        let away = Attendee {
            present: false,
            ..here
        };
        // 7 seats, 2 vacant: quorum 3 (RONR 40:5).
        let q = quorum(FilledVotingSeats, 5, 7, &[here, here, advisory, away]);
        assert_eq!((q.required, q.present_voting, q.met), (3, 2, false));
        let q = quorum(FilledVotingSeats, 5, 7, &[here, here, here, advisory]);
        assert!(q.met);
        assert!(!q.roll_call_required);
        let q = quorum(AuthorizedVotingSeats, 5, 7, &[here, here, here]);
        assert_eq!((q.required, q.met), (4, false));
    }

    #[test]
    fn remote_members_under_54953f_do_not_make_quorum() {
        use crate::domain::QuorumBasis::*;
        let here = Attendee {
            voting: true,
            present: true,
            remote: None,
        };
        let listed = Attendee {
            remote: Some(RemoteBasis::TeleconferenceLocation),
            ..here
        };
        let just_cause = Attendee {
            remote: Some(RemoteBasis::JustCause),
            ..here
        };
        let q = quorum(FilledVotingSeats, 5, 5, &[here, here, listed]);
        assert!(q.met, "a listed teleconference location counts");
        assert!(q.roll_call_required);
        let q = quorum(FilledVotingSeats, 5, 5, &[here, here, just_cause]);
        assert!(q.in_person_required);
        assert_eq!((q.present_voting, q.in_person_voting, q.met), (3, 2, false));
        let q = quorum(FilledVotingSeats, 5, 5, &[here, here, here, just_cause]);
        assert!(q.met);
    }

    #[test]
    fn two_zones_name_their_own_local_deadline() {
        let start = chrono_tz::America::New_York
            .with_ymd_and_hms(2027, 2, 10, 19, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let mut f = facts(Regime::Brown, MeetingType::Regular, start);
        f.time_zone = chrono_tz::America::New_York;
        let err = check_notice(&f, start).unwrap_err();
        assert!(
            err.detail()
                .contains("Sunday 7 February 2027, 19:00 EST (America/New_York)"),
            "{}",
            err.detail()
        );
    }
}
