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

// TestConfigEditsKeepTheFile: set, unset, and the remote rename and
// remove edit the lines they change, as git config does; comments, blank
// lines, layout and a valueless "key" (true to git; go-git's encoder
// wrote it "key = ", false) stay byte for byte.
func TestConfigEditsKeepTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	orig := `# my notes: keep this
[core]
	repositoryformatversion = 1
	sharedWorktree
[remote "origin"]
	url = /srv/x   # where
; branches
[branch "main"]
	remote = origin
[multi]
	v = 1
	v = 2`
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { return c.Set("core.repositoryFormatVersion", "1") },
		func() error { return c.Set("Core.extra", `a "q" b`) },
		func() error { return c.Set("user.name", "me") },
		func() error { return c.Set("multi.new", "x") },
		func() error { return c.RenameSubsection("remote", "origin", "up") },
		func() error { return c.Set("branch.main.remote", "up") },
		func() error { return c.Set("remote.gone.url", "/srv/y") },
		func() error { return c.RemoveSubsection("remote", "gone") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Set("multi.v", "3"); !errors.Is(err, ErrMultipleValues) {
		t.Fatalf("set of a key with 2 values: %v, want ErrMultipleValues (as git)", err)
	}
	want := `# my notes: keep this
[core]
	repositoryFormatVersion = 1
	sharedWorktree
	extra = "a \"q\" b"
[remote "up"]
	url = /srv/x   # where
; branches
[branch "main"]
	remote = up
[multi]
	v = 1
	v = 2
	new = x
[user]
	name = me
`
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("config file:\n%s\nwant:\n%s", got, want)
	}
	if v, _ := c.Get("remote.up.url"); v != "/srv/x" {
		t.Fatalf("remote.up.url = %q after the edits, want /srv/x", v)
	}
	if err := c.Unset("multi.v", false); !errors.Is(err, ErrMultipleValues) {
		t.Fatalf("unset of a key with 2 values: %v, want ErrMultipleValues (as git)", err)
	}
	if err := c.Unset("multi.v", true); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !strings.Contains(string(got), "[multi]\n\tnew = x\n[user]") {
		t.Fatalf("unset left:\n%s", got)
	}
}

// TestConfigBool reads booleans as git does: a key alone is true, and
// yes/on/1 or no/off/0/nothing in any case. strconv.ParseBool took
// "yes" and a valueless key for false: core.sharedWorktree written as
// git writes it was ignored.
func TestConfigBool(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	text := "[t]\n\talone\n\tempty =\n\tyes = Yes\n\toff = off\n\ttwo = 2\n\tzero = 0\n\tbad = maybe\n\tlater = false\n\tlater\n[t \"sub\"]\n\tlast"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"t.alone": true, "t.empty": false, "t.yes": true, "t.off": false,
		"t.two": true, "t.zero": false, "t.later": true, "t.sub.last": true} {
		v, set, err := c.Bool(key)
		if err != nil || !set || v != want {
			t.Errorf("Bool(%s) = %v, %v, %v; want %v, set", key, v, set, err, want)
		}
	}
	if _, set, err := c.Bool("t.bad"); err == nil || !set {
		t.Errorf("Bool(t.bad): %v, want an error", err)
	}
	if v, set, err := c.Bool("t.none"); v || set || err != nil {
		t.Errorf("Bool(t.none) = %v, %v, %v; want not set", v, set, err)
	}
	if git, err := exec.LookPath("git"); err == nil {
		out, err := exec.Command(git, "config", "--file", path, "--type=bool", "t.alone").Output()
		if err != nil || strings.TrimSpace(string(out)) != "true" {
			t.Errorf("git reads t.alone as %q (%v), want true", out, err)
		}
	}
}

// TestConfigValuesReadAsGit: values hand-written in every way git-config
// syntax allows read as git config reads them (go-git's decoder kept the
// newline of a continued line, "x\<newline>y" as "x\ny", and tabs).
func TestConfigValuesReadAsGit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("this test compares with git config; install git: %v", err)
	}
	path := filepath.Join(t.TempDir(), "config")
	text := "[t]\n\ta = x\ty\n\tb = x   y   \n\tc = \"x\"y\"z\"\n\td = x\\\ny\n\te = \"q ; # \" ; c\n" +
		"\tf = a\\tb\n\tg = \"  sp  \"\n\th = x;y\n\ti = \n\tj = \"a\\\nb\"\n\tk = \"a\\\"b\\\\c\\n\"\n" +
		"\tl = x \\\n\t   y\n\tm\n\tn = \"\"   lead\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range strings.Split("abcdefghijklmn", "") {
		out, err := exec.Command(git, "config", "--file", path, "t."+k).Output()
		if err != nil {
			t.Fatalf("git config t.%s: %v", k, err)
		}
		want := strings.TrimSuffix(string(out), "\n")
		if got, ok := c.Get("t." + k); !ok || got != want {
			t.Errorf("t.%s = %q (set %v), git reads %q", k, got, ok, want)
		}
	}
	list, err := exec.Command(git, "config", "--file", path, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, e := range c.All() {
		if e.NoValue {
			got.WriteString(e.Key + "\n")
		} else {
			got.WriteString(e.Key + "=" + e.Value + "\n")
		}
	}
	if got.String() != string(list) {
		t.Errorf("All:\n%s\ngit config --list:\n%s", got.String(), list)
	}
}

// TestConfigCopySubsection copies every [branch "a"] block after itself
// as [branch "b"], comments and order kept, as git's copy-section
// (branch -c); the original stays, a missing or taken name is refused.
func TestConfigCopySubsection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	orig := `[branch "a"]
	remote = origin # here
	merge = refs/heads/a
[core]
	bare = false
[branch "a"]
	rebase`
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CopySubsection("branch", "a", "b"); err != nil {
		t.Fatal(err)
	}
	want := `[branch "a"]
	remote = origin # here
	merge = refs/heads/a
[branch "b"]
	remote = origin # here
	merge = refs/heads/a
[core]
	bare = false
[branch "a"]
	rebase
[branch "b"]
	rebase
`
	if got, _ := os.ReadFile(path); string(got) != want {
		t.Fatalf("config file:\n%s\nwant:\n%s", got, want)
	}
	if v, _ := c.Get("branch.b.merge"); v != "refs/heads/a" || !c.HasSubsection("branch", "b") || c.HasSubsection("branch", "B") {
		t.Errorf("branch.b.merge = %q; HasSubsection b %v, B %v", v, c.HasSubsection("branch", "b"), c.HasSubsection("branch", "B"))
	}
	if err := c.CopySubsection("branch", "a", "b"); err == nil {
		t.Error("copy over [branch \"b\"]: no error")
	}
	if err := c.CopySubsection("branch", "nosuch", "c"); err == nil || c.HasSubsection("branch", "c") {
		t.Errorf("copy of no section: err = %v", err)
	}
}
