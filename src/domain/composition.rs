//! Composition rules: what mix of stakeholder seats a council must have. Rules are data stored
//! with the council; they count voting seats only (advisory seats never count toward parity).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Constituency;

/// Whether a rule counts every voting seat or only those with a holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeatCount {
    /// Every voting seat, filled or vacant (the council's designed composition).
    #[default]
    Seats,
    /// Only voting seats that currently have a holder (who actually sits on it).
    Filled,
}

/// How the left side of a balance rule compares with the right side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    AtLeast,
    Equal,
    MoreThan,
}

impl Relation {
    fn holds(self, left: u32, right: u32) -> bool {
        match self {
            Relation::AtLeast => left >= right,
            Relation::Equal => left == right,
            Relation::MoreThan => left > right,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Relation::AtLeast => "≥",
            Relation::Equal => "=",
            Relation::MoreThan => ">",
        }
    }
}

/// One rule about a council's seats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CompositionRule {
    /// At least `min` voting seats of one constituency (e.g. "at least 2 student seats").
    AtLeast {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        constituency: Constituency,
        min: u32,
        #[serde(default)]
        count: SeatCount,
    },
    /// At most `max` voting seats of one constituency.
    AtMost {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        constituency: Constituency,
        max: u32,
        #[serde(default)]
        count: SeatCount,
    },
    /// The seats of the `left` groups compared with those of the `right` groups, e.g. parity:
    /// families + students + community_organizations ≥ district + administrators + teachers +
    /// classified_staff.
    Balance {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        left: Vec<Constituency>,
        relation: Relation,
        right: Vec<Constituency>,
        #[serde(default)]
        count: SeatCount,
    },
    /// `constituency` holds more than half of the seats of the `of` groups (e.g. teachers are a
    /// majority of a school site council's staff side).
    MajorityOf {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        constituency: Constituency,
        of: Vec<Constituency>,
        #[serde(default)]
        count: SeatCount,
    },
}

/// What a rule needs to know about one seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatFacts {
    pub constituency: Constituency,
    pub voting: bool,
    pub filled: bool,
}

/// The result of checking one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RuleOutcome {
    /// Position of the rule in the council's `composition_rules` (0-based).
    pub index: usize,
    /// The rule's own name, or a description generated from it.
    pub name: String,
    pub passed: bool,
    /// The counts behind the result, e.g. "families + students = 5 ≥ teachers = 4".
    pub explanation: String,
}

fn count(seats: &[SeatFacts], groups: &[Constituency], basis: SeatCount) -> u32 {
    seats
        .iter()
        .filter(|s| s.voting && groups.contains(&s.constituency))
        .filter(|s| basis == SeatCount::Seats || s.filled)
        .count() as u32
}

fn join(groups: &[Constituency]) -> String {
    groups
        .iter()
        .map(|g| g.as_str())
        .collect::<Vec<_>>()
        .join(" + ")
}

fn noun(basis: SeatCount) -> &'static str {
    match basis {
        SeatCount::Seats => "voting seats",
        SeatCount::Filled => "filled voting seats",
    }
}

impl CompositionRule {
    fn given_name(&self) -> Option<&str> {
        match self {
            CompositionRule::AtLeast { name, .. }
            | CompositionRule::AtMost { name, .. }
            | CompositionRule::Balance { name, .. }
            | CompositionRule::MajorityOf { name, .. } => name.as_deref(),
        }
    }

    /// A readable statement of the rule, used when it has no name of its own.
    pub fn describe(&self) -> String {
        match self {
            CompositionRule::AtLeast {
                constituency,
                min,
                count,
                ..
            } => format!("at least {min} {} of {constituency}", noun(*count)),
            CompositionRule::AtMost {
                constituency,
                max,
                count,
                ..
            } => format!("at most {max} {} of {constituency}", noun(*count)),
            CompositionRule::Balance {
                left,
                relation,
                right,
                count,
                ..
            } => format!(
                "{} {} {} ({})",
                join(left),
                relation.symbol(),
                join(right),
                noun(*count)
            ),
            CompositionRule::MajorityOf {
                constituency,
                of,
                count,
                ..
            } => format!(
                "{constituency} hold a majority of the {} of {}",
                noun(*count),
                join(of)
            ),
        }
    }

