package objects

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
)

// A layer's diff id record (indexes/sha256/<hex>.diffid) says which diff
// id the tar inside blob <hex> was found to have, when its file index was
// written: every writer of an index checks or computes the diff id first.
// With it, an unpack of a stored blob checks the blob's own digest (its
// compressed bytes, 84 MB for a Debian layer) instead of hashing the tar
// again for the diff id (206 MB): a blob that still has its digest holds
// the tar that was checked (issue 15: the diff id was a fifth of a cold
// checkout's CPU). A commit that pairs the blob with another diff id does
// not match the record, and its unpack checks the diff id as before.

func (s *Store) diffIDPath(d digest.Digest) string {
	return s.indexPath(d) + ".diffid"
}

// writeDiffID records diffID for blob d, and indexSum, the sha256 of the
// index written with it ("" when the writer did not write the index: fsck
// then derives the index once, and records it). It is written before the
// index it goes with, and made durable by that index's directory sync;
// its content is not synced: a record a crash left empty or cut reads as
// no record (VerifiedDiffID), which only costs the next unpack a full
// hash.
func (s *Store) writeDiffID(d, diffID, indexSum digest.Digest) error {
	if err := diffID.Validate(); err != nil {
		return fmt.Errorf("diff id record of %s: %w", d, err)
	}
	line := diffID.String()
	if indexSum != "" {
		line += " " + indexSum.String()
	}
	if err := s.writeRecord(s.diffIDPath(d), ".diffid-", line+"\n"); err != nil {
		return fmt.Errorf("diff id record of %s: %w", d, err)
	}
	return nil
}

// writeRecord writes a record file at p whole or not at all: through a
// temporary file (named with prefix) renamed over it, not synced.
func (s *Store) writeRecord(p, prefix, content string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.TempDir(), prefix)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// RecordDiffID records that layer d's tar was just found to have diffID,
// for a layer whose index an older strata wrote without a record. The
// caller must have hashed the tar itself.
func (s *Store) RecordDiffID(d, diffID digest.Digest) error {
	return s.writeDiffID(d, diffID, "")
}

// VerifiedDiffID returns the diff id recorded for layer d when its file
// index was written, or "" if there is none, or none that reads whole.
func (s *Store) VerifiedDiffID(d digest.Digest) digest.Digest {
	diffID, _ := s.readRecord(d)
	return diffID
}

// readRecord reads layer d's record: "<diff id>" or "<diff id> <index
// sha256>", one line; "" for what is not there or does not read whole.
func (s *Store) readRecord(d digest.Digest) (diffID, indexSum digest.Digest) {
	if d.Validate() != nil {
		return "", ""
	}
	b, err := readRegular(s.diffIDPath(d), 4096) // one line of two digests
	if err != nil {
		return "", ""
	}
	line, ok := strings.CutSuffix(string(b), "\n")
	if !ok {
		return "", ""
	}
	first, second, _ := strings.Cut(line, " ")
	diffID, indexSum = digest.Digest(first), digest.Digest(second)
	if diffID.Validate() != nil {
		return "", ""
	}
	if indexSum.Validate() != nil {
		indexSum = ""
	}
	return diffID, indexSum
}

// CheckDiffID verifies that stored layer l's tar has the diff id its
// commit claims (fsck). A layer whose record says so was verified when
// its index was written and is not read again; one without an index is
// indexed (LayerIndex: verified, then the index and its record are
// written, as a diff would); one whose index has no record, or a record
// of another diff id, is hashed, and recorded if it had none. So a layer
// is decompressed by fsck once, not at every run.
func (s *Store) CheckDiffID(l Layer) error {
	d := l.Desc.Digest
	rec := s.VerifiedDiffID(d)
	if rec != "" && rec == l.DiffID {
		return nil
	}
	if !s.HasLayerIndex(d) {
		_, err := s.LayerIndex(l)
		return err
	}
	rc, err := s.OpenLayer(l.Desc)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return fmt.Errorf("layer %s: %w", d, err)
	}
	got := digest.NewDigest(digest.SHA256, h)
	if got != l.DiffID {
		return fmt.Errorf("layer %s: diff id is %s, the commit says %s: %w", d, got, l.DiffID, ErrDigestMismatch)
	}
	if rec == "" {
		return s.RecordDiffID(d, got)
	}
	return nil
}
