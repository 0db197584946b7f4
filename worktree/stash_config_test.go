package worktree

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
)

// stagedSquash is a work tree reset --soft over two commits: files /one
// and /two and the top's config (Cmd, Env) staged. It returns the top.
func stagedSquash(t *testing.T) (*Worktree, *objects.Commit) {
	t.Helper()
	_, _, w := checkedOutBase(t)
	base, top := twoConfigCommits(t, w)
	_, err := w.Reset(context.Background(), base.ID.String(), ResetSoft)
	must(t, err)
	wantStaged(t, w, []string{"Cmd", "Env"})
	return w, top
}

// TestStashSavesStagedConfig: a stash takes the staged config with the
// files, as git's stash saves the index, and pop stages it again.
func TestStashSavesStagedConfig(t *testing.T) {
	ctx := context.Background()
	w, top := stagedSquash(t)
	s, err := w.Stash(ctx, "", nil, false)
	must(t, err)
	if !SameConfig(s.Config.Config, top.Config.Config) {
		t.Errorf("the stash commit's config %+v, want the staged %+v", s.Config.Config, top.Config.Config)
	}
	wantStaged(t, w, nil)
	if _, err := os.Lstat(w.Target() + "/two"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/two after the stash: %v", err)
	}
	must(t, w.ApplyStash(ctx, s.ID, "pop"))
	wantStaged(t, w, []string{"Cmd", "Env"})
	if b, err := os.ReadFile(w.Target() + "/two"); err != nil || string(b) != "2\n" {
		t.Errorf("/two after the pop: %q, %v", b, err)
	}
	sq, _, err := w.Commit(ctx, CommitOptions{Message: "squashed"})
	must(t, err)
	if !SameConfig(sq.Config.Config, top.Config.Config) {
		t.Errorf("the squash after stash and pop: config %+v, want %+v", sq.Config.Config, top.Config.Config)
	}
}

// TestStashConfigAlone: a staged config with no file changed is a
// change to stash; an apply over a different staged config is refused
// and writes nothing, over none it stages the stash's fields.
func TestStashConfigAlone(t *testing.T) {
	ctx := context.Background()
	_, _, w := checkedOutBase(t)
	_, _, err := w.Commit(ctx, CommitOptions{Message: "env", Config: withConfig("", "B=2")})
	must(t, err)
	_, err = w.Reset(ctx, "HEAD~1", ResetSoft)
	must(t, err)
	s, err := w.Stash(ctx, "", nil, false)
	if err != nil {
		t.Fatalf("a stash of a staged config alone: %v", err)
	}
	parent, err := w.commit(s.Parent())
	must(t, err)
	if len(s.Layers()) != len(parent.Layers()) || !slices.Contains(s.Config.Config.Env, "B=2") {
		t.Errorf("the config-only stash: %d layers on %d, Env %q", len(s.Layers()), len(parent.Layers()), s.Config.Config.Env)
	}
	wantStaged(t, w, nil)
	if _, err := w.Stash(ctx, "", nil, false); !errors.Is(err, ErrNoLocalChanges) {
		t.Errorf("a second stash with nothing left: %v", err)
	}

	// Another config staged: the apply is refused.
	_, _, err = w.Commit(ctx, CommitOptions{Message: "cmd", Config: withConfig("/bin/other")})
	must(t, err)
	_, err = w.Reset(ctx, "HEAD~1", ResetSoft)
	must(t, err)
	var ce *ConfigStagedError
	if err := w.ApplyStash(ctx, s.ID, "apply"); !errors.As(err, &ce) {
		t.Fatalf("stash apply over another staged config: %v", err)
	}
	wantStaged(t, w, []string{"Cmd"})
	_, err = w.Reset(ctx, "HEAD", ResetHard)
	must(t, err)
	must(t, w.ApplyStash(ctx, s.ID, "apply"))
	wantStaged(t, w, []string{"Env"})
}

// TestKilledStashOfStagedConfig: a stash killed after it saved keeps
// the config both in the stash and staged; killed once the fresh mount
// is in, the stash has it. Nothing is lost either way.
func TestKilledStashOfStagedConfig(t *testing.T) {
	for _, point := range []string{"stash-saved", "switch-mounted"} {
		t.Run(point, func(t *testing.T) {
			w, top := stagedSquash(t)
			killedHelper(t, w.Repo, point, "CHECKOUT_TEST_HELPER=stash")
			if _, err := w.Status(context.Background()); err != nil {
				t.Fatal(err)
			}
			id, err := w.Repo.Refs.Read(refs.Stash)
			must(t, err)
			s, err := w.commit(id)
			must(t, err)
			if !SameConfig(s.Config.Config, top.Config.Config) {
				t.Errorf("the killed stash's config %+v, want %+v", s.Config.Config, top.Config.Config)
			}
			if point == "stash-saved" {
				wantStaged(t, w, []string{"Cmd", "Env"})
			}
		})
	}
}

// TestStashApplyConfigClash: a stash apply whose config fields HEAD
// changed too since the stash was made, to other values, is refused as
// git's apply --index refuses conflicts in the index, naming them, with
// nothing written or staged; the fields HEAD left alone, or changed to
// the stash's own values, apply. Before, the stash's value was staged
// over HEAD's change, with no word.
func TestStashApplyConfigClash(t *testing.T) {
	ctx := context.Background()
	_, _, w := checkedOutBase(t)
	_, _, err := w.Commit(ctx, CommitOptions{Message: "env", Config: withConfig("/bin/stashed", "B=2")})
	must(t, err)
	_, err = w.Reset(ctx, "HEAD~1", ResetSoft)
	must(t, err)
	must(t, write(w.Target()+"/stashed", "s\n"))
	s, err := w.Stash(ctx, "", nil, false)
	must(t, err)

	_, _, err = w.Commit(ctx, CommitOptions{Message: "env since", Config: withConfig("", "B=3")})
	must(t, err)
	var ce *StashConfigClashError
	err = w.ApplyStash(ctx, s.ID, "apply")
	if !errors.As(err, &ce) || !slices.Equal(ce.Fields, []string{"Env"}) {
		t.Fatalf("stash apply over a config HEAD changed since: %v; want Env named", err)
	}
	wantStaged(t, w, nil)
	if _, err := os.Lstat(w.Target() + "/stashed"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused apply wrote /stashed: %v", err)
	}

	// HEAD's Env the stash's again: the same change on both sides.
	_, err = w.Reset(ctx, "HEAD~1", ResetHard)
	must(t, err)
	_, _, err = w.Commit(ctx, CommitOptions{Message: "same env", Config: withConfig("", "B=2")})
	must(t, err)
	must(t, w.ApplyStash(ctx, s.ID, "apply"))
	wantStaged(t, w, []string{"Cmd"})
	if b, err := os.ReadFile(w.Target() + "/stashed"); err != nil || string(b) != "s\n" {
		t.Errorf("/stashed after the apply: %q, %v", b, err)
	}
}
