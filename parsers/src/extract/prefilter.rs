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

/// `Hits::flags`: the message holds one of the patterns' `literals` (the gate opens).
const GATE: u8 = 1;
/// `Hits::flags`: the message holds `0x` (it may hold an error code; the code's regex decides).
pub(super) const CODE: u8 = 2;
/// `Hits::flags`: the message holds a failure word (`super::FAILURE_WORD_LIST`).
pub(super) const FAILURE: u8 = 4;

/// What one literal of a log kind's automaton stands for.
pub(super) struct Literal {
    /// The patterns it makes candidates (it, or a prefix of it, is one of their needles).
    candidates: Mask,
    /// Itself and the kind's literals that are prefixes of it (they occur where it occurs).
    covers: LitSet,
    /// `GATE` when it is, or has as a prefix, one of the patterns' `literals`; `CODE` and `FAILURE` likewise
    /// for the extra literals of that meaning.
    flags: u8,
}

/// The literal hits of one line: gate and other flags, candidates and where literals start.
#[derive(Clone, Copy)]
pub(super) struct Hits {
    pub(super) candidates: Mask,
    /// `GATE`, `CODE` and `FAILURE` as the literals found say.
    pub(super) flags: u8,
    at: [(u32, u32); MAX_HITS],
    n: usize,
    overflow: bool,
}

impl Hits {
    /// Whether the gate is open and some pattern is a candidate: the kind's patterns are worth running.
    pub(super) fn patterns_may_match(&self) -> bool {
        self.flags & GATE != 0 && self.candidates != 0
    }

    fn add(&mut self, lits: &[Literal], id: usize, start: usize) {
        let l = &lits[id];
        self.candidates |= l.candidates;
        self.flags |= l.flags;
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

/// `bytes` ASCII-lower-cased into the start of `buf` (which must be at least as long), eight bytes at a time:
/// every message of a log is lower-cased before its scan, so this runs over all the text a read extracts
/// from. Neither zeroes `buf` first nor looks at bytes past `bytes.len()`.
fn lowercase_into<'b>(bytes: &[u8], buf: &'b mut [std::mem::MaybeUninit<u8>]) -> &'b mut [u8] {
    let out = &mut buf[..bytes.len()];
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in words.by_ref() {
        let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        // 0x20 added to each byte in 'A'..='Z' (and only those): a byte is in range when it is at least
        // 'A' (adding 0x3F carries into its top bit) and not past 'Z' (adding 0x25 does not), and is
        // ASCII itself (its own top bit clear). Per-byte sums stay below 0x100 with the top bits masked off.
        let low7 = w & 0x7F7F_7F7F_7F7F_7F7F;
        let ge_a = low7.wrapping_add(0x3F3F_3F3F_3F3F_3F3F);
        let gt_z = low7.wrapping_add(0x2525_2525_2525_2525);
        let upper = ge_a & !gt_z & !w & 0x8080_8080_8080_8080;
        let lowered = (w | (upper >> 2)).to_le_bytes();
        for (o, b) in out[at..at + 8].iter_mut().zip(lowered) {
            o.write(b);
        }
        at += 8;
    }
    for (o, &b) in out[at..].iter_mut().zip(words.remainder()) {
        o.write(b.to_ascii_lowercase());
    }
    // SAFETY: every byte of `out` was written above (the words, then the remainder), and `u8` has no
    // invalid values.
    unsafe { &mut *(out as *mut [std::mem::MaybeUninit<u8>] as *mut [u8]) }
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
    /// with, `leads`), and per pattern its anchors: the literal ids an anchored search may start at. `extras`
    /// are literals found for their flag alone (`CODE`, `FAILURE`), so that the one scan tells those too.
    pub(super) fn new(
        pats: &[&Pattern],
        leads: &[&[Vec<u8>]],
        extras: &[(&str, u8)],
    ) -> (Prefilter, Vec<LitSet>) {
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
        // Literals that set a flag where they (or a literal they start with) occur: the gate literals, then
        // the extras.
        let mut flagged: Vec<(usize, u8)> = Vec::new();
        let mut needles: Vec<(usize, usize)> = Vec::new();
        let mut anchors: Vec<LitSet> = vec![0; pats.len()];
        for (i, p) in pats.iter().enumerate() {
            flagged.extend(p.literals.iter().map(|l| (id(l), GATE)));
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
        flagged.extend(extras.iter().map(|&(lit, flag)| (id(lit), flag)));
        assert!(names.len() <= LitSet::BITS as usize, "too many literals for one log kind");
        let mut lits: Vec<Literal> = names
            .iter()
            .map(|n| Literal {
                candidates: 0,
                covers: names
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| n.starts_with(m.as_str()))
                    .fold(0, |s, (j, _)| s | 1 << j),
                flags: 0,
            })
            .collect();
        for l in lits.iter_mut() {
            for &(f, flag) in &flagged {
                if l.covers & (1 << f) != 0 {
                    l.flags |= flag;
                }
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
        let mut hits = Hits { candidates: 0, flags: 0, at: [(0, 0); MAX_HITS], n: 0, overflow: false };
        match &self.packed {
            Some(packed) if msg.len() <= PACKED_MAX_LEN => {
                let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); PACKED_MAX_LEN];
                let low = lowercase_into(msg.as_bytes(), &mut buf);
                // Leftmost-longest from every start: a literal that is a prefix of the one found at a
                // start is credited through `covers`; one starting inside it is found by the next search.
                let mut from = 0;
                while let Some(m) = packed.find_in(&*low, aho_corasick::Span::from(from..low.len())) {
                    let id = m.pattern().as_usize();
                    hits.add(&self.lits, id, m.start());
                    // Record the prefixes too, so that their own anchors see this occurrence (the set bits
                    // of `covers` other than the literal itself, in increasing id order).
                    let mut prefixes = self.lits[id].covers & !(1 << id);
                    while prefixes != 0 {
                        hits.add(&self.lits, prefixes.trailing_zeros() as usize, m.start());
                        prefixes &= prefixes - 1;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time lower-casing agrees with `to_ascii_lowercase` on every byte value, at every
    /// position of a word and in the remainder, and leaves non-ASCII bytes (UTF-8 sequences) alone.
    #[test]
    fn lowercasing_by_words_agrees_with_the_standard_library() {
        let all: Vec<u8> = (0..=255u8).collect();
        for shift in 0..8 {
            let bytes: Vec<u8> = all.iter().cycle().skip(shift).take(256 + shift).copied().collect();
            let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); PACKED_MAX_LEN];
            let low = lowercase_into(&bytes, &mut buf);
            assert_eq!(low, bytes.to_ascii_lowercase().as_slice(), "shift {shift}");
        }
        let text = "Ünïcödé GUID:C66EE0FD-08E7 AADSTS50126 @[\\]^_`{|}~ AZaz";
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); PACKED_MAX_LEN];
        assert_eq!(lowercase_into(text.as_bytes(), &mut buf), text.to_ascii_lowercase().as_bytes());
        assert!(lowercase_into(b"", &mut buf).is_empty());
    }
}
