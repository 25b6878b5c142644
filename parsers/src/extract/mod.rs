//! Extractors: the messages of the flow, by log kind, turned into typed events (`EventKind`) with the
//! identifiers they carry.
//!
//! One table of patterns (`PATTERNS`); each pattern names the log kinds it applies to, distinctive
//! literals and a regex. Per log kind the literals form one literal prefilter, and behind it:
//!
//! 1. One scan finds every literal of the kind in the line (lower-cased, with the packed SIMD searcher;
//!    Aho-Corasick for long lines): a line that matters to nobody costs that scan and no more. The scan
//!    also tells which patterns can match (their *needles* occur: `literals` unless `needles` says
//!    otherwise, see `Pattern`) and where each literal starts.
//! 2. Only the candidates' regexes run, in pattern order (one candidate is the usual case). A kind's
//!    `RegexSet` used to decide between several first: it held 7.7 MB of automata for the whole run and
//!    each pattern it reported was searched again anyway.
//! 3. A regex runs anchored at the first occurrence of the literal it begins with, when it begins with
//!    one (a later match falls back to a forward search): no scan back from the match end. On an ASCII
//!    line (nearly all) it runs as compiled without Unicode, a far smaller automaton and one-pass more
//!    often; where its shape allows, through a backtracking-free matcher (`direct`) instead.
//!
//! The events are exactly those of running a `RegexSet` of the kind and the capturing regex of every
//! pattern it reports (the tests hold both algorithms side by side).
//!
//! Identifiers are normalised for correlation: SMS GUIDs upper case with `GUID:`; Azure AD tenant,
//! device and user ids lower case; SIDs upper case; `Will expire at` times parsed as client local time.
//!
//! Message texts come from Microsoft's Entra ID workflow reference and troubleshooting articles (see
//! `docs/messages.md`, every text with its source). Texts marked UNCONFIRMED below were not found in any
//! source and are matched tolerantly.
//!
//! Files: `patterns` (the table and the helpers that turn groups into fields), `prefilter` (the literal
//! scan), `matcher` (each pattern compiled, and per log kind the set and the run of one pattern), `direct`
//! (the backtracking-free matcher), `tests`.
//!
//! `CertificateError.flag` values: the flag table `crate::certificates::CERTIFICATE_FLAGS`.

use regex::Regex;

use crate::entry::Entry;
use crate::events::EventKind;
use crate::kind::LogKind;
use crate::strings::Strings;

mod direct;
mod matcher;
mod patterns;
mod prefilter;
#[cfg(test)]
mod tests;

pub use patterns::client_guid;

use matcher::{Compiled, KindExtractor, Message};
use patterns::PATTERNS;
use prefilter::Hits;

/// Built once (compiles every regex), shared across threads.
pub struct Extractors {
    /// One per entry of `PATTERNS`.
    compiled: Vec<Compiled>,
    by_kind: Vec<KindExtractor>,
    /// An error code, looked for only in messages whose scan found `0x` (`prefilter::CODE`).
    generic_code: Regex,
}

/// Words that make an error-severity line without a code a failure line (`ErrorLogged`), found ASCII
/// case-insensitively by each client kind's literal scan (`prefilter::FAILURE`).
const FAILURE_WORD_LIST: [&str; 10] = [
    "fail",
    "error",
    "unable",
    "cannot",
    "can't",
    "could not",
    "couldn't",
    "denied",
    "exception",
    "timed out",
];

/// `FAILURE_WORD_LIST` as one regex: the model the tests hold the scan to.
#[cfg(test)]
const FAILURE_WORDS: &str =
    r"(?i)fail|error|unable|cannot|can't|could not|couldn't|denied|exception|timed out";

/// Whether a line with no specific event is a failure line of a flow log (`ErrorLogged`): an error-severity
/// line with a code (any flow log) or, in a client log, with a failure word; in ccmsetup.log also a warning
/// line with a code and `fail` (`Failed ... Error 0x..`: the install attempt's story; other client logs repeat
/// such warnings every few minutes on healthy clients, e.g. `RegTask: Failed to refresh site code`). Info
/// lines never.
fn failure_line(
    kind: LogKind,
    severity: crate::entry::Severity,
    has_code: bool,
    has_word: bool,
    msg: &str,
) -> bool {
    use crate::entry::Severity;
    match severity {
        Severity::Error => has_code || (has_word && client_kind(kind)),
        Severity::Warning => {
            kind == LogKind::Ccmsetup
                && has_code
                && msg.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"fail"))
        }
        Severity::Info => false,
    }
}

/// A client flow log (failure words count there).
fn client_kind(kind: LogKind) -> bool {
    kind != LogKind::Other && kind.role() == crate::kind::HostRole::Client
}

impl Default for Extractors {
    fn default() -> Self {
        Self::new()
    }
}

/// A message's literal scan and whether it may give an event (`Extractors::prefilter`), kept so that
/// `extract_prefiltered` need not scan the same text again.
#[derive(Clone, Copy)]
pub struct Prefiltered {
    /// Address and length of the text scanned.
    text: (usize, usize),
    hits: Hits,
    /// Whether any pattern of the entry's log kind may match its message (false: no event, skip it).
    pub may_match: bool,
}

