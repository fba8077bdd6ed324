//! Public participation in meetings: written public comment and in-person speakers (DOMAIN
//! rules 7 and 8).
//!
//! Anyone may comment, without a name or any other information (Gov. Code 54953.3); a speaker's
//! time is the council's limit, at least doubled for a speaker who uses a consecutive interpreter
//! and unchanged when simultaneous interpretation equipment lets the body hear the translation
//! in real time (Gov. Code 54954.3(b)).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::council::text_enum;

/// Seconds one member of the public may speak on an item unless the council sets another limit.
pub const SPEAKER_SECONDS_DEFAULT: i64 = 180;
/// The shortest and longest limit a council may set.
pub const SPEAKER_SECONDS_MIN: i64 = 30;
pub const SPEAKER_SECONDS_MAX: i64 = 1800;

/// Longest written comment, in characters.
pub const COMMENT_CHARS_MAX: usize = 5000;

/// How a speaker's words reach the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Interpretation {
    /// The speaker addresses the body directly.
    #[default]
    None,
    /// An interpreter repeats each passage after the speaker: the speaker gets twice the time.
    Consecutive,
    /// Interpretation equipment lets the body hear the translation as the speaker speaks: the
    /// usual time.
    Simultaneous,
}

text_enum!(Interpretation {
    None => "none",
    Consecutive => "consecutive",
    Simultaneous => "simultaneous",
});

/// The seconds a speaker is given, from the council's limit and how they are interpreted.
pub fn speaker_seconds(limit: i64, interpretation: Interpretation) -> i64 {
    match interpretation {
        Interpretation::Consecutive => limit.saturating_mul(2),
        Interpretation::None | Interpretation::Simultaneous => limit,
    }
}

/// Whether written comment on an item is taken now: the meeting's notice is published and it
/// has not ended (`meeting_open`), and the item's comment period has not been closed.
pub fn comment_accepted(meeting_open: bool, comment_closed: bool) -> bool {
    meeting_open && !comment_closed
}

/// Most participants one request registers, checks in or records votes for.
pub const BATCH_MAX: usize = 1000;

/// An assembly's quorum: the minimum count of present participants its council sets. Without a
/// minimum set there is no quorum (the assembly cannot act until its bylaws' number is entered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssemblyQuorum {
    pub present: i64,
    pub required: Option<i64>,
    pub met: bool,
}

pub fn assembly_quorum(present: i64, required: Option<i64>) -> AssemblyQuorum {
    AssemblyQuorum {
        present,
        required,
        met: required.is_some_and(|r| present >= r),
    }
}

/// Where agenda items came from, per constituency (`None`: staff), over a period.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceCount {
    pub constituency: Option<String>,
    /// Items proposed or added.
    pub proposed: i64,
    /// Of those, put on a meeting's agenda.
    pub accepted: i64,
    /// Of those, decided by a vote that closed.
    pub voted_on: i64,
}

/// Counts items by source: `(constituency, accepted, voted_on)` for each item. Constituencies
/// come out in name order, staff (`None`) first.
pub fn agenda_sources(
    items: impl IntoIterator<Item = (Option<String>, bool, bool)>,
) -> Vec<SourceCount> {
    let mut out: std::collections::BTreeMap<Option<String>, SourceCount> = Default::default();
    for (constituency, accepted, voted_on) in items {
        let c = out
            .entry(constituency.clone())
            .or_insert_with(|| SourceCount {
                constituency,
                ..SourceCount::default()
            });
        c.proposed += 1;
        c.accepted += i64::from(accepted);
        c.voted_on += i64::from(voted_on);
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agenda_sources_count_by_constituency() {
        let counts = agenda_sources([
            (Some("students".to_owned()), true, true),
            (Some("students".to_owned()), false, false),
            (None, true, false),
            (Some("families".to_owned()), true, false),
        ]);
        assert_eq!(counts.len(), 3);
        assert_eq!(counts[0].constituency, None);
        assert_eq!(counts[1].constituency.as_deref(), Some("families"));
        assert_eq!(
            (counts[2].proposed, counts[2].accepted, counts[2].voted_on),
            (2, 1, 1)
        );
    }

    #[test]
    fn assembly_quorum_is_a_minimum_count() {
        assert!(assembly_quorum(25, Some(25)).met);
        assert!(!assembly_quorum(24, Some(25)).met);
        assert!(!assembly_quorum(1000, None).met);
    }

    #[test]
    fn consecutive_interpretation_doubles_the_time() {
        assert_eq!(speaker_seconds(180, Interpretation::None), 180);
        assert_eq!(speaker_seconds(180, Interpretation::Consecutive), 360);
        assert_eq!(speaker_seconds(120, Interpretation::Simultaneous), 120);
        assert_eq!(
            speaker_seconds(SPEAKER_SECONDS_MAX, Interpretation::Consecutive),
            2 * SPEAKER_SECONDS_MAX
        );
    }

    #[test]
    fn comment_closes_with_the_period_or_the_meeting() {
        assert!(comment_accepted(true, false));
        assert!(!comment_accepted(true, true));
        assert!(!comment_accepted(false, false));
    }

    #[test]
    fn interpretation_reads_back_what_it_stores() {
        for i in Interpretation::ALL {
            assert_eq!(Interpretation::parse(i.as_str()), Some(*i));
        }
    }
}
