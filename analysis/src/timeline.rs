//! The contract's `Report` from an `Analysis`: devices (`model::Device`) and the timeline
//! (`model::TimelineEvent`, times after the applied clock correction).

use std::sync::Arc;

use chrono::DateTime;
use rayon::prelude::*;

use crate::engine::Analysis;
use crate::model::{Device, Finding, Report, TimelineEvent, SCHEMA_VERSION};

impl Analysis {
    /// The contract's device objects, sorted by key.
    pub fn report_devices(&self) -> Vec<Device> {
        self.devices
            .iter()
            .map(|d| Device {
                key: d.key.clone(),
                client_ids: d.client_ids.clone(),
                aad_device_ids: d.aad_device_ids.clone(),
                aad_tenant_ids: d.aad_tenant_ids.clone(),
                aad_user_ids: d.aad_user_ids.clone(),
                hosts: d.hosts.clone(),
                phases: d.phases.clone(),
                sids: d.sids.clone(),
                client_hosts: d.client_hosts.clone(),
            })
            .collect()
    }

    /// One timeline entry: the event at its corrected time, with the correction applied to its host.
    pub fn timeline_event(&self, i: usize) -> TimelineEvent {
        let mut e = self.timeline_event_keyed(i, &[]);
        e.device = self.device_key(i).map(Arc::from);
        e
    }

    /// Every device key, shared by the timeline entries that name it.
    fn device_keys(&self) -> Vec<Arc<str>> {
        self.devices.iter().map(|d| Arc::from(d.key.as_str())).collect()
    }

    fn timeline_event_keyed(&self, i: usize, keys: &[Arc<str>]) -> TimelineEvent {
        let e = &self.events[i];
        let correction = self.hosts[self.event_host[i]].skew_correction_ms;
        TimelineEvent {
            time: self.event_time_ms[i].and_then(DateTime::from_timestamp_millis),
            host: e.evidence.host.clone(),
            log_kind: e.log_kind,
            path: e.evidence.path.clone(),
            line: e.evidence.line,
            severity: e.severity,
            event: e.kind.name(),
            device: self.event_device[i].and_then(|d| keys.get(d).cloned()),
            text: e.evidence.text.clone(),
            skew_correction_ms: if e.evidence.time.is_some() { correction } else { 0 },
        }
    }

    /// Every event in timeline order (built in parallel; the strings are shared with the events, not
    /// copied).
    pub fn timeline(&self) -> Vec<TimelineEvent> {
        let keys = self.device_keys();
        (0..self.events.len()).into_par_iter().map(|i| self.timeline_event_keyed(i, &keys)).collect()
    }

    /// The report from parts computed beforehand (`rules::evaluate` and `timeline`, which may run at
    /// the same time), consuming the analysis: inputs and devices move. Callers that are about to
    /// exit may `std::mem::take` the events first and never free them.
    pub fn into_report_with(self, findings: Vec<Finding>, timeline: Vec<TimelineEvent>) -> Report {
        let devices: Vec<Device> = self
            .devices
            .into_par_iter()
            .map(|d| Device {
                key: d.key,
                client_ids: d.client_ids,
                aad_device_ids: d.aad_device_ids,
                aad_tenant_ids: d.aad_tenant_ids,
                aad_user_ids: d.aad_user_ids,
                hosts: d.hosts,
                phases: d.phases,
                sids: d.sids,
                client_hosts: d.client_hosts,
            })
            .collect();
        Report { schema_version: SCHEMA_VERSION, inputs: self.inputs, devices, findings, timeline }
    }

    /// Like `to_report`, consuming the analysis (devices move).
    pub fn into_report(self, findings: Vec<Finding>) -> Report {
        let timeline = self.timeline();
        self.into_report_with(findings, timeline)
    }

    /// The whole `analyze --format json` document with the rules' findings.
    pub fn to_report(&self, findings: Vec<Finding>) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            inputs: self.inputs.clone(),
            devices: self.report_devices(),
            findings,
            timeline: self.timeline(),
        }
    }
}
