//! The literal prefilter of a log kind: one scan of a line for every literal of the kind's patterns, which
//! opens the gate (a line with none costs that scan and no more), names the candidate patterns and records
//! where literals start (to anchor the regexes on).

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::patterns::Pattern;

/// A set of a log kind's patterns, by index (bit `i`: the kind's `i`-th pattern).
pub(super) type Mask = u64;

/// A set of a log kind's literals, by automaton id.
pub(super) type LitSet = u128;

/// How many literal hits of a line are remembered (to anchor a search); more fall back to a full search.
const MAX_HITS: usize = 8;

/// Lines up to this length are lower-cased into a stack buffer and scanned with the packed (SIMD)
/// searcher; longer ones (and kinds with too many literals for it) with the Aho-Corasick automaton.
pub(super) const PACKED_MAX_LEN: usize = 1024;

/// What one literal of a log kind's automaton stands for.
pub(super) struct Literal {
    /// One of the patterns' `literals` (or has one as a prefix): its presence opens the gate.
    gate: bool,
    /// The patterns it makes candidates (it, or a prefix of it, is one of their needles).
    candidates: Mask,
    /// Itself and the kind's literals that are prefixes of it (they occur where it occurs).
    covers: LitSet,
}

/// The literal hits of one line: gate, candidates and where literals start.
#[derive(Clone, Copy)]
pub(super) struct Hits {
    pub(super) gate: bool,
    pub(super) candidates: Mask,
    at: [(u32, u32); MAX_HITS],
    n: usize,
    overflow: bool,
}

impl Hits {
    fn add(&mut self, lits: &[Literal], id: usize, start: usize) {
        let l = &lits[id];
        self.gate |= l.gate;
        self.candidates |= l.candidates;
        if self.n < MAX_HITS {
            self.at[self.n] = (id as u32, start as u32);
            self.n += 1;
        } else {
            self.overflow = true;
        }
    }

    /// Where the first of `anchors` occurs (`Err` when not known: too many hits to remember).
    pub(super) fn first(&self, lits: &[Literal], anchors: LitSet) -> Result<Option<usize>, ()> {
        if self.overflow {
            return Err(());
        }
        Ok(self.at[..self.n]
            .iter()
            .filter(|(id, _)| lits[*id as usize].covers & anchors != 0)
            .map(|&(_, at)| at as usize)
            .min())
    }
}

/// The literal automaton of one log kind and what each literal stands for.
pub(super) struct Prefilter {
    /// Gate literals, needles and anchors of the kind's patterns, ASCII case-insensitive, every
    /// occurrence reported.
    literals: AhoCorasick,
    /// The same literals lower-cased, leftmost-longest, for lower-cased lines (`None`: too many).
    packed: Option<packed::Searcher>,
    pub(super) lits: Vec<Literal>,
}

impl Prefilter {
    /// The prefilter of a log kind's patterns (`pats`, each with the literals every match of it starts
    /// with, `leads`), and per pattern its anchors: the literal ids an anchored search may start at.
    pub(super) fn new(pats: &[&Pattern], leads: &[&[Vec<u8>]]) -> (Prefilter, Vec<LitSet>) {
        // Literals are matched ASCII case-insensitively: one id per literal up to case.
        let mut names: Vec<String> = Vec::new();
        let mut id = |lit: &str| -> usize {
            assert!(lit.is_ascii() && !lit.is_empty(), "literal {lit:?}");
            match names.iter().position(|n| n.eq_ignore_ascii_case(lit)) {
                Some(i) => i,
                None => {
                    names.push(lit.to_ascii_lowercase());
                    names.len() - 1
                }
            }
        };
        let mut gate: Vec<usize> = Vec::new();
        let mut needles: Vec<(usize, usize)> = Vec::new();
        let mut anchors: Vec<LitSet> = vec![0; pats.len()];
        for (i, p) in pats.iter().enumerate() {
            gate.extend(p.literals.iter().map(|l| id(l)));
            needles.extend(p.candidate_needles().iter().map(|l| (id(l), i)));
            for lead in leads[i] {
                let lead = std::str::from_utf8(lead).expect("regex literal");
                // A needle the leading literal starts with serves as well (every match starts where it
                // occurs) and keeps the literal count down.
                let needle = p.candidate_needles().iter().find(|n| {
                    lead.len() >= n.len() && lead.as_bytes()[..n.len()].eq_ignore_ascii_case(n.as_bytes())
                });
                anchors[i] |= 1 << id(needle.copied().unwrap_or(lead));
            }
        }
        assert!(names.len() <= LitSet::BITS as usize, "too many literals for one log kind");
        let mut lits: Vec<Literal> = names
            .iter()
            .map(|n| Literal {
                gate: false,
                candidates: 0,
                covers: names
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| n.starts_with(m.as_str()))
                    .fold(0, |s, (j, _)| s | 1 << j),
            })
            .collect();
        for l in lits.iter_mut() {
            for &g in &gate {
                l.gate |= l.covers & (1 << g) != 0;
            }
            for &(n, i) in &needles {
                if l.covers & (1 << n) != 0 {
                    l.candidates |= 1 << i;
                }
            }
        }
        let prefilter = Prefilter {
            literals: AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&names)
                .expect("static literals"),
            packed: packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostLongest)
                .builder()
                .extend(&names)
                .build(),
            lits,
        };
        (prefilter, anchors)
    }

    /// Every occurrence of the kind's literals in `msg`.
    pub(super) fn scan(&self, msg: &str) -> Hits {
        let mut hits = Hits { gate: false, candidates: 0, at: [(0, 0); MAX_HITS], n: 0, overflow: false };
        match &self.packed {
            Some(packed) if msg.len() <= PACKED_MAX_LEN => {
                let mut buf = [0u8; PACKED_MAX_LEN];
                let low = &mut buf[..msg.len()];
                low.copy_from_slice(msg.as_bytes());
                low.make_ascii_lowercase();
                // Leftmost-longest from every start: a literal that is a prefix of the one found at a
                // start is credited through `covers`; one starting inside it is found by the next search.
                let mut from = 0;
                while let Some(m) = packed.find_in(&*low, aho_corasick::Span::from(from..low.len())) {
                    let id = m.pattern().as_usize();
                    let covers = self.lits[id].covers;
                    hits.add(&self.lits, id, m.start());
                    if covers != 1 << id {
                        // Record the prefixes too, so that their own anchors see this occurrence.
                        for j in (0..self.lits.len()).filter(|&j| j != id && covers & (1 << j) != 0) {
                            hits.add(&self.lits, j, m.start());
                        }
                    }
                    from = m.start() + 1;
                }
            }
            _ => {
                for m in self.literals.find_overlapping_iter(msg) {
                    hits.add(&self.lits, m.pattern().as_usize(), m.start());
                }
            }
        }
        hits
    }
}