impl Extractors {
    /// Every log kind's patterns, compiled (a prefilter per kind, the regexes and the direct matchers).
    pub fn new() -> Extractors {
        let compiled: Vec<Compiled> = PATTERNS.iter().map(Compiled::new).collect();
        let by_kind = LogKind::ALL
            .iter()
            .map(|&k| {
                let ids: Vec<usize> = (0..PATTERNS.len()).filter(|&i| PATTERNS[i].scope.has(k)).collect();
                // Flow logs: an error code counts (it starts with `0x`); client logs: failure words too.
                let mut extras: Vec<(&str, u8)> = Vec::new();
                if k != LogKind::Other {
                    extras.push(("0x", prefilter::CODE));
                }
                if client_kind(k) {
                    extras.extend(FAILURE_WORD_LIST.iter().map(|&w| (w, prefilter::FAILURE)));
                }
                KindExtractor::new(&ids, &compiled, &extras)
            })
            .collect();
        Extractors {
            compiled,
            by_kind,
            generic_code: Regex::new(r"(?i)\b0x(8[0-9a-f]{7}|c[0-9a-f]{7}|d[0-9a-f]{7})\b").expect("static"),
        }
    }

    /// Appends the events `entry` carries (usually none) for a file of `kind`.
    /// Whether a message of this log kind, as written in the file (`\r\n` or `~~` where the entry's
    /// message has `\n`, trailing blanks not trimmed), can give an event: one of the kind's literals
    /// opens the gate for a candidate pattern, or (flow logs) it holds an error code. When it does not,
    /// `extract` on its entry gives nothing, whatever the entry's severity: the literals and the code hold
    /// no line break, so they are found in the text as written exactly where they are in the message.
    /// `parse` reads every entry; `analyze` needs only these (`Records::keep_only`).
    pub fn may_match(&self, kind: LogKind, raw_message: &str) -> bool {
        self.prefilter(kind, raw_message).may_match
    }

    /// `may_match`, keeping the literal scan for `extract_prefiltered`.
    pub fn prefilter(&self, kind: LogKind, raw_message: &str) -> Prefiltered {
        let hits = self.by_kind[kind as usize].prefilter.scan(raw_message);
        // The code's regex runs only where the scan found `0x` (every code starts with it); a failure word
        // is a literal of the scan itself. Both extras are literals of flow kinds only.
        let may_match = hits.patterns_may_match()
            || (hits.flags & prefilter::CODE != 0 && self.generic_code.is_match(raw_message))
            || (hits.flags & prefilter::FAILURE != 0);
        Prefiltered { text: (raw_message.as_ptr() as usize, raw_message.len()), hits, may_match }
    }

    /// `extract`, reusing the literal scan of `pre` when the entry's message is the very text it
    /// scanned (a message with no line break to rewrite and nothing to trim: most of them), and taking the
    /// events' strings from `strings` when given (one copy of each identifier for a whole read).
    pub fn extract_prefiltered(
        &self,
        kind: LogKind,
        entry: &Entry<'_>,
        pre: Option<&Prefiltered>,
        strings: Option<&Strings>,
        out: &mut Vec<EventKind>,
    ) {
        let msg: &str = &entry.message;
        let same_text = |p: &&Prefiltered| p.text == (msg.as_ptr() as usize, msg.len());
        let hits = match pre.filter(same_text) {
            Some(p) => p.hits,
            None => self.by_kind[kind as usize].prefilter.scan(msg),
        };
        self.extract_with_hits(kind, entry, &hits, strings, out);
    }

    /// The events one entry of a log of `kind` gives, appended to `out` (none for most entries).
    pub fn extract(&self, kind: LogKind, entry: &Entry<'_>, out: &mut Vec<EventKind>) {
        self.extract_prefiltered(kind, entry, None, None, out);
    }

    fn extract_with_hits(
        &self,
        kind: LogKind,
        entry: &Entry<'_>,
        hits: &Hits,
        strings: Option<&Strings>,
        out: &mut Vec<EventKind>,
    ) {
        let k = &self.by_kind[kind as usize];
        let msg: &str = &entry.message;
        let before = out.len();
        let m = Message { text: msg, hits, strings };
        if hits.patterns_may_match() {
            // Each candidate in pattern order; one that does not match finds nothing (its search is the same
            // as a set's would be, and anchored where its leading literal is).
            let mut candidates = hits.candidates;
            while candidates != 0 {
                let i = candidates.trailing_zeros() as usize;
                candidates &= candidates - 1;
                k.run(&self.compiled, i, &m, out, before);
            }
        }
        // A failure line of a flow log with no specific event: keep it for rules, trace and the causes of
        // failures (`failure_line`).
        if out.len() == before && kind != LogKind::Other && entry.severity != crate::entry::Severity::Info {
            let code = (hits.flags & prefilter::CODE != 0).then(|| self.generic_code.find(msg)).flatten();
            let word = hits.flags & prefilter::FAILURE != 0;
            if failure_line(kind, entry.severity, code.is_some(), word, msg) {
                out.push(EventKind::ErrorLogged {
                    code: code.map(|m| m.as_str().to_ascii_lowercase().into()),
                });
            }
        }
    }
}
