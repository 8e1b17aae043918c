//! The command line, defined once with clap derive: `--help`, the shell
//! completions and the man page all come from these types.
//!
//! Every argument is parsed into a domain value here, at the edge (see
//! [`super::value`]); each command is one struct, and its handler is that
//! struct's `run` in the command's own module.

use std::path::PathBuf;
use std::time::Duration;

use access_ledger::{
    AuthorityName, Origin, Resource, Right, Rights, Roles, Subject, Text, VerifierKey, Zone,
};
use clap::{ArgAction, Args, Parser, Subcommand};

use super::output::Format;
use super::time::TimeArg;
use super::value;

/// A tamper-evident, signed and hash-chained ledger of who may access which
/// public database.
#[derive(Debug, Parser)]
#[command(
    name = "access-ledger",
    version,
    about,
    long_about = "A tamper-evident, signed and hash-chained ledger of who may access which public database.\n\n\
Every grant, revocation, group membership and data-sharing agreement is an ed25519-signed entry \
chained by blake3 hashes; permissions are replayed from that log and can be asked for at any past date.",
    after_help = "Start here:\n  access-ledger demo                      build and tour the Chicago 2019 example\n  \
access-ledger keygen --name cpd-admin --out cpd-admin.key\n  \
access-ledger init --origin chicago.gov/cpd-access --time-zone America/Chicago --key cpd-admin.key\n  \
access-ledger grant agency:fbi cpd/clear --rights read --basis \"MOU 2016-04\" --key cpd-admin.key\n  \
access-ledger verify\n\nExit codes: 0 ok, 1 denied (check), 2 bad usage or input, 3 refused by the ledger's rules, \
4 verification failed, 5 ledger in use, 6 ledger, key or file unavailable or damaged."
)]
pub struct Cli {
    /// The ledger directory.
    #[arg(
        long,
        global = true,
        env = "ACCESS_LEDGER_DIR",
        default_value = "./ledger",
        value_name = "DIR"
    )]
    pub ledger: PathBuf,

    /// Seconds to wait for another process to release the ledger (0 to 3600).
    #[arg(long, global = true, default_value = "3", value_name = "SECONDS", value_parser = value::seconds())]
    pub wait: Duration,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a new ed25519 signing key file (mode 0600) and print its public verifier key.
    #[command(
        after_help = "Examples:\n  access-ledger keygen --name cpd-admin --out cpd-admin.key > cpd-admin.pub\n  access-ledger keygen --name council --witness --out council.key > council.cosigner\n\n\
The key file is PKCS#8 PEM, which openssl reads (`openssl pkey -in cpd-admin.key -pubout`).\n\
A key made by openssl works too: `openssl genpkey -algorithm ed25519 -out k.pem`, then a\n\
`# name: NAME` line before it (see the README)."
    )]
    Keygen(Keygen),
    /// Create a new ledger whose first authority is the key's owner.
    #[command(
        after_help = "Example:\n  access-ledger init --origin chicago.gov/cpd-access --time-zone America/Chicago --key cpd-admin.key"
    )]
    Init(Init),
    /// Add or retire a signing authority (admins only).
    #[command(subcommand)]
    Authority(AuthorityCommand),
    /// Grant a subject rights on a resource and everything below it.
    #[command(
        after_help = "Example:\n  access-ledger grant group:federal-partners cpd/clear --rights read --basis \"MOU 2016-04\" --effective-at 2016-04-01 --key clerk.key"
    )]
    Grant(Grant),
    /// Revoke rights (all by default); --permanent makes it a ban that nothing can grant back.
    #[command(
        after_help = "Example:\n  access-ledger revoke agency:ice cpd --permanent --reason \"Mayor's order\" --effective-at 2019-07-10 --key clerk.key"
    )]
    Revoke(Revoke),
    /// Add a subject (or a group) to a group.
    Join(Join),
    /// Remove a subject from a group.
    Leave(Leave),
    /// Record an onward-sharing agreement: FROM may pass data of RESOURCE to TO.
    Share(Share),
    /// End a sharing agreement (all rights by default).
    Unshare(Unshare),
    /// Sign and append every event of a JSON Lines file, all or nothing.
    #[command(
        after_help = "Each line is one JSON object, e.g.\n  {\"type\":\"grant\",\"subject\":\"agency:fbi\",\"resource\":\"cpd/clear\",\"rights\":[\"read\"],\"basis\":\"MOU\",\"effective_at\":\"2016-04-01\"}\n\
Optional \"recorded_at\" back-dates a historical entry (non-decreasing, not in the future).\n\
`log --json` output imports as is (genesis lines are skipped; signatures are made anew)."
    )]
    Import(Import),
    /// List entries.
    #[command(
        after_help = "Examples:\n  access-ledger log --from 10 --limit 5\n  access-ledger log --json > log.jsonl     # one raw-entry line each (docs/FORMAT.md §7)\n  access-ledger log --raw > entries.bundle  # u16 big-endian length, then the exact bytes"
    )]
    Log(Log),
    /// Show one entry in full.
    Show(Show),
    /// Replay the whole log and check every link, signature, authority and ban.
    Verify(Verify),
    /// Rebuild every derived index from the entries alone (--migrate: move a ledger to storage layout 4).
    #[command(
        after_help = "Examples:\n  access-ledger reindex                      # after `verify` reported damaged derived data\n  \
access-ledger --ledger DIR reindex --migrate  # once, for a ledger made before storage layout 4\n\n\
Derived data (rules snapshots, the Merkle tree's hash tiles, query indexes) is rebuilt from the\n\
entries, every entry replayed through the rules with its signature checked; the entries and\n\
checkpoints are never changed.\n\n\
--migrate builds a storage layout 4 store in DIR/store.new from a ledger in layout 1 (sled's\n\
files directly in DIR), 2 (in DIR/store) or 3 (in DIR/store3): entries, checkpoints and the\n\
replica record copied byte for byte, the rest rebuilt; checks it holds the same entries as the\n\
old store and the last acknowledged head; then renames it to DIR/store4 and deletes the old files.\n\
It holds the ledger's lock throughout, and a crash at any point leaves a ledger that opens\n\
(layout 4) or that --migrate takes again (the old layout). On a layout-4 ledger it says so and\n\
changes nothing (exit 0)."
    )]
    Reindex(Reindex),
    /// May SUBJECT exercise RIGHT on RESOURCE? Exit 0 allowed, 1 denied; says which events decide.
    #[command(
        after_help = "Examples:\n  access-ledger check agency:ice cpd/clear/arrests read --at 2019-07-20\n  \
access-ledger check agency:ice cpd/clear/arrests read --at 2019-07-10 --known-at 2019-07-11   # before the ban was recorded\n  \
access-ledger check --batch < questions.jsonl > answers.jsonl\n\n\
With --batch, each input line is a question\n  \
{\"subject\":\"agency:ice\",\"resource\":\"cpd/clear/arrests\",\"right\":\"read\",\"at\":\"2019-07-20\",\"known_at\":\"2019-07-21\"}\n\
(\"at\" and \"known_at\" optional) and each output line its answer, in order: the object `check --json`\n\
prints, on one line, with \"line\" (the input line number); a question that cannot be asked gets\n\
{\"line\":N,\"error\":\"...\"} and the others are still answered. Blank lines are skipped. Exit 0 when\n\
every question was answered (allowed or denied), 2 when some could not be asked."
    )]
    Check(Check),
    /// Every subject that may exercise RIGHT on RESOURCE, with its route.
    #[command(
        name = "who-can",
        after_help = "Example:\n  access-ledger who-can cpd/clear read --at 2019-07-14"
    )]
    WhoCan(WhoCan),
    /// Every resource and right SUBJECT holds, with routes.
    #[command(
        name = "what-can",
        after_help = "Example:\n  access-ledger what-can agency:fbi --at 2019-07-14"
    )]
    WhatCan(WhatCan),
    /// Every path by which data of RESOURCE reaches SUBJECT: grants, groups, sharing agreements.
    #[command(
        after_help = "Example:\n  access-ledger exposure agency:ice cpd/clear --at 2019-07-20\n\n\
An analysis, not a decision: paths that reach a banned subject are flagged."
    )]
    Exposure(Exposure),
    /// The timeline of events about a subject or a resource, with who signed each.
    #[command(
        after_help = "Examples:\n  access-ledger history --subject agency:ice\n  access-ledger history --resource cpd/clear/arrests"
    )]
    History(History),
    /// Every change of effective access in a period: who gained or lost what, when, by which event.
    #[command(after_help = "Example:\n  access-ledger changes --from 2019-07-01 --to 2019-08-01")]
    Changes(Changes),
    /// Replay the log from scratch and compare the stored indexes with the replay.
    Rebuild(Rebuild),
    /// Audit a real access log: was each access authorised at that moment, as the ledger knew it then?
    #[command(
        after_help = "Examples:\n  access-ledger audit access-log.csv --mapping mapping.toml\n  \
access-ledger audit access-log.csv --mapping mapping.toml --known-at now --out audit/ --skip-bad\n  \
access-ledger --ledger backup/ audit big-log.jsonl --format jsonl --mapping mapping.toml --json\n\n\
Each row is judged by `check` at its own time, as the ledger knew it then: authorised (route and\n\
seqs), unauthorised (banned by seq N, revoked by seq N, grant expired, membership ended, never\n\
granted), side door (the account may, the agency it acted for may not), ambiguous time (a repeated\n\
local hour judged differently at its two instants), or unmappable (a name the mapping lacks).\n\
Violations of permanent commitments (bans) are listed first. --known-at also judges every row by\n\
what was recorded later and lists the rows that changed. --out DIR writes findings.csv and\n\
findings.jsonl (every row not plainly authorised), malformed.jsonl and summary.json.\n\
The ledger stays locked against writers while the audit runs: audit a backup copy or a mirror.\n\
The mapping file and the log formats: docs/AUDIT.md. Exit 0 when the audit ran, findings or not."
    )]
    Audit(Audit),
    /// Sign a checkpoint of the current head (key with the checkpoint role), store and print it.
    #[command(
        after_help = "Example:\n  access-ledger checkpoint --key log-signer.key > checkpoint.txt"
    )]
    Checkpoint(Checkpoint),
    /// List the stored checkpoints.
    Checkpoints(Checkpoints),
    /// Prove that an entry is in the log, that the log only grew, or that a ban stands.
    #[command(subcommand)]
    Prove(ProveCommand),
    /// Check a proof offline against a signed checkpoint: no ledger needed.
    #[command(subcommand, name = "verify-proof")]
    VerifyProof(VerifyProofCommand),
    /// Council side: accept a checkpoint only if it extends the last one accepted, and cosign it.
    #[command(
        after_help = "Example:\n  access-ledger witness --state council-witness/ --ledger-key \"$(cat log.vkey)\" \\\n      --key council.key checkpoint.txt --proof consistency.json > cosigned.txt\n\n\
The first checkpoint is accepted on trust; every later one needs a consistency proof from the\n\
last accepted one (`access-ledger prove consistency --from OLD --to NEW`). A smaller tree\n\
(rollback), a different root at the same size (fork) or a bad signature is refused with exit 4."
    )]
    Witness(Witness),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Example:\n  access-ledger completions bash > /etc/bash_completion.d/access-ledger"
    )]
    Completions(Completions),
    /// Print the man page (roff).
    #[command(
        after_help = "Example:\n  access-ledger man > access-ledger.1 && man ./access-ledger.1"
    )]
    Man(Man),
    /// Build the illustrative Chicago 2019 ledger from the fixture, verify it, and take a tour.
    Demo(Demo),

    // Tiles (issue 15): publishing the log as static files, and reading it back.
    /// Write the log as C2SP tlog-tiles under DIR, for any static web host (incremental).
    #[command(
        after_help = "Examples:\n  access-ledger publish --out site/ --key cpd-admin.key      # sign a new checkpoint and publish it\n  \
access-ledger publish --out site/                           # publish the latest stored checkpoint\n  \
aws s3 sync site/tile s3://bucket/log/tile && aws s3 cp site/checkpoint s3://bucket/log/checkpoint\n\n\
Tiles are written first and the checkpoint last; sync them to a host in that order (docs/TRANSPARENCY.md)."
    )]
    Publish(Publish),
    /// Fetch a published log, verify all of it, and keep a read replica that answers every query.
    #[command(
        after_help = "Examples:\n  access-ledger mirror https://example.org/cpd-access --ledger-key \"$VKEY\" --ledger replica/\n  \
access-ledger --ledger replica/ who-can cpd/clear read\n\n\
Run it again to fetch only what is new; a published log that does not extend the replica is refused (exit 4)."
    )]
    Mirror(Mirror),

    // Oversight (issue 10): the city-council export, its offline check, and backups.
    /// Write the city-council oversight bundle for a period: report.html, CSV files, every entry, signed.
    #[command(
        after_help = "Example:\n  access-ledger export --from 2019-07-01 --to 2019-10-01 --out council-2019-q3/ \\\n      --key test-only-city-log-signer.key --since council-2019-q2/checkpoint.txt\n\n\
The period is [--from, --to) and must be over. Every answer is as the ledger knew it at its\n\
checkpoint (signed now with --key, a checkpoint-role key): the same period and checkpoint\n\
always give the same bytes. Open report.html in a browser; the CSV files in a spreadsheet;\n\
check it all with `access-ledger verify-export` (docs/OVERSIGHT.md). Writers wait only while\n\
the checkpoint is signed and the ledger copied."
    )]
    Export(Export),
    /// Check an oversight bundle offline: signatures, every entry, the checkpoint, every table.
    #[command(
        name = "verify-export",
        after_help = "Example:\n  access-ledger verify-export council-2019-q3/ --ledger-key \"$(cat log.vkey)\" \\\n      --since council-2019-q2/checkpoint.txt\n\n\
Needs no ledger: every entry of the bundle is replayed through the ledger's rules into a\n\
temporary ledger and every CSV file and the report's tables are recomputed from it.\n\
Exit 0 with a summary when all holds; exit 4 naming the first thing wrong (file, line, seq)."
    )]
    VerifyExport(VerifyExport),
    /// Copy the ledger consistently (same ledger id), for disaster recovery and long reads.
    #[command(
        after_help = "Example:\n  access-ledger backup --out /backups/ledger-2019-10-01/\n\n\
Writers wait only for the copy. The copy is opened and checked to hold the same entries;\n\
run `access-ledger --ledger COPY verify` to check all of it."
    )]
    Backup(Backup),
}

