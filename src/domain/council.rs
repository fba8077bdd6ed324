//! Councils and their stakeholder groups.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Generates `as_str`, `parse` and `ALL` for a field-less enum stored as TEXT.
macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

/// A stakeholder group that holds seats on a council.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Constituency {
    District,
    Administrators,
    Teachers,
    ClassifiedStaff,
    Students,
    Families,
    CommunityOrganizations,
}

text_enum!(Constituency {
    District => "district",
    Administrators => "administrators",
    Teachers => "teachers",
    ClassifiedStaff => "classified_staff",
    Students => "students",
    Families => "families",
    CommunityOrganizations => "community_organizations",
});

/// What sort of body a council is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CouncilKind {
    SchoolSiteCouncil,
    CommunitySchoolSteeringCommittee,
    DistrictAdvisory,
    Assembly,
}

text_enum!(CouncilKind {
    SchoolSiteCouncil => "school_site_council",
    CommunitySchoolSteeringCommittee => "community_school_steering_committee",
    DistrictAdvisory => "district_advisory",
    Assembly => "assembly",
});

/// The open-meeting law a council answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// California's Brown Act (Gov. Code 54950 et seq.): bodies created by a board's formal action.
    Brown,
    /// California's Greene Act (Ed. Code 35147): school site councils and the advisory
    /// committees listed in 35147(b).
    Greene,
    /// Neither act applies (e.g. a body convened by a nonprofit); cogov still applies the
    /// Brown Act's rules as the safe default where a rule needs a regime.
    Voluntary,
}

text_enum!(Regime {
    Brown => "brown",
    Greene => "greene",
    Voluntary => "voluntary",
});

impl CouncilKind {
    /// The regime a council of this kind falls under unless its bylaws say otherwise: school site
    /// councils and district advisory committees follow the Greene Act (Ed. Code 35147(b));
    /// steering committees and assemblies created by a board follow the Brown Act.
    pub fn default_regime(self) -> Regime {
        match self {
            CouncilKind::SchoolSiteCouncil | CouncilKind::DistrictAdvisory => Regime::Greene,
            CouncilKind::CommunitySchoolSteeringCommittee | CouncilKind::Assembly => Regime::Brown,
        }
    }
}

/// Which seats quorum is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuorumBasis {
    /// A majority of the voting seats that currently have a holder (the default).
    FilledVotingSeats,
    /// A majority of all voting seats, vacant ones included (some bylaws say so).
    AuthorizedVotingSeats,
}

text_enum!(QuorumBasis {
    FilledVotingSeats => "filled_voting_seats",
    AuthorizedVotingSeats => "authorized_voting_seats",
});

/// Members needed for quorum: a majority (⌊n / 2⌋ + 1) of the seats the basis counts.
pub fn quorum_required(basis: QuorumBasis, filled_voting: u32, authorized_voting: u32) -> u32 {
    let n = match basis {
        QuorumBasis::FilledVotingSeats => filled_voting,
        QuorumBasis::AuthorizedVotingSeats => authorized_voting,
    };
    n / 2 + 1
}

/// Default hours of notice before a regular meeting (Brown Act 54954.2(a), Greene Act 35147(c)).
pub const DEFAULT_REGULAR_NOTICE_HOURS: i64 = 72;
/// Default hours of notice before a special meeting (Brown Act 54956).
pub const DEFAULT_SPECIAL_NOTICE_HOURS: i64 = 24;

/// Longest notice a council may require, in hours (30 days).
pub const MAX_NOTICE_HOURS: i64 = 720;

/// The notice periods a council may set, as `(field, problem)` pairs: within 0 to
/// [`MAX_NOTICE_HOURS`], and not below the legal floors of the Brown and Greene Acts (72 hours
/// for regular meetings, 24 for special ones). Voluntary bodies may go lower.
pub fn notice_problems(regime: Regime, regular: i64, special: i64) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    let act = match regime {
        Regime::Brown => Some("Brown"),
        Regime::Greene => Some("Greene"),
        Regime::Voluntary => None,
    };
    for (field, value, floor) in [
        (
            "regular_notice_hours",
            regular,
            DEFAULT_REGULAR_NOTICE_HOURS,
        ),
        (
            "special_notice_hours",
            special,
            DEFAULT_SPECIAL_NOTICE_HOURS,
        ),
    ] {
        if !(0..=MAX_NOTICE_HOURS).contains(&value) {
            problems.push((field, format!("must be between 0 and {MAX_NOTICE_HOURS}")));
        } else if let Some(act) = act.filter(|_| value < floor) {
            problems.push((
                field,
                format!("must be at least {floor} hours for a council under the {act} Act"),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        for c in Constituency::ALL {
            assert_eq!(Constituency::parse(c.as_str()), Some(*c));
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        for k in CouncilKind::ALL {
            assert_eq!(CouncilKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(Constituency::parse("parents"), None);
    }

    #[test]
    fn quorum_is_a_majority_of_the_counted_seats() {
        assert_eq!(quorum_required(QuorumBasis::FilledVotingSeats, 12, 14), 7);
        assert_eq!(quorum_required(QuorumBasis::FilledVotingSeats, 11, 14), 6);
        assert_eq!(
            quorum_required(QuorumBasis::AuthorizedVotingSeats, 11, 14),
            8
        );
        assert_eq!(quorum_required(QuorumBasis::FilledVotingSeats, 0, 4), 1);
    }

    #[test]
    fn school_site_councils_default_to_the_greene_act() {
        assert_eq!(
            CouncilKind::SchoolSiteCouncil.default_regime(),
            Regime::Greene
        );
        assert_eq!(
            CouncilKind::CommunitySchoolSteeringCommittee.default_regime(),
            Regime::Brown
        );
    }
}
