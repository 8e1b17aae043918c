//! report.html: the bundle for people. One self-contained file: no script,
//! no network, print styles for A4 and Letter; every text from the ledger
//! escaped (subjects, bases and reasons are written by whoever signs an
//! entry, so they are attacker-influenced).
//!
//! Layout contract (docs/FORMAT.md, "Oversight export bundle"): every table
//! row is one line; every instant is `<time datetime="RFC 3339 UTC">` with
//! the local reading as its text, so `verify-export` compares the report
//! line by line with the one it recomputes, reading times as instants.

use std::fmt::Write;

use super::tables::{
    just_before, MatrixCell, MatrixShown, Tables, TIMELINE_BUSIEST, TIMELINE_MAX_ROWS,
};
use crate::time::{Timestamp, Zone};

/// The most rows a report table shows; the CSV file has them all.
pub(crate) const MAX_REPORT_ROWS: usize = 1000;

/// `s` escaped for HTML text and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

fn time(t: Timestamp, zone: &Zone) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        t.rfc3339(),
        esc(&t.local(zone))
    )
}

fn seqs(v: &[u64]) -> String {
    v.iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

const STYLE: &str = "body{font-family:Georgia,'Times New Roman',serif;max-width:62rem;margin:1.5rem auto;padding:0 1rem;color:#111;line-height:1.4}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;border-bottom:2px solid #333;margin-top:2rem}\
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}th,td{border:1px solid #999;padding:.25rem .4rem;text-align:left;vertical-align:top}\
th{background:#eee}td{overflow-wrap:break-word}.flag{background:#fdd;font-weight:bold}.ok{background:#dfd}.held{background:#ffd}\
.note{color:#444;font-size:.9rem}code{font-size:.85rem;word-break:break-all}svg{width:100%;height:auto}\
.summary{border:2px solid #333;padding:.5rem 1rem;background:#f7f7f7}\
@media print{body{max-width:none;margin:0;font-size:10pt}h2{break-after:avoid}tr{break-inside:avoid}thead{display:table-header-group}.summary{background:none}}\
@page{margin:15mm}";

/// Renders the report into `w`, line by line (`verify-export` compares the
/// lines as they come instead of holding the whole report: 38 MB at
/// 1,000,000 entries; `export` writes them to the file as they come). Write
/// errors are `w`'s to keep: the rendering goes on. The error returned is
/// that of reading back the matrices' rows (see [`MatrixShown`]).
pub(crate) fn render_to(
    w: &mut impl Write,
    t: &Tables,
    audit: Option<&serde_json::Value>,
) -> std::io::Result<()> {
    let z = &t.zone;
    let _ = writeln!(w, "<!DOCTYPE html>");
    let _ = writeln!(w, "<html lang=\"en\">");
    let _ = writeln!(w, "<head>");
    let _ = writeln!(w, "<meta charset=\"utf-8\">");
    let _ = writeln!(
        w,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    );
    let _ = writeln!(w, "<title>Oversight report: {}</title>", esc(&t.origin));
    let _ = writeln!(w, "<style>{STYLE}</style>");
    let _ = writeln!(w, "</head>");
    let _ = writeln!(w, "<body>");
    let _ = writeln!(
        w,
        "<h1>Who could reach the data: oversight report for {}</h1>",
        esc(&t.origin)
    );
    let _ = writeln!(
        w,
        "<p>Period: from {} up to (not including) {}. Times are in the ledger's time zone, {}.</p>",
        time(t.from, z),
        time(t.to, z),
        esc(z.name())
    );
    let _ = writeln!(
        w,
        "<p>Every answer here is what the ledger had recorded by {} (the last entry this report covers), so the same period and checkpoint always give the same report.</p>",
        time(t.known_at, z)
    );

    // Verification summary.
    let _ = writeln!(
        w,
        "<h2 id=\"verification\">Is this record complete and unaltered?</h2>"
    );
    let _ = writeln!(w, "<div class=\"summary\">");
    let _ = writeln!(
        w,
        "<p>This bundle holds all <strong>{}</strong> entries of the ledger, from its first entry to the last one recorded before it was exported. When it was written, every entry was checked again: each is signed by an authority of the ledger, links to the one before by its hash, and breaks no rule (in particular, nothing was granted against a permanent revocation). They all passed.</p>",
        t.size
    );
    let signed_at = t
        .checkpoint_time
        .map(|c| format!(", signed at {}", time(c, z)))
        .unwrap_or_default();
    let _ = writeln!(
        w,
        "<p>The entries are sealed by a <em>checkpoint</em> (file checkpoint.txt) signed by <strong>{}</strong>{signed_at}: a fingerprint of all {} entries (root <code>{}</code>). Changing, removing or adding any entry changes that fingerprint.</p>",
        esc(&t.checkpoint_signer),
        t.size,
        esc(&t.root.to_string())
    );
    let _ = writeln!(
        w,
        "<p>Ledger id <code>{}</code>; last entry <code>{}</code>. To check this bundle yourself, see <a href=\"#verify\">How to verify this bundle</a>.</p>",
        esc(&t.ledger_id),
        esc(&t.head)
    );
    let _ = writeln!(w, "</div>");

    // Commitments.
    let _ = writeln!(
        w,
        "<h2 id=\"commitments-section\">The commitments: permanent revocations</h2>"
    );
    let _ = writeln!(
        w,
        "<p>A permanent revocation is a promise that a subject will never again get these rights. For each one, over the whole history (not only this period): <em>kept</em> means nothing recorded since tried to give the rights back; <em>held</em> means later grants would have given them back, but the ledger refused to let them count; <em>back door open</em> means data still flows to the banned subject through other agencies' sharing agreements (see the next section).</p>"
    );
    if t.commitments.is_empty() {
        let _ = writeln!(w, "<p>The ledger holds no permanent revocation.</p>");
    }
    let _ = writeln!(w, "<table id=\"commitments\">");
    let _ = writeln!(w, "<thead><tr><th>Seq</th><th>Who</th><th>From what</th><th>Rights</th><th>Effective</th><th>Recorded</th><th>Signed by</th><th>Reason</th><th>Status</th><th>Held entries</th><th>Back-door paths</th></tr></thead>");
    let _ = writeln!(w, "<tbody>");
    for c in &t.commitments {
        let class = match c.status {
            "kept" => "ok",
            "held" => "held",
            _ => "flag",
        };
        let _ = writeln!(
            w,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td><td>{}</td><td>{}</td></tr>",
            c.seq,
            esc(&c.subject),
            esc(&c.resource),
            esc(&c.rights),
            time(c.effective_at, z),
            time(c.recorded_at, z),
            esc(&c.signer),
            esc(&c.reason),
            c.status,
            seqs(&c.held),
            c.back_doors
        );
    }
    let _ = writeln!(w, "</tbody></table>");

    // Back doors.
    let _ = writeln!(w, "<h2 id=\"back-door\">The back door: banned data reaching banned subjects through others</h2>");
    let _ = writeln!(
        w,
        "<p>Each row is a path, at the end of the period ({}), by which data of a resource covered by a permanent revocation can still reach the banned subject: some agency holds the data and a chain of sharing agreements passes it on. The ledger denies the banned subject direct access; these agreements are how the data could still flow. Every such path is flagged.</p>",
        time(just_before(t.to), z)
    );
    if t.exposures.is_empty() {
        let _ = writeln!(w, "<p>None found: no sharing agreement carries banned data to a banned subject at the end of the period.</p>");
    }
    let _ = writeln!(w, "<table id=\"exposures\">");
    let _ = writeln!(w, "<thead><tr><th>Revocation</th><th>Reaches</th><th>Data of</th><th>The path (each step: entry and who receives the data)</th><th>Rights</th><th>Flagged by bans</th></tr></thead>");
    let _ = writeln!(w, "<tbody>");
    for x in t.exposures.iter().take(MAX_REPORT_ROWS) {
        let _ = writeln!(
            w,
            "<tr class=\"flag\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            x.ban,
            esc(x.subject.as_str()),
            esc(x.resource.as_str()),
            esc(&x.path),
            esc(&x.rights),
            seqs(&x.banned)
        );
    }
    let _ = writeln!(w, "</tbody></table>");
    more(w, t.exposures.len(), super::files::EXPOSURES);

    // Changes.
    let _ = writeln!(
        w,
        "<h2 id=\"changes-section\">Every change of access in the period</h2>"
    );
    let _ = writeln!(
        w,
        "<p>Who gained or lost which right on what, and when; with the entries that made the change, their stated basis or reason, and who signed them. A change on a resource also applies below it, except where another row says otherwise. <code>*</code> stands for every right the subject's grants do not name.</p>"
    );
    if t.changes.is_empty() {
        let _ = writeln!(w, "<p>No access changed in the period.</p>");
    }
    let _ = writeln!(w, "<table id=\"changes\">");
    let _ = writeln!(w, "<thead><tr><th>When</th><th>Who</th><th>What</th><th>Right</th><th>Change</th><th>Entries</th><th>Basis or reason</th><th>Signed by</th></tr></thead>");
    let _ = writeln!(w, "<tbody>");
    for c in t.changes.iter().take(MAX_REPORT_ROWS) {
        let basis: Vec<String> = c.events.iter().map(|e| esc(&e.basis)).collect();
        let signers: Vec<String> = c.events.iter().map(|e| esc(&e.signer)).collect();
        let _ = writeln!(
            w,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            time(c.at, z),
            esc(c.subject.as_str()),
            esc(c.resource.as_str()),
            esc(&c.right),
            if c.gained { "gained" } else { "lost" },
            seqs(&c.events.iter().map(|e| e.seq).collect::<Vec<_>>()),
            basis.join("<br>"),
            signers.join("<br>")
        );
    }
    let _ = writeln!(w, "</tbody></table>");
    more(w, t.changes.len(), super::files::CHANGES);

    // Matrices.
    let _ = writeln!(
        w,
        "<h2 id=\"matrix\">Who could reach what: at the start and at the end</h2>"
    );
    let _ = writeln!(
        w,
        "<p>Each cell lists the rights a subject holds on a top-level resource itself (what <code>access-ledger check</code> allows); <em>partial</em> means it holds something different on some part below it, listed under the cell. Only subjects holding something are listed.</p>"
    );
    matrix(
        w,
        "access-start",
        "At the start of the period",
        t.from,
        &t.start,
        t,
        z,
    )?;
    matrix(
        w,
        "access-end",
        "Just before the end of the period",
        just_before(t.to),
        &t.end,
        t,
        z,
    )?;

    // Timeline.
    let _ = writeln!(w, "<h2 id=\"timeline\">Timeline</h2>");
    let _ = writeln!(
        w,
        "<p>What each subject holds on each top-level resource or anywhere below it, across the period, for every subject under a permanent revocation and then the {TIMELINE_BUSIEST} subjects with the most changes (ties by name), at most {TIMELINE_MAX_ROWS} rows. A bar shows the rights held (hover for the list); green ticks are gains, black ticks losses, red diamonds permanent revocations taking effect.</p>"
    );
    timeline_svg(w, t);

    // Authorities.
    let _ = writeln!(
        w,
        "<h2 id=\"authorities-section\">Who signs: the authority keys</h2>"
    );
    let _ = writeln!(w, "<table id=\"current-authorities\">");
    let _ = writeln!(w, "<thead><tr><th>Authority</th><th>Verifier key</th><th>May sign</th><th>Status</th></tr></thead>");
    let _ = writeln!(w, "<tbody>");
    for (name, key, roles, status) in &t.current {
        let _ = writeln!(
            w,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(name),
            esc(key),
            esc(roles),
            esc(status)
        );
    }
    let _ = writeln!(w, "</tbody></table>");
    let _ = writeln!(
        w,
        "<p>Every change of authority, over the whole history:</p>"
    );
    let _ = writeln!(w, "<table id=\"authorities\">");
    let _ = writeln!(w, "<thead><tr><th>Seq</th><th>Recorded</th><th>Change</th><th>Authority</th><th>Verifier key</th><th>Roles</th><th>Signed by</th></tr></thead>");
    let _ = writeln!(w, "<tbody>");
    for a in t.authorities.iter().take(MAX_REPORT_ROWS) {
        let _ = writeln!(
            w,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            a.seq,
            time(a.recorded_at, z),
            esc(a.change),
            esc(&a.name),
            esc(&a.key),
            esc(&a.roles),
            esc(&a.signer)
        );
    }
    let _ = writeln!(w, "</tbody></table>");
    more(w, t.authorities.len(), super::files::AUTHORITIES);

    if let Some(a) = audit {
        audit_section(w, a, z);
    }

    // How to verify.
    let _ = writeln!(w, "<h2 id=\"verify\">How to verify this bundle</h2>");
    let _ = writeln!(w, "<ol>");
    let _ = writeln!(
        w,
        "<li>Get the ledger's checkpoint verifier key from a source you trust other than this bundle (for example the city's published list of authority keys). The key that signed this bundle is <code>{}</code>.</li>",
        esc(&t.checkpoint_key)
    );
    let _ = writeln!(
        w,
        "<li>Run <code>access-ledger verify-export THIS-DIRECTORY --ledger-key 'KEY'</code>, adding <code>--since last-quarter-checkpoint.txt</code> to prove that the history shown last time was not rewritten. It checks every signature, every entry, the fingerprint, and recomputes every table of this report and every CSV file from the entries; it names the first thing wrong, or prints a one-paragraph summary.</li>"
    );
    let _ = writeln!(
        w,
        "<li>Or check it with your own tools: docs/OVERSIGHT.md in the access-ledger source explains each file, and docs/FORMAT.md and docs/TRANSPARENCY.md specify every byte.</li>"
    );
    let _ = writeln!(w, "</ol>");
    let _ = writeln!(w, "</body>");
    let _ = writeln!(w, "</html>");
    Ok(())
}

/// The access-log audit of the period (`audit.json`, an attested file: the
/// log is not in the bundle, so nothing here can be recomputed from the
/// entries). Rendered from the file's JSON, so that `verify-export` renders
/// the same lines from the same (hash-checked) bytes.
fn audit_section(w: &mut impl Write, a: &serde_json::Value, z: &Zone) {
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    // Times in audit.json are RFC 3339 instants; shown in the ledger's zone
    // like every other time of the report.
    let text = |v: &serde_json::Value| {
        let s = v.as_str().unwrap_or("");
        match Timestamp::parse_rfc3339(s) {
            Ok(t) => time(t, z),
            Err(_) => esc(s),
        }
    };
    let o = &a["outcomes"];
    let _ = writeln!(
        w,
        "<h2 id=\"audit\">What happened: the access-log audit (attested, not verified)</h2>"
    );
    let _ = writeln!(
        w,
        "<p class=\"note\">Computed by <code>access-ledger audit</code> from the database's own access log, which is not in this bundle: <code>verify-export</code> checks that {} is the file the city signed, but cannot recompute it. Each access is judged by what the ledger allowed at that moment, as recorded by then (docs/AUDIT.md).</p>",
        super::files::AUDIT
    );
    let _ = writeln!(
        w,
        "<p>{} accesses in the period: {} authorised, {} unauthorised, {} through the side door (an account acting for an agency that was not authorised), {} at an ambiguous local time, {} with names the mapping does not know; {} malformed rows; {} rows outside the period left out.</p>",
        n(&a["rows"]) - n(&a["outside_period"]),
        n(&o["authorised"]),
        n(&o["unauthorised"]),
        n(&o["side_door"]),
        n(&o["ambiguous_time"]),
        n(&o["unmappable"]),
        n(&a["malformed"]),
        n(&a["outside_period"])
    );
    let violations = a["violations"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if violations.is_empty() {
        let _ = writeln!(
            w,
            "<p class=\"ok\">No access in the log broke a permanent revocation.</p>"
        );
    } else {
        let _ = writeln!(w, "<table id=\"audit-violations\">");
        let _ = writeln!(w, "<thead><tr><th>Permanent revocation (seq)</th><th>Accesses by a banned subject</th><th>Accesses on a banned agency's behalf (side door)</th><th>First</th><th>Last</th></tr></thead>");
        let _ = writeln!(w, "<tbody>");
        for v in violations {
            let _ = writeln!(
                w,
                "<tr class=\"flag\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                n(&v["ban"]),
                n(&v["rows"]),
                n(&v["side_door_rows"]),
                text(&v["first"]),
                text(&v["last"])
            );
        }
        let _ = writeln!(w, "</tbody></table>");
    }
    if let Some(r) = a["revised"].as_object() {
        let _ = writeln!(
            w,
            "<p>{} accesses are judged differently by everything the ledger had recorded by {} (grants or revocations recorded after the access, with an earlier effective time).</p>",
            n(&r["rows"]),
            text(&r["known_at"])
        );
    }
}

fn more(w: &mut impl Write, n: usize, file: &str) {
    if n > MAX_REPORT_ROWS {
        let _ = writeln!(
            w,
            "<p class=\"note\">The first {MAX_REPORT_ROWS} of {n} rows; all are in {file}.</p>"
        );
    }
}

/// The report's row of `s` in an access matrix: its `cells` (those
/// [`super::tables::Tables::compute`] made for it, in `tops` order) under
/// the columns of `tops`.
pub(crate) fn matrix_row(
    s: &crate::ident::Subject,
    tops: &[crate::ident::Resource],
    cells: &[MatrixCell],
) -> String {
    let mut row = format!("<tr><th>{}</th>", esc(s.as_str()));
    for r in tops {
        match cells.iter().find(|c| &c.resource == r) {
            None => row.push_str("<td></td>"),
            Some(c) => {
                let partial = if c.partial {
                    format!(" <em>(partial)</em><br><small>{}</small>", esc(&c.below))
                } else {
                    String::new()
                };
                let _ = write!(row, "<td>{}{partial}</td>", esc(&c.rights));
            }
        }
    }
    row.push_str("</tr>");
    row
}

/// One access matrix, its rows read back from where the matrix pass left
/// them (see [`MatrixShown`]); the error is that file's.
fn matrix(
    w: &mut impl Write,
    id: &str,
    title: &str,
    at: Timestamp,
    m: &MatrixShown,
    t: &Tables,
    z: &Zone,
) -> std::io::Result<()> {
    let _ = writeln!(w, "<h3>{title} ({})</h3>", time(at, z));
    if m.subjects == 0 {
        let _ = writeln!(w, "<p>Nobody held anything.</p>");
    }
    let _ = writeln!(w, "<table id=\"{id}\">");
    let mut head = String::from("<thead><tr><th>Subject</th>");
    for r in &t.tops {
        let _ = write!(head, "<th>{}</th>", esc(r.as_str()));
    }
    head.push_str("</tr></thead>");
    let _ = writeln!(w, "{head}");
    let _ = writeln!(w, "<tbody>");
    m.rows.for_each(|row| {
        let _ = writeln!(w, "{row}");
    })?;
    let _ = writeln!(w, "</tbody></table>");
    let file = if id == "access-start" {
        super::files::ACCESS_START
    } else {
        super::files::ACCESS_END
    };
    more(w, m.subjects, file);
    Ok(())
}

fn timeline_svg(w: &mut impl Write, t: &Tables) {
    const LEFT: f64 = 300.0;
    const WIDTH: f64 = 900.0;
    const ROW: f64 = 26.0;
    let rows = &t.timeline;
    if rows.is_empty() {
        let _ = writeln!(w, "<p>No subject to show.</p>");
        return;
    }
    let height = 40.0 + ROW * rows.len() as f64;
    let span = (t.to.as_micros() - t.from.as_micros()).max(1) as f64;
    let x = |at: Timestamp| {
        let d = (at.as_micros().clamp(t.from.as_micros(), t.to.as_micros()) - t.from.as_micros())
            as f64;
        LEFT + (WIDTH - LEFT - 10.0) * d / span
    };
    let _ = writeln!(
        w,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"Rights across the period\">"
    );
    let _ = writeln!(
        w,
        "<text x=\"{LEFT}\" y=\"14\" font-size=\"11\">{}</text><text x=\"{}\" y=\"14\" font-size=\"11\" text-anchor=\"end\">{}</text>",
        esc(&t.from.local(&t.zone)),
        WIDTH - 10.0,
        esc(&t.to.local(&t.zone))
    );
    for (i, r) in rows.iter().enumerate() {
        let y = 24.0 + ROW * i as f64;
        let _ = writeln!(
            w,
            "<text x=\"4\" y=\"{:.1}\" font-size=\"12\">{} on {}</text>",
            y + 14.0,
            esc(r.subject.as_str()),
            esc(r.resource.as_str())
        );
        let _ = writeln!(
            w,
            "<line x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ccc\"/>",
            y + 10.0,
            WIDTH - 10.0,
            y + 10.0
        );
        for (a, b, rights) in &r.segments {
            if rights.is_empty() {
                continue;
            }
            let (xa, xb) = (x(*a), x(*b));
            let _ = writeln!(
                w,
                "<rect x=\"{xa:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"12\" fill=\"#6a8fc7\"><title>{}</title></rect>",
                y + 4.0,
                (xb - xa).max(1.0),
                esc(rights)
            );
            let _ = writeln!(
                w,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"#fff\">{}</text>",
                xa + 2.0,
                y + 13.5,
                esc(rights)
            );
        }
        for (at, kind) in &r.marks {
            let mx = x(*at);
            match *kind {
                "ban" => {
                    let _ = writeln!(
                        w,
                        "<path d=\"M{mx:.1} {:.1} l6 7 l-6 7 l-6 -7 z\" fill=\"#c00\"><title>permanent revocation</title></path>",
                        y + 3.0
                    );
                }
                kind => {
                    let color = if kind == "gain" { "#080" } else { "#000" };
                    let _ = writeln!(
                        w,
                        "<line x1=\"{mx:.1}\" y1=\"{:.1}\" x2=\"{mx:.1}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-width=\"2\"><title>{kind}</title></line>",
                        y + 1.0,
                        y + 19.0
                    );
                }
            }
        }
    }
    let _ = writeln!(w, "</svg>");
}

/// A line of the report with each `<time datetime="X">...</time>` replaced
/// by the instant X names (as microseconds): what `verify-export` compares,
/// line by line, so that the reading of an instant in the verifier's
/// time-zone data does not matter. An error for a `datetime` that is no
/// RFC 3339 time.
pub(crate) fn normalised_line(line: &str) -> Result<String, String> {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find("<time datetime=\"") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "<time datetime=\"".len()..];
        let q = after.find('"').ok_or("unterminated time element")?;
        let t = Timestamp::parse_rfc3339(&after[..q])
            .map_err(|e| format!("bad time {:?}: {e}", &after[..q]))?;
        let close = after.find("</time>").ok_or("unterminated time element")?;
        let _ = write!(out, "<time>{}</time>", t.as_micros());
        rest = &after[close + "</time>".len()..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_text_cannot_become_markup() {
        assert_eq!(
            esc("<script>alert(\"x\")</script>&'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
        assert_eq!(esc("a\nb"), "a&#10;b");
    }

    #[test]
    fn times_are_compared_as_instants() {
        let a = "<td><time datetime=\"2019-07-10T05:00:00Z\">2019-07-10 00:00:00 CDT</time></td>";
        let b = "<td><time datetime=\"2019-07-10T00:00:00-05:00\">10 July</time></td>";
        assert_eq!(normalised_line(a), normalised_line(b));
        let c = a.replace("05:00:00Z", "06:00:00Z");
        assert_ne!(normalised_line(a), normalised_line(&c));
        assert!(normalised_line("<time datetime=\"yesterday\">x</time>").is_err());
    }
}
