//! The composition report of a council: who sits on it, whose terms end soon, whether its
//! composition rules hold, and its quorum. Pure: computed from the seats handed in.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::council::quorum_required;
use super::{composition, terms, CompositionRule, Constituency, QuorumBasis, RuleOutcome};

/// Seats of one constituency.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ConstituencyCount {
    pub constituency: Option<Constituency>,
    /// Every seat, voting and advisory.
    pub seats: u32,
    pub voting_seats: u32,
    pub filled: u32,
    pub vacant: u32,
}

/// A seat whose term ends within 60 days.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermEnding {
    pub seat_id: Uuid,
    pub title: String,
    pub constituency: Constituency,
    pub term_end: NaiveDate,
    pub days_left: i64,
    /// Current holder's name, if the seat is filled.
    pub holder_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Quorum {
    pub basis: QuorumBasis,
    /// Members needed: a majority of the counted voting seats.
    pub required: u32,
}

/// Who sits on a council and whether its composition rules hold.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "as_of": "2026-11-25",
    "by_constituency": [
        {"constituency": "teachers", "seats": 3, "voting_seats": 3, "filled": 3, "vacant": 0},
        {"constituency": "families", "seats": 3, "voting_seats": 3, "filled": 2, "vacant": 1},
        {"constituency": "students", "seats": 2, "voting_seats": 2, "filled": 1, "vacant": 1}],
    "totals": {"constituency": null, "seats": 8, "voting_seats": 8, "filled": 6, "vacant": 2},
    "terms_ending_soon": [{"seat_id": "01936d4e-8000-7000-8000-00000000b001", "title": "Student representative",
        "constituency": "students", "term_end": "2027-01-15", "days_left": 51, "holder_name": "Ana Ruiz"}],
    "rules": [{"index": 0, "name": "community parity", "passed": true,
        "explanation": "families + students + community_organizations = 5 ≥ district + administrators + teachers + classified_staff = 3 (voting seats; required ≥)"}],
    "all_rules_pass": true,
    "quorum": {"basis": "filled_voting_seats", "required": 4}
}))]
pub struct Composition {
    pub council_id: Uuid,
    /// The date (UTC) the report was computed for.
    pub as_of: NaiveDate,
    /// One entry per constituency that has seats, in the order of the constituency list.
    pub by_constituency: Vec<ConstituencyCount>,
    /// All seats together (`constituency` is null).
    pub totals: ConstituencyCount,
    pub terms_ending_soon: Vec<TermEnding>,
    pub rules: Vec<RuleOutcome>,
    pub all_rules_pass: bool,
    pub quorum: Quorum,
}

/// One seat as the report needs it.
pub struct SeatSnapshot {
    pub seat_id: Uuid,
    pub title: String,
    pub facts: composition::SeatFacts,
    pub term_end: Option<NaiveDate>,
    pub holder_name: Option<String>,
}

/// Computes the composition report of a council as of `today`.
pub fn composition_report(
    council_id: Uuid,
    rules: &[CompositionRule],
    basis: QuorumBasis,
    seats: &[SeatSnapshot],
    today: NaiveDate,
) -> Composition {
    let mut groups: BTreeMap<Constituency, ConstituencyCount> = BTreeMap::new();
    let mut totals = ConstituencyCount::default();
    for f in seats.iter().map(|s| &s.facts) {
        let entry = groups
            .entry(f.constituency)
            .or_insert_with(|| ConstituencyCount {
                constituency: Some(f.constituency),
                ..Default::default()
            });
        for c in [&mut *entry, &mut totals] {
            c.seats += 1;
            c.voting_seats += u32::from(f.voting);
            c.filled += u32::from(f.filled);
            c.vacant += u32::from(!f.filled);
        }
    }
    let mut ending: Vec<TermEnding> = seats
        .iter()
        .filter_map(|s| {
            let end = s.term_end?;
            let days_left = terms::days_until_end(end, today, terms::ENDING_SOON_DAYS)?;
            Some(TermEnding {
                seat_id: s.seat_id,
                title: s.title.clone(),
                constituency: s.facts.constituency,
                term_end: end,
                days_left,
                holder_name: s.holder_name.clone(),
            })
        })
        .collect();
    ending.sort_by_key(|t| (t.days_left, t.seat_id));
    let facts: Vec<composition::SeatFacts> = seats.iter().map(|s| s.facts).collect();
    let outcomes = composition::evaluate(rules, &facts);
    let filled_voting = facts.iter().filter(|f| f.voting && f.filled).count() as u32;
    Composition {
        council_id,
        as_of: today,
        by_constituency: groups.into_values().collect(),
        totals,
        terms_ending_soon: ending,
        all_rules_pass: outcomes.iter().all(|o| o.passed),
        rules: outcomes,
        quorum: Quorum {
            basis,
            required: quorum_required(
                basis,
                filled_voting,
                facts.iter().filter(|f| f.voting).count() as u32,
            ),
        },
    }
}
