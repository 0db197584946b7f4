package worktree

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
)

// withConfig is a CommitOptions.Config that sets Cmd and adds env.
func withConfig(cmd string, env ...string) func(*ocispec.ImageConfig) error {
	return func(c *ocispec.ImageConfig) error {
		if cmd != "" {
			c.Cmd = []string{cmd}
		}
		c.Env = append(c.Env, env...)
		return nil
	}
}

// twoConfigCommits commits a file with ENV A=1, then one with CMD
// /bin/two, on the base; it returns the base and the last commit.
func twoConfigCommits(t *testing.T, w *Worktree) (*objects.Commit, *objects.Commit) {
	t.Helper()
	ctx := context.Background()
	base, err := w.Resolve("HEAD")
	must(t, err)
	must(t, write(w.Target()+"/one", "1\n"))
	_, _, err = w.Commit(ctx, CommitOptions{Message: "one", Config: withConfig("", "A=1")})
	must(t, err)
	must(t, write(w.Target()+"/two", "2\n"))
	top, _, err := w.Commit(ctx, CommitOptions{Message: "two", Config: withConfig("/bin/two")})
	must(t, err)
	return base, top
}

func wantStaged(t *testing.T, w *Worktree, want []string) {
	t.Helper()
	_, got, err := w.StagedConfig()
	must(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("staged config fields: %q, want %q", got, want)
	}
}

// TestResetSoftSquashKeepsConfig: reset --soft stages the old HEAD's
// config, and the commit after it is the old HEAD in all but history.
func TestResetSoftSquashKeepsConfig(t *testing.T) {
	ctx := context.Background()
	_, _, w := checkedOutBase(t)
	base, top := twoConfigCommits(t, w)

	_, err := w.Reset(ctx, base.ID.String(), ResetSoft)
	must(t, err)
	st, _, err := w.State()
	must(t, err)
	if st.StagedOn != base.ID || st.StagedConfig == nil {
		t.Fatalf("state after reset --soft: staged on %s, config %v", st.StagedOn, st.StagedConfig)
	}
	wantStaged(t, w, []string{"Cmd", "Env"})
	sq, _, err := w.Commit(ctx, CommitOptions{Message: "squashed"})
	must(t, err)
	if !SameConfig(sq.Config.Config, top.Config.Config) {
		t.Errorf("squash's config %+v, want the old HEAD's %+v", sq.Config.Config, top.Config.Config)
	}
	wantStaged(t, w, nil)
	if st, _, _ = w.State(); st.StagedConfig != nil || st.StagedOn != "" {
		t.Errorf("a commit left the staged config in the state: %v on %s", st.StagedConfig, st.StagedOn)
	}

	// A config alone is a change: reset --soft over a config-only
	// commit, and the commit needs no file.
	_, _, err = w.Commit(ctx, CommitOptions{Message: "env", Config: withConfig("", "B=2")})
	must(t, err)
	_, err = w.Reset(ctx, "HEAD~1", ResetSoft)
	must(t, err)
	again, n, err := w.Commit(ctx, CommitOptions{Message: "env again"})
	must(t, err)
	if n != 0 || !slices.Contains(again.Config.Config.Env, "B=2") {
		t.Errorf("config-only squash: %d paths, Env %q", n, again.Config.Config.Env)
	}
	if _, _, err := w.Commit(ctx, CommitOptions{Message: "nothing"}); !errors.Is(err, ErrNothingToCommit) {
		t.Errorf("commit with nothing staged: %v", err)
	}
}

