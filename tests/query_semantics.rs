//! One test per rule of docs/SEMANTICS.md, on small hand-made logs, and the
//! worked examples of the Chicago story. Every query runs on both evaluators
//! (the naive replay and the indexes) and must agree before it is checked.
//!
//! Times are hours after 2019-07-01T00:00:00Z (`t(h)`) unless a test says otherwise.

use access_ledger::{
    HistoryOf, PathKind, Projection, QueryError, RightSet, Route, Timestamp, Zone,
};

use crate::util::*;

const NOW: Timestamp = Timestamp::MAX;

fn group(g: &str) -> Option<Route> {
    Some(Route::Group(s(g)))
}

#[test]
fn rule_2_a_grant_covers_its_resource_and_descendants_only() {
    let mut log = Log::new();
    let g = log.push(t(0), grant("agency:a", "r", "read", t(0), None));
    let d = log.check("agency:a", "r/x/y", "read", t(1), NOW);
    assert!(d.allowed);
    assert_eq!((d.route, d.because), (Some(Route::Direct), vec![g]));
    // Prefixes of names are not ancestors: r2 is not under r, agency:a2 is not agency:a.
    assert!(!log.check("agency:a", "r2", "read", t(1), NOW).allowed);
    assert!(!log.check("agency:a2", "r", "read", t(1), NOW).allowed);
    assert!(!log.check("agency:a", "r", "export", t(1), NOW).allowed);
    assert_eq!(
        log.check("agency:a", "r2", "read", t(1), NOW).because,
        Vec::<u64>::new()
    );
}

#[test]
fn rule_2_a_revoke_on_an_ancestor_covers_a_grant_on_a_descendant() {
    let mut log = Log::new();
    log.push(t(0), grant("agency:a", "r/x", "read", t(0), None));
    let v = log.push(t(1), revoke("agency:a", "r", None, t(1)));
    assert!(log.check("agency:a", "r/x", "read", t(0), NOW).allowed);
    let d = log.check("agency:a", "r/x", "read", t(2), NOW);
    assert!(!d.allowed);
    assert_eq!((d.because, d.banned_by), (vec![v], None));
}

#[test]
fn rule_4_a_partial_revoke_leaves_the_other_rights() {
    let mut log = Log::new();
    let g = log.push(t(0), grant("agency:a", "r", "read,export", t(0), None));
    let v = log.push(t(1), revoke("agency:a", "r", Some("read"), t(1)));
    assert_eq!(
        log.check("agency:a", "r", "read", t(2), NOW).because,
        vec![v]
    );
    assert!(!log.check("agency:a", "r", "read", t(2), NOW).allowed);
    let d = log.check("agency:a", "r", "export", t(2), NOW);
    assert!(d.allowed);
    assert_eq!(d.because, vec![g]);
}

#[test]
fn rule_4_a_later_grant_restores_access_after_a_revoke() {
    let mut log = Log::new();
    log.push(t(0), grant("agency:a", "r", "read", t(0), None));
    let v = log.push(t(1), revoke("agency:a", "r", None, t(1)));
    let g2 = log.push(t(2), grant("agency:a", "r", "read", t(2), None));
    assert_eq!(
        log.check("agency:a", "r", "read", t(1), NOW).because,
        vec![v]
    );
    let d = log.check("agency:a", "r", "read", t(3), NOW);
    assert!(d.allowed);
    assert_eq!(d.because, vec![g2]);
}

