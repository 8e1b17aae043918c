-- What a city IT department would build instead of access-ledger: one
-- append-only audit table of access events, with a valid-time column
-- (effective_at) and a recorded-time column (recorded_at). The comparison in
-- benches/sqlite.rs (run by scripts/bench.sh) loads the same events as the
-- synthetic ledger into it and asks it the same `check` questions with
-- check.sql. Times are microseconds since 1970-01-01 UTC.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

CREATE TABLE IF NOT EXISTS events (
  seq          INTEGER PRIMARY KEY,  -- position in the log
  recorded_at  INTEGER NOT NULL,     -- when the city recorded it (knowledge time)
  kind         TEXT NOT NULL,        -- grant | revoke | ban | join | leave | share | unshare | authority
  subject      TEXT,                 -- grant, revoke, ban: who; join, leave: the member; share: to
  resource     TEXT,                 -- grant, revoke, ban, share: what (a path, a/b/c)
  grp          TEXT,                 -- join, leave: the group; share: from
  rights       TEXT,                 -- ',read,write,'; '*' every right; NULL every right (revokes)
  effective_at INTEGER,              -- when it takes effect (valid time)
  until        INTEGER               -- grants and shares: end, exclusive; NULL open
) STRICT;

-- Rows are only ever inserted; this index serves every lookup of check.sql.
CREATE INDEX IF NOT EXISTS events_by_subject ON events (subject, kind, grp);
