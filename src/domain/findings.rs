//! Findings that let a meeting act on business its posted notice did not carry (DOMAIN rule 5:
//! Gov. Code 54954.2(b), Ed. Code 35147(c)(1)), the determination vote an emergency meeting
//! rests on (rule 4: Gov. Code 54956.5(a)), and the cap on "just cause" remote attendance
//! (rule 10: Gov. Code 54953(f), SB 707). Pure rules: the counts come from the caller.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::council::{text_enum, Regime};

/// What a finding finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// An emergency as defined in 54956.5 (Brown Act; majority of the body, 54954.2(b)(1)).
    Emergency,
    /// A need for immediate action that arose after the agenda was posted (Brown Act
    /// 54954.2(b)(2): two-thirds of members present, all present if fewer than two-thirds of the
    /// members attend; Greene Act 35147(c)(1): unanimity of members present).
    NeedAroseAfterPosting,
    /// The item was on a posted agenda of this council for a meeting held no more than 5
    /// calendar days earlier and was continued to this one (Brown Act 54954.2(b)(3)).
    ContinuedItem,
    /// The emergency meeting's own classification, voted by a majority of the body when it
    /// opens (54956.5(a)); not a finding about an item.
    EmergencyMeeting,
}

text_enum!(FindingKind {
    Emergency => "emergency",
    NeedAroseAfterPosting => "need_arose_after_posting",
    ContinuedItem => "continued_item",
    EmergencyMeeting => "emergency_meeting",
});

/// The rule a finding's vote is measured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingRule {
    /// Yes from more than half of the body's filled voting seats.
    MajorityOfBody,
    /// Brown 54954.2(b)(2).
    TwoThirdsOfPresent,
    /// Greene 35147(c)(1): every voting member present votes yes.
    UnanimityOfPresent,
    /// Brown 54954.2(b)(3): decided by the record of the earlier meeting, not by the vote.
    Continuation,
}

impl FindingRule {
    pub fn describe(self) -> &'static str {
        match self {
            FindingRule::MajorityOfBody => {
                "majority of the body: yes from more than half of the filled voting seats (Gov. Code 54954.2(b)(1), 54956.5(a))"
            }
            FindingRule::TwoThirdsOfPresent => {
                "two-thirds of the members present, or all of them when fewer than two-thirds of the members attend (Gov. Code 54954.2(b)(2))"
            }
            FindingRule::UnanimityOfPresent => {
                "unanimity of the members present (Ed. Code 35147(c)(1))"
            }
            FindingRule::Continuation => {
                "on a posted agenda of this council for a meeting no more than 5 calendar days earlier, and continued (Gov. Code 54954.2(b)(3))"
            }
        }
    }
}

/// Which rule measures a finding of this kind under this regime; `None` when the regime allows
/// no such finding (the Greene Act knows only the unanimous "arose after posting" finding).
pub fn rule_for(regime: Regime, kind: FindingKind) -> Option<FindingRule> {
    match (regime, kind) {
        (Regime::Greene, FindingKind::NeedAroseAfterPosting) => {
            Some(FindingRule::UnanimityOfPresent)
        }
        (Regime::Greene, _) => None,
        (_, FindingKind::Emergency | FindingKind::EmergencyMeeting) => {
            Some(FindingRule::MajorityOfBody)
        }
        (_, FindingKind::NeedAroseAfterPosting) => Some(FindingRule::TwoThirdsOfPresent),
        (_, FindingKind::ContinuedItem) => Some(FindingRule::Continuation),
    }
}

/// ⌈2n/3⌉.
fn two_thirds_up(n: u32) -> u32 {
    (2 * n).div_ceil(3)
}

/// Whether a finding's vote meets its rule. `present` counts the voting members present,
/// `membership` the filled voting seats; `continued` is the outcome of the continuation check.
pub fn passes(rule: FindingRule, yes: u32, present: u32, membership: u32, continued: bool) -> bool {
    match rule {
        FindingRule::MajorityOfBody => yes > membership / 2,
        FindingRule::TwoThirdsOfPresent => {
            if present < two_thirds_up(membership) {
                present > 0 && yes >= present
            } else {
                yes >= two_thirds_up(present)
            }
        }
        FindingRule::UnanimityOfPresent => present > 0 && yes >= present,
        FindingRule::Continuation => continued,
    }
}

/// Most calendar days between a meeting and an earlier one an item was continued from.
pub const CONTINUATION_DAYS: i64 = 5;

/// Whether a meeting on `earlier` (local date) is no more than 5 calendar days before `this`.
pub fn within_continuation(earlier: NaiveDate, this: NaiveDate) -> bool {
    let days = (this - earlier).num_days();
    (0..=CONTINUATION_DAYS).contains(&days)
}