#[test]
fn rule_1_events_are_ordered_by_effective_time_then_seq() {
    // Same effective time: the later seq wins.
    let mut log = Log::new();
    log.push(t(0), grant("agency:a", "r", "read", t(5), None));
    let v = log.push(t(0), revoke("agency:a", "r", None, t(5)));
    assert!(!log.check("agency:a", "r", "read", t(5), NOW).allowed);
    assert_eq!(
        log.check("agency:a", "r", "read", t(5), NOW).because,
        vec![v]
    );

    let mut log = Log::new();
    log.push(t(0), revoke("agency:a", "r", None, t(5)));
    let g = log.push(t(0), grant("agency:a", "r", "read", t(5), None));
    assert_eq!(
        log.check("agency:a", "r", "read", t(5), NOW).because,
        vec![g]
    );

    // A revoke recorded later but back-dated before the grant is ordered before it.
    let mut log = Log::new();
    let g = log.push(t(0), grant("agency:a", "r", "read", t(5), None));
    log.push(t(6), revoke("agency:a", "r", None, t(4)));
    let d = log.check("agency:a", "r", "read", t(6), NOW);
    assert!(d.allowed);
    assert_eq!(d.because, vec![g]);
}

#[test]
fn rule_3_until_is_exclusive() {
    let mut log = Log::new();
    log.push(t(0), grant("agency:a", "r", "read", t(0), Some(t(5))));
    assert!(log.check("agency:a", "r", "read", t(4), NOW).allowed);
    let d = log.check("agency:a", "r", "read", t(5), NOW);
    assert!(!d.allowed);
    assert!(d.because.is_empty(), "an expired grant is not a revoke");
}

#[test]
fn rule_1_a_scheduled_grant_counts_from_its_effective_time() {
    let mut log = Log::new();
    log.push(t(0), grant("agency:a", "r", "read", t(10), None));
    assert!(!log.check("agency:a", "r", "read", t(9), NOW).allowed);
    assert!(log.check("agency:a", "r", "read", t(10), NOW).allowed);
}

#[test]
fn rule_1_known_at_hides_entries_recorded_later() {
    let mut log = Log::new();
    let g = log.push(t(0), grant("agency:a", "r", "read", t(0), None));
    let v = log.push(t(5), revoke("agency:a", "r", None, t(1)));
    let d = log.check("agency:a", "r", "read", t(2), t(4));
    assert!(d.allowed);
    assert_eq!(d.because, vec![g]);
    assert_eq!(
        log.check("agency:a", "r", "read", t(2), t(5)).because,
        vec![v]
    );
    // Before genesis nothing is known.
    assert!(!log.check("agency:a", "r", "read", t(2), t(-2000)).allowed);
    assert_eq!(log.ledger.queries().known_seq(t(-2000)).unwrap(), None);
    assert_eq!(log.ledger.queries().known_seq(t(4)).unwrap(), Some(g));
}

#[test]
fn rule_5_membership_is_transitive_and_explained() {
    let mut log = Log::new();
    let g = log.push(t(0), grant("group:h", "r", "read", t(0), None));
    let j1 = log.push(t(0), join("agency:a", "group:g", t(0)));
    let j2 = log.push(t(0), join("group:g", "group:h", t(0)));
    let d = log.check("agency:a", "r", "read", t(1), NOW);
    assert_eq!((d.route, d.because), (group("group:h"), vec![g, j1, j2]));
    let d = log.check("group:g", "r", "read", t(1), NOW);
    assert_eq!((d.route, d.because), (group("group:h"), vec![g, j2]));
}

#[test]
fn rule_5_leave_ends_membership_and_a_new_join_restores_it() {
    let mut log = Log::new();
    let g = log.push(t(0), grant("group:g", "r", "read", t(0), None));
    let j = log.push(t(0), join("agency:a", "group:g", t(0)));
    log.push(t(2), leave("agency:a", "group:g", t(2)));
    let j2 = log.push(t(4), join("agency:a", "group:g", t(4)));
    assert_eq!(
        log.check("agency:a", "r", "read", t(1), NOW).because,
        vec![g, j]
    );
    let d = log.check("agency:a", "r", "read", t(3), NOW);
    assert!(!d.allowed);
    assert!(d.because.is_empty());
    assert_eq!(
        log.check("agency:a", "r", "read", t(5), NOW).because,
        vec![g, j2]
    );
}

