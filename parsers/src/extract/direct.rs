//! A backtracking-free matcher for the regexes whose shape makes every choice decidable on the next
//! byte (or moot): literals, byte classes, greedy runs, greedy optional groups, alternations with
//! disjoint first bytes, and `(?:.*?rest)?` tails. Built from the regex without Unicode, so it serves
//! ASCII lines only (where that regex and the Unicode one match alike). A regex of any other shape (look-
//! around, ...) gets no direct matcher and runs in `regex_automata`.
//!
//! Equivalence with leftmost-first backtracking, by construction: a greedy run takes all it can when
//! what follows cannot start with a byte of the run or can match empty (then the longest run always
//! succeeds and is preferred); an optional group is taken when it matches, under the same condition on
//! what follows; alternatives start with distinct bytes; a lazy `.*?` is only allowed where what follows
//! the enclosing sequence can match empty, so the shortest skip after which the rest matches wins.

use regex_automata::util::primitives::NonMaxUsize;
use regex_syntax::hir::{Class, Hir, HirKind};

/// A set of bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Set([u64; 4]);

impl Set {
    const EMPTY: Set = Set([0; 4]);
    const ALL: Set = Set([u64::MAX; 4]);

    fn byte(b: u8) -> Set {
        let mut s = Set::EMPTY;
        s.0[(b >> 6) as usize] |= 1 << (b & 63);
        s
    }

    fn has(&self, b: u8) -> bool {
        self.0[(b >> 6) as usize] & (1 << (b & 63)) != 0
    }

    fn or(self, o: Set) -> Set {
        Set([self.0[0] | o.0[0], self.0[1] | o.0[1], self.0[2] | o.0[2], self.0[3] | o.0[3]])
    }

    fn disjoint(self, o: Set) -> bool {
        (0..4).all(|i| self.0[i] & o.0[i] == 0)
    }
}

enum Node {
    Lit(Box<[u8]>),
    /// A greedy run of `min..=max` bytes of the set.
    Run {
        set: Set,
        min: u32,
        max: u32,
    },
    /// A greedy `?` group.
    Opt(Vec<Node>),
    /// Alternatives, their first bytes disjoint.
    Alt(Vec<Vec<Node>>),
    Cap(usize, Vec<Node>),
    /// A lazy run of the set, then the rest of its sequence: the shortest run after which the rest matches.
    Lazy {
        set: Set,
        rest: Vec<Node>,
    },
}

/// What can follow a point in the regex: the bytes it can start with, and whether it can match empty.
#[derive(Clone, Copy)]
struct Follow {
    first: Set,
    nullable: bool,
}

impl Follow {
    const END: Follow = Follow { first: Set::EMPTY, nullable: true };

    /// `a` then `b`.
    fn then(a: Follow, b: Follow) -> Follow {
        if a.nullable {
            Follow { first: a.first.or(b.first), nullable: b.nullable }
        } else {
            a
        }
    }

    /// Whether a choice whose taken branch starts with `first` is decided against this follow.
    fn decides(&self, first: Set) -> bool {
        self.nullable || self.first.disjoint(first)
    }
}

/// A compiled direct matcher.
pub(super) struct Direct {
    seq: Vec<Node>,
}

/// The sequence of a node (flattening concatenations).
fn items(h: &Hir) -> Vec<&Hir> {
    match h.kind() {
        HirKind::Concat(parts) => parts.iter().flat_map(items).collect(),
        HirKind::Empty => Vec::new(),
        _ => vec![h],
    }
}

fn class_set(h: &Hir) -> Option<Set> {
    match h.kind() {
        HirKind::Class(Class::Bytes(c)) => {
            let mut s = Set::EMPTY;
            for r in c.iter() {
                for b in r.start()..=r.end() {
                    s = s.or(Set::byte(b));
                }
            }
            Some(s)
        }
        HirKind::Literal(l) if l.0.len() == 1 => Some(Set::byte(l.0[0])),
        _ => None,
    }
}

/// What a sequence of Hir items can start with and whether it can match empty (conservative).
fn follow_of(hs: &[&Hir]) -> Option<Follow> {
    let mut f = Follow::END;
    for h in hs.iter().rev() {
        f = Follow::then(follow_one(h)?, f);
    }
    Some(f)
}

fn follow_one(h: &Hir) -> Option<Follow> {
    Some(match h.kind() {
        HirKind::Empty => Follow::END,
        HirKind::Literal(l) => Follow { first: Set::byte(*l.0.first()?), nullable: false },
        HirKind::Class(_) => Follow { first: class_set(h)?, nullable: false },
        HirKind::Repetition(r) => {
            let sub = follow_one(&r.sub)?;
            Follow { first: sub.first, nullable: r.min == 0 || sub.nullable }
        }
        HirKind::Capture(c) => follow_one(&c.sub)?,
        HirKind::Concat(_) => follow_of(&items(h))?,
        HirKind::Alternation(alts) => {
            let mut f = Follow { first: Set::EMPTY, nullable: false };
            for a in alts {
                let g = follow_one(a)?;
                f = Follow { first: f.first.or(g.first), nullable: f.nullable || g.nullable };
            }
            f
        }
        HirKind::Look(_) => return None,
    })
}

