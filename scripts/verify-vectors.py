#!/usr/bin/env python3
"""An independent verifier of access-ledger logs, written from docs/FORMAT.md
alone (no code of this repository), run on the vectors in fixtures/vectors/:

- entries.json: every entry decodes, hashes, verifies and chains as stated;
- invalid.json: every vector is refused at its `fails_at` seq for its `reason`.

Needs Python 3.9+ and two packages from PyPI: `cryptography` (the Ed25519
equation, through OpenSSL) and `blake3`. OpenSSL's Ed25519 is not strict, so
the checks FORMAT.md section 4 adds (canonical S, R and key not of small order,
canonical encodings) are made here explicitly, with the curve arithmetic of
RFC 8032 section 5.1.

Usage: scripts/verify-vectors.py [fixtures/vectors]
"""

import base64
import json
import re
import sys
import time
from pathlib import Path

import blake3
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNATURE_CONTEXT = b"access-ledger/v1 entry signature"
ENTRY_HASH_CONTEXT = b"access-ledger/v1 entry hash"
MAX_ENTRY = 65535

# --- Ed25519 points (RFC 8032 section 5.1), for the strict checks only ------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def decode_point(b):
    """The point encoded by 32 bytes, or None when the encoding is not
    canonical (y >= p) or names no point of the curve."""
    n = int.from_bytes(b, "little")
    y, sign = n & ((1 << 255) - 1), n >> 255
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        if sign:
            return None
        x = 0
    else:
        x = pow(x2, (P + 3) // 8, P)
        if (x * x - x2) % P:
            x = x * SQRT_M1 % P
        if (x * x - x2) % P:
            return None
        if x & 1 != sign:
            x = P - x
    return (x, y, 1, x * y % P)


def point_add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def small_order(pt):
    """Whether 8 * pt is the identity (x = 0, y = z)."""
    for _ in range(3):
        pt = point_add(pt, pt)
    return pt[0] % P == 0 and (pt[1] - pt[2]) % P == 0


# --- Refusals ----------------------------------------------------------------


class Refused(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def refuse(reason):
    raise Refused(reason)


# --- Section 1 and 3: decoding -----------------------------------------------

TOKEN = re.compile(r"[a-z0-9._-]+\Z")
RIGHT = re.compile(r"[a-z0-9_-]+\Z")
ZONE_COMPONENT = re.compile(r"[A-Za-z0-9._+-]{1,14}\Z")


def is_control(c):
    o = ord(c)
    return o < 0x20 or 0x7F <= o <= 0x9F


class Reader:
    def __init__(self, b):
        self.b, self.at = b, 0

    def take(self, n):
        if n > len(self.b) - self.at:
            refuse("truncated")
        out = self.b[self.at : self.at + n]
        self.at += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u32(self):
        return int.from_bytes(self.take(4), "little")

    def u64(self):
        return int.from_bytes(self.take(8), "little")

    def i64(self):
        return int.from_bytes(self.take(8), "little", signed=True)

    def bool(self):
        v = self.u8()
        if v > 1:
            refuse("bool")
        return v == 1

    def option(self, read):
        tag = self.u8()
        if tag > 1:
            refuse("option")
        return read() if tag else None

    def string(self):
        raw = self.take(self.u64())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            refuse("utf8")

    def subject(self):
        s = self.string()
        kind, colon, name = s.partition(":")
        if not (len(s.encode()) <= 256 and colon and TOKEN.match(kind) and TOKEN.match(name)):
            refuse("subject")
        return s

    def resource(self):
        s = self.string()
        segs = s.split("/")
        if not (
            len(s.encode()) <= 256
            and len(segs) <= 16
            and all(TOKEN.match(x) and x not in (".", "..") for x in segs)
        ):
            refuse("resource")
        return s

    def rights(self):
        count = self.u64()
        if not 1 <= count <= 32:
            refuse("rights")
        items = []
        for _ in range(count):
            r = self.string()
            if not (r == "*" or (len(r) <= 64 and RIGHT.match(r))):
                refuse("right")
            items.append(r)
        canonical = ["*"] if "*" in items else sorted(set(items), key=str.encode)
        if canonical != items:
            refuse("rights-order")
        return items

    def name(self):
        s = self.string()
        if not (len(s.encode()) <= 64 and TOKEN.match(s)):
            refuse("name")
        return s

    def origin(self):
        s = self.string()
        if not (
            1 <= len(s) <= 256
            and all(0x20 <= ord(c) <= 0x7E for c in s)
            and not s.startswith(" ")
            and not s.endswith(" ")
            and "+" not in s
        ):
            refuse("origin")
        return s

    def zone(self):
        s = self.string()
        ok = len(s.encode()) <= 64 and all(
            ZONE_COMPONENT.match(c) and not c.startswith("-") and c not in (".", "..")
            for c in s.split("/")
        )
        if not ok:
            refuse("time-zone")
        return s

    def text(self):
        s = self.string()
        if len(s.encode()) > 4096 or any(is_control(c) and c not in "\n\t" for c in s):
            refuse("text")
        return s

    def key(self):
        b = self.take(32)
        pt = decode_point(b)
        if pt is None or small_order(pt):
            refuse("key")
        return b

    def roles(self):
        v = self.u8()
        if v == 0 or v & ~0x07:
            refuse("roles")
        return v


KINDS = [
    ("genesis", [("origin", "origin"), ("time_zone", "zone"), ("authority", "name"), ("key", "key")]),
    ("authority_add", [("name", "name"), ("key", "key"), ("roles", "roles")]),
    ("authority_retire", [("name", "name")]),
    ("grant", [("subject", "subject"), ("resource", "resource"), ("rights", "rights"),
               ("basis", "text"), ("effective_at", "i64"), ("until", "opt_i64")]),
    ("revoke", [("subject", "subject"), ("resource", "resource"), ("rights", "opt_rights"),
                ("reason", "text"), ("effective_at", "i64"), ("permanent", "bool")]),
    ("join", [("member", "subject"), ("group", "subject"), ("effective_at", "i64")]),
    ("leave", [("member", "subject"), ("group", "subject"), ("effective_at", "i64")]),
    ("share", [("from", "subject"), ("to", "subject"), ("resource", "resource"), ("rights", "rights"),
               ("basis", "text"), ("effective_at", "i64"), ("until", "opt_i64")]),
    ("unshare", [("from", "subject"), ("to", "subject"), ("resource", "resource"),
                 ("rights", "opt_rights"), ("basis", "text"), ("effective_at", "i64")]),
]


def decode_entry(b):
    if len(b) > MAX_ENTRY:
        refuse("too-long")
    r = Reader(b)
    e = {"seq": r.u64(), "prev_hash": r.take(32), "recorded_at": r.i64(), "signer": r.key()}
    index = r.u32()
    if index >= len(KINDS):
        refuse("variant")
    kind, fields = KINDS[index]
    body = {"type": kind}
    for name, t in fields:
        if t == "opt_i64":
            body[name] = r.option(r.i64)
        elif t == "opt_rights":
            body[name] = r.option(r.rights)
        else:
            body[name] = getattr(r, t)()
    e["body"] = body
    e["signature"] = r.take(64)
    if r.at != len(b):
        refuse("trailing")
    e["bytes"] = b
    e["hash"] = blake3.blake3(ENTRY_HASH_CONTEXT + b).digest()
    return e


# --- Section 4: strict Ed25519 -----------------------------------------------


def verify_strict(key, message, sig):
    r_bytes, s_bytes = sig[:32], sig[32:]
    if int.from_bytes(s_bytes, "little") >= L:
        return False
    r = decode_point(r_bytes)
    if r is None or small_order(r):
        return False
    # The key was checked when decoded (canonical, not of small order).
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(sig, message)
        return True
    except InvalidSignature:
        return False


# --- Section 5: the rules ----------------------------------------------------


def covers(a, b):
    return a == b or b.startswith(a + "/")


def rights_overlap(a, b):
    return a is None or b is None or "*" in a or "*" in b or bool(set(a) & set(b))


class State:
    def __init__(self, now_us):
        self.now = now_us
        self.ledger_id = bytes(32)
        self.next_seq = 0
        self.last_hash = bytes(32)
        self.last_recorded = -(2**63)
        self.authorities = {}  # name -> {"key", "roles", "retired"}
        self.keys = {}  # key -> name
        self.bans = {}  # subject -> [ban]
        self.groups = {}  # member -> set of groups ever joined

    def reaches(self, start, target):
        seen, stack = set(), [start]
        while stack:
            s = stack.pop()
            if s == target:
                return True
            if s not in seen:
                seen.add(s)
                stack.extend(self.groups.get(s, ()))
        return False

    def admit(self, raw):
        e = decode_entry(raw)
        seq, body, kind = self.next_seq, e["body"], e["body"]["type"]
        if e["seq"] != seq:
            refuse("seq")
        if e["prev_hash"] != self.last_hash:
            refuse("prev-hash")
        unsigned = raw[:-64]
        if not verify_strict(e["signer"], SIGNATURE_CONTEXT + self.ledger_id + unsigned, e["signature"]):
            refuse("signature")
        if e["recorded_at"] < self.last_recorded:
            refuse("time-backwards")
        if e["recorded_at"] > self.now:
            refuse("in-future")
        if kind == "genesis":
            if seq != 0:
                refuse("late-genesis")
            if body["key"] != e["signer"]:
                refuse("genesis-not-self-signed")
        else:
            self.check_body(e, seq, body, kind)
        self.apply(e, seq, body, kind)

    def check_body(self, e, seq, body, kind):
        if seq == 0:
            refuse("not-genesis")
        name = self.keys.get(e["signer"])
        if name is None:
            refuse("unknown-signer")
        signer = self.authorities[name]
        if signer["retired"]:
            refuse("retired-signer")
        if kind in ("authority_add", "authority_retire"):
            allowed = signer["roles"] & 1
        else:
            allowed = signer["roles"] & 3
        if not allowed:
            refuse("unauthorized")
        if kind == "authority_add":
            if body["name"] in self.authorities:
                refuse("authority-exists")
            if body["key"] in self.keys:
                refuse("key-in-use")
        elif kind == "authority_retire":
            a = self.authorities.get(body["name"])
            if a is None or a["retired"]:
                refuse("unknown-authority")
            active_admins = sum(1 for x in self.authorities.values() if not x["retired"] and x["roles"] & 1)
            if a["roles"] & 1 and active_admins == 1:
                refuse("last-admin")
        elif kind == "grant":
            if body["until"] is not None and body["until"] <= body["effective_at"]:
                refuse("empty-interval")
            for ban in self.bans.get(body["subject"], []):
                if (
                    (covers(ban["resource"], body["resource"]) or covers(body["resource"], ban["resource"]))
                    and rights_overlap(ban["rights"], body["rights"])
                    and (body["until"] is None or body["until"] > ban["effective_at"])
                ):
                    refuse("grant-over-ban")
        elif kind in ("join", "leave"):
            if not body["group"].startswith("group:"):
                refuse("not-a-group")
            if kind == "join":
                if body["member"] == body["group"] or self.reaches(body["group"], body["member"]):
                    refuse("group-cycle")
            elif body["group"] not in self.groups.get(body["member"], ()):
                refuse("never-joined")
        elif kind in ("share", "unshare"):
            if kind == "share" and body["until"] is not None and body["until"] <= body["effective_at"]:
                refuse("empty-interval")
            if body["from"] == body["to"]:
                refuse("self-share")

    def apply(self, e, seq, body, kind):
        if kind == "genesis":
            self.authorities[body["authority"]] = {"key": body["key"], "roles": 7, "retired": False}
            self.keys[body["key"]] = body["authority"]
        elif kind == "authority_add":
            self.authorities[body["name"]] = {"key": body["key"], "roles": body["roles"], "retired": False}
            self.keys[body["key"]] = body["name"]
        elif kind == "authority_retire":
            self.authorities[body["name"]]["retired"] = True
        elif kind == "revoke" and body["permanent"]:
            self.bans.setdefault(body["subject"], []).append(
                {"resource": body["resource"], "rights": body["rights"], "effective_at": body["effective_at"]}
            )
        elif kind == "join":
            self.groups.setdefault(body["member"], set()).add(body["group"])
        if seq == 0:
            self.ledger_id = e["hash"]
        self.next_seq = seq + 1
        self.last_hash = e["hash"]
        self.last_recorded = e["recorded_at"]


def first_refusal(entries):
    state = State(int(time.time() * 1_000_000) + 300_000_000)
    for i, raw in enumerate(entries):
        try:
            state.admit(raw)
        except Refused as r:
            return i, r.reason
    return None


# --- The vectors -------------------------------------------------------------


def check_valid(path):
    doc = json.loads(path.read_text())
    entries = [bytes.fromhex(e["entry_hex"]) for e in doc["entries"]]
    assert first_refusal(entries) is None, f"{path}: the valid log is refused: {first_refusal(entries)}"
    state = State(2**62)
    for e, raw in zip(doc["entries"], entries):
        state.admit(raw)
        decoded = decode_entry(raw)
        assert decoded["hash"].hex() == e["hash_hex"], f"seq {e['seq']}: hash"
        assert decoded["body"]["type"] == e["type"], f"seq {e['seq']}: type"
    assert state.ledger_id.hex() == doc["ledger_id_hex"], "ledger id"
    return len(entries)


def check_invalid(path):
    doc = json.loads(path.read_text())
    base = [base64.b64decode(b) for b in doc["base_b64"]]
    assert first_refusal(base) is None, f"{path}: the base log is refused: {first_refusal(base)}"
    failures = []
    for v in doc["vectors"]:
        entries = base[: v["prefix"]] + [base64.b64decode(b) for b in v["entries_b64"]]
        got = first_refusal(entries)
        if got != (v["fails_at"], v["reason"]):
            failures.append(f"{v['name']}: expected seq {v['fails_at']} {v['reason']}, got {got}")
    for f in failures:
        print("FAIL", f, file=sys.stderr)
    if failures:
        sys.exit(1)
    return len(doc["vectors"])


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "fixtures/vectors")
    n = check_valid(root / "entries.json")
    m = check_invalid(root / "invalid.json")
    print(f"ok: {n} valid entries verified and {m} invalid vectors refused at their seq for their reason")


if __name__ == "__main__":
    main()
