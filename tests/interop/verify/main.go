// Command verify checks mast's signed checkpoints and Merkle proofs with Go's own
// implementations: golang.org/x/mod/sumdb/note (signed notes, Ed25519 keys) and
// golang.org/x/mod/sumdb/tlog (RFC 6962 hashing, inclusion and consistency proofs).
// It shares no code with mast: everything mast writes must verify here too.
//
// Usage:
//
//	verify -vkey log.pub -checkpoint checkpoint.txt
//	       [-witness w1.pub ...]            every witness named must have cosigned (cosignature/v1)
//	       [-old-checkpoint old.txt]        an earlier checkpoint, signed by the same key
//	       [-inclusion proof.json ...]      {"index","size","leaf_hash","root","proof":[hex...]}
//	       [-leaf entry.bin ...]            the i-th -leaf is the entry the i-th -inclusion proves
//	       [-consistency proof.json ...]    {"old_size","new_size","old_root","new_root","proof":[hex...]}
//
// Every proof must be anchored in a signed checkpoint: an inclusion proof's (size, root) and a
// consistency proof's (new_size, new_root) must be those of -checkpoint (or of -old-checkpoint),
// and a consistency proof's (old_size, old_root) those of -old-checkpoint when it is given.
//
// Proof order: tlog's RecordProof and TreeProof list hashes leaf-side first (ProveRecord and
// ProveTree append the sibling of each level after the deeper ones; runRecordProof and
// runTreeProof consume p[len(p)-1] at the top). That is RFC 9162's order (PATH(m, D[n]) =
// PATH(m, D[0:k]) : MTH(D[k:n]) and likewise SUBPROOF), so mast's proofs are passed as they are.
//
// Exit status: 0 all checks passed, 1 a check failed, 2 bad usage or unreadable input.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

type checkpoint struct {
	Origin     string
	Size       int64
	Root       tlog.Hash
	Extensions []string
}

type inclusionProof struct {
	Index    int64    `json:"index"`
	Size     int64    `json:"size"`
	LeafHash string   `json:"leaf_hash"`
	Root     string   `json:"root"`
	Proof    []string `json:"proof"`
}

type consistencyProof struct {
	OldSize int64    `json:"old_size"`
	NewSize int64    `json:"new_size"`
	OldRoot string   `json:"old_root"`
	NewRoot string   `json:"new_root"`
	Proof   []string `json:"proof"`
}

var errUsage = errors.New("usage")

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

func main() {
	var (
		vkeyFile, cpFile, oldCPFile string
		witnesses, inclusions       listFlag
		leaves, consistencies       listFlag
	)
	flag.StringVar(&vkeyFile, "vkey", "", "file holding the log's verifier key")
	flag.StringVar(&cpFile, "checkpoint", "", "file holding the signed checkpoint")
	flag.StringVar(&oldCPFile, "old-checkpoint", "", "file holding an earlier signed checkpoint")
	flag.Var(&witnesses, "witness", "file holding a witness verifier key (repeatable)")
	flag.Var(&inclusions, "inclusion", "inclusion proof JSON file (repeatable)")
	flag.Var(&leaves, "leaf", "entry bytes for the inclusion proof of the same position (repeatable)")
	flag.Var(&consistencies, "consistency", "consistency proof JSON file (repeatable)")
	flag.Parse()

	err := run(vkeyFile, cpFile, oldCPFile, witnesses, inclusions, leaves, consistencies)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
	fmt.Println("OK")
}