// TestStagedConfigSwitches: what each move of the work tree does with a
// staged config.
func TestStagedConfigSwitches(t *testing.T) {
	ctx := context.Background()
	_, base, w := checkedOutBase(t)
	// twin: base's config, one more file; one: base's files, a Cmd.
	must(t, write(w.Target()+"/t", "t\n"))
	twin, _, err := w.Commit(ctx, CommitOptions{Message: "twin"})
	must(t, err)
	_, err = w.Reset(ctx, base.ID.String(), ResetHard)
	must(t, err)
	one, _, err := w.Commit(ctx, CommitOptions{Message: "one", Config: withConfig("/bin/one")})
	must(t, err)
	_, err = w.Reset(ctx, base.ID.String(), ResetSoft)
	must(t, err)
	wantStaged(t, w, []string{"Cmd"})
	// A second reset --soft keeps what is staged, as git's keeps the
	// index: the config is still the dropped commit's, not HEAD's.
	_, err = w.Reset(ctx, "HEAD", ResetSoft)
	must(t, err)
	wantStaged(t, w, []string{"Cmd"})

	// --keep to a commit with another config: refused, nothing moved.
	_, err = w.Reset(ctx, one.ID.String(), ResetKeep)
	var ce *ConfigStagedError
	if !errors.As(err, &ce) || !errors.Is(err, ErrDirty) {
		t.Fatalf("reset --keep over a staged config: %v", err)
	}
	wantStaged(t, w, []string{"Cmd"})
	// A merge would not record it.
	if _, err := w.Merge(ctx, MergeOptions{Rev: twin.ID.String()}); !errors.As(err, &ce) {
		t.Fatalf("merge over a staged config: %v", err)
	}
	// --keep to a commit with HEAD's config carries it.
	_, err = w.Reset(ctx, twin.ID.String(), ResetKeep)
	must(t, err)
	wantStaged(t, w, []string{"Cmd"})
	// --hard drops it, on the same commit too.
	_, err = w.Reset(ctx, "HEAD", ResetHard)
	must(t, err)
	wantStaged(t, w, nil)
}

// TestKilledResetKeepsStagedConfig: a reset --soft killed before HEAD
// moves leaves the config staged as it was; killed after, the next
// command finishes it with the config staged on REV.
func TestKilledResetKeepsStagedConfig(t *testing.T) {
	requireRoot(t)
	for _, point := range []string{"reset-before-ref", "reset-after-ref"} {
		t.Run(point, func(t *testing.T) {
			ctx := context.Background()
			r, _, w := checkedOutBase(t)
			base, top := twoConfigCommits(t, w)
			// Staged already (HEAD~1 has A=1 and no Cmd): the killed
			// reset must neither lose it nor take HEAD~1's.
			_, err := w.Reset(ctx, "HEAD~1", ResetSoft)
			must(t, err)
			wantStaged(t, w, []string{"Cmd"})
			at, err := w.Resolve("HEAD")
			must(t, err)

			killedHelper(t, r, point, "CHECKOUT_TEST_HELPER=reset-soft", "CHECKOUT_TEST_REV="+base.ID.String())

			h, err := r.Refs.ReadHead()
			must(t, err)
			if _, err := w.Status(ctx); err != nil { // finishes or forgets the switch
				t.Fatal(err)
			}
			switch point {
			case "reset-before-ref":
				if h.Commit != at.ID {
					t.Fatalf("HEAD moved by a reset killed before its ref moved")
				}
				wantStaged(t, w, []string{"Cmd"})
			case "reset-after-ref":
				if h.Commit != base.ID {
					t.Fatalf("HEAD is %s, not the reset's %s", h.Commit, base.ID)
				}
				wantStaged(t, w, []string{"Cmd", "Env"})
			}
			sq, _, err := w.Commit(ctx, CommitOptions{Message: "squashed"})
			must(t, err)
			if !SameConfig(sq.Config.Config, top.Config.Config) {
				t.Errorf("commit after the kill: config %+v, want %+v", sq.Config.Config, top.Config.Config)
			}
		})
	}
}

// TestKilledCommitOfStagedConfig: a commit killed before HEAD moves
// leaves the config staged; killed after, it is recorded and no longer
// staged.
func TestKilledCommitOfStagedConfig(t *testing.T) {
	requireRoot(t)
	for _, point := range []string{"commit-before-ref", "commit-after-ref"} {
		t.Run(point, func(t *testing.T) {
			ctx := context.Background()
			r, _, w := checkedOutBase(t)
			base, top := twoConfigCommits(t, w)
			_, err := w.Reset(ctx, base.ID.String(), ResetSoft)
			must(t, err)

			killedCommit(t, r, point)

			_, err = w.Status(ctx)
			must(t, err)
			h, err := w.Resolve("HEAD")
			must(t, err)
			switch point {
			case "commit-before-ref":
				if h.ID != base.ID {
					t.Fatalf("HEAD moved by a commit killed before its ref moved")
				}
				wantStaged(t, w, []string{"Cmd", "Env"})
			case "commit-after-ref":
				if h.ID == base.ID || !SameConfig(h.Config.Config, top.Config.Config) {
					t.Fatalf("HEAD after the kill: %s, config %+v", h.ID, h.Config.Config)
				}
				wantStaged(t, w, nil)
			}
		})
	}
}
