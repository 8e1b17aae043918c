//! Group graphs and sharing chains (issue 11): import, verify, `check`,
//! `who-can` and `exposure` on a group nested N deep, a group N wide, N flat
//! joins beside them, and a chain of M sharing agreements. Each operation
//! runs on a real ledger in a temporary directory and is timed once (they
//! take from microseconds to seconds; what matters is that none grows with
//! the square of the graph).
//!
//! ```text
//! cargo bench --bench groups                              # N = 20,000, M = 1,000
//! ACCESS_LEDGER_BENCH_GROUPS=5000 cargo bench --bench groups
//! ```

use std::time::{Duration, Instant};

use access_ledger::{
    AuthorityName, Event, Ledger, NewEntry, Origin, Resource, Right, Rights, SecretKey, Subject,
    Text, Timestamp, Zone,
};

// For the allocator: every bench runs on the binary's (benches/common).
mod common;

const BATCH: usize = 1_000;

fn s(x: &str) -> Subject {
    Subject::new(x).unwrap()
}

fn at() -> Timestamp {
    Timestamp::parse_rfc3339("2019-01-01T00:00:00Z").unwrap()
}

fn join(m: &str, g: &str) -> Event {
    Event::Join {
        member: s(m),
        group: s(g),
        effective_at: at(),
    }
}

fn grant(x: &str) -> Event {
    Event::Grant {
        subject: s(x),
        resource: Resource::new("cpd").unwrap(),
        rights: Rights::parse_list("read").unwrap(),
        basis: Text::new("basis", "benchmark").unwrap(),
        effective_at: at(),
        until: None,
    }
}

fn share(a: &str, b: &str) -> Event {
    Event::Share {
        from: s(a),
        to: s(b),
        resource: Resource::new("cpd").unwrap(),
        rights: Rights::parse_list("read").unwrap(),
        basis: Text::new("basis", "benchmark").unwrap(),
        effective_at: at(),
        until: None,
    }
}

/// One shape: its events and the subject the questions are about.
struct Shape {
    name: String,
    events: Vec<Event>,
    subject: String,
}

fn shapes(n: usize, m: usize) -> Vec<Shape> {
    let mut flat: Vec<Event> = (0..n)
        .map(|i| join(&format!("user:f{i}"), &format!("group:f{i}")))
        .collect();
    flat.push(grant("group:f0"));
    let mut deep: Vec<Event> = (0..n)
        .map(|i| join(&format!("group:d{i}"), &format!("group:d{}", i + 1)))
        .collect();
    deep.push(grant(&format!("group:d{n}")));
    let mut deep_top_down: Vec<Event> = (0..n)
        .rev()
        .map(|i| join(&format!("group:d{i}"), &format!("group:d{}", i + 1)))
        .collect();
    deep_top_down.push(grant(&format!("group:d{n}")));
    let mut wide: Vec<Event> = (0..n)
        .map(|i| join(&format!("user:w{i}"), "group:w"))
        .collect();
    wide.push(grant("group:w"));
    let mut chain = vec![grant("agency:s0")];
    chain.extend((0..m).map(|i| share(&format!("agency:s{i}"), &format!("agency:s{}", i + 1))));
    vec![
        Shape {
            name: format!("{n} flat joins"),
            events: flat,
            subject: "user:f0".into(),
        },
        Shape {
            name: format!("{n}-deep groups (joined bottom up)"),
            events: deep,
            subject: "group:d0".into(),
        },
        Shape {
            name: format!("{n}-deep groups (joined top down)"),
            events: deep_top_down,
            subject: "group:d0".into(),
        },
        Shape {
            name: format!("{n}-wide group"),
            events: wide,
            subject: "user:w0".into(),
        },
        Shape {
            name: format!("{m}-step sharing chain"),
            events: chain,
            subject: format!("agency:s{m}"),
        },
    ]
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

fn main() {
    // `cargo test --all-targets` runs this once without `--bench`, as a smoke
    // test of small graphs.
    let benching = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("ACCESS_LEDGER_BENCH_GROUPS")
        .ok()
        .filter(|_| benching)
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 20_000 } else { 300 });
    let m = if benching { 1_000 } else { 50 };
    println!(
        "{:<40} {:>10} {:>10} {:>10} {:>10} {:>10}  answer sizes",
        "shape", "import", "verify", "check", "who-can", "exposure"
    );
    for shape in shapes(n, m) {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::from_seed(AuthorityName::new("bench").unwrap(), &[9; 32]);
        let mut l = Ledger::init(
            dir.path(),
            Origin::new("bench.example/groups").unwrap(),
            &Zone::utc(),
            &key,
            Some(at()),
        )
        .unwrap();
        let (_, import) = time(|| {
            for chunk in shape.events.chunks(BATCH) {
                let items = chunk
                    .iter()
                    .map(|e| NewEntry {
                        event: e.clone(),
                        recorded_at: None,
                    })
                    .collect();
                l.append(&key, items).unwrap();
            }
        });
        let (report, verify) = time(|| l.verify(|_, _| {}).unwrap());
        assert_eq!(report.entries as usize, shape.events.len() + 1);
        let q = l.queries();
        let (r, read) = (Resource::new("cpd/x").unwrap(), Right::new("read").unwrap());
        let now = Timestamp::now();
        let subject = s(&shape.subject);
        let (d, check) = time(|| q.check(&subject, &r, &read, now, now).unwrap());
        let (who, who_can) = time(|| q.who_can(&r, &read, now, now).unwrap());
        let (paths, exposure) = time(|| q.exposure(&subject, &r, now, now).unwrap());
        println!(
            "{:<40} {:>10.2?} {:>10.2?} {:>10.2?} {:>10.2?} {:>10.2?}  check {} ({} seqs), who-can {} rows, exposure {} path(s) of {} steps",
            shape.name,
            import,
            verify,
            check,
            who_can,
            exposure,
            if d.allowed { "allowed" } else { "denied" },
            d.because.len(),
            who.len(),
            paths.len(),
            paths.first().map_or(0, |p| p.steps.len()),
        );
    }
}
