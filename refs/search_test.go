package refs

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// fakeHistory is a history with messages and dates, for :/TEXT.
type fakeHistory map[digest.Digest]fakeCommit

type fakeCommit struct {
	msg     string
	day     int
	parents []digest.Digest
}

func (f fakeHistory) Parent(d digest.Digest) (digest.Digest, error) {
	c, ok := f[d]
	if !ok {
		return "", fmt.Errorf("%s: not found", d)
	}
	if len(c.parents) == 0 {
		return "", nil
	}
	return c.parents[0], nil
}

func (f fakeHistory) CommitsWithPrefix(string) ([]digest.Digest, error) { return nil, nil }

func (f fakeHistory) CommitInfo(d digest.Digest) (string, time.Time, []digest.Digest, error) {
	c, ok := f[d]
	if !ok {
		return "", time.Time{}, nil, fmt.Errorf("%s: not found", d)
	}
	return c.msg, time.Date(2024, 1, c.day, 0, 0, 0, 0, time.UTC), c.parents, nil
}

// TestResolveMessage: :/TEXT is the youngest commit, from any ref or
// HEAD, whose message matches; the rest of the revision is pattern.
func TestResolveMessage(t *testing.T) {
	s := newStore(t)
	root, fix, mainTip := mkdigest("a1"), mkdigest("a2"), mkdigest("a3")
	side, tagged := mkdigest("b1"), mkdigest("c1")
	h := fakeHistory{
		root:    {msg: "root\n\nfirst import", day: 1},
		fix:     {msg: "fix: motd", day: 2, parents: []digest.Digest{root}},
		mainTip: {msg: "add issue~1", day: 3, parents: []digest.Digest{fix}},
		side:    {msg: "fix: side\nsecond line", day: 5, parents: []digest.Digest{root}},
		tagged:  {msg: "Fix: tagged!", day: 4, parents: []digest.Digest{root}},
	}
	for ref, d := range map[string]digest.Digest{Heads + "main": mainTip, Heads + "side": side, Tags + "v1": tagged} {
		if err := s.Update(ref, d, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	for rev, want := range map[string]digest.Digest{
		":/fix":           side, // the youngest of two branches
		":/^fix: m":       fix,
		":/(?i)^FIX: tag": tagged,
		":/first import":  root, // any line of the message
		":/line$":         side,
		":/side.second":   side, // . matches a newline, as POSIX's
		":/issue~1":       mainTip,
		":/!-fix":         tagged, // the youngest not matching
		":/!-(?i)fix":     mainTip,
		":/!!$":           tagged, // a literal leading !
		":/!!x":           "",
	} {
		d, err := s.Resolve(rev, h)
		if want == "" {
			if !errors.Is(err, ErrUnknownRevision) {
				t.Errorf("Resolve(%q) = %s, %v; want ErrUnknownRevision", rev, d, err)
			}
			continue
		}
		if err != nil || d != want {
			t.Errorf("Resolve(%q) = %s, %v; want %s", rev, d, err, want)
		}
	}
	for rev, msg := range map[string]string{
		":/nomatch": "no commit's message matches",
		":/(fix":    "bad regular expression: missing closing )",
		":/":        "empty pattern",
		":/!x":      "reserved",
		":/!-":      "empty pattern",
	} {
		_, err := s.Resolve(rev, h)
		if !errors.Is(err, ErrUnknownRevision) || !strings.Contains(err.Error(), msg) || !strings.HasPrefix(err.Error(), rev+": ") {
			t.Errorf("Resolve(%q): err = %v; want ErrUnknownRevision saying %q", rev, err, msg)
		}
	}
	// A store that cannot read messages says so rather than guessing.
	if _, err := s.Resolve(":/fix", fakeCommits{}); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("Resolve(:/fix) without messages: err = %v", err)
	}
}
