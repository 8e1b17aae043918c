//! `publish`: the log as C2SP tlog-tiles under a directory.

use std::io::Write;

use access_ledger::{PublishReport, TILES_METADATA_FILE};

use super::args::Publish;
use super::files::read_key;
use super::output::{self, note, Format, Progress};
use super::{exit, Context, Failure};

impl Publish {
    /// Publishes the latest stored checkpoint, or a new one signed with `--key`.
    pub fn run(self, ctx: &Context) -> Result<u8, Failure> {
        let (ledger, checkpoint) = match &self.key {
            Some(path) => {
                let key = read_key(path)?;
                let mut ledger = ctx.open_to_sign(&key)?;
                let cp = ledger.checkpoint(&key)?;
                (ledger, cp)
            }
            None => {
                let ledger = ctx.open()?;
                match ledger.latest_checkpoint()? {
                    Some(cp) => (ledger, cp),
                    None => {
                        return Err(Failure::usage("the ledger has no checkpoint to publish")
                            .hint("pass --key with a key that may sign checkpoints"))
                    }
                }
            }
        };
        let mut progress = Stages::default();
        let report =
            access_ledger::publish(&ledger, &checkpoint, &self.out, |stage, done, total| {
                progress.update(stage, done, total)
            })?;
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => output::json(&mut out, &report)?,
            Format::Text => {
                let PublishReport {
                    size,
                    previous_size,
                    files_written,
                    bytes_written,
                    files_kept,
                    ..
                } = report;
                writeln!(
                    out,
                    "published {size} entries to {} (it held {previous_size}): {files_written} files written ({bytes_written} bytes), {files_kept} kept",
                    self.out.display()
                )?;
                note(format_args!(
                    "the checkpoint was written last; {} names the verifier key readers need",
                    self.out.join(TILES_METADATA_FILE).display()
                ));
            }
        }
        Ok(exit::OK)
    }
}

/// Progress on a terminal for work in named stages.
#[derive(Default)]
pub struct Stages {
    current: Option<(&'static str, Progress)>,
}

impl Stages {
    /// Reports `done` of `total` in `stage`.
    pub fn update(&mut self, stage: &'static str, done: u64, total: u64) {
        if self.current.as_ref().is_none_or(|(s, _)| *s != stage) {
            self.current = Some((stage, Progress::new(stage)));
        }
        if let Some((_, p)) = &mut self.current {
            p.update(done, total);
        }
    }
}