#[test]
fn rule_7_route_is_direct_first_then_groups_by_name_then_shortest_path() {
    let mut log = Log::new();
    let gh = log.push(t(0), grant("group:h", "r", "read", t(0), None));
    let gg2 = log.push(t(0), grant("group:g2", "r", "read", t(0), None));
    log.push(t(0), join("agency:a", "group:h", t(0)));
    let j = log.push(t(0), join("agency:a", "group:g2", t(0)));
    let d = log.check("agency:a", "r", "read", t(1), NOW);
    assert_eq!((d.route, d.because), (group("group:g2"), vec![gg2, j]));
    let direct = log.push(t(2), grant("agency:a", "r", "read", t(2), None));
    let d = log.check("agency:a", "r", "read", t(3), NOW);
    assert_eq!((d.route, d.because), (Some(Route::Direct), vec![direct]));

    // Shortest path to the chosen group: b -> h directly, not b -> g -> h.
    log.push(t(4), join("agency:b", "group:g", t(4)));
    log.push(t(4), join("group:g", "group:h", t(4)));
    let jbh = log.push(t(4), join("agency:b", "group:h", t(4)));
    let d = log.check("agency:b", "r", "read", t(5), NOW);
    assert_eq!((d.route, d.because), (group("group:h"), vec![gh, jbh]));
}

#[test]
fn rule_6_a_ban_denies_every_route_even_when_recorded_after_the_grant() {
    let mut log = Log::new();
    log.push(t(0), grant("agency:a", "r", "read", t(0), None));
    log.push(t(0), grant("group:g", "r", "read", t(0), None));
    log.push(t(0), join("agency:a", "group:g", t(0)));
    // Recorded at t(3), back-dated to t(-5).
    let b = log.push(t(3), ban("agency:a", "r/x", None, t(-5)));
    let d = log.check("agency:a", "r/x/y", "read", t(4), NOW);
    assert!(!d.allowed);
    assert_eq!((d.banned_by, d.because, d.route), (Some(b), vec![b], None));
    // Not beyond what it covers, and not before it is known.
    assert!(log.check("agency:a", "r", "read", t(4), NOW).allowed);
    assert!(log.check("agency:a", "r/z", "read", t(4), NOW).allowed);
    assert!(log.check("agency:a", "r/x", "read", t(4), t(2)).allowed);
    // The chain rules refuse a grant back.
    assert!(log
        .try_push(t(5), grant("agency:a", "r/x", "read", t(5), None))
        .is_err());
    // A ban of one right leaves the others.
    let mut log = Log::new();
    log.push(t(0), grant("agency:a", "r", "export,write", t(0), None));
    let b2 = log.push(t(1), ban("agency:a", "r", Some("export"), t(1)));
    assert_eq!(
        log.check("agency:a", "r", "export", t(2), NOW).banned_by,
        Some(b2)
    );
    assert!(log.check("agency:a", "r", "write", t(2), NOW).allowed);
}

#[test]
fn rule_6_a_ban_on_a_group_reaches_its_members_while_they_are_members() {
    let mut log = Log::new();
    let g = log.push(t(0), grant("group:h", "r", "read", t(0), None));
    let own = log.push(t(0), grant("user:o", "r", "read", t(0), None));
    log.push(t(0), join("agency:a", "group:g", t(0)));
    log.push(t(0), join("user:o", "group:a2", t(0)));
    log.push(t(0), join("group:a2", "group:g", t(0)));
    log.push(t(0), join("group:g", "group:h", t(0)));
    let b = log.push(t(1), ban("group:g", "r", None, t(1)));
    // Every route, the member's own grant included, and through nested groups.
    for who in ["agency:a", "user:o", "group:a2", "group:g"] {
        let d = log.check(who, "r", "read", t(2), NOW);
        assert!(!d.allowed, "{who}");
        assert_eq!((d.because, d.banned_by), (vec![b], Some(b)), "{who}");
    }
    // Not before the ban, not above the banned group, not as known before it.
    assert!(log.check("user:o", "r", "read", t(0), NOW).allowed);
    assert!(log.check("group:h", "r", "read", t(2), NOW).allowed);
    assert!(log.check("user:o", "r", "read", t(2), t(0)).allowed);
    // Joining another group with access does not help while a member.
    log.push(t(3), join("agency:a", "group:h", t(3)));
    assert_eq!(
        log.check("agency:a", "r", "read", t(4), NOW).banned_by,
        Some(b)
    );
    // Leaving the banned group ends the ban's reach.
    log.push(t(5), leave("user:o", "group:a2", t(5)));
    let d = log.check("user:o", "r", "read", t(6), NOW);
    assert_eq!((d.route, d.because), (Some(Route::Direct), vec![own]));
    log.push(t(5), leave("agency:a", "group:g", t(5)));
    let d = log.check("agency:a", "r", "read", t(6), NOW);
    assert_eq!(d.route, group("group:h"));
    assert_eq!(d.because[0], g);
    // A new grant to a member while it is one is refused; after it left, it is not.
    assert!(log
        .try_push(t(6), grant("group:a2", "r/x", "read", t(6), None))
        .is_err());
    assert!(log
        .try_push(t(6), grant("user:o", "r/x", "read", t(6), None))
        .is_ok());
}

