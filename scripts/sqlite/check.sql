-- May :subject exercise :right on :resource at valid time :at, as recorded by
-- :known_at? One statement; 1 allowed, 0 denied. The rules are those of
-- docs/SEMANTICS.md (1-7) for the allowed/denied bit:
-- an event counts when recorded_at <= :known_at and effective_at <= :at, and
-- events are ordered by (effective_at, seq);
-- membership: the latest counting join/leave of each (member, group) is a
-- join, transitively through nested groups (the recursive CTE);
-- a counting ban of the subject or of any group it is in, covering the
-- resource and right, denies; otherwise a live counting grant to the subject
-- or one of its groups, with no later counting revoke of that subject
-- covering the same, allows.
-- MATERIALIZED: each CTE is computed once per question. CROSS JOIN fixes the
-- join order (subjects first, then their rows by index): without it SQLite
-- 3.54 (rusqlite's bundled one) scans the whole table with a Bloom filter.
WITH RECURSIVE
subjects(s) AS MATERIALIZED (
  SELECT :subject
  UNION
  SELECT j.grp
  FROM subjects
  CROSS JOIN events j ON j.subject = subjects.s AND j.kind = 'join'
  WHERE j.recorded_at <= :known_at AND j.effective_at <= :at
    AND NOT EXISTS (
      SELECT 1 FROM events l
      WHERE l.subject = j.subject AND l.kind IN ('join', 'leave') AND l.grp = j.grp
        AND l.recorded_at <= :known_at AND l.effective_at <= :at
        AND (l.effective_at > j.effective_at OR (l.effective_at = j.effective_at AND l.seq > j.seq)))
),
covering AS MATERIALIZED (
  SELECT e.* FROM subjects
  CROSS JOIN events e ON e.subject = subjects.s AND e.kind IN ('grant', 'revoke', 'ban')
  WHERE e.recorded_at <= :known_at AND e.effective_at <= :at
    AND (e.resource = :resource OR substr(:resource, 1, length(e.resource) + 1) = e.resource || '/')
    AND (e.rights IS NULL OR e.rights = '*' OR instr(e.rights, ',' || :right || ',') > 0)
)
SELECT CASE
  WHEN EXISTS (SELECT 1 FROM covering WHERE kind = 'ban') THEN 0
  WHEN EXISTS (
    SELECT 1 FROM covering g
    WHERE g.kind = 'grant' AND (g.until IS NULL OR :at < g.until)
      AND NOT EXISTS (
        SELECT 1 FROM covering v
        WHERE v.kind = 'revoke' AND v.subject = g.subject
          AND (v.effective_at > g.effective_at OR (v.effective_at = g.effective_at AND v.seq > g.seq)))
  ) THEN 1
  ELSE 0
END AS allowed;
