//! Time: unix seconds, and their RFC 3339 form in JSON and mail.

/// Now, in unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A unix time as RFC 3339 UTC with seconds (`2026-11-24T06:00:00Z`).
pub(crate) fn rfc3339(t: i64) -> String {
    Rfc3339(t).to_string()
}

/// A unix time that displays (and serialises) as RFC 3339 UTC with seconds, written
/// straight into the output without an intermediate `String`: `sla --json` prints
/// one per open clock, 100,000 of them on a large store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rfc3339(pub i64);

impl Rfc3339 {
    /// The 20 ASCII bytes `YYYY-MM-DDTHH:MM:SSZ`, for four-digit years (RFC 3339 has
    /// no other form); `None` outside them.
    fn ascii(self) -> Option<[u8; 20]> {
        let (days, secs) = (self.0.div_euclid(86_400), self.0.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            return None;
        }
        let [y0, y1, y2, y3] = digits(y);
        let [m0, m1] = digits(m.into());
        let [d0, d1] = digits(d.into());
        let [h0, h1] = digits(secs / 3600);
        let [n0, n1] = digits(secs % 3600 / 60);
        let [s0, s1] = digits(secs % 60);
        Some([
            y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', n0, n1, b':', s0, s1,
            b'Z',
        ])
    }
}

impl std::fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ascii() {
            // ASCII digits and separators only.
            Some(b) => f.pad(std::str::from_utf8(&b).map_err(|_| std::fmt::Error)?),
            // Outside four-digit years: chrono's extended form (or the bare number
            // beyond chrono's range), as before.
            None => match chrono::DateTime::from_timestamp(self.0, 0) {
                Some(d) => f.pad(&d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                None => f.pad(&self.0.to_string()),
            },
        }
    }
}

impl serde::Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.ascii() {
            Some(b) => s.serialize_str(std::str::from_utf8(&b).map_err(serde::ser::Error::custom)?),
            None => s.collect_str(self),
        }
    }
}

/// The last `N` decimal digits of `v` (which is not negative), zero-padded.
fn digits<const N: usize>(mut v: i64) -> [u8; N] {
    let mut out = [b'0'; N];
    for c in out.iter_mut().rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono_form(t: i64) -> String {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| t.to_string())
    }

    #[test]
    fn rfc3339_matches_chrono_across_calendar_edges() {
        // Leap days, century rules (1900 no, 2000 yes, 2100 no), month ends, the epoch,
        // negative times, the four-digit limits and beyond them.
        let mut times = vec![
            0,
            -1,
            1,
            951_782_400,   // 2000-02-29
            4_107_542_400, // 2100-03-01
            -2_203_891_200,
            253_402_300_799, // 9999-12-31T23:59:59
            253_402_300_800, // 10000-01-01
            -62_167_219_200, // 0000-01-01
            -62_167_219_201, // year -1
            i64::MAX,
            i64::MIN,
        ];
        // Every day of 1899-2101 at a time of day that varies, and a stride through
        // the four-digit years.
        let mut t: i64 = -2_240_524_800; // 1899-01-01
        while t < 4_133_980_800 {
            times.push(t + (t.rem_euclid(86_399)));
            t += 86_400;
        }
        let mut t: i64 = -62_167_219_200;
        while t < 253_402_300_799 {
            times.push(t);
            t += 7_776_013; // ~90 days and 13 s
        }
        for t in times {
            assert_eq!(rfc3339(t), chrono_form(t), "unix time {t}");
        }
    }

    #[test]
    fn rfc3339_serialises_as_a_json_string() {
        let json = serde_json::to_string(&Rfc3339(1_795_500_000)).unwrap();
        assert_eq!(json, "\"2026-11-24T06:00:00Z\"");
        assert_eq!(format!("[{:<22}]", Rfc3339(0)), "[1970-01-01T00:00:00Z  ]");
    }
}