    pub fn display_name(&self) -> String {
        self.given_name()
            .map(str::to_owned)
            .unwrap_or_else(|| self.describe())
    }

    /// Whether the rule holds for these seats, and the counts that say why.
    pub fn check(&self, seats: &[SeatFacts]) -> (bool, String) {
        match self {
            CompositionRule::AtLeast {
                constituency,
                min,
                count: basis,
                ..
            } => {
                let n = count(seats, &[*constituency], *basis);
                (
                    n >= *min,
                    format!(
                        "{constituency} has {n} {}; at least {min} required",
                        noun(*basis)
                    ),
                )
            }
            CompositionRule::AtMost {
                constituency,
                max,
                count: basis,
                ..
            } => {
                let n = count(seats, &[*constituency], *basis);
                (
                    n <= *max,
                    format!(
                        "{constituency} has {n} {}; at most {max} allowed",
                        noun(*basis)
                    ),
                )
            }
            CompositionRule::Balance {
                left,
                relation,
                right,
                count: basis,
                ..
            } => {
                let l = count(seats, left, *basis);
                let r = count(seats, right, *basis);
                let holds = relation.holds(l, r);
                let shown = if holds {
                    relation.symbol()
                } else {
                    "does not satisfy"
                };
                (
                    holds,
                    format!(
                        "{} = {l} {shown} {} = {r} ({}; required {})",
                        join(left),
                        join(right),
                        noun(*basis),
                        relation.symbol()
                    ),
                )
            }
            CompositionRule::MajorityOf {
                constituency,
                of,
                count: basis,
                ..
            } => {
                let part = count(seats, &[*constituency], *basis);
                let whole = count(seats, of, *basis);
                (
                    2 * part > whole,
                    format!(
                        "{constituency} has {part} of {whole} {} of {}; more than half required",
                        noun(*basis),
                        join(of)
                    ),
                )
            }
        }
    }

    /// Problems with the rule itself, as (field, message) pairs relative to the rule.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(name) = self.given_name() {
            if name.trim().is_empty() || name.chars().count() > 200 {
                out.push(("name", "must be 1 to 200 characters".to_owned()));
            }
        }
        match self {
            CompositionRule::AtLeast { min, .. } if *min > 1000 => {
                out.push(("min", "must be at most 1000".to_owned()))
            }
            CompositionRule::AtMost { max, .. } if *max > 1000 => {
                out.push(("max", "must be at most 1000".to_owned()))
            }
            CompositionRule::Balance { left, right, .. } => {
                if left.is_empty() {
                    out.push(("left", "must name at least one constituency".to_owned()));
                }
                if right.is_empty() {
                    out.push(("right", "must name at least one constituency".to_owned()));
                }
                if left.iter().any(|c| right.contains(c)) {
                    out.push((
                        "right",
                        "a constituency cannot be on both sides of a balance".to_owned(),
                    ));
                }
            }
            CompositionRule::MajorityOf {
                constituency, of, ..
            } if !of.contains(constituency) => {
                out.push((
                    "of",
                    "must include the constituency that is to hold the majority".to_owned(),
                ));
            }
            _ => {}
        }
        out
    }
}

/// Lets a list of rules in a request body report each bad rule by position
/// (`composition_rules[1].left`).
impl validator::Validate for CompositionRule {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        let mut errors = validator::ValidationErrors::new();
        for (field, message) in self.problems() {
            let mut e = validator::ValidationError::new("invalid");
            e.message = Some(message.into());
            errors.add(field, e);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Checks every rule against the seats.
pub fn evaluate(rules: &[CompositionRule], seats: &[SeatFacts]) -> Vec<RuleOutcome> {
    rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let (passed, explanation) = rule.check(seats);
            RuleOutcome {
                index,
                name: rule.display_name(),
                passed,
                explanation,
            }
        })
        .collect()
}

