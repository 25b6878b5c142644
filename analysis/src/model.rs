//! The analysis document of `../shared/spec/analysis-contract.md` (schema version 1): inputs,
//! devices with phases, findings and the timeline. Shared by every front end (JSON, text, ...).

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use cmtrace_parsers::{Evidence, LogKind, Severity};
use serde::{Serialize, Serializer};

pub const SCHEMA_VERSION: u32 = 1;

/// RFC 3339 UTC with milliseconds and a `Z` suffix, as the contract requires.
pub fn format_utc(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn ser_opt_utc<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_utc(t)),
        None => s.serialize_none(),
    }
}

/// One file read (or not).
#[derive(Debug, Clone, Serialize)]
pub struct Input {
    pub path: String,
    pub host: String,
    pub log_kind: LogKind,
    /// `cmtrace` | `sms` | `unknown`
    pub format: &'static str,
    /// `utf-8` | `utf-16le` | `utf-16be` | `windows-1252`
    pub encoding: &'static str,
    pub lines: u64,
    pub unparsed_lines: u64,
    pub error: Option<String>,
    /// Bytes read (not in the contract; added field).
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum PhaseId {
    #[serde(rename = "install.aad_info")]
    InstallAadInfo,
    #[serde(rename = "install.aad_token")]
    InstallAadToken,
    #[serde(rename = "install.ccm_token")]
    InstallCcmToken,
    #[serde(rename = "install.content")]
    InstallContent,
    #[serde(rename = "install.client")]
    InstallClient,
    #[serde(rename = "registration.request")]
    RegistrationRequest,
    #[serde(rename = "registration.aad_token")]
    RegistrationAadToken,
    #[serde(rename = "registration.mp")]
    RegistrationMp,
    #[serde(rename = "registration.confirmed")]
    RegistrationConfirmed,
    #[serde(rename = "registration.ccm_token")]
    RegistrationCcmToken,
    #[serde(rename = "renewal.ccm_token")]
    RenewalCcmToken,
}

impl PhaseId {
    pub const ALL: [PhaseId; 11] = [
        PhaseId::InstallAadInfo,
        PhaseId::InstallAadToken,
        PhaseId::InstallCcmToken,
        PhaseId::InstallContent,
        PhaseId::InstallClient,
        PhaseId::RegistrationRequest,
        PhaseId::RegistrationAadToken,
        PhaseId::RegistrationMp,
        PhaseId::RegistrationConfirmed,
        PhaseId::RegistrationCcmToken,
        PhaseId::RenewalCcmToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PhaseId::InstallAadInfo => "install.aad_info",
            PhaseId::InstallAadToken => "install.aad_token",
            PhaseId::InstallCcmToken => "install.ccm_token",
            PhaseId::InstallContent => "install.content",
            PhaseId::InstallClient => "install.client",
            PhaseId::RegistrationRequest => "registration.request",
            PhaseId::RegistrationAadToken => "registration.aad_token",
            PhaseId::RegistrationMp => "registration.mp",
            PhaseId::RegistrationConfirmed => "registration.confirmed",
            PhaseId::RegistrationCcmToken => "registration.ccm_token",
            PhaseId::RenewalCcmToken => "renewal.ccm_token",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    Ok,
    Failed,
    Missing,
    NotApplicable,
}

impl PhaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseStatus::Ok => "ok",
            PhaseStatus::Failed => "failed",
            PhaseStatus::Missing => "missing",
            PhaseStatus::NotApplicable => "not_applicable",
        }
    }
}

/// Evidence as the contract serialises it (`time` as RFC 3339 UTC millis).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceOut {
    pub path: Arc<str>,
    pub line: u32,
    pub host: Arc<str>,
    #[serde(serialize_with = "ser_opt_utc")]
    pub time: Option<DateTime<Utc>>,
    pub text: Arc<str>,
}

impl From<&Evidence> for EvidenceOut {
    fn from(e: &Evidence) -> Self {
        EvidenceOut {
            path: e.path.clone(),
            line: e.line,
            host: e.host.clone(),
            time: e.time,
            text: e.text.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub id: PhaseId,
    pub status: PhaseStatus,
    #[serde(serialize_with = "ser_opt_utc")]
    pub start: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_utc")]
    pub end: Option<DateTime<Utc>>,
    pub evidence: Vec<EvidenceOut>,
    /// Why the phase has this status when it is not `ok` (added field), e.g. which host's logs are missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Arc<str>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Device {
    pub key: String,
    pub client_ids: Vec<String>,
    pub aad_device_ids: Vec<String>,
    pub aad_tenant_ids: Vec<String>,
    pub aad_user_ids: Vec<String>,
    pub hosts: Vec<String>,
    pub phases: Vec<Phase>,
    /// On-premises SIDs seen for this device (added field).
    pub sids: Vec<String>,
    /// The hosts whose client logs are this device's (added field).
    pub client_hosts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub title: String,
    pub device: Option<String>,
    pub host: Option<String>,
    pub explanation: String,
    pub remediation: String,
    pub evidence: Vec<EvidenceOut>,
}

/// A timeline event as the contract serialises it.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEvent {
    #[serde(serialize_with = "ser_opt_utc")]
    pub time: Option<DateTime<Utc>>,
    pub host: Arc<str>,
    pub log_kind: LogKind,
    pub path: Arc<str>,
    pub line: u32,
    pub severity: Severity,
    pub event: &'static str,
    pub device: Option<Arc<str>>,
    pub text: Arc<str>,
    /// Clock-skew correction applied to this host's times, in milliseconds (added field; 0 when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub skew_correction_ms: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// The whole `analyze --format json` document.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub inputs: Vec<Input>,
    pub devices: Vec<Device>,
    pub findings: Vec<Finding>,
    pub timeline: Vec<TimelineEvent>,
}
