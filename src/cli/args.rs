//! The command line, defined once with clap derive.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    #[arg(long, global = true, default_value_t = 3.0, value_name = "SECONDS", value_parser = seconds)]
    pub wait: f64,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// A number of seconds from 0 to 3600 (not NaN, not infinite).
fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a number of seconds from 0 to 3600, got {s:?}"
        )),
    }
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a new ed25519 signing key file (mode 0600) and print its public verifier key.
    #[command(
        after_help = "Example:\n  access-ledger keygen --name cpd-admin --out cpd-admin.key"
    )]
    Keygen {
        /// The authority name the key is for ([a-z0-9._-]).
        #[arg(long)]
        name: String,
        /// Where to write the private key (never inside a ledger directory).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create a new ledger whose first authority is the key's owner.
    #[command(
        after_help = "Example:\n  access-ledger init --origin chicago.gov/cpd-access --time-zone America/Chicago --key cpd-admin.key"
    )]
    Init {
        /// The log's name, first line of its checkpoints (e.g. chicago.gov/cpd-access).
        #[arg(long)]
        origin: String,
        /// IANA time zone for plain dates (e.g. America/Chicago).
        #[arg(long, value_name = "TZ")]
        time_zone: String,
        /// The first authority's private key (from keygen).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Back-date the genesis (migrating an existing paper record); bounds every later recorded_at.
        #[arg(long, value_name = "TIME")]
        created_at: Option<String>,
    },
    /// Add or retire a signing authority (admins only).
    #[command(subcommand)]
    Authority(AuthorityCommand),
    /// Grant a subject rights on a resource and everything below it.
    #[command(
        after_help = "Example:\n  access-ledger grant group:federal-partners cpd/clear --rights read --basis \"MOU 2016-04\" --effective-at 2016-04-01 --key clerk.key"
    )]
    Grant {
        /// Who (kind:name, e.g. agency:fbi, group:federal-partners).
        subject: String,
        /// What (e.g. cpd/clear/arrests).
        resource: String,
        /// Comma-separated rights, or * for all.
        #[arg(long, value_name = "RIGHTS")]
        rights: String,
        /// The legal or contractual basis.
        #[arg(long, default_value = "")]
        basis: String,
        /// Until when (exclusive).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        #[command(flatten)]
        w: WriteArgs,
    },
    /// Revoke rights (all by default); --permanent makes it a ban that nothing can grant back.
    #[command(
        after_help = "Example:\n  access-ledger revoke agency:ice cpd --permanent --reason \"Mayor's order\" --effective-at 2019-07-10 --key clerk.key"
    )]
    Revoke {
        /// Who.
        subject: String,
        /// What.
        resource: String,
        /// Comma-separated rights (default: all).
        #[arg(long, value_name = "RIGHTS")]
        rights: Option<String>,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
        /// A ban: denies these rights by every route from effective_at on, forever.
        #[arg(long)]
        permanent: bool,
        #[command(flatten)]
        w: WriteArgs,
    },
    /// Add a subject (or a group) to a group.
    Join {
        /// The member.
        member: String,
        /// The group (group:name).
        group: String,
        #[command(flatten)]
        w: WriteArgs,
    },
    /// Remove a subject from a group.
    Leave {
        /// The member.
        member: String,
        /// The group (group:name).
        group: String,
        #[command(flatten)]
        w: WriteArgs,
    },
    /// Record an onward-sharing agreement: FROM may pass data of RESOURCE to TO.
    Share {
        /// Who may pass data on.
        from: String,
        /// Who may receive it.
        to: String,
        /// Which data.
        resource: String,
        /// Comma-separated rights the recipient may exercise.
        #[arg(long, value_name = "RIGHTS")]
        rights: String,
        /// The agreement.
        #[arg(long, default_value = "")]
        basis: String,
        /// Until when (exclusive).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        #[command(flatten)]
        w: WriteArgs,
    },
    /// End a sharing agreement (all rights by default).
    Unshare {
        /// Who may no longer pass data on.
        from: String,
        /// To whom.
        to: String,
        /// Which data.
        resource: String,
        /// Comma-separated rights (default: all).
        #[arg(long, value_name = "RIGHTS")]
        rights: Option<String>,
        /// Why.
        #[arg(long, default_value = "")]
        basis: String,
        #[command(flatten)]
        w: WriteArgs,
    },
    /// Sign and append every event of a JSON Lines file, all or nothing.
    #[command(
        after_help = "Each line is one JSON object, e.g.\n  {\"type\":\"grant\",\"subject\":\"agency:fbi\",\"resource\":\"cpd/clear\",\"rights\":[\"read\"],\"basis\":\"MOU\",\"effective_at\":\"2016-04-01\"}\n\
Optional \"recorded_at\" back-dates a historical entry (non-decreasing, not in the future).\n\
`log --json` output imports as is (genesis lines are skipped; signatures are made anew)."
    )]
    Import {
        /// The JSON Lines file (- for standard input).
        file: PathBuf,
        /// The signing key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// List entries.
    Log {
        /// First seq to list.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Most entries to list.
        #[arg(long)]
        limit: Option<u64>,
        /// Print JSON Lines (re-importable with `import`).
        #[arg(long)]
        json: bool,
    },
    /// Show one entry in full.
    Show {
        /// The entry's seq.
        seq: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Write the entry's exact stored bytes (for `verify-proof --entry`).
        #[arg(long, conflicts_with = "json")]
        raw: bool,
    },
    /// Replay the whole log and check every link, signature, authority and ban.
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rebuild every derived index from the entries alone.
    Reindex,
    /// May SUBJECT exercise RIGHT on RESOURCE? Exit 0 allowed, 1 denied; says which events decide.
    #[command(
        after_help = "Examples:\n  access-ledger check agency:ice cpd/clear/arrests read --at 2019-07-20\n  \
access-ledger check agency:ice cpd/clear/arrests read --at 2019-07-10 --known-at 2019-07-11   # before the ban was recorded"
    )]
    Check {
        /// Who (kind:name).
        subject: String,
        /// What (e.g. cpd/clear/arrests).
        resource: String,
        /// One right (e.g. read).
        right: String,
        #[command(flatten)]
        q: QueryArgs,
    },
    /// Every subject that may exercise RIGHT on RESOURCE, with its route.
    #[command(
        name = "who-can",
        after_help = "Example:\n  access-ledger who-can cpd/clear read --at 2019-07-14"
    )]
    WhoCan {
        /// What.
        resource: String,
        /// One right.
        right: String,
        #[command(flatten)]
        q: QueryArgs,
    },
    /// Every resource and right SUBJECT holds, with routes.
    #[command(
        name = "what-can",
        after_help = "Example:\n  access-ledger what-can agency:fbi --at 2019-07-14"
    )]
    WhatCan {
        /// Who.
        subject: String,
        #[command(flatten)]
        q: QueryArgs,
    },
    /// Every path by which data of RESOURCE reaches SUBJECT: grants, groups, sharing agreements.
    #[command(
        after_help = "Example:\n  access-ledger exposure agency:ice cpd/clear --at 2019-07-20\n\n\
An analysis, not a decision: paths that reach a banned subject are flagged."
    )]
    Exposure {
        /// Who.
        subject: String,
        /// What.
        resource: String,
        #[command(flatten)]
        q: QueryArgs,
    },
    /// The timeline of events about a subject or a resource, with who signed each.
    #[command(
        after_help = "Examples:\n  access-ledger history --subject agency:ice\n  access-ledger history --resource cpd/clear/arrests"
    )]
    History {
        #[command(flatten)]
        target: HistoryTarget,
        #[command(flatten)]
        q: QueryArgs,
    },
    /// Every change of effective access in a period: who gained or lost what, when, by which event.
    #[command(after_help = "Example:\n  access-ledger changes --from 2019-07-01 --to 2019-08-01")]
    Changes {
        /// Start of the period (inclusive).
        #[arg(long, value_name = "TIME")]
        from: String,
        /// End of the period (exclusive).
        #[arg(long, value_name = "TIME")]
        to: String,
        /// Knowledge time: what the ledger had recorded by then (default now).
        #[arg(long, value_name = "TIME")]
        known_at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replay the log from scratch and compare the stored indexes with the replay.
    Rebuild {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sign a checkpoint of the current head (key with the checkpoint role), store and print it.
    #[command(
        after_help = "Example:\n  access-ledger checkpoint --key log-signer.key > checkpoint.txt"
    )]
    Checkpoint {
        /// The signing key (an authority with the checkpoint role).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// List the stored checkpoints.
    Checkpoints {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
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
    Witness {
        /// The witness's state directory (keeps the last accepted checkpoint).
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// The ledger's checkpoint verifier key (name+keyid+base64, from `authority list`).
        #[arg(long, value_name = "VKEY")]
        ledger_key: String,
        /// The witness's own signing key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The checkpoint note to accept.
        checkpoint: PathBuf,
        /// The consistency proof from the last accepted checkpoint (JSON or text form).
        #[arg(long, value_name = "FILE")]
        proof: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Example:\n  access-ledger completions bash > /etc/bash_completion.d/access-ledger"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(
        after_help = "Example:\n  access-ledger man > access-ledger.1 && man ./access-ledger.1"
    )]
    Man,
    /// Build the illustrative Chicago 2019 ledger from the fixture, verify it, and take a tour.
    Demo {
        /// Where to build it (replaced if it holds an earlier demo).
        #[arg(long, value_name = "DIR", default_value = "access-ledger-demo")]
        out: PathBuf,
    },
}

