//! The write commands: authority management and access events. All of them
//! take one path, [`append`]: read the signing key, open the ledger, build
//! the event in the ledger's time, append it, report it.

use std::io::Write;
use std::path::Path;

use access_ledger::{parse_public_key, ChainedEntry, Event, NewEntry, Timestamp, VerifierKey};
use serde_json::json;

use super::args::{
    AuthorityAdd, AuthorityList, AuthorityRetire, Grant, Join, Leave, Revoke, Share, Unshare,
    WriteArgs,
};
use super::files::read_key;
use super::output::{self, Format};
use super::time::Clock;
use super::{exit, Context, Failure};

/// Signs `event` with the key at `key` and appends it in one durable batch.
fn append(
    ctx: &Context,
    key: &Path,
    event: impl FnOnce(&Clock) -> Result<Event, Failure>,
) -> Result<u8, Failure> {
    let key = read_key(key)?;
    let mut ledger = ctx.open_to_sign(&key)?;
    let event = event(&Clock::new(ledger.zone()))?;
    let done = ledger.append(
        &key,
        vec![NewEntry {
            event,
            recorded_at: None,
        }],
    )?;
    report(&done)?;
    Ok(exit::OK)
}

/// Prints one line per appended entry.
pub fn report(done: &[ChainedEntry]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    for e in done {
        writeln!(
            out,
            "appended seq {}: {} (hash {})",
            e.seq(),
            e.body().summary(),
            &e.hash().to_hex()[..16]
        )?;
    }
    Ok(())
}

impl WriteArgs {
    /// Appends the access event `event` builds from its effective time.
    fn append(
        self,
        ctx: &Context,
        event: impl FnOnce(Timestamp, &Clock) -> Result<Event, Failure>,
    ) -> Result<u8, Failure> {
        append(ctx, &self.key, |clock| {
            event(clock.or_now(self.effective_at.as_ref())?, clock)
        })
    }
}

impl Grant {
    /// Appends the grant.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        self.w.append(ctx, |effective_at, clock| {
            Ok(Event::Grant {
                subject: self.subject,
                resource: self.resource,
                rights: self.rights,
                basis: self.basis,
                effective_at,
                until: clock.optional(self.until.as_ref())?,
            })
        })
    }
}

impl Revoke {
    /// Appends the revocation (a ban if `--permanent`).
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        self.w.append(ctx, |effective_at, _| {
            Ok(Event::Revoke {
                subject: self.subject,
                resource: self.resource,
                rights: self.rights,
                reason: self.reason,
                effective_at,
                permanent: self.permanent,
            })
        })
    }
}

impl Join {
    /// Appends the membership.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        self.w.append(ctx, |effective_at, _| {
            Ok(Event::Join {
                member: self.member,
                group: self.group,
                effective_at,
            })
        })
    }
}

impl Leave {
    /// Appends the end of a membership.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        self.w.append(ctx, |effective_at, _| {
            Ok(Event::Leave {
                member: self.member,
                group: self.group,
                effective_at,
            })
        })
    }
}

impl Share {
    /// Appends the sharing agreement.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        self.w.append(ctx, |effective_at, clock| {
            Ok(Event::Share {
                from: self.from,
                to: self.to,
                resource: self.resource,
                rights: self.rights,
                basis: self.basis,
                effective_at,
                until: clock.optional(self.until.as_ref())?,
            })
        })
    }
}

impl Unshare {
    /// Appends the end of a sharing agreement.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        self.w.append(ctx, |effective_at, _| {
            Ok(Event::Unshare {
                from: self.from,
                to: self.to,
                resource: self.resource,
                rights: self.rights,
                basis: self.basis,
                effective_at,
            })
        })
    }
}

impl AuthorityAdd {
    /// Appends the new authority.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let key = parse_public_key(&self.public_key, &self.name)
            .map_err(|m| Failure::usage(format!("--public-key: {m}")))?;
        append(ctx, &self.key, |_| {
            Ok(Event::AuthorityAdd {
                name: self.name,
                key,
                roles: self.roles,
            })
        })
    }
}

impl AuthorityRetire {
    /// Appends the retirement.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        append(ctx, &self.key, |_| {
            Ok(Event::AuthorityRetire { name: self.name })
        })
    }
}

impl AuthorityList {
    /// Lists every authority, active or retired.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let ledger = ctx.open()?;
        let authorities = ledger.state().authorities();
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => {
                let rows: Vec<_> = authorities
                    .iter()
                    .map(|(n, a)| {
                        json!({
                            "name": n.as_str(),
                            "public_key": VerifierKey::new(n.clone(), a.key).to_string(),
                            "roles": a.roles.names(),
                            "added_seq": a.added_seq,
                            "retired_seq": a.retired_seq,
                        })
                    })
                    .collect();
                output::json(&mut out, &rows)?;
            }
            Format::Text => {
                for (n, a) in authorities {
                    let status = match a.retired_seq {
                        Some(s) => format!("retired at seq {s}"),
                        None => "active".into(),
                    };
                    writeln!(
                        out,
                        "{n}\t{}\tadded at seq {}, {status}",
                        a.roles, a.added_seq
                    )?;
                }
            }
        }
        Ok(exit::OK)
    }
}
