//! Values written in the config as strings: durations ("48h", "4bd"), sizes ("25MiB"),
//! one path or several.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer};

/// A span of time written as `"48h"`, `"7d"`, `"90s"`, `"1d12h"`, `"2w"`, or in
/// business days as `"4bd"` (Monday to Friday, UTC, no holidays: a deadline of N
/// business days lands at the arrival's time of day on the Nth weekday after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub i64, pub Option<u32>);

impl Duration {
    /// A plain span in seconds.
    pub const fn from_secs(s: i64) -> Duration {
        Duration(s, None)
    }

    /// Nominal length in seconds (business days count as 24 h each).
    pub fn secs(self) -> i64 {
        self.0
    }

    /// The deadline for something that started at `start` (unix seconds).
    pub fn after(self, start: i64) -> i64 {
        let Some(days) = self.1 else {
            return start + self.0;
        };
        use chrono::Datelike;
        let mut t = start;
        let mut left = days;
        while left > 0 {
            t += 86_400;
            let wd = chrono::DateTime::from_timestamp(t, 0)
                .map(|d| d.weekday().number_from_monday())
                .unwrap_or(1);
            if wd <= 5 {
                left -= 1;
            }
        }
        t
    }

    /// Parses a duration such as "48h", "7d", "1d12h", "30m", "90s", "2w".
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("empty duration".into());
        }
        if let Some(n) = t.strip_suffix("bd") {
            let n: u32 = n.trim().parse().map_err(|_| {
                format!("invalid duration {s:?}: business days are written like \"4bd\"")
            })?;
            // Deadlines are counted a weekday at a time: ten years is plenty, and a
            // larger count (fuzzing found "999999999bd") would take a minute to add up.
            if n > 2_600 {
                return Err(format!(
                    "invalid duration {s:?}: at most 2600 business days (ten years)"
                ));
            }
            return Ok(Duration(i64::from(n) * 86_400, Some(n)));
        }
        let mut total: i64 = 0;
        let mut num = String::new();
        let mut saw_unit = false;
        for c in t.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            if c.is_whitespace() {
                continue;
            }
            let mult = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                'w' => 7 * 86_400,
                _ => {
                    return Err(format!(
                        "invalid duration {s:?}: unknown unit {c:?} (use s, m, h, d or w, e.g. \"48h\" or \"7d\")"
                    ));
                }
            };
            let n: i64 = num.parse().map_err(|_| {
                format!("invalid duration {s:?}: a number must come before each unit, e.g. \"48h\"")
            })?;
            total = total
                .checked_add(n.checked_mul(mult).ok_or("duration too large")?)
                .ok_or("duration too large")?;
            num.clear();
            saw_unit = true;
        }
        if !num.is_empty() || !saw_unit {
            return Err(format!(
                "invalid duration {s:?}: missing unit (use s, m, h, d or w, e.g. \"48h\" or \"7d\")"
            ));
        }
        Ok(Duration(total, None))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(bd) = self.1 {
            return write!(f, "{bd}bd");
        }
        let s = self.0;
        if s != 0 && s % 86_400 == 0 {
            write!(f, "{}d", s / 86_400)
        } else if s != 0 && s % 3600 == 0 {
            write!(f, "{}h", s / 3600)
        } else if s != 0 && s % 60 == 0 {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Duration::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A size in bytes written as `"25MiB"`, `"64M"`, `"512k"` or a plain integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl Size {
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (n, unit) = t.split_at(split);
        let n: u64 = n
            .parse()
            .map_err(|_| format!("invalid size {s:?}: expected e.g. \"25MiB\""))?;
        let mult = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1024,
            "m" | "mb" | "mib" => 1024 * 1024,
            "g" | "gb" | "gib" => 1024 * 1024 * 1024,
            other => {
                return Err(format!(
                    "invalid size {s:?}: unknown unit {other:?} (use KiB, MiB or GiB)"
                ));
            }
        };
        n.checked_mul(mult)
            .map(Size)
            .ok_or_else(|| format!("size {s:?} too large"))
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(Size(n)),
            Raw::S(s) => Size::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

/// One or several paths.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(PathBuf),
    Many(Vec<PathBuf>),
}

impl OneOrMany {
    pub fn paths(&self) -> Vec<PathBuf> {
        match self {
            OneOrMany::One(p) => vec![p.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("48h").unwrap().secs(), 172_800);
        assert_eq!(Duration::parse("7d").unwrap().secs(), 604_800);
        assert_eq!(Duration::parse("1d12h").unwrap().secs(), 129_600);
        assert_eq!(Duration::parse("90s").unwrap().secs(), 90);
        assert_eq!(Duration::parse("2w").unwrap().secs(), 1_209_600);
        assert!(Duration::parse("48").unwrap_err().contains("missing unit"));
        assert!(Duration::parse("48x").unwrap_err().contains("unknown unit"));
        assert!(Duration::parse("h").is_err());
        assert!(Duration::parse("").is_err());
        assert_eq!(Duration::from_secs(172_800).to_string(), "2d");
        assert_eq!(Duration::from_secs(7200).to_string(), "2h");
        // Business days skip the weekend: Friday 2026-11-27 10:00 UTC + 1bd = Monday 10:00.
        let fri = 1_795_773_600;
        let bd = Duration::parse("1bd").unwrap();
        assert_eq!(bd.to_string(), "1bd");
        assert_eq!(bd.after(fri), fri + 3 * 86_400);
        assert_eq!(Duration::parse("4bd").unwrap().after(fri), fri + 6 * 86_400);
        assert!(Duration::parse("xbd").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(Size::parse("25MiB").unwrap().0, 25 * 1024 * 1024);
        assert_eq!(Size::parse("512k").unwrap().0, 512 * 1024);
        assert_eq!(Size::parse("100").unwrap().0, 100);
        assert!(Size::parse("5 parsecs").is_err());
    }
}
