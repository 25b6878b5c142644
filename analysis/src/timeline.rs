//! The contract's `Report` from an `Analysis`: devices (`model::Device`) and the timeline
//! (`model::Timeline` of `model::TimelineEvent`s, times after the applied clock correction).

use rayon::prelude::*;

use cmtrace_parsers::SharedStr;

use crate::facts::{Analysis, DeviceFacts};
use crate::index::{EventIx, HostIx};
use crate::model::{Device, Finding, Report, Timeline, TimelineEvent, SCHEMA_VERSION};

impl Analysis {
    /// One timeline entry: the event at its corrected time, with the correction applied to its host.
    pub fn timeline_event(&self, i: EventIx) -> TimelineEvent<'_> {
        TimelineEvent::of(&self.events[i], self.time_ms(i), self.device_key(i), self.skew_correction_ms(i))
    }

    /// The correction applied to event `i`'s time: its host's, or 0 when it has no time of its own.
    fn skew_correction_ms(&self, i: EventIx) -> i64 {
        corrected_host(&self.events[i], self.event_host[i]).map_or(0, |h| self.hosts[h].skew_correction_ms)
    }

    /// The timeline, taking the events (and their per-event times and devices) out of the analysis: the
    /// analysis is left without events.
    fn take_timeline(&mut self) -> Timeline {
        // Each event's correction is its host's (the hosts' corrections, then 0 for the untimed events):
        // the per-event hosts become the per-event positions where they are.
        let mut corrections: Vec<i64> = self.hosts.iter().map(|h| h.skew_correction_ms).collect();
        let untimed = corrections.len() as u32;
        corrections.push(0);
        let hosts: Vec<HostIx> = std::mem::take(&mut self.event_host).into();
        let mut correction_of: Vec<u32> = hosts.into_iter().map(|h| h.index() as u32).collect();
        let events = &self.events;
        correction_of.par_iter_mut().enumerate().for_each(|(i, c)| {
            *c = corrected_host(&events[EventIx::from(i)], HostIx::from(*c as usize))
                .map_or(untimed, |h| h.index() as u32);
        });
        let keys: Vec<SharedStr> = self.devices.iter().map(|d| d.key.clone()).collect();
        Timeline::new(
            std::mem::take(&mut self.events),
            std::mem::take(&mut self.event_device).into(),
            (correction_of, corrections),
            keys,
        )
    }

    /// The report with the rules' findings (`rules::evaluate`), consuming the analysis: inputs, devices
    /// and events move.
    pub fn into_report(mut self, findings: Vec<Finding>) -> Report {
        let timeline = self.take_timeline();
        // Sequential on purpose: `Vec::into_iter().map().collect()` reuses the devices' allocation for the
        // smaller `Device`s (in-place collection), where a parallel collect held both vectors at once.
        let devices: Vec<Device> = self.devices.into_iter().map(report_device).collect();
        Report {
            schema_version: SCHEMA_VERSION,
            inputs: self.inputs,
            devices,
            findings,
            timeline,
            filtered: None,
        }
    }

    /// The whole `analyze --format json` document with the rules' findings.
    pub fn to_report(&self, findings: Vec<Finding>) -> Report {
        self.clone().into_report(findings)
    }
}

/// The host whose clock correction applies to `event`, logged on `host`: none when the event has no time of its
/// own (it keeps the place of the line before it and is not corrected).
fn corrected_host(event: &cmtrace_parsers::Event, host: HostIx) -> Option<HostIx> {
    event.time().map(|_| host)
}

/// The contract's device object of a device (its identifiers, hosts and phases move).
fn report_device(d: DeviceFacts) -> Device {
    Device { key: d.key, ids: d.ids, path: d.path.path, phases: d.phases }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `into_report` turns the devices into `Device`s in their own allocation (in-place collection), which
    /// needs the same alignment and a `Device` no larger than a `DeviceFacts`.
    #[test]
    fn devices_become_report_devices_in_place() {
        assert_eq!(std::mem::align_of::<Device>(), std::mem::align_of::<DeviceFacts>());
        assert!(std::mem::size_of::<Device>() <= std::mem::size_of::<DeviceFacts>());
    }
}