func run(vkeyFile, cpFile, oldCPFile string, witnesses, inclusions, leaves, consistencies []string) error {
	if vkeyFile == "" || cpFile == "" {
		return usagef("-vkey and -checkpoint are required")
	}
	if len(leaves) != 0 && len(leaves) != len(inclusions) {
		return usagef("give one -leaf per -inclusion, or none")
	}
	vkey, err := readText(vkeyFile)
	if err != nil {
		return err
	}
	logVerifier, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("log key %q: %v", vkey, err)
	}
	known := []note.Verifier{logVerifier}
	for _, f := range witnesses {
		text, err := readText(f)
		if err != nil {
			return err
		}
		w, err := newCosignatureV1Verifier(text)
		if err != nil {
			return fmt.Errorf("witness key %q: %v", text, err)
		}
		known = append(known, w)
	}

	cp, err := openCheckpoint(cpFile, logVerifier, known)
	if err != nil {
		return err
	}
	fmt.Printf("checkpoint: %s size %d root %x (signed by %s+%08x", cp.Origin, cp.Size, cp.Root[:], logVerifier.Name(), logVerifier.KeyHash())
	for _, w := range known[1:] {
		fmt.Printf(", cosigned by %s+%08x", w.Name(), w.KeyHash())
	}
	fmt.Println(")")

	var old *checkpoint
	if oldCPFile != "" {
		old, err = openCheckpoint(oldCPFile, logVerifier, known[:1])
		if err != nil {
			return fmt.Errorf("old checkpoint: %w", err)
		}
		if old.Origin != cp.Origin {
			return fmt.Errorf("old checkpoint is for origin %q, not %q", old.Origin, cp.Origin)
		}
		fmt.Printf("old checkpoint: size %d root %x\n", old.Size, old.Root[:])
	}
	anchored := func(size int64, root tlog.Hash) bool {
		return (size == cp.Size && root == cp.Root) || (old != nil && size == old.Size && root == old.Root)
	}

	for i, f := range inclusions {
		var p inclusionProof
		if err := readJSON(f, &p); err != nil {
			return err
		}
		leafHash, err := parseHash(p.LeafHash)
		if err != nil {
			return fmt.Errorf("%s: leaf_hash: %v", f, err)
		}
		root, err := parseHash(p.Root)
		if err != nil {
			return fmt.Errorf("%s: root: %v", f, err)
		}
		proof, err := parseHashes(p.Proof)
		if err != nil {
			return fmt.Errorf("%s: proof: %v", f, err)
		}
		if !anchored(p.Size, root) {
			return fmt.Errorf("%s: size %d root %x is not a signed checkpoint's", f, p.Size, root[:])
		}
		if len(leaves) > 0 {
			data, err := os.ReadFile(leaves[i])
			if err != nil {
				return usagef("%v", err)
			}
			if got := tlog.RecordHash(data); got != leafHash {
				return fmt.Errorf("%s: entry hashes to %x, the proof says leaf_hash %x", leaves[i], got[:], leafHash[:])
			}
		}
		if err := tlog.CheckRecord(tlog.RecordProof(proof), p.Size, root, p.Index, leafHash); err != nil {
			return fmt.Errorf("%s: inclusion of leaf %d in tree %d: %v", f, p.Index, p.Size, err)
		}
		fmt.Printf("inclusion: leaf %d in tree %d verified (%d hashes)\n", p.Index, p.Size, len(proof))
	}

	for _, f := range consistencies {
		var p consistencyProof
		if err := readJSON(f, &p); err != nil {
			return err
		}
		oldRoot, err := parseHash(p.OldRoot)
		if err != nil {
			return fmt.Errorf("%s: old_root: %v", f, err)
		}
		newRoot, err := parseHash(p.NewRoot)
		if err != nil {
			return fmt.Errorf("%s: new_root: %v", f, err)
		}
		proof, err := parseHashes(p.Proof)
		if err != nil {
			return fmt.Errorf("%s: proof: %v", f, err)
		}
		if p.NewSize != cp.Size || newRoot != cp.Root {
			return fmt.Errorf("%s: new size %d root %x is not the checkpoint's", f, p.NewSize, newRoot[:])
		}
		if old != nil && (p.OldSize != old.Size || oldRoot != old.Root) {
			return fmt.Errorf("%s: old size %d root %x is not the old checkpoint's", f, p.OldSize, oldRoot[:])
		}
		if err := tlog.CheckTree(tlog.TreeProof(proof), p.NewSize, newRoot, p.OldSize, oldRoot); err != nil {
			return fmt.Errorf("%s: consistency %d -> %d: %v", f, p.OldSize, p.NewSize, err)
		}
		fmt.Printf("consistency: tree %d is a prefix of tree %d (%d hashes)\n", p.OldSize, p.NewSize, len(proof))
	}
	return nil
}

