//! `init`: a new ledger.

use std::io::Write;

use access_ledger::Ledger;

use super::args::Init;
use super::files::read_key;
use super::time::Clock;
use super::{exit, Context, Failure};

impl Init {
    /// Creates the ledger, its genesis signed by the key's owner.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let key = read_key(&self.key)?;
        let clock = Clock::new(self.time_zone);
        let created_at = clock.optional(self.created_at.as_ref())?;
        let ledger = Ledger::init(&ctx.ledger, self.origin, clock.zone(), &key, created_at)?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "created ledger {} at {} (time zone {}); first authority {} holds every role",
            ledger
                .state()
                .origin()
                .map(|o| o.as_str())
                .unwrap_or_default(),
            ctx.ledger.display(),
            clock.zone().name(),
            key.name()
        )?;
        writeln!(out, "ledger id {}", ledger.state().ledger_id())?;
        Ok(exit::OK)
    }
}
