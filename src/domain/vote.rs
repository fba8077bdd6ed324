//! Motions and their results (DOMAIN rules 9 and 12).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::council::text_enum;

/// What a motion needs to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// More yes than no votes; abstentions do not count (RONR 44).
    Majority,
    /// Yes at least two-thirds of the votes cast (3 × yes ≥ 2 × (yes + no)).
    TwoThirds,
    /// Yes from more than half of the filled voting seats, whoever votes.
    MajorityOfMembership,
}

text_enum!(Threshold {
    Majority => "majority",
    TwoThirds => "two_thirds",
    MajorityOfMembership => "majority_of_membership",
});

/// What kind of motion: procedural motions (adjourn, recess) may be made without quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MotionKind {
    /// Acts on an agenda item.
    Main,
    Adjourn,
    Recess,
}

text_enum!(MotionKind {
    Main => "main",
    Adjourn => "adjourn",
    Recess => "recess",
});

impl MotionKind {
    /// Business a body may do without a quorum (RONR 40; DOMAIN rule 11).
    pub fn allowed_without_quorum(self) -> bool {
        matches!(self, MotionKind::Adjourn | MotionKind::Recess)
    }
}

/// A member's vote. There is no secret ballot: every vote is recorded with its member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Yes,
    No,
    Abstain,
    /// Declines to vote because of a conflict of interest (reason recorded).
    Recused,
    /// Not present when the vote closed (recorded by the system).
    Absent,
}

text_enum!(Choice {
    Yes => "yes",
    No => "no",
    Abstain => "abstain",
    Recused => "recused",
    Absent => "absent",
});

/// The counts of a closed vote and its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"yes": 4, "no": 2, "abstain": 1, "recused": 0, "absent": 2, "passed": true}))]
pub struct Tally {
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    pub recused: u32,
    pub absent: u32,
    pub passed: bool,
}

/// Counts the votes and decides the result. Abstentions, recusals and absences never enter the
/// denominator; ties fail; `membership` is the number of filled voting seats.
pub fn tally(threshold: Threshold, votes: &[Choice], membership: u32) -> Tally {
    let count = |c: Choice| votes.iter().filter(|v| **v == c).count() as u32;
    let (yes, no) = (count(Choice::Yes), count(Choice::No));
    let passed = match threshold {
        Threshold::Majority => yes > no,
        Threshold::TwoThirds => yes > 0 && 3 * yes >= 2 * (yes + no),
        Threshold::MajorityOfMembership => yes > membership / 2,
    };
    Tally {
        yes,
        no,
        abstain: count(Choice::Abstain),
        recused: count(Choice::Recused),
        absent: count(Choice::Absent),
        passed,
    }
}

#[cfg(test)]
mod tests {
    use super::Choice::*;
    use super::*;

    #[test]
    fn majority_ignores_abstentions_and_ties_fail() {
        assert!(
            tally(
                Threshold::Majority,
                &[Yes, Yes, No, Abstain, Abstain, Abstain],
                9
            )
            .passed
        );
        assert!(
            !tally(Threshold::Majority, &[Yes, No, Abstain], 9).passed,
            "tie"
        );
        assert!(!tally(Threshold::Majority, &[Abstain, Recused, Absent], 9).passed);
        let t = tally(Threshold::Majority, &[Yes, No, Abstain, Recused, Absent], 9);
        assert_eq!(
            (t.yes, t.no, t.abstain, t.recused, t.absent),
            (1, 1, 1, 1, 1)
        );
    }

    #[test]
    fn two_thirds_of_votes_cast() {
        assert!(tally(Threshold::TwoThirds, &[Yes, Yes, No], 9).passed);
        assert!(!tally(Threshold::TwoThirds, &[Yes, Yes, No, No], 9).passed);
        assert!(tally(Threshold::TwoThirds, &[Yes, Yes, No, Abstain, Abstain], 9).passed);
        assert!(!tally(Threshold::TwoThirds, &[Abstain], 9).passed);
    }

    #[test]
    fn majority_of_membership_counts_seats_not_votes() {
        assert!(!tally(Threshold::MajorityOfMembership, &[Yes, Yes, Yes, Yes], 9).passed);
        assert!(tally(Threshold::MajorityOfMembership, &[Yes; 5], 9).passed);
        assert!(tally(Threshold::MajorityOfMembership, &[Yes, Yes, Yes, Yes], 6).passed);
        assert!(!tally(Threshold::MajorityOfMembership, &[Yes, Yes, Yes], 6).passed);
    }

    #[test]
    fn procedural_motions_need_no_quorum() {
        assert!(MotionKind::Adjourn.allowed_without_quorum());
        assert!(!MotionKind::Main.allowed_without_quorum());
    }
}
