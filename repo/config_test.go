package repo

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Values that need quoting round-trip through the file, and git reads
// them back the same.
func TestConfigQuotingRoundTrips(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	values := map[string]string{
		"t.quote":              `say "hi"`,
		"t.backslash":          `C:\dir\n`,
		"t.semicolon":          "a;b",
		"t.hash":               "a # not a comment",
		"t.lead":               "  leading",
		"t.trail":              "trailing  ",
		"t.empty":              "",
		"t.unicode":            "Zoë Ünïcode",
		"t.brackets":           "[section] = x",
		"remote.a b\"c\\d.url": "http://x",
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		if err := c.Set(k, v); err != nil {
			t.Fatalf("Set(%q, %q): %v", k, v, err)
		}
	}
	again, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	git, gitErr := exec.LookPath("git")
	if gitErr != nil {
		t.Fatal("git is needed (make deps-test installs it):", gitErr)
	}
	for k, v := range values {
		if got, ok := again.Get(k); !ok || got != v {
			t.Errorf("Get(%q) = %q, %v; want %q", k, got, ok, v)
		}
		out, err := exec.Command(git, "config", "--file", path, "--get", k).Output()
		if err != nil {
			t.Errorf("git config --get %q: %v", k, err)
			continue
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != v {
			t.Errorf("git reads %q as %q, want %q", k, got, v)
		}
	}
}

// Bad keys and values are refused with one line, the file is left as it
// was, and it still loads.
func TestConfigRefusesWhatWouldCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("user.name", "A U Thor"); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	cases := []struct{ key, value, why string }{
		{"user.name", "a\nb", "a newline"},
		{"user.name", "a\rb", "a carriage return"},
		{"user.name", "a\x00b", "a NUL byte"},
		{"user.name", "a\tb", "a tab"},
		{"user.name", "a\x1bb", "U+001B"},
		{"user.name", "a\x7fb", "U+007F"},
		{"us\ner.name", "x", "section"},
		{"user.na\nme", "x", "name"},
		{"remote.a\nb.url", "x", "subsection contains a newline"},
		{"remote.a\x00b.url", "x", "a NUL byte"},
		{"user.1name", "x", "a letter"},
		{"user.na_me", "x", "name"},
		{"us]er.name", "x", "section"},
		{"us er.name", "x", "section"},
		{"nodot", "x", "section.name"},
		{".name", "x", "section.name"},
		{"user.", "x", "section.name"},
		{"[user].name", "x", "section"},
	}
	for _, tc := range cases {
		err := c.Set(tc.key, tc.value)
		if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tc.why) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Set(%q, %q) = %v; want one line with %q wrapping ErrBadConfig", tc.key, tc.value, err, tc.why)
		}
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(before) {
		t.Errorf("refused input changed the file:\n%s", after)
	}
	again, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("reload after refused input: %v", err)
	}
	if v, _ := again.Get("user.name"); v != "A U Thor" {
		t.Errorf("user.name = %q after refused input", v)
	}
	for _, k := range []string{"remote.a.b.c.url", "a-b.c-1"} {
		if err := c.Set(k, "ok"); err != nil {
			t.Errorf("Set(%q): %v", k, err)
		}
	}
}