/// `keygen`.
#[derive(Debug, Args)]
pub struct Keygen {
    /// The authority name the key is for ([a-z0-9._-]).
    #[arg(long, value_parser = value::authority_name())]
    pub name: AuthorityName,
    /// Where to write the private key (never inside a ledger directory).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The key is a witness's: print its cosigner key (which checks its
    /// cosignatures, C2SP tlog-cosignature) instead of its note verifier key.
    #[arg(long)]
    pub witness: bool,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `init`.
#[derive(Debug, Args)]
pub struct Init {
    /// The log's name, first line of its checkpoints (e.g. chicago.gov/cpd-access).
    #[arg(long, value_parser = value::origin())]
    pub origin: Origin,
    /// IANA time zone for plain dates (e.g. America/Chicago).
    #[arg(long, value_name = "TZ", value_parser = value::zone())]
    pub time_zone: Zone,
    /// The first authority's private key (from keygen).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Back-date the genesis (migrating an existing paper record); bounds every later recorded_at.
    #[arg(long, value_name = "TIME")]
    pub created_at: Option<TimeArg>,
}

/// `grant`.
#[derive(Debug, Args)]
pub struct Grant {
    /// Who (kind:name, e.g. agency:fbi, group:federal-partners).
    #[arg(value_parser = value::subject())]
    pub subject: Subject,
    /// What (e.g. cpd/clear/arrests).
    #[arg(value_parser = value::resource())]
    pub resource: Resource,
    /// Comma-separated rights, or * for all.
    #[arg(long, value_name = "RIGHTS", value_parser = value::rights())]
    pub rights: Rights,
    /// The legal or contractual basis.
    #[arg(long, default_value = "", value_parser = value::basis())]
    pub basis: Text,
    /// Until when (exclusive).
    #[arg(long, value_name = "TIME")]
    pub until: Option<TimeArg>,
    #[command(flatten)]
    pub w: WriteArgs,
}

/// `revoke`.
#[derive(Debug, Args)]
pub struct Revoke {
    /// Who.
    #[arg(value_parser = value::subject())]
    pub subject: Subject,
    /// What.
    #[arg(value_parser = value::resource())]
    pub resource: Resource,
    /// Comma-separated rights (default: all).
    #[arg(long, value_name = "RIGHTS", value_parser = value::rights())]
    pub rights: Option<Rights>,
    /// Why.
    #[arg(long, default_value = "", value_parser = value::reason())]
    pub reason: Text,
    /// A ban: denies these rights by every route from effective_at on, forever.
    #[arg(long)]
    pub permanent: bool,
    #[command(flatten)]
    pub w: WriteArgs,
}

/// `join`.
#[derive(Debug, Args)]
pub struct Join {
    /// The member.
    #[arg(value_parser = value::subject())]
    pub member: Subject,
    /// The group (group:name).
    #[arg(value_parser = value::subject())]
    pub group: Subject,
    #[command(flatten)]
    pub w: WriteArgs,
}

/// `leave`.
#[derive(Debug, Args)]
pub struct Leave {
    /// The member.
    #[arg(value_parser = value::subject())]
    pub member: Subject,
    /// The group (group:name).
    #[arg(value_parser = value::subject())]
    pub group: Subject,
    #[command(flatten)]
    pub w: WriteArgs,
}

/// `share`.
#[derive(Debug, Args)]
pub struct Share {
    /// Who may pass data on.
    #[arg(value_parser = value::subject())]
    pub from: Subject,
    /// Who may receive it.
    #[arg(value_parser = value::subject())]
    pub to: Subject,
    /// Which data.
    #[arg(value_parser = value::resource())]
    pub resource: Resource,
    /// Comma-separated rights the recipient may exercise.
    #[arg(long, value_name = "RIGHTS", value_parser = value::rights())]
    pub rights: Rights,
    /// The agreement.
    #[arg(long, default_value = "", value_parser = value::basis())]
    pub basis: Text,
    /// Until when (exclusive).
    #[arg(long, value_name = "TIME")]
    pub until: Option<TimeArg>,
    #[command(flatten)]
    pub w: WriteArgs,
}

/// `unshare`.
#[derive(Debug, Args)]
pub struct Unshare {
    /// Who may no longer pass data on.
    #[arg(value_parser = value::subject())]
    pub from: Subject,
    /// To whom.
    #[arg(value_parser = value::subject())]
    pub to: Subject,
    /// Which data.
    #[arg(value_parser = value::resource())]
    pub resource: Resource,
    /// Comma-separated rights (default: all).
    #[arg(long, value_name = "RIGHTS", value_parser = value::rights())]
    pub rights: Option<Rights>,
    /// Why.
    #[arg(long, default_value = "", value_parser = value::basis())]
    pub basis: Text,
    #[command(flatten)]
    pub w: WriteArgs,
}

/// What every access-event command takes.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// When it takes effect (RFC 3339, or a plain date/time in the ledger's zone); default now.
    #[arg(long, value_name = "TIME")]
    pub effective_at: Option<TimeArg>,
    /// The signing key (an admin or writer).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
}

