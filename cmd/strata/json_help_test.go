package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/internal/testrootfs"
)

// jsonKey is the one style of strata's JSON keys: lower case words
// joined by "_" (exit_code, path_bytes), as docker's and git's tools
// name the fields of their JSON.
var jsonKey = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// freeForm are the JSON fields whose keys are data (a host path), not
// names strata chose.
var freeForm = map[string]bool{"host_paths": true}

// TestHelpDocumentsJSONKeys runs every listing with --format json on a
// repository with something in each, and checks that the output is
// JSON, that its keys are all in one style, and that the help of the
// command names each key of its objects, quoted ("name"), so that a
// script's author can rely on the help alone.
func TestHelpDocumentsJSONKeys(t *testing.T) {
	work := t.TempDir()
	t.Cleanup(func() { killSupervisorsUnder(work); unmountUnder(work) })
	if err := testrootfs.BuildBusybox(filepath.Join(work, "rootfs")); err != nil {
		t.Fatal(err)
	}
	env := filepath.Join(work, "env")
	run := func(args ...string) []byte {
		t.Helper()
		cmd := strataCmd(env, args...)
		cmd.Env = append(cmd.Env, "HOME="+work)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("strata %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return out
	}
	if err := os.Mkdir(env, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-q"},
		{"config", "user.name", "A U Thor"},
		{"config", "user.email", "author@example.com"},
		{"import", "../rootfs", "-m", "base"},
		{"checkout", "-q", "main"},
		{"run", "--", "sh", "-c", "echo hi > /etc/motd"},
		{"commit", "-q", "-m", "motd"},
		{"tag", "v1"},
		{"remote", "add", "origin", filepath.Join(work, "layout")},
		{"push", "-q", "-u", "origin", "main"},
		{"run", "-d", "--name", "web", "--rev", "main", "--", "true"},
		{"wait", "web"},
		{"run", "--", "sh", "-c", "echo stashed > /etc/motd"},
		{"stash", "-q"},
		{"run", "--", "sh", "-c", "echo again > /etc/motd"},
	} {
		run(args...)
	}
	var out bytes.Buffer
	root := newRootCommand(&globals{stdout: &out, stderr: &out}, "")
	for _, args := range [][]string{
		{"branch", "-a"}, {"tag"}, {"log"}, {"show"}, {"status"},
		{"diff", "HEAD~1", "HEAD"}, {"blame", "/etc/motd"},
		{"reflog", "show", "main"}, {"remote"}, {"worktree", "list"},
		{"du"}, {"fsck"}, {"config", "--list"}, {"ps", "-a"},
		{"stash", "list"}, {"stash", "show"}, {"stats", "--no-stream", "-a"},
		{"ls-tree", "-r", "-l", "main"}, {"grep", "-n", "hi", "main"}, {"shortlog", "-e"},
		{"ls-remote", "origin"},
	} {
		cmd, _, err := root.Find(args)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.Join(args, " ")
		b := run(append(args, "--format", "json")...)
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("strata %s --format json: not JSON: %v\n%s", name, err, b)
			continue
		}
		help := helpText(cmd)
		for _, key := range topKeys(v) {
			if !strings.Contains(help, `"`+key+`"`) {
				t.Errorf("strata %s --format json gives %q, which its help does not name", name, key)
			}
		}
		for _, key := range allKeys(v) {
			if !jsonKey.MatchString(key) {
				t.Errorf("strata %s --format json: key %q is not lower_case as the others", name, key)
			}
		}
	}
}

// helpText is what --help shows of cmd that may name its JSON keys: its
// description and flags, and its parent's description (reflog show's
// keys are in reflog's).
func helpText(cmd *cobra.Command) string {
	s := cmd.Long + cmd.Flags().FlagUsages()
	if p := cmd.Parent(); p != nil && p.HasParent() {
		s += p.Long
	}
	return s
}

// topKeys are the keys of v, an object or an array of objects.
func topKeys(v any) []string {
	seen := map[string]bool{}
	var keys []string
	add := func(o any) {
		m, _ := o.(map[string]any)
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	if a, ok := v.([]any); ok {
		for _, o := range a {
			add(o)
		}
	} else {
		add(v)
	}
	return keys
}

// allKeys are the keys of every object in v, at any depth, except
// inside the free-form fields.
func allKeys(v any) []string {
	var keys []string
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			keys = append(keys, k)
			if !freeForm[k] {
				keys = append(keys, allKeys(sub)...)
			}
		}
	case []any:
		for _, sub := range v {
			keys = append(keys, allKeys(sub)...)
		}
	}
	return keys
}