/// The rules a change would break: those that hold for `before` and fail for `after`. A rule
/// that already fails (a council still being set up) does not block further changes.
pub fn newly_broken(
    rules: &[CompositionRule],
    before: &[SeatFacts],
    after: &[SeatFacts],
) -> Vec<RuleOutcome> {
    let was = evaluate(rules, before);
    evaluate(rules, after)
        .into_iter()
        .zip(was)
        .filter(|(now, then)| then.passed && !now.passed)
        .map(|(now, _)| now)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Constituency::*;

    fn seat(c: Constituency, filled: bool) -> SeatFacts {
        SeatFacts {
            constituency: c,
            voting: true,
            filled,
        }
    }

    fn parity() -> CompositionRule {
        CompositionRule::Balance {
            name: Some("community parity".into()),
            left: vec![Families, Students, CommunityOrganizations],
            relation: Relation::AtLeast,
            right: vec![District, Administrators, Teachers, ClassifiedStaff],
            count: SeatCount::Seats,
        }
    }

    #[test]
    fn balance_counts_both_sides() {
        let seats = [
            seat(Families, true),
            seat(Students, false),
            seat(Teachers, true),
            seat(Administrators, true),
        ];
        let (ok, why) = parity().check(&seats);
        assert!(ok, "{why}");
        assert!(why.contains("= 2"), "{why}");
        let mut more = seats.to_vec();
        more.push(seat(Teachers, true));
        let (ok, why) = parity().check(&more);
        assert!(!ok);
        assert!(why.contains("= 3"), "{why}");
    }

    #[test]
    fn advisory_seats_never_count() {
        let mut seats = vec![seat(Families, true), seat(Teachers, true)];
        seats.push(SeatFacts {
            constituency: Teachers,
            voting: false,
            filled: true,
        });
        assert!(parity().check(&seats).0);
    }

    #[test]
    fn at_least_by_filled_seats() {
        let rule = CompositionRule::AtLeast {
            name: None,
            constituency: Students,
            min: 2,
            count: SeatCount::Filled,
        };
        assert!(!rule.check(&[seat(Students, true), seat(Students, false)]).0);
        assert!(rule.check(&[seat(Students, true), seat(Students, true)]).0);
        assert_eq!(
            rule.display_name(),
            "at least 2 filled voting seats of students"
        );
    }

    #[test]
    fn majority_needs_more_than_half() {
        let rule = CompositionRule::MajorityOf {
            name: None,
            constituency: Teachers,
            of: vec![Administrators, Teachers, ClassifiedStaff],
            count: SeatCount::Seats,
        };
        let two_of_four = [
            seat(Teachers, true),
            seat(Teachers, true),
            seat(Administrators, true),
            seat(ClassifiedStaff, true),
        ];
        assert!(!rule.check(&two_of_four).0);
        assert!(rule.check(&two_of_four[..3]).0);
    }

    #[test]
    fn only_transitions_from_pass_to_fail_break_a_rule() {
        let rules = [parity()];
        let before = [seat(Families, true), seat(Teachers, true)];
        let mut after = before.to_vec();
        after.push(seat(Teachers, true));
        let broken = newly_broken(&rules, &before, &after);
        assert_eq!(broken.len(), 1);
        assert_eq!(broken[0].name, "community parity");

        // Already failing: adding another staff seat is not newly breaking anything.
        let mut worse = after.clone();
        worse.push(seat(Administrators, true));
        assert!(newly_broken(&rules, &after, &worse).is_empty());
    }

    #[test]
    fn rule_problems_are_reported() {
        let rule = CompositionRule::Balance {
            name: None,
            left: vec![Families],
            relation: Relation::Equal,
            right: vec![Families],
            count: SeatCount::Seats,
        };
        assert_eq!(rule.problems().len(), 1);
        let rule = CompositionRule::MajorityOf {
            name: None,
            constituency: Students,
            of: vec![Teachers],
            count: SeatCount::Seats,
        };
        assert_eq!(rule.problems()[0].0, "of");
    }

    #[test]
    fn rules_serialize_with_a_type_tag() {
        let json = serde_json::to_value(parity()).unwrap();
        assert_eq!(json["type"], "balance");
        assert_eq!(json["relation"], "at_least");
        let back: CompositionRule = serde_json::from_value(json).unwrap();
        assert_eq!(back, parity());
        let unknown = serde_json::json!({"type": "at_least", "constituency": "students", "min": 1, "bogus": 1});
        assert!(serde_json::from_value::<CompositionRule>(unknown).is_err());
    }
}