#[test]
fn rule_8_denials_name_the_revokes_of_the_subject_and_its_groups() {
    let mut log = Log::new();
    log.push(t(0), grant("group:g", "r", "read", t(0), None));
    log.push(t(0), join("agency:a", "group:g", t(0)));
    let v = log.push(t(1), revoke("group:g", "r", Some("read"), t(1)));
    assert_eq!(
        log.check("agency:a", "r", "read", t(2), NOW).because,
        vec![v]
    );
    // Never granted: empty.
    assert!(log
        .check("agency:b", "r", "read", t(2), NOW)
        .because
        .is_empty());
}

#[test]
fn the_wildcard_is_not_a_right_to_ask_about() {
    let mut log = Log::new();
    log.push(t(0), grant("agency:a", "r", "*", t(0), None));
    let (a, res, star) = (s("agency:a"), r("r"), right("*"));
    let naive = Projection::new(&log.entries);
    let indexed = log.ledger.queries();
    assert!(matches!(
        naive.check(&a, &res, &star, t(1), NOW),
        Err(QueryError::WildcardRight)
    ));
    assert!(matches!(
        indexed.check(&a, &res, &star, t(1), NOW),
        Err(QueryError::WildcardRight)
    ));
    assert!(matches!(
        indexed.who_can(&res, &star, t(1), NOW),
        Err(QueryError::WildcardRight)
    ));
    // A wildcard grant gives any named right.
    assert!(log.check("agency:a", "r", "anything", t(1), NOW).allowed);
}

#[test]
fn who_can_expands_groups_and_leaves_out_banned_members() {
    let mut log = Log::new();
    let g = log.push(t(0), grant("group:g", "r", "read", t(0), None));
    let ja = log.push(t(0), join("agency:a", "group:g", t(0)));
    log.push(t(0), join("user:c", "group:g", t(0)));
    let gb = log.push(t(0), grant("agency:b", "r/x", "read", t(0), None));
    log.push(t(1), ban("user:c", "r", None, t(1)));
    let rows = log.who_can("r/x", "read", t(2), NOW);
    let got: Vec<(String, Route, Vec<u64>)> = rows
        .into_iter()
        .map(|a| (a.subject.to_string(), a.route, a.because))
        .collect();
    assert_eq!(
        got,
        vec![
            ("agency:a".into(), Route::Group(s("group:g")), vec![g, ja]),
            ("agency:b".into(), Route::Direct, vec![gb]),
            ("group:g".into(), Route::Direct, vec![g]),
        ]
    );
}

