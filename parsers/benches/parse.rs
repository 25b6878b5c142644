//! `cargo bench -p cmtrace-parsers`: record parsing throughput (MB/s) on generated CMTrace, server-format and
//! setup-log text, single-threaded and chunked across all cores.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;

use cmtrace_parsers::format::Records;
use cmtrace_parsers::scan::chunks;
use cmtrace_parsers::{LineFormat, Record};

fn cmtrace_text(n: usize) -> String {
    (0..n)
        .map(|i| {
            if i % 50 == 0 {
                format!("<![LOG[Received message '<SiteInfoReply SchemaVersion=\"1.00\">\r\n  <Site SiteCode=\"MEM\"/>\r\n</SiteInfoReply>' {i}]LOG]!><time=\"07:31:47.500+480\" date=\"06-24-2020\" component=\"ccmsetup\" context=\"\" type=\"1\" thread=\"3396\" file=\"ccmsetup.cpp:100\">\r\n")
            } else {
                format!("<![LOG[Sending remote sync message '{{BD03DEED-D09A-4E63-ADAD-{i:012}}}' to host 'CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500' endpoint 'MP_PolicyManager'.]LOG]!><time=\"07:31:47.{:03}+480\" date=\"06-24-2020\" component=\"CcmMessaging\" context=\"\" type=\"1\" thread=\"3396\" file=\"ccmmessaging.cpp:1234\">\r\n", i % 1000)
            }
        })
        .collect()
}

fn sms_text(n: usize) -> String {
    (0..n)
        .map(|i| format!("MessageID: 3087bd34-b82c-4950-b972-{i:012} RequestURI: https://MP.MYCORP.COM/CCM_STS EndpointName: CCM_STS ResponseHeader: HTTP/1.1 200 OK ~~ ResponseBodySize: 0 ElapsedTime: 2 ms  $$<SMS_CLOUD_PROXYCONNECTOR><06-24-2020 15:31:46.{:03}+00><thread=4992 (0x1380)>\r\n", i % 1000))
        .collect()
}

/// A site-role setup log: a byte order mark before every line, one message in ten on two lines.
fn setup_text(n: usize) -> String {
    (0..n)
        .map(|i| {
            let more = if i % 10 == 0 { "\r\nAccess is denied." } else { "" };
            format!("\u{FEFF}<Fri Dec  9 11:25:{:02} 2022> Registered DLL C:\\Program Files\\Microsoft Configuration Manager\\bin\\x64\\fspmsp.dll for SMSFSP {i}{more}\r\n", i % 60)
        })
        .collect()
}

/// Hostile layouts of the same CMTrace records, with no `\n` anywhere: records separated by CR only, or back
/// to back with no separator (line breaks inside messages are CR only). Record splitting must stay linear
/// in the text's size for these too.
fn hostile_cmtrace_text(n: usize, separator: &str) -> String {
    cmtrace_text(n).replace("\r\n<![LOG[", &format!("{separator}<![LOG[")).replace("\r\n", "\r")
}

fn count(text: &str, format: LineFormat) -> usize {
    Records::new(text, format, 1).filter(|r| matches!(r, Record::Entry(_))).count()
}

fn bench(c: &mut Criterion) {
    for (name, text, format) in [
        ("cmtrace", cmtrace_text(100_000), LineFormat::Cmtrace),
        ("sms", sms_text(100_000), LineFormat::Sms),
        ("setup", setup_text(100_000), LineFormat::Setup),
    ] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.sample_size(20);
        g.bench_function("records_1_thread", |b| b.iter(|| count(&text, format)));
        g.bench_function("records_chunked_parallel", |b| {
            b.iter(|| chunks(&text, format, 1 << 20).par_iter().map(|c| count(c.text, format)).sum::<usize>())
        });
        g.finish();
    }
    // Small enough (about 4 MB) for the quadratic splitting of old to finish in a criterion run.
    for (name, separator) in [("cmtrace_cr_only", "\r"), ("cmtrace_no_separator", "")] {
        let text = hostile_cmtrace_text(20_000, separator);
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.sample_size(10);
        g.bench_function("records_1_thread", |b| b.iter(|| count(&text, LineFormat::Cmtrace)));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
