//! The write commands: authority management and access events.

use access_ledger::{
    parse_public_key, AuthorityName, ChainedEntry, Event, Ledger, NewEntry, Resource, Rights,
    Roles, SecretKey, Subject, Text,
};
use serde_json::json;

use super::args::{AuthorityCommand, Command, WriteArgs};
use super::{exit, parse_time, print_json, read_key, Context, Failure};

/// Appends one event and reports it.
fn append_one(ledger: &mut Ledger, key: &SecretKey, event: Event) -> Result<u8, Failure> {
    let done = ledger.append(
        key,
        vec![NewEntry {
            event,
            recorded_at: None,
        }],
    )?;
    report(&done);
    Ok(exit::OK)
}

/// Prints one line per appended entry.
pub fn report(done: &[ChainedEntry]) {
    for e in done {
        println!(
            "appended seq {}: {} (hash {})",
            e.seq(),
            e.body().summary(),
            &e.hash().to_hex()[..16]
        );
    }
}

pub fn authority(ctx: &Context, cmd: AuthorityCommand) -> Result<u8, Failure> {
    match cmd {
        AuthorityCommand::Add {
            name,
            public_key,
            roles,
            key,
        } => {
            let name = AuthorityName::new(name)?;
            let pk = parse_public_key(&public_key, &name)
                .map_err(|m| Failure::usage(format!("--public-key: {m}")))?;
            let roles =
                Roles::parse_list(&roles).map_err(|m| Failure::usage(format!("--roles: {m}")))?;
            let key = read_key(&key)?;
            let mut ledger = ctx.open()?;
            append_one(
                &mut ledger,
                &key,
                Event::AuthorityAdd {
                    name,
                    key: pk,
                    roles,
                },
            )
        }
        AuthorityCommand::Retire { name, key } => {
            let name = AuthorityName::new(name)?;
            let key = read_key(&key)?;
            let mut ledger = ctx.open()?;
            append_one(&mut ledger, &key, Event::AuthorityRetire { name })
        }
        AuthorityCommand::List { json } => {
            let ledger = ctx.open()?;
            let rows: Vec<_> = ledger
                .state()
                .authorities()
                .iter()
                .map(|(n, a)| {
                    json!({
                        "name": n.as_str(),
                        "public_key": access_ledger::VerifierKey::new(n.clone(), a.key).to_string(),
                        "roles": a.roles.names(),
                        "added_seq": a.added_seq,
                        "retired_seq": a.retired_seq,
                    })
                })
                .collect();
            if json {
                print_json(&json!(rows));
            } else {
                for (n, a) in ledger.state().authorities() {
                    let status = match a.retired_seq {
                        Some(s) => format!("retired at seq {s}"),
                        None => "active".into(),
                    };
                    println!("{n}\t{}\tadded at seq {}, {status}", a.roles, a.added_seq);
                }
            }
            Ok(exit::OK)
        }
    }
}

fn rights(flag: &str, s: &str) -> Result<Rights, Failure> {
    Rights::parse_list(s).map_err(|e| Failure::usage(format!("{flag}: {e}")))
}

pub fn access(ctx: &Context, cmd: Command) -> Result<u8, Failure> {
    // Times need the ledger's zone, so the ledger is opened before the fields are parsed.
    let subject = |s: &str| Subject::new(s).map_err(Failure::from);
    let resource = |s: &str| Resource::new(s).map_err(Failure::from);
    let text = |field: &'static str, s: String| Text::new(field, s).map_err(Failure::from);
    let w: &WriteArgs = match &cmd {
        Command::Grant { w, .. }
        | Command::Revoke { w, .. }
        | Command::Join { w, .. }
        | Command::Leave { w, .. }
        | Command::Share { w, .. }
        | Command::Unshare { w, .. } => w,
        _ => unreachable!("only access-event commands are routed here"),
    };
    let key = read_key(&w.key)?;
    let mut ledger = ctx.open()?;
    let zone = ledger.zone();
    let eff = match &w.effective_at {
        Some(t) => parse_time("--effective-at", t, &zone)?,
        None => access_ledger::Timestamp::now(),
    };
    let until = |u: &Option<String>| {
        u.as_deref()
            .map(|t| parse_time("--until", t, &zone))
            .transpose()
    };
    let event = match cmd {
        Command::Grant {
            subject: s,
            resource: r,
            rights: x,
            basis,
            until: u,
            ..
        } => Event::Grant {
            subject: subject(&s)?,
            resource: resource(&r)?,
            rights: rights("--rights", &x)?,
            basis: text("basis", basis)?,
            effective_at: eff,
            until: until(&u)?,
        },
        Command::Revoke {
            subject: s,
            resource: r,
            rights: x,
            reason,
            permanent,
            ..
        } => Event::Revoke {
            subject: subject(&s)?,
            resource: resource(&r)?,
            rights: x.map(|x| rights("--rights", &x)).transpose()?,
            reason: text("reason", reason)?,
            effective_at: eff,
            permanent,
        },
        Command::Join { member, group, .. } => Event::Join {
            member: subject(&member)?,
            group: subject(&group)?,
            effective_at: eff,
        },
        Command::Leave { member, group, .. } => Event::Leave {
            member: subject(&member)?,
            group: subject(&group)?,
            effective_at: eff,
        },
        Command::Share {
            from,
            to,
            resource: r,
            rights: x,
            basis,
            until: u,
            ..
        } => Event::Share {
            from: subject(&from)?,
            to: subject(&to)?,
            resource: resource(&r)?,
            rights: rights("--rights", &x)?,
            basis: text("basis", basis)?,
            effective_at: eff,
            until: until(&u)?,
        },
        Command::Unshare {
            from,
            to,
            resource: r,
            rights: x,
            basis,
            ..
        } => Event::Unshare {
            from: subject(&from)?,
            to: subject(&to)?,
            resource: resource(&r)?,
            rights: x.map(|x| rights("--rights", &x)).transpose()?,
            basis: text("basis", basis)?,
            effective_at: eff,
        },
        _ => unreachable!("only access-event commands are routed here"),
    };
    append_one(&mut ledger, &key, event)
}
