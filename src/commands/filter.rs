//! `analyze`'s filters (`--device`, `--since`, `--until`, `--rule`): checked against what exists before
//! anything is shown, so that a typo stops the command (exit 2, with the valid values) instead of
//! turning CI green; applied to a report built on all the data, so that the filters choose what is shown
//! and never what is concluded (a device's status and the causes of a shown consequence stay in view).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDateTime, Utc};
use cmtrace_analysis::model::{Device, Filtered, Report};
use cmtrace_analysis::rules::RULES;

/// The filters of one `analyze` run, checked for form (times, rule ids) but not yet against the data.
#[derive(Debug, Default, Clone)]
pub struct Filters {
    pub device: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Rule ids as the catalog spells them.
    pub rules: Vec<&'static str>,
}

impl Filters {
    /// Reads the command line's filters: times must parse and be in order, rule ids must be in the
    /// catalog (any case). The error names the valid values.
    pub fn new(
        device: Option<&str>,
        since: Option<&str>,
        until: Option<&str>,
        rules: &[String],
    ) -> Result<Filters, String> {
        let since = since.map(parse_time).transpose()?;
        let until = until.map(parse_time).transpose()?;
        if let (Some(s), Some(u)) = (since, until) {
            if s > u {
                return Err(format!(
                    "--since {} is later than --until {}: no time is in that range",
                    cmtrace_analysis::model::format_utc(&s),
                    cmtrace_analysis::model::format_utc(&u)
                ));
            }
        }
        let mut ids = Vec::new();
        for r in rules {
            let wanted = r.trim();
            match RULES.iter().find(|rule| rule.id.eq_ignore_ascii_case(wanted)) {
                Some(rule) if !ids.contains(&rule.id) => ids.push(rule.id),
                Some(_) => {}
                None => {
                    let valid: Vec<&str> = RULES.iter().map(|r| r.id).collect();
                    return Err(format!(
                        "--rule '{r}' is not a rule id; the rules are: {} (see `cmtrace-rs rules`)",
                        valid.join(", ")
                    ));
                }
            }
        }
        let device = device.map(|d| d.trim().to_string());
        if device.as_deref() == Some("") {
            return Err("--device is empty".into());
        }
        Ok(Filters { device, since, until, rules: ids })
    }

    pub fn is_empty(&self) -> bool {
        self.device.is_none() && self.since.is_none() && self.until.is_none() && self.rules.is_empty()
    }

    /// The filters as given, for the report's header.
    pub fn describe(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(d) = &self.device {
            v.push(format!("--device {d}"));
        }
        if let Some(t) = &self.since {
            v.push(format!("--since {}", cmtrace_analysis::model::format_utc(t)));
        }
        if let Some(t) = &self.until {
            v.push(format!("--until {}", cmtrace_analysis::model::format_utc(t)));
        }
        for r in &self.rules {
            v.push(format!("--rule {r}"));
        }
        v
    }

    fn device_matches(&self, d: &Device) -> bool {
        let Some(query) = &self.device else { return true };
        let q = query.to_ascii_lowercase();
        let q = q.strip_prefix("guid:").unwrap_or(&q);
        let key = d.key.to_ascii_lowercase();
        key == q
            || key.strip_prefix("guid:") == Some(q)
            || d.client_ids().iter().any(|c| c.to_ascii_lowercase().strip_prefix("guid:").unwrap_or(c) == q)
            || d.aad_device_ids().iter().any(|c| c.eq_ignore_ascii_case(q))
            || d.hosts().iter().any(|h| h.eq_ignore_ascii_case(q))
    }

    fn in_range(&self, t: &Option<DateTime<Utc>>) -> bool {
        match t {
            Some(t) => self.since.is_none_or(|s| *t >= s) && self.until.is_none_or(|u| *t <= u),
            None => self.since.is_none() && self.until.is_none(),
        }
    }