/// Compiles `hs` followed by `after`; `None` when a choice in it is not decidable.
fn seq(hs: &[&Hir], after: Follow) -> Option<Vec<Node>> {
    let mut out = Vec::with_capacity(hs.len());
    for (i, h) in hs.iter().enumerate() {
        let rest = Follow::then(follow_of(&hs[i + 1..])?, after);
        match h.kind() {
            HirKind::Empty => {}
            HirKind::Literal(l) => out.push(Node::Lit(l.0.clone())),
            HirKind::Class(_) => out.push(Node::Run { set: class_set(h)?, min: 1, max: 1 }),
            HirKind::Capture(c) => {
                out.push(Node::Cap(c.index as usize, seq(&items(&c.sub), rest)?));
            }
            HirKind::Concat(_) => out.extend(seq(&items(h), rest)?),
            HirKind::Alternation(alts) => {
                let mut seen = Set::EMPTY;
                let mut nodes = Vec::new();
                for a in alts {
                    let f = follow_one(a)?;
                    if f.nullable || !seen.disjoint(f.first) {
                        return None;
                    }
                    seen = seen.or(f.first);
                    nodes.push(seq(&items(a), rest)?);
                }
                out.push(Node::Alt(nodes));
            }
            HirKind::Repetition(r) => {
                if let Some(set) = class_set(&r.sub) {
                    let max = r.max.unwrap_or(u32::MAX);
                    if r.greedy || r.min == max {
                        if r.min != max && !rest.decides(set) {
                            return None;
                        }
                        out.push(Node::Run { set, min: r.min, max });
                    } else if r.min == 0 && r.max.is_none() && after.nullable {
                        // `.*?` and the rest of this sequence: what follows the sequence can match empty.
                        out.push(Node::Lazy { set, rest: seq(&hs[i + 1..], Follow::END)? });
                        return Some(out);
                    } else {
                        return None;
                    }
                } else if r.greedy && r.min == 0 && r.max == Some(1) {
                    let f = follow_one(&r.sub)?;
                    if f.nullable || !rest.decides(f.first) {
                        return None;
                    }
                    out.push(Node::Opt(seq(&items(&r.sub), rest)?));
                } else {
                    return None;
                }
            }
            HirKind::Look(_) => return None,
        }
    }
    Some(out)
}

impl Direct {
    /// The direct matcher of `regex` (compiled without Unicode), if its shape allows one.
    pub(super) fn new(regex: &str) -> Option<Direct> {
        let hir = regex_syntax::ParserBuilder::new().unicode(false).utf8(false).build().parse(regex).ok()?;
        Some(Direct { seq: seq(&items(&hir), Follow::END)? })
    }

    /// The leftmost-first match of the regex starting exactly at `at`, its groups in `slots`.
    pub(super) fn match_at(&self, hay: &[u8], at: usize, slots: &mut [Option<NonMaxUsize>]) -> bool {
        slots.iter_mut().for_each(|s| *s = None);
        match run(&self.seq, hay, at, slots) {
            Some(end) => {
                slots[0] = NonMaxUsize::new(at);
                slots[1] = NonMaxUsize::new(end);
                true
            }
            None => false,
        }
    }
}

fn run(nodes: &[Node], hay: &[u8], mut pos: usize, slots: &mut [Option<NonMaxUsize>]) -> Option<usize> {
    for (i, n) in nodes.iter().enumerate() {
        pos = match n {
            Node::Lit(l) => {
                if hay.get(pos..pos + l.len())? != &l[..] {
                    return None;
                }
                pos + l.len()
            }
            Node::Run { set, min, max } => {
                let limit = hay.len().min(pos.saturating_add(*max as usize));
                let end = hay[pos..limit].iter().position(|&b| !set.has(b)).map_or(limit, |k| pos + k);
                if end - pos < *min as usize {
                    return None;
                }
                end
            }
            Node::Opt(inner) => attempt(inner, hay, pos, slots).unwrap_or(pos),
            Node::Alt(alts) => {
                // First bytes are disjoint: at most one alternative can match here.
                let mut found = None;
                for alt in alts {
                    if let Some(end) = attempt(alt, hay, pos, slots) {
                        found = Some(end);
                        break;
                    }
                }
                found?
            }
            Node::Cap(g, inner) => {
                let end = run(inner, hay, pos, slots)?;
                slots[2 * g] = NonMaxUsize::new(pos);
                slots[2 * g + 1] = NonMaxUsize::new(end);
                end
            }
            Node::Lazy { set, rest } => {
                debug_assert_eq!(i + 1, nodes.len());
                let mut at = pos;
                loop {
                    // Where the rest can start next: the next occurrence of its leading literal's first byte.
                    let next = match rest.first() {
                        Some(Node::Lit(l)) => at + memchr::memchr(l[0], &hay[at..])?,
                        _ => at,
                    };
                    if *set != Set::ALL && !hay[at..next].iter().all(|&b| set.has(b)) {
                        return None;
                    }
                    if let Some(end) = attempt(rest, hay, next, slots) {
                        return Some(end);
                    }
                    if next < hay.len() && set.has(hay[next]) {
                        at = next + 1;
                    } else {
                        return None;
                    }
                }
            }
        };
    }
    Some(pos)
}

/// `run`, leaving `slots` as they were when it fails.
fn attempt(nodes: &[Node], hay: &[u8], pos: usize, slots: &mut [Option<NonMaxUsize>]) -> Option<usize> {
    let mut saved = [None; super::matcher::MAX_SLOTS];
    saved[..slots.len()].copy_from_slice(slots);
    let end = run(nodes, hay, pos, slots);
    if end.is_none() {
        slots.copy_from_slice(&saved[..slots.len()]);
    }
    end
}
