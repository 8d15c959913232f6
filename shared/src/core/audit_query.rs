//! Which audit log entries a `GET /api/logs` wants, and in which order: MonoCloud's
//! Lucene-style `filter` (the subset docs/audit-log.md lists) and `sort` (`field:1|-1`).

use std::cmp::Ordering;

use crate::core::audit::LogEntry;
use crate::core::order::Direction;

/// A field a filter term may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Id,
    Code,
    Category,
    Type,
    Name,
    ActorId,
    ActorType,
    TargetsId,
    TargetsType,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "id" => Field::Id,
            "code" => Field::Code,
            "category" => Field::Category,
            "type" => Field::Type,
            "name" => Field::Name,
            "actor.id" => Field::ActorId,
            "actor.type" => Field::ActorType,
            "targets.id" => Field::TargetsId,
            "targets.type" => Field::TargetsType,
            _ => return None,
        })
    }

    fn holds(self, e: &LogEntry, value: &str) -> bool {
        let is = |s: &str| s.eq_ignore_ascii_case(value);
        match self {
            Field::Id => is(&e.id),
            Field::Code => is(&e.code),
            Field::Category => is(&e.category),
            Field::Type => is(&e.kind),
            Field::Name => is(&e.name),
            Field::ActorId => e.actor.id.as_deref().is_some_and(is),
            Field::ActorType => is(&e.actor.kind),
            Field::TargetsId => e.targets.iter().any(|t| t.id.as_deref().is_some_and(is)),
            Field::TargetsType => e.targets.iter().any(|t| is(&t.kind)),
        }
    }
}

/// A parsed filter: every term must hold (terms joined by spaces or `AND`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogFilter {
    terms: Vec<(Field, String)>,
    /// `time_stamp:[from TO to]`, epoch seconds, inclusive; `*` leaves a side open.
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Most entries one `GET /api/logs` reads into memory: a parsed entry takes a few KB.
pub const MAX_LOG_ROWS: usize = 20_000;

/// Longest filter accepted.
pub const MAX_FILTER_LEN: usize = 1024;

impl LogFilter {
    /// Parses `field:value`, `field:"quoted value"` and `time_stamp:[a TO b]` terms; anything
    /// else is an error naming what was not understood.
    pub fn parse(raw: &str) -> Result<LogFilter, String> {
        if raw.len() > MAX_FILTER_LEN {
            return Err(format!("The filter must be at most {MAX_FILTER_LEN} characters."));
        }
        let mut filter = LogFilter::default();
        let mut rest = raw.trim();
        while !rest.is_empty() {
            let (term, after) = next_term(rest)?;
            rest = after.trim_start();
            if term.eq_ignore_ascii_case("AND") {
                continue;
            }
            if term == "OR" || term == "NOT" || term.starts_with('-') || term.starts_with('(') {
                return Err(format!("'{term}' is not supported: join terms with AND."));
            }
            filter.add(&term)?;
        }
        Ok(filter)
    }

    fn add(&mut self, term: &str) -> Result<(), String> {
        let (name, value) = term.split_once(':').ok_or_else(|| format!("'{term}' is not a field:value term."))?;
        if name == "time_stamp" {
            let range = value.strip_prefix('[').and_then(|v| v.strip_suffix(']'));
            let (from, to) = range
                .and_then(|r| r.split_once(" TO "))
                .ok_or_else(|| "time_stamp takes a range: time_stamp:[from TO to].".to_string())?;
            let bound = |b: &str| -> Result<Option<i64>, String> {
                match b.trim() {
                    "*" => Ok(None),
                    n => n.parse().map(Some).map_err(|_| format!("'{n}' is not an epoch time in seconds.")),
                }
            };
            (self.from, self.to) = (bound(from)?, bound(to)?);
            return Ok(());
        }
        let field = Field::parse(name).ok_or_else(|| format!("Unknown filter field '{name}'."))?;
        let value = value.trim_matches('"');
        if value.is_empty() {
            return Err(format!("'{term}' has no value."));
        }
        self.terms.push((field, value.to_string()));
        Ok(())
    }

    pub fn matches(&self, e: &LogEntry) -> bool {
        self.from.is_none_or(|f| e.time_stamp >= f)
            && self.to.is_none_or(|t| e.time_stamp <= t)
            && self.terms.iter().all(|(field, value)| field.holds(e, value))
    }

    /// The one user every match is about (`targets.id:<id>`), when the filter names one:
    /// then only that user's entries need reading.
    pub fn user(&self) -> Option<&str> {
        self.terms.iter().find(|(f, _)| *f == Field::TargetsId).map(|(_, v)| v.as_str())
    }
}

/// One term: up to the next space outside quotes and brackets.
fn next_term(s: &str) -> Result<(String, &str), String> {
    let (mut quoted, mut bracket) = (false, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => bracket = true,
            ']' if !quoted => bracket = false,
            c if c.is_whitespace() && !quoted && !bracket => return Ok((s[..i].to_string(), &s[i..])),
            _ => {}
        }
    }
    if quoted || bracket {
        return Err("The filter has an unclosed quote or bracket.".into());
    }
    Ok((s.to_string(), ""))
}

/// A field `sort` may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogSortKey {
    TimeStamp,
    Category,
    Code,
    Type,
    Name,
}

impl LogSortKey {
    pub fn parse(s: &str) -> Option<LogSortKey> {
        Some(match s {
            "time_stamp" => LogSortKey::TimeStamp,
            "category" => LogSortKey::Category,
            "code" => LogSortKey::Code,
            "type" => LogSortKey::Type,
            "name" => LogSortKey::Name,
            _ => return None,
        })
    }

    /// The order of two entries: by the key, then newest first, then by id (a total order).
    pub fn compare(self, (a, b): (&LogEntry, &LogEntry), direction: Direction) -> Ordering {
        let by_key = match self {
            LogSortKey::TimeStamp => a.time_stamp.cmp(&b.time_stamp),
            LogSortKey::Category => a.category.cmp(&b.category),
            LogSortKey::Code => a.code.cmp(&b.code),
            LogSortKey::Type => a.kind.cmp(&b.kind),
            LogSortKey::Name => a.name.cmp(&b.name),
        };
        let by_key = if direction == Direction::Descending { by_key.reverse() } else { by_key };
        by_key.then_with(|| b.time_stamp.cmp(&a.time_stamp)).then_with(|| a.id.cmp(&b.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terms_quotes_and_ranges() {
        let f = LogFilter::parse(r#"code:user_sign_in_failed AND targets.id:"u1" time_stamp:[10 TO *]"#).unwrap();
        assert_eq!(f.user(), Some("u1"));
        assert_eq!((f.from, f.to), (Some(10), None));
        assert_eq!(f.terms.len(), 2);
        assert!(LogFilter::parse("").unwrap().terms.is_empty());
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        for bad in ["nope:1", "code", "code:", "a:1 OR b:2", "time_stamp:5", "time_stamp:[x TO 1]", "code:\"open"] {
            assert!(LogFilter::parse(bad).is_err(), "{bad}");
        }
        assert!(LogFilter::parse(&"c".repeat(MAX_FILTER_LEN + 1)).is_err());
    }
}