/// Rule 9: a who-can row names the grant and at most 32 joins; `check`
/// names them all. Both evaluators agree (the `Log` asks both).
#[test]
fn who_can_caps_the_joins_of_a_deep_route() {
    let mut log = Log::new();
    let depth = 40;
    let g = log.push(
        t(0),
        grant(&format!("group:d{depth}"), "r", "read", t(0), None),
    );
    let mut joins = vec![];
    for i in 0..depth {
        joins.push(log.push(
            t(0),
            join(&format!("group:d{i}"), &format!("group:d{}", i + 1), t(0)),
        ));
    }
    let rows = log.who_can("r", "read", t(1), NOW);
    assert_eq!(rows.len(), depth + 1);
    let bottom = rows
        .iter()
        .find(|a| a.subject.as_str() == "group:d0")
        .unwrap();
    assert_eq!(bottom.because.len(), 1 + access_ledger::MAX_ROUTE_JOINS);
    assert_eq!(bottom.because[..3], [g, joins[0], joins[1]]);
    assert_eq!(
        bottom.joins_omitted,
        (depth - access_ledger::MAX_ROUTE_JOINS) as u64
    );
    let near = rows
        .iter()
        .find(|a| a.subject.as_str() == "group:d39")
        .unwrap();
    assert_eq!(
        (near.because.clone(), near.joins_omitted),
        (vec![g, joins[39]], 0)
    );
    let d = log.check("group:d0", "r", "read", t(1), NOW);
    assert_eq!(d.because.len(), 1 + depth);
    assert_eq!(d.because[1..], joins[..]);
}

#[test]
fn what_can_lists_rights_by_resource_with_exceptions() {
    let mut log = Log::new();
    let g = log.push(t(0), grant("agency:a", "r", "*", t(0), None));
    log.push(t(1), revoke("agency:a", "r/x", Some("read"), t(1)));
    let rows = log.what_can("agency:a", t(2), NOW);
    type Row = (String, Vec<String>, Vec<u64>);
    let got: Vec<(String, Vec<Row>)> = rows
        .into_iter()
        .map(|h| {
            let rights = h
                .rights
                .into_iter()
                .map(|x| {
                    (
                        x.right.to_string(),
                        x.except.iter().map(|e| e.to_string()).collect(),
                        x.because,
                    )
                })
                .collect();
            (h.resource.to_string(), rights)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "r".into(),
                vec![
                    ("read".into(), vec![], vec![g]),
                    ("*".into(), vec![], vec![g])
                ]
            ),
            (
                "r/x".into(),
                vec![("*".into(), vec!["read".into()], vec![g])]
            ),
        ]
    );
    assert!(log.what_can("agency:zz", t(2), NOW).is_empty());
}

#[test]
fn exposure_follows_memberships_and_shares_without_cycles_or_a_depth_limit() {
    let mut log = Log::new();
    let g = log.push(t(0), grant("user:u0", "r", "read", t(0), None));
    let mut shares = vec![];
    for i in 0..9 {
        shares.push(log.push(
            t(0),
            share(
                &format!("user:u{i}"),
                &format!("user:u{}", i + 1),
                "r",
                "read",
                t(0),
                None,
            ),
        ));
    }
    // A cycle back to the start adds no path.
    log.push(t(0), share("user:u1", "user:u0", "r", "read", t(0), None));
    let p = log.exposure("user:u8", "r/x", t(1), NOW);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].kind, PathKind::Share);
    let mut want = vec![g];
    want.extend(&shares[..8]);
    assert_eq!(seqs(&p[0]), want);
    // Nine share steps: found (the old limit of eight steps hid it).
    let p = log.exposure("user:u9", "r", t(1), NOW);
    assert_eq!(p.len(), 1);
    assert_eq!(seqs(&p[0]).len(), 10);
    let p = log.exposure("user:u0", "r", t(1), NOW);
    assert_eq!((p.len(), p[0].kind), (1, PathKind::Direct));
    // Ten nested groups: the grant at the top reaches the bottom.
    let top = log.push(t(0), grant("group:n9", "q", "read", t(0), None));
    for i in 0..9 {
        log.push(
            t(0),
            join(&format!("group:n{i}"), &format!("group:n{}", i + 1), t(0)),
        );
    }
    let p = log.exposure("group:n0", "q", t(1), NOW);
    assert_eq!(
        (p.len(), p[0].kind, p[0].steps.len()),
        (1, PathKind::Group, 10)
    );
    assert_eq!(p[0].steps[0].seq, top);
    assert!(log.check("group:n0", "q", "read", t(1), NOW).allowed);
}