/// `import`.
#[derive(Debug, Args)]
pub struct Import {
    /// The JSON Lines file (- for standard input).
    pub file: PathBuf,
    /// The signing key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
}

/// `log`.
#[derive(Debug, Args)]
pub struct Log {
    /// First seq to list.
    #[arg(long, default_value_t = 0)]
    pub from: u64,
    /// Most entries to list.
    #[arg(long)]
    pub limit: Option<u64>,
    /// Print JSON Lines: one raw-entry line per entry (docs/FORMAT.md §7),
    /// re-importable with `import`.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
    /// Write the entries' exact bytes as one entry bundle (each entry's length
    /// as a big-endian u16, then its bytes; docs/FORMAT.md §9).
    #[arg(long, conflicts_with = "format")]
    pub raw: bool,
}

/// `show`.
#[derive(Debug, Args)]
pub struct Show {
    /// The entry's seq.
    pub seq: u64,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
    /// Write the entry's exact stored bytes (for `verify-proof --entry`).
    #[arg(long, conflicts_with = "format")]
    pub raw: bool,
}

/// `verify`.
#[derive(Debug, Args)]
pub struct Verify {
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `reindex`.
#[derive(Debug, Args)]
pub struct Reindex {
    /// Move a ledger in storage layout 1, 2 or 3 (made before layout 4) to
    /// layout 4, crash-safely: keeps every entry byte, rebuilds the rest.
    #[arg(long)]
    pub migrate: bool,
}

/// `check`.
#[derive(Debug, Args)]
pub struct Check {
    /// Who (kind:name).
    #[arg(value_parser = value::subject(), required_unless_present = "batch")]
    pub subject: Option<Subject>,
    /// What (e.g. cpd/clear/arrests).
    #[arg(value_parser = value::resource(), required_unless_present = "batch")]
    pub resource: Option<Resource>,
    /// One right (e.g. read).
    #[arg(value_parser = value::right(), required_unless_present = "batch")]
    pub right: Option<Right>,
    /// Answer many questions with one open of the ledger: read one JSON
    /// question per line on standard input, write one JSON answer per line on
    /// standard output (--at and --known-at are the defaults of each line).
    #[arg(long, conflicts_with_all = ["subject", "resource", "right"])]
    pub batch: bool,
    #[command(flatten)]
    pub q: QueryArgs,
}

/// `who-can`.
#[derive(Debug, Args)]
pub struct WhoCan {
    /// What.
    #[arg(value_parser = value::resource())]
    pub resource: Resource,
    /// One right.
    #[arg(value_parser = value::right())]
    pub right: Right,
    #[command(flatten)]
    pub q: QueryArgs,
}

/// `what-can`.
#[derive(Debug, Args)]
pub struct WhatCan {
    /// Who.
    #[arg(value_parser = value::subject())]
    pub subject: Subject,
    #[command(flatten)]
    pub q: QueryArgs,
}

/// `exposure`.
#[derive(Debug, Args)]
pub struct Exposure {
    /// Who.
    #[arg(value_parser = value::subject())]
    pub subject: Subject,
    /// What.
    #[arg(value_parser = value::resource())]
    pub resource: Resource,
    /// Most paths to list; the rest are counted ("and N more").
    #[arg(long, default_value_t = 20, value_name = "N", conflicts_with = "all")]
    pub limit: usize,
    /// List every path.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub q: QueryArgs,
}

/// `history`.
#[derive(Debug, Args)]
pub struct History {
    #[command(flatten)]
    pub target: HistoryTarget,
    #[command(flatten)]
    pub q: QueryArgs,
}

/// `changes`.
#[derive(Debug, Args)]
pub struct Changes {
    /// Start of the period (inclusive).
    #[arg(long, value_name = "TIME")]
    pub from: TimeArg,
    /// End of the period (exclusive).
    #[arg(long, value_name = "TIME")]
    pub to: TimeArg,
    /// Knowledge time: what the ledger had recorded by then (default now).
    #[arg(long, value_name = "TIME")]
    pub known_at: Option<TimeArg>,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `rebuild`.
#[derive(Debug, Args)]
pub struct Rebuild {
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `audit`.
#[derive(Debug, Args)]
pub struct Audit {
    /// The access log (CSV with a header row, or JSON Lines; - for standard input).
    #[arg(value_name = "ACCESS_LOG")]
    pub log: PathBuf,
    /// The mapping file (TOML, or JSON if it ends in .json): columns, time format, name rules.
    #[arg(long, value_name = "FILE")]
    pub mapping: PathBuf,
    /// The log's format (default: the mapping's, else by extension: .jsonl/.ndjson JSON Lines, else CSV).
    #[arg(long, value_enum)]
    pub format: Option<LogFormatArg>,
    /// Also judge every row by what the ledger had recorded by then (now, or a time), and list the rows that change.
    #[arg(long, value_name = "now|TIME")]
    pub known_at: Option<TimeArg>,
    /// Write findings.csv, findings.jsonl, malformed.jsonl and summary.json into DIR (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Count and list malformed rows instead of stopping at the first.
    #[arg(long)]
    pub skip_bad: bool,
    /// Print the summary as JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub json: Format,
}

/// An access log's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormatArg {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// `checkpoint`.
#[derive(Debug, Args)]
pub struct Checkpoint {
    /// The signing key (an authority with the checkpoint role).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
}

/// `checkpoints`.
#[derive(Debug, Args)]
pub struct Checkpoints {
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `witness`.
#[derive(Debug, Args)]
pub struct Witness {
    /// The witness's state directory (keeps the last accepted checkpoint).
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,
    /// The ledger's checkpoint verifier key (name+keyid+base64, from `authority list`).
    #[arg(long, value_name = "VKEY", value_parser = value::verifier_key())]
    pub ledger_key: VerifierKey,
    /// The witness's own signing key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The checkpoint note to accept (with --tiles, the published one by default).
    #[arg(required_unless_present = "tiles")]
    pub checkpoint: Option<PathBuf>,
    /// The consistency proof from the last accepted checkpoint (JSON or text form).
    #[arg(long, value_name = "FILE", conflicts_with = "tiles")]
    pub proof: Option<PathBuf>,
    /// Take the consistency proof (and by default the checkpoint) from a log
    /// published as tiles: a directory or an http(s):// URL.
    #[arg(long, value_name = "SOURCE")]
    pub tiles: Option<String>,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct Completions {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// `man`.
#[derive(Debug, Args)]
pub struct Man {}

/// `demo`.
#[derive(Debug, Args)]
pub struct Demo {
    /// Where to build it (replaced if it holds an earlier demo).
    #[arg(long, value_name = "DIR", default_value = "access-ledger-demo")]
    pub out: PathBuf,
}

/// Proofs from the ledger.
#[derive(Debug, Subcommand)]
pub enum ProveCommand {
    /// Prove that entry SEQ is in the tree of --size entries (default: all).
    #[command(
        after_help = "Example:\n  access-ledger prove inclusion 12 --size 13 --json > inclusion.json\n  access-ledger show 12 --raw > entry.bin"
    )]
    Inclusion(ProveInclusion),
    /// Prove that the tree of --to entries extends the tree of --from entries.
    #[command(
        after_help = "Example:\n  access-ledger prove consistency --from 13 --to 20 --json > consistency.json"
    )]
    Consistency(ProveConsistency),
    /// For a permanent revocation: its inclusion in the latest checkpoint, and what else to check.
    Commitment(ProveCommitment),
}

/// `prove inclusion`.
#[derive(Debug, Args)]
pub struct ProveInclusion {
    /// The entry.
    pub seq: u64,
    /// The tree size (default: the current size).
    #[arg(long)]
    pub size: Option<u64>,
    /// Print JSON (default: the text form).
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `prove consistency`.
#[derive(Debug, Args)]
pub struct ProveConsistency {
    /// The older tree size.
    #[arg(long)]
    pub from: u64,
    /// The newer tree size (default: the current size).
    #[arg(long)]
    pub to: Option<u64>,
    /// Print JSON (default: the text form).
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `prove commitment`.
#[derive(Debug, Args)]
pub struct ProveCommitment {
    /// The revoke entry.
    pub seq: u64,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// Offline proof checks.
#[derive(Debug, Subcommand)]
pub enum VerifyProofCommand {
    /// Check an inclusion proof against a checkpoint (and the entry, if given).
    #[command(
        after_help = "Example:\n  access-ledger verify-proof inclusion --checkpoint checkpoint.txt --ledger-key \"$(cat log.vkey)\" \\\n      --proof inclusion.json --entry entry.bin"
    )]
    Inclusion(VerifyInclusion),
    /// Check that one checkpoint's tree extends another's.
    #[command(
        after_help = "Example:\n  access-ledger verify-proof consistency --old-checkpoint june.txt --checkpoint july.txt \\\n      --ledger-key \"$(cat log.vkey)\" --proof consistency.json"
    )]
    Consistency(VerifyConsistency),
}

/// `verify-proof inclusion`.
#[derive(Debug, Args)]
pub struct VerifyInclusion {
    /// The signed checkpoint note.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: PathBuf,
    /// The ledger's checkpoint verifier key.
    #[arg(long, value_name = "VKEY", value_parser = value::verifier_key())]
    pub ledger_key: VerifierKey,
    /// The proof (JSON or text form).
    #[arg(long, value_name = "FILE")]
    pub proof: PathBuf,
    /// The entry's exact bytes (`show SEQ --raw`).
    #[arg(long, value_name = "FILE")]
    pub entry: Option<PathBuf>,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `verify-proof consistency`.
#[derive(Debug, Args)]
pub struct VerifyConsistency {
    /// The older signed checkpoint.
    #[arg(long, value_name = "FILE")]
    pub old_checkpoint: PathBuf,
    /// The newer signed checkpoint.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: PathBuf,
    /// The ledger's checkpoint verifier key.
    #[arg(long, value_name = "VKEY", value_parser = value::verifier_key())]
    pub ledger_key: VerifierKey,
    /// The proof (JSON or text form).
    #[arg(long, value_name = "FILE")]
    pub proof: PathBuf,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// Authority management.
#[derive(Debug, Subcommand)]
pub enum AuthorityCommand {
    /// Add an authority (signed by an admin).
    #[command(
        after_help = "Example:\n  access-ledger authority add cpd-clerk --public-key 'cpd-clerk+1a2b3c4d+AQ...' --roles writer --key cpd-admin.key"
    )]
    Add(AuthorityAdd),
    /// Retire an authority: it can no longer sign (signed by an admin).
    Retire(AuthorityRetire),
    /// List authorities.
    List(AuthorityList),
}

/// `authority add`.
#[derive(Debug, Args)]
pub struct AuthorityAdd {
    /// The new authority's name.
    #[arg(value_parser = value::authority_name())]
    pub name: AuthorityName,
    /// Its public key: the verifier key printed by keygen, or base64.
    // Text until it meets NAME: a verifier key must name the same authority,
    // which `parse_public_key` checks with both in hand. Hyphen values are
    // taken, so that a PEM block pasted here by mistake reaches the key
    // parser (which refuses it without quoting it) rather than clap's
    // "unexpected argument" error (which quotes it).
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    pub public_key: String,
    /// Comma-separated roles: admin, writer, checkpoint.
    #[arg(long, value_parser = value::roles())]
    pub roles: Roles,
    /// The signing admin's key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
}

/// `authority retire`.
#[derive(Debug, Args)]
pub struct AuthorityRetire {
    /// The authority's name.
    #[arg(value_parser = value::authority_name())]
    pub name: AuthorityName,
    /// The signing admin's key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
}

/// `authority list`.
#[derive(Debug, Args)]
pub struct AuthorityList {
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// The times of a query.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Valid time: when the access would happen (default now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<TimeArg>,
    /// Knowledge time: answer from what the ledger had recorded by then (default now).
    #[arg(long, value_name = "TIME")]
    pub known_at: Option<TimeArg>,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// What a history is of.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct HistoryTarget {
    /// Events naming this subject.
    #[arg(long, value_parser = value::subject())]
    pub subject: Option<Subject>,
    /// Events on this resource, its ancestors or its descendants.
    #[arg(long, value_parser = value::resource())]
    pub resource: Option<Resource>,
}

// Tiles (issue 15).

/// `publish`.
#[derive(Debug, Args)]
pub struct Publish {
    /// The directory to write the tiles into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Sign a new checkpoint of the head with this key first (default: publish the latest stored checkpoint).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `mirror`.
#[derive(Debug, Args)]
pub struct Mirror {
    /// Where the log is published: a directory, or an http:// or https:// URL.
    pub source: String,
    /// The ledger's checkpoint verifier key (name+keyid+base64, from `authority list` or access-ledger.json).
    #[arg(long, value_name = "VKEY", value_parser = value::verifier_key())]
    pub ledger_key: VerifierKey,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `export`.
#[derive(Debug, Args)]
pub struct Export {
    /// Start of the period (inclusive; a plain date is in the ledger's zone).
    #[arg(long, value_name = "TIME")]
    pub from: TimeArg,
    /// End of the period (exclusive).
    #[arg(long, value_name = "TIME")]
    pub to: TimeArg,
    /// The bundle directory to write (new or empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The signing key: an authority with the checkpoint role.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The council's previous checkpoint: adds consistency.proof from it to this one.
    #[arg(long, value_name = "CHECKPOINT_FILE")]
    pub since: Option<PathBuf>,
    /// Also audit this access log's rows in the period (docs/AUDIT.md): the report shows the
    /// violations of commitments and side-door counts, as an attested section (audit.json).
    #[arg(long, value_name = "ACCESS_LOG", requires = "mapping")]
    pub access_log: Option<PathBuf>,
    /// The mapping file of --access-log (TOML or JSON, docs/AUDIT.md).
    #[arg(long, value_name = "FILE", requires = "access_log")]
    pub mapping: Option<PathBuf>,
    /// The access log's format (default: the mapping's, else by its extension).
    #[arg(long, value_enum, requires = "access_log")]
    pub log_format: Option<LogFormatArg>,
    /// Count and list the access log's malformed rows instead of stopping at the first.
    #[arg(long, requires = "access_log")]
    pub skip_bad: bool,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `verify-export`.
#[derive(Debug, Args)]
pub struct VerifyExport {
    /// The bundle directory.
    pub dir: PathBuf,
    /// The ledger's checkpoint verifier key (name+keyid+base64, from `authority list`).
    #[arg(long, value_name = "VKEY", value_parser = value::verifier_key())]
    pub ledger_key: VerifierKey,
    /// The previous checkpoint you accepted: the bundle must prove it extends it.
    #[arg(long, value_name = "CHECKPOINT_FILE")]
    pub since: Option<PathBuf>,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}

/// `backup`.
#[derive(Debug, Args)]
pub struct Backup {
    /// Where to copy the ledger (a new or empty directory).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print JSON.
    #[arg(long = "json", action = ArgAction::SetTrue)]
    pub format: Format,
}