// openCheckpoint verifies a signed checkpoint with note.Open and parses its C2SP body.
// Every verifier in `required` must have signed it.
func openCheckpoint(file string, logVerifier note.Verifier, required []note.Verifier) (*checkpoint, error) {
	msg, err := os.ReadFile(file)
	if err != nil {
		return nil, usagef("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(required...))
	if err != nil {
		return nil, fmt.Errorf("%s: note.Open: %v", file, err)
	}
	for _, v := range required {
		found := false
		for _, s := range n.Sigs {
			if s.Name == v.Name() && s.Hash == v.KeyHash() {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s: not signed by %s+%08x", file, v.Name(), v.KeyHash())
		}
	}
	cp, err := parseCheckpoint(n.Text)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	// Cross-check with tlog's own parser of the (older, sumdb) tree note, which differs from a
	// C2SP checkpoint only in its fixed first line.
	tree, err := tlog.ParseTree([]byte("go.sum database tree\n" + strings.SplitN(n.Text, "\n", 2)[1]))
	if err != nil || tree.N != cp.Size || tree.Hash != cp.Root {
		return nil, fmt.Errorf("%s: tlog.ParseTree disagrees: %v %v", file, tree, err)
	}
	return cp, nil
}

// parseCheckpoint parses a c2sp.org/tlog-checkpoint note text.
func parseCheckpoint(text string) (*checkpoint, error) {
	if !strings.HasSuffix(text, "\n") {
		return nil, errors.New("checkpoint does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return nil, errors.New("checkpoint has fewer than three lines")
	}
	if lines[0] == "" {
		return nil, errors.New("empty origin")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return nil, fmt.Errorf("bad tree size %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return nil, fmt.Errorf("bad root hash %q", lines[2])
	}
	for _, ext := range lines[3:] {
		if ext == "" {
			return nil, errors.New("empty extension line")
		}
	}
	cp := &checkpoint{Origin: lines[0], Size: size, Extensions: lines[3:]}
	copy(cp.Root[:], raw)
	return cp, nil
}

// cosignatureV1Verifier checks c2sp.org/tlog-cosignature Ed25519 cosignatures: key hash over
// type 0x04, signature = u64 timestamp || Ed25519("cosignature/v1\ntime <t>\n" || note text).
type cosignatureV1Verifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v *cosignatureV1Verifier) Name() string    { return v.name }
func (v *cosignatureV1Verifier) KeyHash() uint32 { return v.hash }
func (v *cosignatureV1Verifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > 1<<63-1 {
		return false
	}
	signed := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
	return ed25519.Verify(v.key, signed, sig[8:])
}

const (
	algEd25519              = 0x01
	algEd25519CosignatureV1 = 0x04
)

func keyHash(name string, typedKey []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(typedKey)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// newCosignatureV1Verifier reads a vkey of type 0x04, or of type 0x01 taken as the 0x04 key
// of the same Ed25519 public key (as transparency-dev's witness does).
func newCosignatureV1Verifier(vkey string) (note.Verifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 || len(parts[1]) != 8 {
		return nil, errors.New("malformed verifier key")
	}
	name := parts[0]
	if name == "" || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsSpace) >= 0 || strings.Contains(name, "+") {
		return nil, errors.New("bad key name")
	}
	hash, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return nil, errors.New("bad key hash")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize {
		return nil, errors.New("bad key data")
	}
	if raw[0] != algEd25519 && raw[0] != algEd25519CosignatureV1 {
		return nil, fmt.Errorf("unsupported signature type 0x%02x", raw[0])
	}
	if uint32(hash) != keyHash(name, raw) {
		return nil, errors.New("key hash does not match the key")
	}
	typed := append([]byte{algEd25519CosignatureV1}, raw[1:]...)
	return &cosignatureV1Verifier{name: name, hash: keyHash(name, typed), key: ed25519.PublicKey(raw[1:])}, nil
}

func readText(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", usagef("%v", err)
	}
	return string(bytes.TrimSpace(b)), nil
}

func readJSON(file string, v any) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return usagef("%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	return nil
}

func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	if len(s) != 2*tlog.HashSize || strings.ToLower(s) != s {
		return h, fmt.Errorf("%q is not %d lowercase hex digits", s, 2*tlog.HashSize)
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return h, err
	}
	copy(h[:], raw)
	return h, nil
}

func parseHashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, len(list))
	for i, s := range list {
		h, err := parseHash(s)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %v", i, err)
		}
		out = append(out, h)
	}
	return out, nil
}
