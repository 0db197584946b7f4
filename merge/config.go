package merge

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ConfigConflict is one config setting both sides changed differently.
type ConfigConflict struct {
	Field              string // "Env", "Cmd", "Labels", ...
	Key                string // the variable, label or port; "" for whole fields
	Base, Ours, Theirs string // the values as the CLI shows them; "" absent
}

func (c ConfigConflict) String() string {
	name := c.Field
	if c.Key != "" {
		name += " " + c.Key
	}
	return fmt.Sprintf("%s: ours %s, theirs %s (base %s)", name, show(c.Ours), show(c.Theirs), show(c.Base))
}

func show(v string) string {
	if v == "" {
		return "(unset)"
	}
	return v
}

// MergeConfig merges the runtime config with the 3-way rule of Classify:
// a setting one side changed takes that side's value, one both changed
// the same way takes it, one both changed differently keeps ours and is
// reported. Env, Labels and ExposedPorts merge per key (ours' order,
// then theirs' new keys); Cmd, Entrypoint, WorkingDir and User whole.
// Other fields are ours'.
func MergeConfig(base, ours, theirs ocispec.ImageConfig) (ocispec.ImageConfig, []ConfigConflict) {
	out := clone(ours)
	var cs []ConfigConflict
	whole := func(field string, b, o, t []string, set func([]string)) {
		if slices.Equal(o, t) || slices.Equal(b, t) {
			return
		}
		if slices.Equal(b, o) {
			set(t)
			return
		}
		cs = append(cs, ConfigConflict{Field: field, Base: js(b), Ours: js(o), Theirs: js(t)})
	}
	whole("Cmd", base.Cmd, ours.Cmd, theirs.Cmd, func(v []string) { out.Cmd = v })
	whole("Entrypoint", base.Entrypoint, ours.Entrypoint, theirs.Entrypoint, func(v []string) { out.Entrypoint = v })
	str := func(field, b, o, t string, set func(string)) {
		whole(field, one(b), one(o), one(t), func(v []string) { set(strings.Join(v, "")) })
	}
	str("WorkingDir", base.WorkingDir, ours.WorkingDir, theirs.WorkingDir, func(v string) { out.WorkingDir = v })
	str("User", base.User, ours.User, theirs.User, func(v string) { out.User = v })

	env, c := mergeKeyed("Env", envMap(base.Env), envMap(ours.Env), envMap(theirs.Env), envKeys(ours.Env), envKeys(theirs.Env))
	cs = append(cs, c...)
	out.Env = nil
	for _, kv := range env {
		out.Env = append(out.Env, kv[0]+"="+kv[1])
	}
	labels, c := mergeKeyed("Labels", ours2(base.Labels), ours2(ours.Labels), ours2(theirs.Labels), sortedKeys(ours.Labels), sortedKeys(theirs.Labels))
	cs = append(cs, c...)
	out.Labels = nil
	for _, kv := range labels {
		if out.Labels == nil {
			out.Labels = map[string]string{}
		}
		out.Labels[kv[0]] = kv[1]
	}
	ports, c := mergeKeyed("ExposedPorts", portMap(base.ExposedPorts), portMap(ours.ExposedPorts), portMap(theirs.ExposedPorts),
		sortedKeys(ours.ExposedPorts), sortedKeys(theirs.ExposedPorts))
	cs = append(cs, c...)
	out.ExposedPorts = nil
	for _, kv := range ports {
		if out.ExposedPorts == nil {
			out.ExposedPorts = map[string]struct{}{}
		}
		out.ExposedPorts[kv[0]] = struct{}{}
	}
	return out, cs
}

// mergeKeyed merges maps key by key; present maps a key to its value
// ("" values are kept distinct from absence by the ok of the lookup).
func mergeKeyed(field string, b, o, t map[string]string, oKeys, tKeys []string) ([][2]string, []ConfigConflict) {
	var out [][2]string
	var cs []ConfigConflict
	val := func(m map[string]string, k string) (string, bool) { v, ok := m[k]; return v, ok }
	pick := func(k string) (string, bool) {
		bv, bok := val(b, k)
		ov, ook := val(o, k)
		tv, tok := val(t, k)
		switch {
		case ook == tok && ov == tv, bok == tok && bv == tv:
			return ov, ook
		case bok == ook && bv == ov:
			return tv, tok
		}
		cs = append(cs, ConfigConflict{Field: field, Key: k, Base: shown(bv, bok), Ours: shown(ov, ook), Theirs: shown(tv, tok)})
		return ov, ook
	}
	seen := map[string]bool{}
	for _, k := range append(append([]string{}, oKeys...), tKeys...) {
		if seen[k] {
			continue
		}
		seen[k] = true
		if v, ok := pick(k); ok {
			out = append(out, [2]string{k, v})
		}
	}
	// Keys only the base has: both deleted them, or one did.
	for k := range b {
		if !seen[k] {
			seen[k] = true
			if v, ok := pick(k); ok {
				out = append(out, [2]string{k, v})
			}
		}
	}
	return out, cs
}

func shown(v string, ok bool) string {
	if !ok {
		return ""
	}
	if v == "" {
		return `""`
	}
	return v
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func envKeys(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		out = append(out, k)
	}
	return out
}

func ours2(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func portMap(m map[string]struct{}) map[string]string {
	out := map[string]string{}
	for k := range m {
		out[k] = "exposed"
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func js(v []string) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func clone(c ocispec.ImageConfig) ocispec.ImageConfig {
	var out ocispec.ImageConfig
	b, _ := json.Marshal(c)
	json.Unmarshal(b, &out)
	return out
}
