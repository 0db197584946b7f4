package layer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/strata-sh/strata/objects/layer/layertest"
)

// Extract gives the tree Unpack gives and the diff id and index Index
// gives, for strata's zstd layers and for gzip and plain tars.
func TestExtractMatchesIndex(t *testing.T) {
	requireRoot(t)
	for name, build := range map[string]func(t *testing.T, dir string){
		"everything": func(t *testing.T, dir string) { layertest.Build(t, dir, layertest.Everything) },
		"large":      func(t *testing.T, dir string) { layertest.BuildLarge(t, dir, 20<<20) },
	} {
		t.Run(name, func(t *testing.T) {
			src := t.TempDir()
			build(t, src)
			zst, res := create(t, src, WriteOptions{})
			tarball := streamDecode(t, zst)
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(tarball)
			zw.Close()
			wantDiff, wantIndex, err := Index(bytes.NewReader(tarball))
			if err != nil {
				t.Fatal(err)
			}
			if wantDiff != res.DiffID {
				t.Fatalf("Index says %s, Create said %s", wantDiff, res.DiffID)
			}
			for kind, blob := range map[string][]byte{
				"application/vnd.oci.image.layer.v1.tar+zstd": zst,
				"application/vnd.oci.image.layer.v1.tar+gzip": gz.Bytes(),
				"application/vnd.oci.image.layer.v1.tar":      tarball,
			} {
				dst := t.TempDir()
				diff, index, err := Extract(context.Background(), bytes.NewReader(blob), kind, dst, Apply)
				if err != nil {
					t.Fatalf("%s: %v", kind, err)
				}
				if diff != wantDiff || !reflect.DeepEqual(index, wantIndex) {
					t.Errorf("%s: diff id %s, %d entries; Index: %s, %d entries", kind, diff, len(index), wantDiff, len(wantIndex))
				}
				layertest.Compare(t, src, dst)
				// Without the index: the same tree and diff id.
				dst = t.TempDir()
				diff, err = ExtractUnindexed(context.Background(), bytes.NewReader(blob), kind, dst, Apply)
				if err != nil || diff != wantDiff {
					t.Errorf("%s unindexed: diff id %s (%v), want %s", kind, diff, err, wantDiff)
				}
				layertest.Compare(t, src, dst)
				// Known diff id too: the same tree, nothing hashed.
				dst = t.TempDir()
				if err := ExtractKnown(context.Background(), bytes.NewReader(blob), kind, dst, Apply); err != nil {
					t.Errorf("%s known: %v", kind, err)
				}
				layertest.Compare(t, src, dst)
			}
			// A blob whose bytes are not what its media type says is refused.
			_, _, err = Extract(context.Background(), bytes.NewReader(gz.Bytes()), "application/vnd.oci.image.layer.v1.tar+zstd", t.TempDir(), Apply)
			if !errors.Is(err, ErrMediaType) {
				t.Errorf("gzip labelled zstd: %v, want ErrMediaType", err)
			}
		})
	}
}

// Extract reads the blob to its end, so that a verifying reader sees EOF.
func TestExtractReadsToEnd(t *testing.T) {
	requireRoot(t)
	src := t.TempDir()
	layertest.Build(t, src, layertest.Everything)
	zst, _ := create(t, src, WriteOptions{})
	r := &eofSeen{r: bytes.NewReader(zst)}
	if _, _, err := Extract(context.Background(), r, "", t.TempDir(), ToOverlayLower); err != nil {
		t.Fatal(err)
	}
	if !r.eof {
		t.Fatal("Extract returned before the blob's end")
	}
	r = &eofSeen{r: bytes.NewReader(zst)}
	if _, err := ExtractUnindexed(context.Background(), r, "", t.TempDir(), ToOverlayLower); err != nil {
		t.Fatal(err)
	}
	if !r.eof {
		t.Fatal("ExtractUnindexed returned before the blob's end")
	}
	// ExtractKnown trusts its reader to check the blob at EOF: it must
	// get there, and pass on what the reader says there.
	r = &eofSeen{r: bytes.NewReader(zst)}
	if err := ExtractKnown(context.Background(), r, "", t.TempDir(), ToOverlayLower); err != nil {
		t.Fatal(err)
	}
	if !r.eof {
		t.Fatal("ExtractKnown returned before the blob's end")
	}
	bad := errors.New("blob digest mismatch")
	if err := ExtractKnown(context.Background(), &failAtEOF{r: bytes.NewReader(zst), err: bad}, "", t.TempDir(), ToOverlayLower); !errors.Is(err, bad) {
		t.Fatalf("ExtractKnown of a blob that fails at EOF: %v, want its error", err)
	}
}

// failAtEOF reads r, then fails with err where r ends, as a verifying
// reader does on a blob that does not match its digest.
type failAtEOF struct {
	r   io.Reader
	err error
}

func (f *failAtEOF) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		err = f.err
	}
	return n, err
}

type eofSeen struct {
	r   io.Reader
	eof bool
}

func (e *eofSeen) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}
