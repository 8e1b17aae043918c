//! `init`: a new ledger.

use std::path::Path;

use access_ledger::{Ledger, Origin, Zone};

use super::{exit, parse_time, read_key, Context, Failure};

pub fn run(
    ctx: &Context,
    origin: &str,
    zone: &str,
    key: &Path,
    created_at: Option<&str>,
) -> Result<u8, Failure> {
    let origin = Origin::new(origin)?;
    let zone = Zone::new(zone)?;
    let key = read_key(key)?;
    let created_at = created_at
        .map(|t| parse_time("--created-at", t, &zone))
        .transpose()?;
    let ledger = Ledger::init(ctx.ledger, origin, &zone, &key, created_at)?;
    println!(
        "created ledger {} at {} (time zone {}); first authority {} holds every role",
        ledger
            .state()
            .origin()
            .map(|o| o.as_str())
            .unwrap_or_default(),
        ctx.ledger.display(),
        zone.name(),
        key.name()
    );
    println!("ledger id {}", ledger.state().ledger_id());
    Ok(exit::OK)
}
