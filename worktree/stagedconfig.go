package worktree

// The staged config: the image config a work tree's next commit records
// when it is not its parent's. A commit's config is content, as its
// files are: reset --soft keeps both, the files in the upper and the
// config here, so that reset --soft then commit squashes, as git's.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/objects"
)

// ConfigStagedError refuses a move that would lose a staged config, or
// an operation that would commit over it. It wraps ErrDirty.
type ConfigStagedError struct {
	Fields []string // the config's fields that differ from the commit's
	What   string   // what is refused: "a merge", "a switch to 1a2b3c"; "" says none
}

func (e *ConfigStagedError) Error() string {
	msg := fmt.Sprintf("%v: the config is changed (%s, kept by reset --soft); commit it, or drop it with 'strata reset --hard'",
		ErrDirty, strings.Join(e.Fields, ", "))
	if e.What != "" {
		msg += ", before " + e.What
	}
	return msg
}

func (e *ConfigStagedError) Unwrap() error { return ErrDirty }

// stageConfig records cfg as the config of the next commit once the
// work tree is at on (a switch there is pending). It is kept even when
// it equals on's: readers compare (stagedFor), and a switch killed
// before HEAD moved puts back exactly what was staged before it.
func (st *State) stageConfig(cfg ocispec.ImageConfig, on *objects.Commit) {
	st.StagedConfig, st.StagedOn = &cfg, on.ID
}

// unstagePending undoes a stageConfig for a switch that did not happen:
// the config stays staged on the commit the work tree is still at.
func (st *State) unstagePending() {
	if st.StagedConfig != nil && st.StagedOn == st.Pending {
		st.StagedOn = st.Commit
	}
}

// dropStaleConfig forgets a staged config that counts no more: the work
// tree moved off StagedOn, and no switch there is pending.
func (st *State) dropStaleConfig() {
	if st.StagedConfig == nil || st.StagedOn != st.Commit && st.StagedOn != st.Pending {
		st.StagedConfig, st.StagedOn = nil, ""
	}
}

// stagedFor is the config staged on the commit the work tree is at, nil
// when none is, or when it is that commit's own.
func (w *Worktree) stagedFor(st State) (*ocispec.ImageConfig, error) {
	if st.StagedConfig == nil || st.Commit == "" || st.StagedOn != st.Commit {
		return nil, nil
	}
	c, err := w.commit(st.Commit)
	if err != nil {
		return nil, err
	}
	if SameConfig(*st.StagedConfig, c.Config.Config) {
		return nil, nil
	}
	cfg := cloneConfig(*st.StagedConfig)
	return &cfg, nil
}

// indexConfig is the config the work tree's next commit would start
// from: the staged one, else that of the commit it is at.
func (w *Worktree) indexConfig(st State) (ocispec.ImageConfig, error) {
	staged, err := w.stagedFor(st)
	if err != nil || staged != nil {
		return derefConfig(staged), err
	}
	c, err := w.commit(st.Commit)
	if err != nil || c == nil {
		return ocispec.ImageConfig{}, err
	}
	return cloneConfig(c.Config.Config), nil
}

func derefConfig(c *ocispec.ImageConfig) ocispec.ImageConfig {
	if c == nil {
		return ocispec.ImageConfig{}
	}
	return *c
}

// refuseStaged refuses what (an operation, a switch) while a config
// is staged.
func (w *Worktree) refuseStaged(st State, what string) error {
	staged, err := w.stagedFor(st)
	if err != nil || staged == nil {
		return err
	}
	c, err := w.commit(st.Commit)
	if err != nil {
		return err
	}
	return &ConfigStagedError{Fields: ConfigChanges(c.Config.Config, *staged), What: what}
}

// StagedConfig is the config the next commit starts from when it is not
// HEAD's (reset --soft staged it), and the names of the fields that
// differ ("Cmd", "Env"); nil and none otherwise.
func (w *Worktree) StagedConfig() (*ocispec.ImageConfig, []string, error) {
	st, ok, err := w.State()
	if err != nil || !ok {
		return nil, nil, err
	}
	return w.StagedConfigIn(st)
}