    /// Narrows `report` to what the filters choose. Fails (the command exits 2) when `--device` names no
    /// device of the report. A finding shown keeps the findings it is a consequence of in view, even when
    /// the filters would leave them out; the report's `filtered` says what was left out and holds every
    /// device's status over all the data.
    pub fn apply(&self, report: &mut Report) -> Result<(), String> {
        if self.is_empty() {
            return Ok(());
        }
        // Every device's status over all the data, taken before anything is left out.
        let worst_by_device = report.worst_by_device().into_iter().map(|(k, s)| (k.to_string(), s)).collect();
        let mut filtered = Filtered { filters: self.describe(), worst_by_device, ..Filtered::default() };
        if self.device.is_some() {
            let before = report.devices.len();
            let keep: Vec<bool> = report.devices.iter().map(|d| self.device_matches(d)).collect();
            if !keep.contains(&true) {
                return Err(no_such_device(self.device.as_deref().unwrap_or_default(), &report.devices));
            }
            let mut it = keep.iter();
            report.devices.retain(|_| *it.next().unwrap_or(&false));
            filtered.devices_hidden = before - report.devices.len();
        }
        let keys: BTreeSet<&str> = report.devices.iter().map(|d| d.key.as_str()).collect();
        let device_ok = |k: Option<&str>| self.device.is_none() || k.is_some_and(|k| keys.contains(k));
        let shown: Vec<bool> = report
            .findings
            .iter()
            .map(|f| {
                device_ok(f.device.as_deref())
                    && (self.since.is_none() && self.until.is_none()
                        || f.evidence.iter().any(|e| self.in_range(&e.time)))
                    && (self.rules.is_empty() || self.rules.contains(&f.rule))
            })
            .collect();
        // A consequence shown keeps its causes (same device) in view.
        let mut keep = shown.clone();
        let index: HashMap<(&str, Option<&str>), Vec<usize>> =
            report.findings.iter().enumerate().fold(HashMap::new(), |mut m, (i, f)| {
                m.entry((f.rule, f.device.as_deref())).or_default().push(i);
                m
            });
        for (i, f) in report.findings.iter().enumerate() {
            if !shown[i] {
                continue;
            }
            for cause in &f.caused_by {
                for &j in index.get(&(*cause, f.device.as_deref())).into_iter().flatten() {
                    if !keep[j] {
                        keep[j] = true;
                        filtered.causes_kept += 1;
                    }
                }
            }
        }
        let mut it = keep.iter();
        report.findings.retain(|f| {
            let kept = *it.next().unwrap_or(&false);
            if !kept {
                filtered.findings_hidden[crate::render::severity_rank(f.severity) as usize] += 1;
            }
            kept
        });
        let before = report.timeline.len();
        report.timeline.retain(|e| device_ok(e.device) && self.in_range(&e.time));
        filtered.events_hidden = before - report.timeline.len();
        report.filtered = Some(filtered);
        Ok(())
    }
}

/// The error for a `--device` that names nothing, with the keys and hosts that exist.
fn no_such_device(query: &str, devices: &[Device]) -> String {
    const SHOWN: usize = 20;
    if devices.is_empty() {
        return format!("--device '{query}': no device was found in these logs");
    }
    let mut names: Vec<&str> = devices.iter().map(|d| d.key.as_str()).collect();
    names.sort_unstable();
    let more = names.len().saturating_sub(SHOWN);
    let mut list = names[..names.len().min(SHOWN)].join(", ");
    if more > 0 {
        list.push_str(&format!(", ... and {more} more"));
    }
    format!(
        "--device '{query}' matches no device (a device key, an SMS GUID, an Entra device id or a host \
         name); the devices are: {list}"
    )
}

/// RFC 3339 (any offset), or `YYYY-MM-DD HH:MM[:SS]` / `YYYY-MM-DDTHH:MM[:SS]` / `YYYY-MM-DD` taken as UTC.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(format!("'{s}' is not a time: use RFC 3339 (2020-06-24T15:31:46Z, or with an offset) or YYYY-MM-DD HH:MM:SS (UTC)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_any_case_and_typos_refused() {
        let f = Filters::new(None, None, None, &["ROOT-CA-UNTRUSTED".into(), "root-ca-untrusted".into()])
            .unwrap();
        assert_eq!(f.rules, vec!["root-ca-untrusted"]);
        let e = Filters::new(None, None, None, &["no-such-rule".into()]).unwrap_err();
        assert!(e.contains("no-such-rule") && e.contains("install-failed"), "{e}");
    }

    #[test]
    fn since_after_until_is_refused() {
        let e = Filters::new(None, Some("2020-06-25"), Some("2020-06-24"), &[]).unwrap_err();
        assert!(e.contains("later than"), "{e}");
        assert!(Filters::new(None, Some("2020-06-24"), Some("2020-06-24"), &[]).is_ok());
        assert!(Filters::new(None, Some("yesterday"), None, &[]).is_err());
    }
}
