package main

import (
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// prefixStore is a store of commits for uniqueAbbrev.
type prefixStore []digest.Digest

func (p prefixStore) CommitsWithPrefix(prefix string) ([]digest.Digest, error) {
	var out []digest.Digest
	for _, d := range p {
		if strings.HasPrefix(d.Encoded(), prefix) {
			out = append(out, d)
		}
	}
	return out, nil
}

func hexDigest(prefix string) digest.Digest {
	return digest.NewDigestFromEncoded(digest.SHA256, prefix+strings.Repeat("0", 64-len(prefix)))
}

// TestUniqueAbbrev: rev-parse --short=N gives N digits, at least 4,
// and more while another commit shares them, as git's.
func TestUniqueAbbrev(t *testing.T) {
	a, b, c := hexDigest("abcdef1"), hexDigest("abcdef2"), hexDigest("1234")
	objs := prefixStore{a, b, c}
	for _, tc := range []struct {
		d    digest.Digest
		n    int
		want string
	}{
		{c, 4, "1234"},
		{c, 1, "1234"}, // at least MinPrefix
		{c, 12, "123400000000"},
		{a, 4, "abcdef1"}, // abcdef is b's too
		{b, 6, "abcdef2"},
		{a, 8, "abcdef10"},
		{a, 99, a.Encoded()},
	} {
		got, err := uniqueAbbrev(objs, tc.d, tc.n)
		if err != nil || got != tc.want {
			t.Errorf("uniqueAbbrev(%s, %d) = %q, %v; want %q", tc.d.Encoded()[:8], tc.n, got, err, tc.want)
		}
	}
}
