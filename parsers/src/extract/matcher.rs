//! The matchers: each pattern compiled once (`Compiled`: the ASCII and Unicode regexes, the literals a match
//! starts with, the direct matcher) and per log kind the prefilter and the run of one pattern
//! (`KindExtractor`).

use std::sync::OnceLock;

use regex_automata::{meta, Anchored, Input};

use super::direct;
use super::patterns::{Build, Captures, Pattern, PATTERNS};
use super::prefilter::{Hits, LitSet, Mask, Prefilter};
use crate::events::EventKind;
use crate::strings::Strings;

/// One message offered to a kind's patterns: its text, its literal scan, what the read leaves out.
#[derive(Clone, Copy)]
pub(super) struct Message<'m> {
    pub(super) text: &'m str,
    pub(super) hits: &'m Hits,
    pub(super) strings: Option<&'m Strings>,
}

/// The most capture slots of any pattern (two per group, group 0 included).
pub(super) const MAX_SLOTS: usize = 32;

/// The matchers of one pattern, compiled once and shared by every log kind the pattern applies to.
pub(super) struct Compiled {
    source: &'static str,
    /// The regex as written (Unicode), for non-ASCII lines: compiled the first time one needs it.
    regex: OnceLock<meta::Regex>,
    /// The same regex compiled without Unicode, for ASCII lines (where both match alike): a far smaller
    /// automaton, and one-pass where `\s*\S*` and the like are (their UTF-8 forms share lead bytes).
    ascii: meta::Regex,
    /// The literals one of which every match starts with (`leading_literals`), when all are long
    /// enough to anchor a search on.
    pub(super) leads: Vec<Vec<u8>>,
    /// A backtracking-free matcher of the ASCII regex, anchored, where its shape allows (`direct`);
    /// only for anchored patterns.
    direct: Option<direct::Direct>,
    slot_len: usize,
    build: Build,
}

impl Compiled {
    pub(super) fn new(p: &Pattern) -> Compiled {
        let ascii = meta::Builder::new()
            .syntax(regex_automata::util::syntax::Config::new().unicode(false).utf8(false))
            .build(p.regex)
            .expect("static regex");
        let slot_len = ascii.group_info().slot_len();
        assert!(slot_len <= MAX_SLOTS, "too many groups: {}", p.regex);
        // (A leading literal this short would hit too often to help.)
        let mut leads = leading_literals(p.regex);
        if !leads.iter().all(|l| l.len() >= 3) {
            leads.clear();
        }
        let direct = if leads.is_empty() { None } else { direct::Direct::new(p.regex) };
        Compiled { source: p.regex, regex: OnceLock::new(), ascii, leads, direct, slot_len, build: p.build }
    }

    /// The Unicode regex (same groups as the ASCII one).
    fn unicode(&self) -> &meta::Regex {
        self.regex.get_or_init(|| {
            let regex = meta::Regex::new(self.source).expect("static regex");
            assert_eq!(regex.group_info().slot_len(), self.slot_len, "{}", self.source);
            regex
        })
    }
}

/// One pattern as a log kind uses it.
struct KindPattern {
    /// Index into `Extractors::compiled` (and `PATTERNS`).
    pattern: usize,
    /// The literals every match starts with, as this kind's literal ids, if known: the search then runs
    /// anchored where the first of them occurs instead of scanning the line forward and back.
    anchors: LitSet,
}

/// The compiled patterns of one log kind.
pub(super) struct KindExtractor {
    /// The literal scan of the kind's lines.
    pub(super) prefilter: Prefilter,
    pats: Vec<KindPattern>,
}

/// The literals one of which every match of `regex` starts with (case-sensitive), if any: a leading
/// literal, or a leading alternation of literals.
pub(super) fn leading_literals(regex: &str) -> Vec<Vec<u8>> {
    use regex_syntax::hir::{Hir, HirKind};
    fn of(h: &Hir) -> Option<Vec<Vec<u8>>> {
        match h.kind() {
            HirKind::Literal(l) => Some(vec![l.0.to_vec()]),
            HirKind::Alternation(alts) => alts
                .iter()
                .map(|a| match a.kind() {
                    HirKind::Literal(l) => Some(l.0.to_vec()),
                    _ => None,
                })
                .collect(),
            HirKind::Capture(c) => of(&c.sub),
            HirKind::Concat(parts) => of(parts.first()?),
            _ => None,
        }
    }
    regex_syntax::parse(regex).ok().as_ref().and_then(of).unwrap_or_default()
}

impl KindExtractor {
    /// `ids`: the indices in `PATTERNS` (and `compiled`) of the kind's patterns; `extras`: the literals its
    /// scan also looks for, with their flags (`prefilter::CODE`, `prefilter::FAILURE`).
    pub(super) fn new(ids: &[usize], compiled: &[Compiled], extras: &[(&str, u8)]) -> KindExtractor {
        assert!(ids.len() <= Mask::BITS as usize, "too many patterns for one log kind");
        let pats: Vec<&Pattern> = ids.iter().map(|&i| &PATTERNS[i]).collect();
        let leads: Vec<&[Vec<u8>]> = ids.iter().map(|&i| compiled[i].leads.as_slice()).collect();
        let (prefilter, anchors) = Prefilter::new(&pats, &leads, extras);
        let kind_pats =
            ids.iter().zip(anchors).map(|(&pattern, anchors)| KindPattern { pattern, anchors }).collect();
        KindExtractor { prefilter, pats: kind_pats }
    }

    /// Runs the kind's pattern `i` on `m` and appends its event (if new since `before`).
    pub(super) fn run(
        &self,
        compiled: &[Compiled],
        i: usize,
        m: &Message<'_>,
        out: &mut Vec<EventKind>,
        before: usize,
    ) {
        let Message { text: msg, hits, strings } = *m;
        let KindPattern { pattern, anchors } = self.pats[i];
        let p = &compiled[pattern];
        let ascii = msg.is_ascii();
        let regex = if ascii { &p.ascii } else { p.unicode() };
        let mut buf = [None; MAX_SLOTS];
        let slots = &mut buf[..p.slot_len];
        let found = match hits.first(&self.prefilter.lits, anchors) {
            // Every match starts at an occurrence of an anchor: the leftmost one is at the first
            // occurrence or, failing that, at a later one.
            Ok(Some(at)) if anchors != 0 => {
                let here = match &p.direct {
                    Some(d) if ascii => d.match_at(msg.as_bytes(), at, slots),
                    _ => regex
                        .search_slots(&Input::new(msg).range(at..).anchored(Anchored::Yes), slots)
                        .is_some(),
                };
                here || regex.search_slots(&Input::new(msg).range(at + 1..), slots).is_some()
            }
            Ok(None) if anchors != 0 => false,
            _ => regex.search_slots(&Input::new(msg), slots).is_some(),
        };
        if found {
            if let Some(ev) = (p.build)(&Captures { hay: msg, slots, strings }) {
                if !out[before..].contains(&ev) {
                    out.push(ev);
                }
            }
        }
    }
}
