//! `cmtrace-rs trace ID`: every flow event on every host that carries an identifier (SMS GUID, Azure AD
//! device/user/tenant id, SID, message id, URL part), in UTC order. When the identifier names a device,
//! the events the engine attributed to that device are shown too, marked as such: "show me everything
//! about this device" is a support engineer's first question.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};

use cmtrace_analysis::{DeviceIx, EventIx};

use super::collect::{collect, ReadFor};
use super::style::Paint;
use super::{human_stdout, Failure, EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE};
use crate::cli::{SimpleFormat, TraceArgs};
use crate::render::trace::{write_json, write_text, Trace, TracedEvent};

pub fn run(args: &TraceArgs) -> Result<u8, Failure> {
    if args.id.trim().is_empty() {
        return Err("the identifier is empty".into());
    }
    let collected =
        collect(&args.input.paths_or_cwd(), &args.input.hosts, args.input.limits(), ReadFor::EveryId, |_| {});
    for (path, error) in &collected.problems {
        crate::say!("cmtrace-rs: {path}: {error}");
    }
    collected.check_host_overrides()?;
    if !collected.inputs.iter().any(|i| i.was_read()) {
        crate::say!("cmtrace-rs: no readable ConfigMgr log in the input");
        return Ok(EXIT_UNUSABLE);
    }
    let analysis = cmtrace_analysis::analyze(collected.inputs, collected.events);
    let direct: BTreeSet<EventIx> = analysis.events_for_id(&args.id).into_iter().collect();
    let device = analysis.find_device(&args.id).or_else(|| {
        // An id carried by events that all belong to one device names that device.
        let devs: BTreeSet<DeviceIx> = direct.iter().filter_map(|&i| analysis.event_device[i]).collect();
        (devs.len() == 1).then(|| *devs.iter().next().expect("one"))
    });
    let mut shown: BTreeSet<EventIx> = direct.clone();
    if let Some(d) = device {
        shown.extend(analysis.devices[d].events.iter().copied());
    }
    let trace = Trace {
        id: &args.id,
        device: device.map(|d| (analysis.devices[d].key.as_str(), analysis.devices[d].hosts())),
        events: shown
            .iter()
            .map(|&i| TracedEvent { event: analysis.timeline_event(i), carries_id: direct.contains(&i) })
            .collect(),
    };
    match args.format {
        SimpleFormat::Json => {
            // The exact text: JSON escapes every control character itself.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write_json(&trace, &mut out).and_then(|()| out.flush())
        }
        SimpleFormat::Text => {
            let paint = Paint { on: args.color.enabled(std::io::stdout().is_terminal()) };
            let mut out = human_stdout(paint.on);
            write_text(&trace, paint, &mut out).and_then(|()| out.flush())
        }
    }
    .map_err(Failure::Output)?;
    if shown.is_empty() {
        crate::say!("cmtrace-rs: no event carries '{}'", args.id);
        return Ok(EXIT_FINDINGS);
    }
    Ok(EXIT_OK)
}
