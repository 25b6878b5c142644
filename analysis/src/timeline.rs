//! The contract's `Report` from an `Analysis`: devices (`model::Device`) and the timeline
//! (`model::TimelineEvent`, times after the applied clock correction).

use std::sync::Arc;

use chrono::DateTime;
use rayon::prelude::*;

use crate::engine::{Analysis, DeviceFacts};
use crate::model::{Device, Finding, Report, TimelineEvent, SCHEMA_VERSION};

impl Analysis {
    /// The contract's device objects, sorted by key.
    pub fn report_devices(&self) -> Vec<Device> {
        self.devices.iter().cloned().map(report_device).collect()
    }

    /// One timeline entry: the event at its corrected time, with the correction applied to its host.
    pub fn timeline_event(&self, i: usize) -> TimelineEvent {
        self.timeline_entry(i, self.device_key(i).map(Arc::from))
    }

    /// The timeline entry of event `i`, naming `device` (its device's key, shared or not).
    fn timeline_entry(&self, i: usize, device: Option<Arc<str>>) -> TimelineEvent {
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
            device,
            text: e.evidence.text.clone(),
            skew_correction_ms: if e.evidence.time.is_some() { correction } else { 0 },
        }
    }

    /// Every event in timeline order (built in parallel; the strings are shared with the events, not
    /// copied).
    pub fn timeline(&self) -> Vec<TimelineEvent> {
        // Every device key once, shared by the entries that name it.
        let keys: Vec<Arc<str>> = self.devices.iter().map(|d| Arc::from(d.key.as_str())).collect();
        (0..self.events.len())
            .into_par_iter()
            .map(|i| self.timeline_entry(i, self.event_device[i].map(|d| keys[d].clone())))
            .collect()
    }

    /// The report from parts computed beforehand (`rules::evaluate` and `timeline`, which may run at
    /// the same time), consuming the analysis: inputs and devices move. Callers that are about to
    /// exit may `std::mem::take` the events first and never free them.
    pub fn into_report_with(self, findings: Vec<Finding>, timeline: Vec<TimelineEvent>) -> Report {
        let devices: Vec<Device> = self.devices.into_par_iter().map(report_device).collect();
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

/// The contract's device object of a device (its identifiers, hosts and phases move).
fn report_device(d: DeviceFacts) -> Device {
    Device {
        key: d.key,
        client_ids: d.client_ids,
        aad_device_ids: d.aad_device_ids,
        aad_tenant_ids: d.aad_tenant_ids,
        aad_user_ids: d.aad_user_ids,
        hosts: d.hosts,
        phases: d.phases,
        sids: d.sids,
        client_hosts: d.client_hosts,
    }
}