/// The most meetings a member may attend remotely for "just cause" in a calendar year
/// (Gov. Code 54953(f)(3) as amended by SB 707): 2 when the body meets monthly or less, 5 when
/// twice a month, 7 when three or more times a month. `regular_meetings_in_year` is the number
/// of regular meetings the council holds that calendar year.
pub fn just_cause_cap(regular_meetings_in_year: u32) -> u32 {
    match regular_meetings_in_year {
        0..=12 => 2,
        13..=24 => 5,
        _ => 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greene_allows_only_the_unanimous_finding() {
        assert_eq!(
            rule_for(Regime::Greene, FindingKind::NeedAroseAfterPosting),
            Some(FindingRule::UnanimityOfPresent)
        );
        assert_eq!(rule_for(Regime::Greene, FindingKind::Emergency), None);
        assert_eq!(rule_for(Regime::Greene, FindingKind::ContinuedItem), None);
        assert_eq!(
            rule_for(Regime::Brown, FindingKind::Emergency),
            Some(FindingRule::MajorityOfBody)
        );
        assert_eq!(
            rule_for(Regime::Voluntary, FindingKind::NeedAroseAfterPosting),
            Some(FindingRule::TwoThirdsOfPresent)
        );
    }

    #[test]
    fn majority_of_the_body_counts_seats_not_attendance() {
        // 9 seats: 5 yes needed however many attend.
        assert!(!passes(FindingRule::MajorityOfBody, 4, 4, 9, false));
        assert!(passes(FindingRule::MajorityOfBody, 5, 6, 9, false));
        // 10 seats: 6.
        assert!(!passes(FindingRule::MajorityOfBody, 5, 10, 10, false));
        assert!(passes(FindingRule::MajorityOfBody, 6, 6, 10, false));
    }

    #[test]
    fn two_thirds_of_present_or_all_present_when_few_attend() {
        // 9 seats, 9 present: ⌈18/3⌉ = 6.
        assert!(passes(FindingRule::TwoThirdsOfPresent, 6, 9, 9, false));
        assert!(!passes(FindingRule::TwoThirdsOfPresent, 5, 9, 9, false));
        // 9 seats, 7 present: ⌈14/3⌉ = 5.
        assert!(passes(FindingRule::TwoThirdsOfPresent, 5, 7, 9, false));
        assert!(!passes(FindingRule::TwoThirdsOfPresent, 4, 7, 9, false));
        // 9 seats, 6 present (= ⌈2/3 × 9⌉): still two-thirds, 4.
        assert!(passes(FindingRule::TwoThirdsOfPresent, 4, 6, 9, false));
        // 9 seats, 5 present (< 6): all five.
        assert!(!passes(FindingRule::TwoThirdsOfPresent, 4, 5, 9, false));
        assert!(passes(FindingRule::TwoThirdsOfPresent, 5, 5, 9, false));
        // 5 seats, 3 present (< ⌈10/3⌉ = 4): all three.
        assert!(!passes(FindingRule::TwoThirdsOfPresent, 2, 3, 5, false));
        assert!(passes(FindingRule::TwoThirdsOfPresent, 3, 3, 5, false));
        // 5 seats, 4 present: ⌈8/3⌉ = 3.
        assert!(passes(FindingRule::TwoThirdsOfPresent, 3, 4, 5, false));
        assert!(!passes(FindingRule::TwoThirdsOfPresent, 0, 0, 5, false));
    }

    #[test]
    fn unanimity_of_present() {
        assert!(passes(FindingRule::UnanimityOfPresent, 4, 4, 10, false));
        assert!(!passes(FindingRule::UnanimityOfPresent, 3, 4, 10, false));
        assert!(!passes(FindingRule::UnanimityOfPresent, 0, 0, 10, false));
    }

    #[test]
    fn continuation_is_decided_by_the_record() {
        assert!(passes(FindingRule::Continuation, 0, 3, 5, true));
        assert!(!passes(FindingRule::Continuation, 5, 5, 5, false));
        let d = |day| NaiveDate::from_ymd_opt(2027, 3, day).unwrap();
        assert!(within_continuation(d(10), d(15)));
        assert!(!within_continuation(d(9), d(15)));
        assert!(within_continuation(d(15), d(15)));
        assert!(!within_continuation(d(16), d(15)));
    }

    #[test]
    fn just_cause_cap_follows_meeting_frequency() {
        assert_eq!(just_cause_cap(0), 2);
        assert_eq!(just_cause_cap(12), 2);
        assert_eq!(just_cause_cap(13), 5);
        assert_eq!(just_cause_cap(24), 5);
        assert_eq!(just_cause_cap(25), 7);
        assert_eq!(just_cause_cap(52), 7);
    }
}
