package repo

import (
	"os"
	"path/filepath"
	"testing"
)

// Identity finds the author as git does: its environment variables,
// then the config files with their include.path files in place.
func TestIdentityIsGits(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", "")
	t.Setenv("GIT_AUTHOR_NAME", "")
	t.Setenv("GIT_AUTHOR_EMAIL", "")
	t.Setenv("EMAIL", "")
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Init(filepath.Join(home, "env"), "main")
	if err != nil {
		t.Fatal(err)
	}
	check := func(want string) {
		t.Helper()
		if got, _ := r.Identity(); got != want {
			t.Fatalf("Identity = %q, want %q", got, want)
		}
	}
	// A dotfiles layout: ~/.gitconfig includes the identity (relative to
	// itself), which includes the email through ~/; a later value in the
	// including file wins over the included one; a loop stops.
	write(".gitconfig", "[include]\n\tpath = dotfiles/id.inc\n[core]\n\teditor = vi\n")
	write("dotfiles/id.inc", "[user]\n\tname = Ann Included\n[include]\n\tpath = ~/dotfiles/mail.inc\n")
	write("dotfiles/mail.inc", "[user]\n\temail = ann@example.com\n[include]\n\tpath = mail.inc\n")
	check("Ann Included <ann@example.com>")
	write(".gitconfig", "[include]\n\tpath = dotfiles/id.inc\n[user]\n\tname = Ann After\n")
	check("Ann After <ann@example.com>")
	// git's GIT_CONFIG_GLOBAL replaces ~/.gitconfig.
	write("other.gitconfig", "[user]\n\tname = Other\n\temail = other@example.com\n")
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, "other.gitconfig"))
	check("Other <other@example.com>")
	// The repository's config wins over the user's; the environment over both.
	if err := r.Config.Set("user.name", "Repo Name"); err != nil {
		t.Fatal(err)
	}
	check("Repo Name <other@example.com>")
	t.Setenv("GIT_AUTHOR_NAME", "Env Name")
	t.Setenv("GIT_AUTHOR_EMAIL", "env@example.com")
	check("Env Name <env@example.com>")
	// $EMAIL when no config has an email.
	t.Setenv("GIT_AUTHOR_EMAIL", "")
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, "none"))
	t.Setenv("EMAIL", "mail@example.com")
	check("Env Name <mail@example.com>")
}