/// Proofs from the ledger.
#[derive(Debug, Subcommand)]
pub enum ProveCommand {
    /// Prove that entry SEQ is in the tree of --size entries (default: all).
    #[command(
        after_help = "Example:\n  access-ledger prove inclusion 12 --size 13 --json > inclusion.json\n  access-ledger show 12 --raw > entry.bin"
    )]
    Inclusion {
        /// The entry.
        seq: u64,
        /// The tree size (default: the current size).
        #[arg(long)]
        size: Option<u64>,
        /// Print JSON (default: the text form).
        #[arg(long)]
        json: bool,
    },
    /// Prove that the tree of --to entries extends the tree of --from entries.
    #[command(
        after_help = "Example:\n  access-ledger prove consistency --from 13 --to 20 --json > consistency.json"
    )]
    Consistency {
        /// The older tree size.
        #[arg(long)]
        from: u64,
        /// The newer tree size (default: the current size).
        #[arg(long)]
        to: Option<u64>,
        /// Print JSON (default: the text form).
        #[arg(long)]
        json: bool,
    },
    /// For a permanent revocation: its inclusion in the latest checkpoint, and what else to check.
    Commitment {
        /// The revoke entry.
        seq: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Offline proof checks.
#[derive(Debug, Subcommand)]
pub enum VerifyProofCommand {
    /// Check an inclusion proof against a checkpoint (and the entry, if given).
    #[command(
        after_help = "Example:\n  access-ledger verify-proof inclusion --checkpoint checkpoint.txt --ledger-key \"$(cat log.vkey)\" \\\n      --proof inclusion.json --entry entry.bin"
    )]
    Inclusion {
        /// The signed checkpoint note.
        #[arg(long, value_name = "FILE")]
        checkpoint: PathBuf,
        /// The ledger's checkpoint verifier key.
        #[arg(long, value_name = "VKEY")]
        ledger_key: String,
        /// The proof (JSON or text form).
        #[arg(long, value_name = "FILE")]
        proof: PathBuf,
        /// The entry's exact bytes (`show SEQ --raw`).
        #[arg(long, value_name = "FILE")]
        entry: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check that one checkpoint's tree extends another's.
    #[command(
        after_help = "Example:\n  access-ledger verify-proof consistency --old-checkpoint june.txt --checkpoint july.txt \\\n      --ledger-key \"$(cat log.vkey)\" --proof consistency.json"
    )]
    Consistency {
        /// The older signed checkpoint.
        #[arg(long, value_name = "FILE")]
        old_checkpoint: PathBuf,
        /// The newer signed checkpoint.
        #[arg(long, value_name = "FILE")]
        checkpoint: PathBuf,
        /// The ledger's checkpoint verifier key.
        #[arg(long, value_name = "VKEY")]
        ledger_key: String,
        /// The proof (JSON or text form).
        #[arg(long, value_name = "FILE")]
        proof: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Authority management.
#[derive(Debug, Subcommand)]
pub enum AuthorityCommand {
    /// Add an authority (signed by an admin).
    #[command(
        after_help = "Example:\n  access-ledger authority add cpd-clerk --public-key 'cpd-clerk+1a2b3c4d+AQ...' --roles writer --key cpd-admin.key"
    )]
    Add {
        /// The new authority's name.
        name: String,
        /// Its public key: the verifier key printed by keygen, or base64.
        // Hyphen values are taken, so that a PEM block pasted here by mistake
        // reaches the key parser (which refuses it without quoting it)
        // rather than clap's "unexpected argument" error (which quotes it).
        #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
        public_key: String,
        /// Comma-separated roles: admin, writer, checkpoint.
        #[arg(long)]
        roles: String,
        /// The signing admin's key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// Retire an authority: it can no longer sign (signed by an admin).
    Retire {
        /// The authority's name.
        name: String,
        /// The signing admin's key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// List authorities.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The times of a query.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Valid time: when the access would happen (default now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Knowledge time: answer from what the ledger had recorded by then (default now).
    #[arg(long, value_name = "TIME")]
    pub known_at: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What a history is of.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct HistoryTarget {
    /// Events naming this subject.
    #[arg(long)]
    pub subject: Option<String>,
    /// Events on this resource, its ancestors or its descendants.
    #[arg(long)]
    pub resource: Option<String>,
}

/// What every access-event command takes.
#[derive(Debug, Args)]
pub struct WriteArgs {
    /// When it takes effect (RFC 3339, or a plain date/time in the ledger's zone); default now.
    #[arg(long, value_name = "TIME")]
    pub effective_at: Option<String>,
    /// The signing key (an admin or writer).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
}
