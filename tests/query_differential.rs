//! Differential test: on random logs, every indexed answer ([`Queries`]) equals
//! the naive replay's ([`Projection`]) at random valid and knowledge times.
//!
//! The logs mix grants (wildcard, partial, expiring), revokes (partial, on
//! ancestors), bans recorded after grants, back-dated and scheduled effective
//! times with frequent ties, nested groups with joins and leaves, shares and
//! unshares, and batches of several entries per commit. Names are chosen so
//! that prefixes collide (`agency:a` / `agency:a2`, `r` / `r2`).
//!
//! `PROPTEST_CASES` sets the number of logs (default 256).

use access_ledger::HistoryOf;
use proptest::prelude::*;

use crate::util::*;

const SUBJECTS: [&str; 7] = [
    "agency:a",
    "agency:a2",
    "agency:b",
    "user:c",
    "group:g",
    "group:g2",
    "group:h",
];
const GROUPS: [&str; 3] = ["group:g", "group:g2", "group:h"];
const RESOURCES: [&str; 6] = ["r", "r/a", "r/a/x", "r/b", "r2", "q"];
const RIGHTS: [&str; 3] = ["read", "export", "write"];

#[derive(Debug, Clone)]
enum Op {
    Grant {
        s: usize,
        r: usize,
        rights: u8,
        eff: i64,
        until: Option<i64>,
    },
    Revoke {
        s: usize,
        r: usize,
        rights: Option<u8>,
        eff: i64,
        permanent: bool,
    },
    Join {
        m: usize,
        g: usize,
        eff: i64,
    },
    Leave {
        m: usize,
        g: usize,
        eff: i64,
    },
    Share {
        from: usize,
        to: usize,
        r: usize,
        rights: u8,
        eff: i64,
        until: Option<i64>,
    },
    Unshare {
        from: usize,
        to: usize,
        r: usize,
        rights: Option<u8>,
        eff: i64,
    },
}

/// One entry to try: advance the recording clock, then maybe commit after it.
#[derive(Debug, Clone)]
struct Step {
    advance: i64,
    commit: bool,
    op: Op,
}

fn rights_list(mask: u8) -> String {
    if mask == 0 {
        return "*".into();
    }
    RIGHTS
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, r)| *r)
        .collect::<Vec<_>>()
        .join(",")
}

fn op() -> impl Strategy<Value = Op> {
    let eff = -8i64..9;
    let mask = 0u8..8;
    let opt_mask = prop::option::weighted(0.6, 0u8..8);
    prop_oneof![
        6 => (0..7usize, 0..6usize, mask.clone(), eff.clone(), prop::option::weighted(0.3, 1i64..12))
            .prop_map(|(s, r, rights, eff, until)| Op::Grant { s, r, rights, eff, until }),
        2 => (0..7usize, 0..6usize, opt_mask.clone(), eff.clone(), prop::bool::weighted(0.3))
            .prop_map(|(s, r, rights, eff, permanent)| Op::Revoke { s, r, rights, eff, permanent }),
        3 => (0..7usize, 0..3usize, eff.clone()).prop_map(|(m, g, eff)| Op::Join { m, g, eff }),
        1 => (0..7usize, 0..3usize, eff.clone()).prop_map(|(m, g, eff)| Op::Leave { m, g, eff }),
        3 => (0..7usize, 0..7usize, 0..6usize, mask, eff.clone(), prop::option::weighted(0.3, 1i64..12))
            .prop_map(|(from, to, r, rights, eff, until)| Op::Share { from, to, r, rights, eff, until }),
        1 => (0..7usize, 0..7usize, 0..6usize, opt_mask, eff)
            .prop_map(|(from, to, r, rights, eff)| Op::Unshare { from, to, r, rights, eff }),
    ]
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (0i64..3, prop::bool::weighted(0.3), op()).prop_map(|(advance, commit, op)| Step {
            advance,
            commit,
            op,
        }),
        1..64,
    )
}

fn body(op: &Op, now: i64) -> access_ledger::Event {
    let m = |x: Option<u8>| x.map(rights_list);
    match op {
        Op::Grant {
            s,
            r,
            rights,
            eff,
            until,
        } => grant(
            SUBJECTS[*s],
            RESOURCES[*r],
            &rights_list(*rights),
            t(now + eff),
            until.map(|u| t(now + eff + u)),
        ),
        Op::Revoke {
            s,
            r,
            rights,
            eff,
            permanent,
        } => {
            let l = m(*rights);
            if *permanent {
                ban(SUBJECTS[*s], RESOURCES[*r], l.as_deref(), t(now + eff))
            } else {
                revoke(SUBJECTS[*s], RESOURCES[*r], l.as_deref(), t(now + eff))
            }
        }
        Op::Join { m, g, eff } => join(SUBJECTS[*m], GROUPS[*g], t(now + eff)),
        Op::Leave { m, g, eff } => leave(SUBJECTS[*m], GROUPS[*g], t(now + eff)),
        Op::Share {
            from,
            to,
            r,
            rights,
            eff,
            until,
        } => share(
            SUBJECTS[*from],
            SUBJECTS[*to],
            RESOURCES[*r],
            &rights_list(*rights),
            t(now + eff),
            until.map(|u| t(now + eff + u)),
        ),
        Op::Unshare {
            from,
            to,
            r,
            rights,
            eff,
        } => {
            let l = m(*rights);
            unshare(
                SUBJECTS[*from],
                SUBJECTS[*to],
                RESOURCES[*r],
                l.as_deref(),
                t(now + eff),
            )
        }
    }
}

/// Builds the log, skipping the entries the chain rules refuse.
fn build(steps: &[Step]) -> (Log, i64) {
    let mut log = Log::new();
    let mut now = 0;
    for st in steps {
        now += st.advance;
        let _ = log.try_push(t(now), body(&st.op, now));
        if st.commit {
            log.commit();
        }
    }
    log.commit();
    (log, now)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn indexed_answers_equal_the_naive_replay(
        steps in steps(),
        times in prop::collection::vec((-12i64..60, -12i64..60), 3),
        window in (-12i64..60, 1i64..30, -12i64..60),
    ) {
        let (log, _now) = build(&steps);
        let report = log.ledger.check_indexes().unwrap();
        prop_assert!(report.is_consistent(), "{report:?}");
        for &(at, known) in &times {
            // Scale the random offsets so that both times land before, among and after the events.
            let (at, known) = (t(at / 2), t(known / 2));
            for subject in SUBJECTS {
                for resource in RESOURCES {
                    for rt in RIGHTS {
                        log.check(subject, resource, rt, at, known);
                    }
                    log.exposure(subject, resource, at, known);
                }
                log.what_can(subject, at, known);
                log.history(&HistoryOf::Subject(s(subject)), at, known);
            }
            for resource in RESOURCES {
                for rt in RIGHTS {
                    log.who_can(resource, rt, at, known);
                }
                log.history(&HistoryOf::Resource(r(resource)), at, known);
            }
        }
        let (from, len, known) = window;
        log.changes(t(from / 2), t(from / 2 + len), t(known / 2));
    }
}
