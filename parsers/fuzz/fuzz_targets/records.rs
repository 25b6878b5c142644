//! Fuzz the decoder and both line parsers: any bytes, any format, whole or chunked, must never panic,
//! and chunked parsing must give the same records as parsing the whole text.
#![no_main]

use cmtrace_parsers::decode::decode;
use cmtrace_parsers::format::{sniff_format, Records};
use cmtrace_parsers::scan::chunks;
use cmtrace_parsers::{LineFormat, Record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (text, _) = decode(data);
    for format in [sniff_format(&text), LineFormat::Cmtrace, LineFormat::Sms, LineFormat::Unknown] {
        let whole: Vec<Record<'_>> = Records::new(&text, format, 1).collect();
        let pieced: Vec<Record<'_>> = chunks(&text, format, 64)
            .iter()
            .flat_map(|c| Records::new(c.text, format, c.first_line))
            .collect();
        assert_eq!(whole, pieced);
        for r in &whole {
            if let Record::Entry(e) = r {
                let _ = e.utc();
            }
        }
    }
});
