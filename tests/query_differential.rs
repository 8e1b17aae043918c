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

/// A long sharing chain and a deep nesting of groups, with random grants,
/// bans (on chain members and on groups), leaves and cross edges: the cases
/// where the old depth limit cut paths and where a ban on a group must reach
/// members several levels down.
#[derive(Debug, Clone)]
enum Deep {
    Grant {
        at: usize,
        rights: u8,
        eff: i64,
    },
    Ban {
        at: usize,
        r: usize,
        rights: Option<u8>,
        eff: i64,
    },
    Leave {
        at: usize,
        eff: i64,
    },
    Cross {
        from: usize,
        to: usize,
        rights: u8,
        eff: i64,
    },
    Enter {
        user: usize,
        group: usize,
        eff: i64,
    },
}

const DEEP: usize = 12;

/// Chain member `i` (`0..DEEP`) and group `i` (`DEEP..2*DEEP`).
fn deep_subject(i: usize) -> String {
    if i < DEEP {
        format!("user:c{i}")
    } else {
        format!("group:n{}", i - DEEP)
    }
}

fn deep_op() -> impl Strategy<Value = Deep> {
    let eff = -4i64..5;
    prop_oneof![
        3 => (0..2 * DEEP, 0u8..8, eff.clone()).prop_map(|(at, rights, eff)| Deep::Grant { at, rights, eff }),
        2 => (0..2 * DEEP, 0..3usize, prop::option::weighted(0.5, 0u8..8), eff.clone())
            .prop_map(|(at, r, rights, eff)| Deep::Ban { at, r, rights, eff }),
        1 => (DEEP..2 * DEEP - 1, eff.clone()).prop_map(|(at, eff)| Deep::Leave { at, eff }),
        2 => (0..DEEP, 0..DEEP, 0u8..8, eff.clone())
            .prop_map(|(from, to, rights, eff)| Deep::Cross { from, to, rights, eff }),
        2 => (0..DEEP, DEEP..2 * DEEP, eff).prop_map(|(user, group, eff)| Deep::Enter { user, group, eff }),
    ]
}

fn build_deep(ops: &[Deep]) -> Log {
    let mut log = Log::new();
    let mut now = 0;
    for i in 0..DEEP - 1 {
        let _ = log.try_push(
            t(0),
            share(
                &deep_subject(i),
                &deep_subject(i + 1),
                "r",
                "read,export",
                t(0),
                None,
            ),
        );
        let _ = log.try_push(
            t(0),
            join(&deep_subject(DEEP + i), &deep_subject(DEEP + i + 1), t(0)),
        );
    }
    log.commit();
    for op in ops {
        now += 1;
        let body = match op {
            Deep::Grant { at, rights, eff } => grant(
                &deep_subject(*at),
                "r",
                &rights_list(*rights),
                t(now + eff),
                None,
            ),
            Deep::Ban { at, r, rights, eff } => {
                let l = rights.map(rights_list);
                ban(
                    &deep_subject(*at),
                    ["r", "r/a", "q"][*r],
                    l.as_deref(),
                    t(now + eff),
                )
            }
            Deep::Leave { at, eff } => {
                leave(&deep_subject(*at), &deep_subject(at + 1), t(now + eff))
            }
            Deep::Cross {
                from,
                to,
                rights,
                eff,
            } => share(
                &deep_subject(*from),
                &deep_subject(*to),
                "r",
                &rights_list(*rights),
                t(now + eff),
                None,
            ),
            Deep::Enter { user, group, eff } => {
                join(&deep_subject(*user), &deep_subject(*group), t(now + eff))
            }
        };
        let _ = log.try_push(t(now), body);
    }
    log.commit();
    log
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 4 + 1, ..ProptestConfig::default() })]

    #[test]
    fn deep_chains_and_nested_bans_answer_as_the_naive_replay(
        ops in prop::collection::vec(deep_op(), 1..24),
        at in -2i64..30,
    ) {
        let log = build_deep(&ops);
        let (at, known) = (t(at), t(40));
        for i in 0..2 * DEEP {
            let subject = deep_subject(i);
            for resource in ["r", "r/a"] {
                log.check(&subject, resource, "read", at, known);
                log.exposure(&subject, resource, at, known);
            }
        }
        log.who_can("r/a", "read", at, known);
        log.who_can("r", "export", at, known);
    }
}
