// Command go-check cross-checks access-ledger's transparency formats with Go's
// reference packages golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog.
// Run it through scripts/check-with-go.sh (GOPATH mode, Debian's packages).
//
// It checks that:
//   - the signed checkpoint opens with note.Open under the log's verifier key;
//   - its cosignature/v1 line verifies under the witness's key (by hand, as
//     x/mod has no cosignature verifier), and its key id is Go's key hash;
//   - every root and proof of merkle.json equals what tlog computes itself
//     (TreeHash, ProveRecord, ProveTree) and passes CheckRecord / CheckTree;
//   - the checkpoint's root is the merkle.json root at its size.
//
// With -tiles DIR it checks instead a log that `access-ledger publish` wrote
// (C2SP tlog-tiles, height 8) with tlog's own tile code: see checkTiles.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type vectors struct {
	Description string      `json:"description"`
	Leaves      []string    `json:"leaves"`
	LeafHashes  []tlog.Hash `json:"leaf_hashes"`
	Roots       []struct {
		Size int64     `json:"size"`
		Root tlog.Hash `json:"root"`
	} `json:"roots"`
	Inclusion []struct {
		Index int64       `json:"index"`
		Size  int64       `json:"size"`
		Proof []tlog.Hash `json:"proof"`
	} `json:"inclusion"`
	Consistency []struct {
		OldSize int64       `json:"old_size"`
		NewSize int64       `json:"new_size"`
		Proof   []tlog.Hash `json:"proof"`
	} `json:"consistency"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go-check: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func read(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	return b
}

func equal(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkMerkle returns the roots by size after checking every vector.
func checkMerkle(path string) map[int64]tlog.Hash {
	var v vectors
	dec := json.NewDecoder(bytes.NewReader(read(path)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		fail("%s: %v", path, err)
	}
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, leaf := range v.Leaves {
		if want := fmt.Sprintf("leaf-%d", i); leaf != want {
			fail("leaf %d is %q, want %q", i, leaf, want)
		}
		if tlog.RecordHash([]byte(leaf)) != v.LeafHashes[i] {
			fail("leaf hash %d differs from tlog.RecordHash", i)
		}
		hs, err := tlog.StoredHashes(int64(i), []byte(leaf), reader)
		if err != nil {
			fail("StoredHashes: %v", err)
		}
		stored = append(stored, hs...)
	}
	roots := map[int64]tlog.Hash{}
	for _, r := range v.Roots {
		h, err := tlog.TreeHash(r.Size, reader)
		if err != nil || h != r.Root {
			fail("root of size %d: tlog.TreeHash gives %v", r.Size, h)
		}
		roots[r.Size] = r.Root
	}
	for _, p := range v.Inclusion {
		if err := tlog.CheckRecord(p.Proof, p.Size, roots[p.Size], p.Index, v.LeafHashes[p.Index]); err != nil {
			fail("inclusion %d in %d: CheckRecord: %v", p.Index, p.Size, err)
		}
		mine, err := tlog.ProveRecord(p.Size, p.Index, reader)
		if err != nil || !equal(mine, p.Proof) {
			fail("inclusion %d in %d differs from tlog.ProveRecord", p.Index, p.Size)
		}
	}
	for _, p := range v.Consistency {
		if err := tlog.CheckTree(p.Proof, p.NewSize, roots[p.NewSize], p.OldSize, roots[p.OldSize]); err != nil {
			fail("consistency %d -> %d: CheckTree: %v", p.OldSize, p.NewSize, err)
		}
		mine, err := tlog.ProveTree(p.NewSize, p.OldSize, reader)
		if err != nil || !equal(mine, p.Proof) {
			fail("consistency %d -> %d differs from tlog.ProveTree", p.OldSize, p.NewSize)
		}
	}
	fmt.Printf("merkle: %d roots (tlog.TreeHash), %d inclusion proofs (tlog.CheckRecord, = tlog.ProveRecord), %d consistency proofs (tlog.CheckTree, = tlog.ProveTree): ok\n",
		len(v.Roots), len(v.Inclusion), len(v.Consistency))
	return roots
}

// checkCosignature verifies a cosignature/v1 line of n under the cosigner
// verifier key cvkey (name+hexkeyid+base64(0x04 || key)).
func checkCosignature(n *note.Note, cvkey string) {
	parts := strings.SplitN(cvkey, "+", 3)
	if len(parts) != 3 {
		fail("cosigner key %q: not name+id+key", cvkey)
	}
	name, id := parts[0], parts[1]
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		fail("cosigner key %q: not base64(0x04 || 32-byte key)", cvkey)
	}
	sum := sha256.Sum256(append([]byte(name+"\n"), raw...))
	hash := binary.BigEndian.Uint32(sum[:4])
	if fmt.Sprintf("%08x", hash) != id {
		fail("cosigner key id %s, want %08x", id, hash)
	}
	for _, s := range n.UnverifiedSigs {
		if s.Name != name || s.Hash != hash {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(s.Base64)
		if err != nil || len(sig) != 4+8+64 {
			fail("cosignature: want 76 bytes")
		}
		t := binary.BigEndian.Uint64(sig[4:12])
		msg := "cosignature/v1\ntime " + strconv.FormatUint(t, 10) + "\n" + n.Text
		if !ed25519.Verify(ed25519.PublicKey(raw[1:]), []byte(msg), sig[12:]) {
			fail("cosignature by %s does not verify", name)
		}
		fmt.Printf("cosignature/v1: %s+%08x time %d: ok\n", name, hash, t)
		return
	}
	fail("no cosignature by %s+%08x", name, hash)
}

// tileDir reads published C2SP tiles for tlog: Go names a tile
// tile/8/L/N and a data tile tile/8/data/N, C2SP tile/L/N and
// tile/entries/N, with the same N and .p/W encoding.
//
// tlog asks for a tile at the least width holding the hashes it needs; a
// static log has each tile at one width per tree size, so the published
// one is read and cut to the asked width, as Go's sumdb client does.
type tileDir struct {
	dir  string
	size int64
}

func (d *tileDir) Height() int { return 8 }

func (d *tileDir) path(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), "tile/8/")
	if t.L == -1 {
		p = "entries/" + strings.TrimPrefix(p, "data/")
	}
	return d.dir + "/tile/" + p
}

// published is t at the width the tree of d.size entries has it.
func (d *tileDir) published(t tlog.Tile) tlog.Tile {
	count := d.size >> (8 * uint(t.L))
	t.W = 256
	if rest := count - t.N*256; rest < 256 {
		t.W = int(rest)
	}
	return t
}

func (d *tileDir) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		published := d.published(t)
		b, err := os.ReadFile(d.path(published))
		if err != nil {
			return nil, err
		}
		if len(b) != published.W*32 || t.W > published.W {
			return nil, fmt.Errorf("%s: %d bytes, want %d", d.path(published), len(b), published.W*32)
		}
		out[i] = b[:t.W*32]
	}
	return out, nil
}

func (d *tileDir) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// bundleEntries splits a C2SP entry bundle: u16 big-endian length, then the
// entry's bytes.
func bundleEntries(b []byte, path string) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			fail("%s: cut inside a length", path)
		}
		n := int(binary.BigEndian.Uint16(b))
		if n == 0 || len(b) < 2+n {
			fail("%s: bad entry length %d", path, n)
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out
}

// checkTiles checks a published log with tlog: the checkpoint opens with
// note.Open under the key in access-ledger.json; every hash tile of the
// tree (tlog.NewTiles) exists and equals tlog.ReadTileData computed through
// tlog.TileHashReader, which authenticates each tile it reads up to the
// checkpoint's root; tlog.TreeHash gives that root; and each entry of the
// bundles hashes (tlog.RecordHash) to its level-0 hash read through the
// same authenticated reader.
func checkTiles(dir string) {
	var meta struct {
		Format      string `json:"format"`
		Origin      string `json:"origin"`
		VerifierKey string `json:"verifier_key"`
		TileHeight  int    `json:"tile_height"`
	}
	if err := json.Unmarshal(read(dir+"/access-ledger.json"), &meta); err != nil {
		fail("access-ledger.json: %v", err)
	}
	if meta.TileHeight != 8 {
		fail("tile height %d", meta.TileHeight)
	}
	verifier, err := note.NewVerifier(meta.VerifierKey)
	if err != nil {
		fail("note.NewVerifier(%q): %v", meta.VerifierKey, err)
	}
	n, err := note.Open(read(dir+"/checkpoint"), note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint: note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != meta.Origin {
		fail("checkpoint body %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size %q: %v", lines[1], err)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint root %q: %v", lines[2], err)
	}
	tr := &tileDir{dir: dir, size: size}
	hr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, tr)
	if h, err := tlog.TreeHash(size, hr); err != nil || h != root {
		fail("tlog.TreeHash(%d) = %v, %v; want the checkpoint's root", size, h, err)
	}
	// NewTiles lists every width a partial tile passed through on the way
	// to size; a static log keeps only the last.
	var tiles []tlog.Tile
	for _, t := range tlog.NewTiles(8, 0, size) {
		if tr.published(t) == t {
			tiles = append(tiles, t)
		}
	}
	for _, t := range tiles {
		want, err := tlog.ReadTileData(t, hr)
		if err != nil {
			fail("tlog.ReadTileData(%s): %v", t.Path(), err)
		}
		if got := read(tr.path(t)); !bytes.Equal(got, want) {
			fail("%s differs from the tile tlog computes", tr.path(t))
		}
	}
	records := int64(0)
	for i := int64(0); i*256 < size; i++ {
		w := size - i*256
		if w > 256 {
			w = 256
		}
		t := tlog.Tile{H: 8, L: -1, N: i, W: int(w)}
		path := tr.path(t)
		entries := bundleEntries(read(path), path)
		if int64(len(entries)) != w {
			fail("%s holds %d entries, want %d", path, len(entries), w)
		}
		idx := make([]int64, len(entries))
		for j := range entries {
			idx[j] = tlog.StoredHashIndex(0, records+int64(j))
		}
		hs, err := hr.ReadHashes(idx)
		if err != nil {
			fail("ReadHashes for %s: %v", path, err)
		}
		for j, e := range entries {
			if tlog.RecordHash(e) != hs[j] {
				fail("%s: entry %d does not hash to its leaf", path, records+int64(j))
			}
		}
		records += int64(len(entries))
	}
	fmt.Printf("tiles: %s, %d entries: checkpoint (note.Open), root (tlog.TreeHash through tlog.TileHashReader), %d hash tiles (= tlog.ReadTileData), %d entries (tlog.RecordHash = authenticated leaf): ok\n",
		meta.Origin, size, len(tiles), records)
}

func main() {
	tiles := flag.String("tiles", "", "a directory written by access-ledger publish (checked instead of the rest)")
	checkpoint := flag.String("checkpoint", "", "signed checkpoint note")
	vkeyPath := flag.String("vkey", "", "the log's verifier key (name+hexkeyid+base64key)")
	cosigner := flag.String("cosigner", "", "a witness's cosigner key (optional)")
	merkle := flag.String("merkle", "", "merkle.json vectors")
	flag.Parse()
	if *tiles != "" {
		checkTiles(*tiles)
		fmt.Println("go-check: all ok")
		return
	}

	roots := checkMerkle(*merkle)

	vkey := strings.TrimSpace(string(read(*vkeyPath)))
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("note.NewVerifier(%q): %v", vkey, err)
	}
	msg := read(*checkpoint)
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("note.Open: %v", err)
	}
	fmt.Printf("note: note.Open verified %s+%08x (%d other signature(s) ignored): ok\n",
		n.Sigs[0].Name, n.Sigs[0].Hash, len(n.UnverifiedSigs))

	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		fail("checkpoint body has %d lines", len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size %q: %v", lines[1], err)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint root %q: %v", lines[2], err)
	}
	same := ""
	if want, ok := roots[size]; ok && n.Sigs[0].Name == "test-only-log" {
		if root != want {
			fail("fixture checkpoint root at size %d is not the merkle.json root", size)
		}
		same = " (= merkle.json root)"
	}
	fmt.Printf("checkpoint: origin %s, size %d, root %v%s: ok\n", lines[0], size, root, same)

	if *cosigner != "" {
		checkCosignature(n, strings.TrimSpace(string(read(*cosigner))))
	}
	fmt.Println("go-check: all ok")
}
