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
            device: self.device_key(i).map(Arc::from),
            text: e.evidence.text.clone(),
            skew_correction_ms: if e.evidence.time.is_some() { correction } else { 0 },
        }
    }

    /// Every event in timeline order.
    pub fn timeline(&self) -> Vec<TimelineEvent> {
        (0..self.events.len()).map(|i| self.timeline_event(i)).collect()
    }

    /// Like `to_report`, consuming the analysis: devices and the events' texts move instead of being
    /// copied, and the timeline is converted in parallel.
    pub fn into_report(self, findings: Vec<Finding>) -> Report {
        let corrections: Vec<i64> = self.hosts.iter().map(|h| h.skew_correction_ms).collect();
        let keys: Vec<Arc<str>> = self.devices.iter().map(|d| Arc::from(d.key.as_str())).collect();
        let devices: Vec<Device> = self
            .devices
            .into_iter()
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
        let timeline = self
            .events
            .into_par_iter()
            .enumerate()
            .map(|(i, e)| {
                let correction = corrections[self.event_host[i]];
                TimelineEvent {
                    time: self.event_time_ms[i].and_then(DateTime::from_timestamp_millis),
                    skew_correction_ms: if e.evidence.time.is_some() { correction } else { 0 },
                    host: e.evidence.host,
                    log_kind: e.log_kind,
                    path: e.evidence.path,
                    line: e.evidence.line,
                    severity: e.severity,
                    event: e.kind.name(),
                    device: self.event_device[i].map(|d| keys[d].clone()),
                    text: e.evidence.text,
                }
            })
            .collect();
        Report { schema_version: SCHEMA_VERSION, inputs: self.inputs, devices, findings, timeline }
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