// StagedConfigIn is StagedConfig for a state the caller read (State).
func (w *Worktree) StagedConfigIn(st State) (*ocispec.ImageConfig, []string, error) {
	staged, err := w.stagedFor(st)
	if err != nil || staged == nil {
		return nil, nil, err
	}
	c, err := w.commit(st.Commit)
	if err != nil {
		return nil, nil, err
	}
	return staged, ConfigChanges(c.Config.Config, *staged), nil
}

// SameConfig says a and b are the same config, as their JSON is.
func SameConfig(a, b ocispec.ImageConfig) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// ConfigChanges names the fields of the OCI config (as its JSON spells
// them: "Cmd", "Env", "ExposedPorts") that differ between a and b, sorted.
func ConfigChanges(a, b ocispec.ImageConfig) []string {
	fa, fb := configFields(a), configFields(b)
	var out []string
	for k, v := range fa {
		if !bytes.Equal(v, fb[k]) {
			out = append(out, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func configFields(c ocispec.ImageConfig) map[string]json.RawMessage {
	b, _ := json.Marshal(c)
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	return m
}

// stageResetConfig decides what a reset to c does with the config the
// next commit would record: --soft (and --mixed) keep it, as git's
// index, so it is staged on c; --keep and --merge carry a staged config
// to a c whose config is the work tree's commit's, and refuse otherwise;
// --hard drops it (reset drops it once the work tree is on c).
func (w *Worktree) stageResetConfig(st *State, c *objects.Commit, mode ResetMode) error {
	switch mode {
	case ResetSoft:
		if st.Commit == "" && st.StagedConfig == nil {
			// The empty tree of an unborn branch has no config anyone
			// chose: the tree takes c's, not an empty one staged
			// over it (a commit then dropped c's PATH).
			return nil
		}
		cfg, err := w.indexConfig(*st)
		if err != nil {
			return err
		}
		st.stageConfig(cfg, c)
	case ResetKeep, ResetMerge:
		return w.carryStaged(st, c, "reset: moving to "+short(c.ID))
	}
	return nil
}

// carryStaged moves a staged config along a switch to c when c's config
// is that of the commit the work tree leaves (nothing to clash with, as
// git carries a staged change to a path both commits have the same),
// and refuses the switch otherwise.
func (w *Worktree) carryStaged(st *State, c *objects.Commit, what string) error {
	staged, err := w.stagedFor(*st)
	if err != nil || staged == nil {
		return err
	}
	old, err := w.commit(st.Commit)
	if err != nil {
		return err
	}
	if c == nil || !SameConfig(old.Config.Config, c.Config.Config) {
		return &ConfigStagedError{Fields: ConfigChanges(old.Config.Config, *staged), What: what}
	}
	st.stageConfig(*staged, c)
	return nil
}

// switchName is what a checkout goes to, for a refusal.
func switchName(o CheckoutOptions, c *objects.Commit) string {
	switch {
	case o.Rev != "":
		return o.Rev
	case c != nil:
		return short(c.ID)
	}
	return "an unborn branch"
}

// withFields is dst with the named fields (as ConfigChanges names them)
// set as src has them: removed where src has none.
func withFields(dst, src ocispec.ImageConfig, fields []string) (ocispec.ImageConfig, error) {
	d, sf := configFields(dst), configFields(src)
	if d == nil {
		d = map[string]json.RawMessage{}
	}
	for _, f := range fields {
		if v, ok := sf[f]; ok {
			d[f] = v
		} else {
			delete(d, f)
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return ocispec.ImageConfig{}, err
	}
	var out ocispec.ImageConfig
	if err := json.Unmarshal(b, &out); err != nil {
		return ocispec.ImageConfig{}, fmt.Errorf("stashed config: %w", err)
	}
	return out, nil
}