/// Rule 11: a path is flagged when the data it carries overlaps a ban on a
/// subject of the path, on the resource asked, an ancestor or a descendant,
/// or a ban of a group that subject is a member of.
#[test]
fn exposure_flags_partial_overlaps_and_bans_of_groups() {
    let mut log = Log::new();
    let g = log.push(t(0), grant("agency:fbi", "cpd", "read", t(0), None));
    let h = log.push(
        t(0),
        share("agency:fbi", "agency:ice", "cpd", "read", t(0), None),
    );
    let b = log.push(t(1), ban("agency:ice", "cpd/clear", None, t(1)));
    let p = log.exposure("agency:ice", "cpd", t(2), NOW);
    assert_eq!(p.len(), 1);
    assert_eq!((seqs(&p[0]), p[0].banned.clone()), (vec![g, h], vec![b]));
    // A member of a banned group, reached by a share.
    log.push(t(2), join("user:officer1", "group:ice", t(2)));
    let gb = log.push(t(2), ban("group:ice", "cpd", Some("read"), t(2)));
    let h2 = log.push(
        t(2),
        share("agency:fbi", "user:officer1", "cpd", "read", t(2), None),
    );
    let p = log.exposure("user:officer1", "cpd/x", t(3), NOW);
    assert_eq!((seqs(&p[0]), p[0].banned.clone()), (vec![g, h2], vec![gb]));
    // Not flagged where the ban does not reach: another resource.
    log.push(t(3), grant("agency:fbi", "cook", "read", t(3), None));
    log.push(
        t(3),
        share("agency:fbi", "agency:ice", "cook", "read", t(3), None),
    );
    assert!(log.exposure("agency:ice", "cook", t(4), NOW)[0]
        .banned
        .is_empty());
}

#[test]
fn unshare_and_expiry_end_a_share() {
    let mut log = Log::new();
    log.push(t(0), grant("agency:a", "r", "read,export", t(0), None));
    log.push(
        t(0),
        share("agency:a", "agency:b", "r", "read,export", t(0), Some(t(5))),
    );
    log.push(
        t(2),
        unshare("agency:a", "agency:b", "r", Some("export"), t(2)),
    );
    let only = |xs: &[&str]| RightSet::Only(xs.iter().map(|x| right(x)).collect());
    assert_eq!(
        log.exposure("agency:b", "r", t(1), NOW)[0].rights,
        only(&["export", "read"])
    );
    assert_eq!(
        log.exposure("agency:b", "r", t(3), NOW)[0].rights,
        only(&["read"])
    );
    assert!(log.exposure("agency:b", "r", t(5), NOW).is_empty());
}

#[test]
fn history_lists_the_events_about_a_subject_or_resource_with_signers() {
    let mut log = Log::new();
    let g1 = log.push(t(0), grant("agency:a", "r/x", "read", t(3), None));
    let g2 = log.push(t(1), grant("agency:a", "r", "read", t(1), None));
    let g3 = log.push(t(1), grant("agency:b", "r/x/y", "read", t(2), None));
    log.push(t(1), grant("agency:b", "r2", "read", t(0), None));
    let h = log.history(&HistoryOf::Subject(s("agency:a")), NOW, NOW);
    assert_eq!(h.iter().map(|i| i.seq).collect::<Vec<_>>(), vec![g2, g1]);
    assert!(h
        .iter()
        .all(|i| i.signer.as_str() == "writer" && i.kind == "grant"));
    let h = log.history(&HistoryOf::Resource(r("r/x")), NOW, NOW);
    assert_eq!(
        h.iter().map(|i| i.seq).collect::<Vec<_>>(),
        vec![g2, g3, g1]
    );
    let h = log.history(&HistoryOf::Resource(r("r/x")), t(2), t(0));
    assert_eq!(
        h.iter().map(|i| i.seq).collect::<Vec<_>>(),
        Vec::<u64>::new()
    );
}

