package objects

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// withoutLayers returns manifest b with the value of its top-level
// "layers" member replaced by [], for a reader that needs only the head
// (ParseManifestHead). A commit lists every layer below it, up to 128
// descriptors of about 170 bytes, and encoding/json scans every byte
// twice (a validity pass, then the decode skipping the unknown member):
// two thirds of log's time on real commits. The cut is found by a scan
// that knows only strings and nesting: on valid JSON it ends where any
// parser ends the array, and the rest is still decoded, and checked, by
// encoding/json. A manifest whose layers it cannot delimit is returned
// as is; the full readers (ReadManifest, CheckCommit: checkout, fsck)
// check the layers whatever this does.
func withoutLayers(b []byte) []byte {
	i, end, ok := layersSpan(b)
	if !ok {
		return b
	}
	out := make([]byte, 0, len(b)-(end-i)+2)
	out = append(out, b[:i]...)
	out = append(out, "[]"...)
	return append(out, b[end:]...)
}

// cutLayers is withoutLayers done in b itself, for a caller that owns b
// and has no more use for its layers: a new head a commit was a tenth
// of a cold log's page faults.
func cutLayers(b []byte) []byte {
	i, end, ok := layersSpan(b)
	if !ok {
		return b
	}
	n := copy(b[i+2:], b[end:])
	b[i], b[i+1] = '[', ']'
	return b[:i+2+n]
}

// layersSpan finds b[i:end], the value of b's top-level "layers" member
// when it is an array of more than nothing to cut (see withoutLayers).
func layersSpan(b []byte) (i, end int, ok bool) {
	i = skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, 0, false
	}
	for i++; ; {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return 0, 0, false
		}
		keyEnd, ok := skipString(b, i)
		if !ok {
			return 0, 0, false
		}
		key := string(b[i:keyEnd])
		i = skipSpace(b, keyEnd)
		if i >= len(b) || b[i] != ':' {
			return 0, 0, false
		}
		i = skipSpace(b, i+1)
		end, ok := 0, false
		if key == `"layers"` {
			end, ok = flatArrayEnd(b, i)
		}
		if !ok {
			end, ok = skipValue(b, i)
		}
		if !ok {
			return 0, 0, false
		}
		if key == `"layers"` && b[i] == '[' {
			// [] already: nothing to cut, nothing to copy.
			return i, end, end-i > 2
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ',' {
			return 0, 0, false
		}
		i++
	}
}

// flatArrayEnd returns the index after the array that starts at b[i] if
// its first ']' ends it with no '[' and no backslash before: then every
// quote before that ']' delimits a string, and an even number of them
// leaves it outside any. Three scans that go many bytes a step
// (bytes.IndexByte, bytes.Count), where skipValue steps through every
// token: a manifest's layer list, which strata writes so, is most of its
// bytes. ok is false for any other array, which skipValue then delimits.
func flatArrayEnd(b []byte, i int) (end int, ok bool) {
	if i >= len(b) || b[i] != '[' {
		return 0, false
	}
	k := bytes.IndexByte(b[i:], ']')
	if k < 0 {
		return 0, false
	}
	in := b[i+1 : i+k]
	if bytes.IndexByte(in, '\\') >= 0 || bytes.IndexByte(in, '[') >= 0 || bytes.Count(in, []byte{'"'})%2 != 0 {
		return 0, false
	}
	return i + k + 1, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i].
// It jumps from quote to quote with bytes.IndexByte, which scans many
// bytes a step: digests and media types are most of a manifest's bytes,
// and a loop over them byte by byte was a fifth of log's time on real
// commits. A quote ends the string unless an odd run of backslashes
// escapes it.
func skipString(b []byte, i int) (int, bool) {
	for i++; ; {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return 0, false
		}
		i += q
		slashes := 0
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			slashes++
		}
		if slashes%2 == 0 {
			return i + 1, true
		}
		i++
	}
}

// skipValue returns the index after the value that starts at b[i]: a
// string, an object or array (by nesting, strings skipped), or a bare
// word (number, true, false, null).
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	}
	for j := i; j < len(b); j++ {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j, j > i
		}
	}
	return 0, false
}

// ReadManifest loads and checks the manifest of commit id, without its config.
func (s *Store) ReadManifest(id digest.Digest) (*ocispec.Manifest, error) {
	b, err := s.ReadJSONBlob(id)
	if err != nil {
		return nil, err
	}
	return parseManifest(id, b)
}

func parseManifest(id digest.Digest, b []byte) (*ocispec.Manifest, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("blob %s: bad JSON: %w", id, err)
	}
	if m.Config.Digest == "" || (m.MediaType != "" && m.MediaType != ocispec.MediaTypeImageManifest) {
		return nil, fmt.Errorf("%s: %w", id, ErrNotCommit)
	}
	return &m, nil
}

// ManifestHead is what a walk of the history needs of a manifest: not
// its layers, which a deep history lists by the thousand.
type ManifestHead struct {
	MediaType   string            `json:"mediaType"`
	Config      ManifestConfig    `json:"config"`
	Annotations map[string]string `json:"annotations"`
}

// ManifestConfig is the config descriptor as ManifestHead keeps it.
type ManifestConfig struct {
	Digest digest.Digest `json:"digest"`
}

// ReadManifestHead loads and checks the manifest of commit id as
// ReadManifest does, and decodes only its head.
func (s *Store) ReadManifestHead(id digest.Digest) (*ManifestHead, error) {
	// The bytes are only parsed, and json copies what it keeps, so a
	// walk reuses one buffer: a new one a commit was most of what log
	// allocated, and so most of its collections and page faults.
	bp := headBufs.Get().(*[]byte)
	defer headBufs.Put(bp)
	b, err := s.readVerified(id, *bp, false, true) // a walk's read: see readVerified
	if err != nil {
		return nil, err
	}
	if cap(b) <= maxPooledHead {
		*bp = b[:0]
	}
	return parseOwnedManifestHead(id, b)
}

// headBufs holds ReadManifestHead's read buffers; one that grew past
// maxPooledHead for a large manifest is not kept.
var headBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledHead = 64 << 10

// ParseManifestHead decodes the head of b, the manifest of commit id.
func ParseManifestHead(id digest.Digest, b []byte) (*ManifestHead, error) {
	return decodeManifestHead(id, withoutLayers(b))
}

// parseOwnedManifestHead is ParseManifestHead of bytes the caller has
// no more use for: their layers are cut in place.
func parseOwnedManifestHead(id digest.Digest, b []byte) (*ManifestHead, error) {
	return decodeManifestHead(id, cutLayers(b))
}

// decodeManifestHead decodes head, commit id's manifest with or without
// its layers: by decodeHead, or by encoding/json what that leaves.
func decodeManifestHead(id digest.Digest, head []byte) (*ManifestHead, error) {
	m, ok := decodeHead(head)
	if !ok {
		if err := json.Unmarshal(head, &m); err != nil {
			return nil, fmt.Errorf("blob %s: bad JSON: %w", id, err)
		}
	}
	if m.Config.Digest == "" || (m.MediaType != "" && m.MediaType != ocispec.MediaTypeImageManifest) {
		return nil, fmt.Errorf("%s: %w", id, ErrNotCommit)
	}
	return &m, nil
}

// Parents returns the parents the manifest names, first parent first.
func (m *ManifestHead) Parents() []digest.Digest { return parentsOf(m.Annotations) }