#[test]
fn changes_reports_gains_losses_and_expiries() {
    let mut log = Log::new();
    let ga = log.push(t(0), grant("agency:a", "r", "read", t(1), Some(t(5))));
    let gg = log.push(t(0), grant("group:g", "r", "export", t(0), None));
    let j = log.push(t(0), join("agency:b", "group:g", t(3)));
    type Row = (Timestamp, String, String, String, bool, Vec<u64>);
    let got: Vec<Row> = log
        .changes(t(0), t(10), NOW)
        .into_iter()
        .map(|c| {
            (
                c.at,
                c.subject.to_string(),
                c.resource.to_string(),
                c.right.to_string(),
                c.gained,
                c.events,
            )
        })
        .collect();
    let row = |h, s: &str, x: &str, gained, e: Vec<u64>| {
        (
            t(h),
            s.to_string(),
            "r".to_string(),
            x.to_string(),
            gained,
            e,
        )
    };
    assert_eq!(
        got,
        vec![
            row(0, "group:g", "export", true, vec![gg]),
            row(1, "agency:a", "read", true, vec![ga]),
            row(3, "agency:b", "export", true, vec![j]),
            row(5, "agency:a", "read", false, vec![ga]),
        ]
    );
    // The period is half open, and needs from < to.
    assert_eq!(log.changes(t(1), t(5), NOW).len(), 2);
    assert!(matches!(
        log.ledger.queries().changes(t(5), t(5), NOW),
        Err(QueryError::EmptyPeriod { .. })
    ));
}

#[test]
fn rebuild_check_finds_missing_extra_and_altered_index_records() {
    let mut log = Log::new();
    log.push(t(0), grant("agency:a", "r", "read", t(0), None));
    log.push(t(0), join("agency:a", "group:g", t(0)));
    let report = log.ledger.check_indexes().unwrap();
    assert!(report.is_consistent(), "{report:?}");
    assert_eq!(report.entries, 4);
    use access_ledger::internal::DerivedSpace;
    let tamper = access_ledger::internal::tamper(&log.ledger);
    assert!(tamper
        .overwrite(DerivedSpace::QueryIndexes, 0, &[9])
        .unwrap());
    tamper
        .insert(DerivedSpace::QueryIndexes, b"zzz", &[])
        .unwrap();
    let report = log.ledger.check_indexes().unwrap();
    assert_eq!((report.differing, report.extra, report.missing), (1, 1, 0));
    assert!(!report.is_consistent());
}

// ---------------------------------------------------------------------------
// The Chicago story (docs/SEMANTICS.md, "Worked example"). The article gives
// the cut-off on 2019-07-10 and that other federal agencies keep access; the
// earlier grants, the group, the agencies in it and the share are illustrative.
// ---------------------------------------------------------------------------

fn chicago(day: &str) -> Timestamp {
    Timestamp::parse(day, &Zone::new("America/Chicago").unwrap()).unwrap()
}

struct Chicago {
    log: Log,
    ice_grant: u64,
    partners_grant: u64,
    fbi_join: u64,
    ice_join: u64,
    ban: u64,
    share: u64,
}

fn chicago_log() -> Chicago {
    let mut log = Log::new();
    let since = chicago("2015-01-01");
    let ice_grant = log.push(
        chicago("2019-06-01"),
        grant("agency:ice", "cpd", "read,export", since, None),
    );
    let partners_grant = log.push(
        chicago("2019-06-01"),
        grant("group:federal-partners", "cpd", "read,export", since, None),
    );
    let fbi_join = log.push(
        chicago("2019-06-01"),
        join("agency:fbi", "group:federal-partners", since),
    );
    log.push(
        chicago("2019-06-01"),
        join("agency:dea", "group:federal-partners", since),
    );
    let ice_join = log.push(
        chicago("2019-06-01"),
        join("agency:ice", "group:federal-partners", since),
    );
    // "We have also cut off ICE access from any CPD databases and that will remain permanent."
    let ban = log.push(
        chicago("2019-07-10T10:00"),
        ban("agency:ice", "cpd", None, chicago("2019-07-10")),
    );
    let share = log.push(
        chicago("2019-07-12"),
        share(
            "agency:fbi",
            "agency:ice",
            "cpd/clear",
            "read",
            chicago("2019-07-12"),
            None,
        ),
    );
    Chicago {
        log,
        ice_grant,
        partners_grant,
        fbi_join,
        ice_join,
        ban,
        share,
    }
}

#[test]
fn chicago_ice_is_banned_from_cpd_from_2019_07_10() {
    let c = chicago_log();
    let before = c.log.check(
        "agency:ice",
        "cpd/clear/arrests",
        "read",
        chicago("2019-07-09"),
        NOW,
    );
    assert!(before.allowed);
    assert_eq!(
        (before.route, before.because),
        (Some(Route::Direct), vec![c.ice_grant])
    );
    let after = c.log.check(
        "agency:ice",
        "cpd/clear/arrests",
        "read",
        chicago("2019-07-11"),
        NOW,
    );
    assert!(!after.allowed);
    assert_eq!((after.banned_by, after.because), (Some(c.ban), vec![c.ban]));
    // Asked on the morning of 2019-07-10, before the ban was recorded at 10:00.
    let morning = c.log.check(
        "agency:ice",
        "cpd/clear",
        "read",
        chicago("2019-07-10T09:00"),
        chicago("2019-07-10T09:00"),
    );
    assert!(morning.allowed);
    // ICE's membership of the federal partners gives no way back.
    assert!(
        !c.log
            .check("agency:ice", "cpd", "export", chicago("2020-01-01"), NOW)
            .allowed
    );
    let changes = c
        .log
        .changes(chicago("2019-07-10"), chicago("2019-07-11"), NOW);
    assert!(changes
        .iter()
        .all(|ch| ch.subject.as_str() == "agency:ice" && !ch.gained && ch.events == vec![c.ban]));
    let lost: Vec<&str> = changes.iter().map(|ch| ch.right.as_str()).collect();
    assert_eq!(lost, vec!["export", "read"]);
}

#[test]
fn chicago_fbi_keeps_access_through_the_federal_partners() {
    let c = chicago_log();
    let d = c.log.check(
        "agency:fbi",
        "cpd/clear/arrests",
        "read",
        chicago("2019-07-11"),
        NOW,
    );
    assert!(d.allowed);
    assert_eq!(
        (d.route, d.because),
        (
            group("group:federal-partners"),
            vec![c.partners_grant, c.fbi_join]
        )
    );
    let who: Vec<String> = c
        .log
        .who_can("cpd/clear", "read", chicago("2019-07-11"), NOW)
        .into_iter()
        .map(|a| a.subject.to_string())
        .collect();
    assert_eq!(
        who,
        vec!["agency:dea", "agency:fbi", "group:federal-partners"]
    );
}

#[test]
fn chicago_a_share_from_fbi_to_ice_stays_visible_and_is_flagged() {
    let c = chicago_log();
    let paths = c.log.exposure(
        "agency:ice",
        "cpd/clear/arrests",
        chicago("2019-07-13"),
        NOW,
    );
    let got: Vec<(PathKind, Vec<u64>, Vec<u64>)> = paths
        .iter()
        .map(|p| (p.kind, seqs(p), p.banned.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (PathKind::Direct, vec![c.ice_grant], vec![c.ban]),
            (
                PathKind::Group,
                vec![c.partners_grant, c.ice_join],
                vec![c.ban]
            ),
            (
                PathKind::Share,
                vec![c.partners_grant, c.fbi_join, c.share],
                vec![c.ban]
            ),
        ]
    );
    assert_eq!(paths[2].rights, RightSet::Only([right("read")].into()));
    // Before the share took effect, only the (banned) grant and group routes.
    assert_eq!(
        c.log
            .exposure("agency:ice", "cpd/clear", chicago("2019-07-11"), NOW)
            .len(),
        2
    );
}
