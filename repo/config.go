package repo

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	gitconfig "github.com/go-git/go-git/v5/plumbing/format/config"
	"github.com/strata-sh/strata/internal/atomicfile"
	"github.com/strata-sh/strata/internal/regfile"
)

// Config is the repository's .strata/config, in git-config syntax.
type Config struct {
	path string
	name string // path as messages name it
	text []byte // the file as it is: edits keep what they do not change
	raw  *gitconfig.Config
	// The headers and options of text, in file order: values are read
	// from them, as git reads them.
	headers []cfgHeader
	vars    []cfgVar
}

// LoadConfig reads a git-config file; a missing file is an empty config.
func LoadConfig(path string) (*Config, error) {
	return loadConfig(path, path, regfile.ReadFile)
}

// LoadConfigNoLink is LoadConfig of a file whose last name is no
// symbolic link (one fails with ELOOP), named name in messages: config
// -f of a file in a work tree, whose container may swap one in for it,
// read through its directory's descriptor.
func LoadConfigNoLink(path, name string) (*Config, error) {
	return loadConfig(path, name, regfile.ReadFileNoFollow)
}

func loadConfig(path, name string, read func(string) ([]byte, error)) (*Config, error) {
	c := &Config{path: path, name: name, raw: gitconfig.New()}
	b, err := read(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := gitconfig.NewDecoder(bytes.NewReader(b)).Decode(c.raw); err != nil {
		return nil, fmt.Errorf("%s: %w; fix the file by hand", name, err)
	}
	if c.headers, c.vars, err = scanConfig(b); err != nil {
		return nil, fmt.Errorf("%s: %w; fix the file by hand", name, err)
	}
	c.text = b
	return c, nil
}

// ErrBadConfig is wrapped by Set for a key or value that cannot be
// written to the file as given.
var ErrBadConfig = errors.New("invalid config")

// splitKey splits "section.name" or "section.subsection.name" and checks
// each part with git's rules: section and name are ASCII letters, digits
// and '-' (a name starts with a letter); a subsection is anything but a
// control character.
func splitKey(key string) (section, sub, name string, err error) {
	bad := func(why string) error { return fmt.Errorf("key %q: %w: %s", key, ErrBadConfig, why) }
	first, last := strings.Index(key, "."), strings.LastIndex(key, ".")
	if first <= 0 || last == len(key)-1 {
		return "", "", "", bad("must be section.name or section.subsection.name")
	}
	section, name = key[:first], key[last+1:]
	if first < last {
		sub = key[first+1 : last]
		if sub == "" {
			// git would write [section ""], which go-git cannot read back.
			return "", "", "", bad("empty subsection")
		}
	}
	for _, c := range section {
		if !isKeyChar(c) {
			return "", "", "", bad(fmt.Sprintf("section %q: only letters, digits and '-'", section))
		}
	}
	for i, c := range name {
		if !isKeyChar(c) || i == 0 && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", "", "", bad(fmt.Sprintf("name %q: a letter, then letters, digits and '-'", name))
		}
	}
	if c, ok := controlChar(sub); ok {
		return "", "", "", bad("subsection contains " + describeControl(c))
	}
	return section, sub, name, nil
}

func isKeyChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

// controlChar returns the first C0 control character or DEL in s.
func controlChar(s string) (rune, bool) {
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return c, true
		}
	}
	return 0, false
}

func describeControl(c rune) string {
	switch c {
	case '\n':
		return "a newline"
	case '\r':
		return "a carriage return"
	case '\t':
		return "a tab"
	case 0:
		return "a NUL byte"
	}
	return fmt.Sprintf("the control character %U", c)
}

// valueChecks validate, when they are set, the values of the options
// strata reads (keys lower-cased, as git compares them): a bad one would
// fail every later command that reads it, or be taken as a default.
var valueChecks = map[string]func(string) error{
	"gc.reflogexpire":            checkExpiry,
	"gc.reflogexpireunreachable": checkExpiry,
	"core.sharedworktree":        checkBool,
	"pull.rebase":                checkBool,
	"branch.autosetupmerge":      checkAutoSetupMerge,
	"checkout.guess":             checkBool,
	"core.bigfilethreshold":      checkSize,
	"diff.renames": func(v string) error {
		if strings.EqualFold(v, "copies") || strings.EqualFold(v, "copy") {
			return nil
		}
		return checkBool(v)
	},
	"diff.renamelimit": func(v string) error {
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("%q is not a number of files", v)
		}
		return nil
	},
	"merge.conflictstyle": func(v string) error {
		switch strings.ToLower(v) {
		case "merge", "diff3", "zdiff3":
			return nil
		}
		return fmt.Errorf("%q: want merge, diff3 or zdiff3", v)
	},
}

func checkExpiry(v string) error {
	_, err := ParseExpiry(v, time.Now())
	return err
}

func checkBool(v string) error {
	_, err := ParseBool(v)
	return err
}

// ParseBool reads a boolean value as git does: true, yes, on or a
// non-zero number; false, no, off, 0 or nothing; any case.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off", "":
		return false, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n != 0, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true or false, yes or no, on or off, 1 or 0)", v)
}

// Bool returns the boolean value of key, as git reads it: a key with no
// "= value" at all is true; set reports whether it is set.
func (c *Config) Bool(key string) (v, set bool, err error) {
	o := c.last(key)
	if o == nil {
		return false, false, nil
	}
	if o.valueless {
		return true, true, nil
	}
	v, err = ParseBool(gitValue(o.raw))
	if err != nil {
		return false, true, fmt.Errorf("config %s: %w", key, err)
	}
	return v, true, nil
}

// CheckKey says whether key is a valid option name.
func CheckKey(key string) error {
	_, _, _, err := splitKey(key)
	return err
}

// Value returns the value of key, as git's git_config_string reads
// one that must have a value, and whether it is set: a key with no
// "= value" at all is git's error, "bad config variable 'KEY' in file
// 'FILE' at line N: missing value".
func (c *Config) Value(key string) (v string, set bool, err error) {
	o := c.last(key)
	switch {
	case o == nil:
		return "", false, nil
	case o.valueless:
		return "", true, c.badVariable(key, o, errors.New("missing value"))
	}
	return gitValue(o.raw), true, nil
}

// CheckValue is nil when key is unset or check takes its value; else
// git's "bad config variable 'KEY' in file 'FILE' at line N", with
// check's reason (of a key with no value, "missing value").
func (c *Config) CheckValue(key string, check func(string) error) error {
	v, set, err := c.Value(key)
	if err != nil || !set {
		return err
	}
	if err := check(v); err != nil {
		return c.badVariable(key, c.last(key), err)
	}
	return nil
}

// badVariable is git's "bad config variable" error of option o, key's.
func (c *Config) badVariable(key string, o *cfgVar, why error) error {
	line := bytes.Count(c.text[:o.start], []byte("\n")) + 1
	return fmt.Errorf("bad config variable '%s' in file '%s' at line %d: %w", strings.ToLower(key), c.name, line, why)
}

// Get returns the value of key and whether it is set.
func (c *Config) Get(key string) (string, bool) {
	v := c.last(key)
	if v == nil {
		return "", false
	}
	return gitValue(v.raw), true
}

// last is the option that sets key last in the file (git's value), or nil.
func (c *Config) last(key string) *cfgVar {
	section, sub, name, err := splitKey(key)
	if err != nil {
		return nil
	}
	for i := len(c.vars) - 1; i >= 0; i-- {
		v := &c.vars[i]
		if c.headers[v.header].is(section, sub) && strings.EqualFold(v.key, name) {
			return v
		}
	}
	return nil
}

// Set sets key to value and saves the file atomically.
func (c *Config) Set(key, value string) error {
	return c.SetMatching(key, value, nil, false)
}

// SetMatching is Set of the values of key that keep keeps (nil: all):
// the one there is, else a new one, as git config KEY VALUE VALUE_REGEX;
// with all, every one of them is replaced by one (git's --replace-all).
func (c *Config) SetMatching(key, value string, keep func(string) bool, all bool) error {
	section, sub, name, err := c.checkSet(key, value)
	if err != nil {
		return err
	}
	text, err := setText(c.text, section, sub, name, value, keep, all)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return c.save(text)
}

// checkSet splits key and refuses a value that would corrupt the file or
// that the option cannot take.
func (c *Config) checkSet(key, value string) (section, sub, name string, err error) {
	section, sub, name, err = splitKey(key)
	if err != nil {
		return
	}
	// Values are one line: they end up in commit authors, reflog lines
	// and key=value listings. Quotes, backslashes, ';', '#' and edge
	// spaces are quoted by the encoder.
	if ch, ok := controlChar(value); ok {
		return "", "", "", fmt.Errorf("value of %s: %w: contains %s; values are one line of text", key, ErrBadConfig, describeControl(ch))
	}
	if check := valueChecks[strings.ToLower(section+"."+name)]; check != nil && sub == "" {
		if err := check(value); err != nil {
			return "", "", "", fmt.Errorf("value of %s: %w: %v", key, ErrBadConfig, err)
		}
	}
	return section, sub, name, nil
}

// Add adds a value to key, keeping those it has (git config --add: a
// multi-valued key), and saves the file.
func (c *Config) Add(key, value string) error {
	section, sub, name, err := c.checkSet(key, value)
	if err != nil {
		return err
	}
	hs, _, err := scanConfig(c.text)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return c.save(addText(c.text, hs, section, sub, name, value))
}

// GetAll returns every value of key, in file order.
func (c *Config) GetAll(key string) []string {
	section, sub, name, err := splitKey(key)
	if err != nil {
		return nil
	}
	var out []string
	for _, v := range c.vars {
		if c.headers[v.header].is(section, sub) && strings.EqualFold(v.key, name) {
			out = append(out, gitValue(v.raw))
		}
	}
	return out
}

// Unset removes key and saves the file. A key set more than once is
// refused (ErrMultipleValues), as git refuses it, unless all.
func (c *Config) Unset(key string, all bool) error {
	return c.UnsetMatching(key, nil, all)
}

// UnsetMatching is Unset of the values of key that keep keeps (nil:
// all), as git config --unset[-all] KEY VALUE_REGEX.
func (c *Config) UnsetMatching(key string, keep func(string) bool, all bool) error {
	section, sub, name, err := splitKey(key)
	if err != nil {
		return err
	}
	if _, ok := c.Get(key); !ok {
		return fmt.Errorf("key %q is not set", key)
	}
	if keep != nil && !slices.ContainsFunc(c.GetAll(key), keep) {
		return fmt.Errorf("key %q has no value that matches", key)
	}
	text, err := unsetText(c.text, section, sub, name, keep, all)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return c.save(text)
}

// RemoveSubsection drops [section "sub"] entirely (remote remove).
func (c *Config) RemoveSubsection(section, sub string) error {
	text, err := removeSectionText(c.text, section, sub)
	if err != nil {
		return err
	}
	return c.save(text)
}

// RenameSubsection renames [section "old"] to [section "new"] (remote
// rename), keeping its options and their order.
func (c *Config) RenameSubsection(section, old, new string) error {
	if !c.raw.HasSection(section) || !c.raw.Section(section).HasSubsection(old) {
		return fmt.Errorf("no [%s %q] to rename", section, old)
	}
	if c.raw.Section(section).HasSubsection(new) {
		return fmt.Errorf("[%s %q] exists", section, new)
	}
	text, err := renameSectionText(c.text, section, old, new)
	if err != nil {
		return err
	}
	return c.save(text)
}

// CopySubsection puts a copy of [section "old"] after it as [section
// "new"] (branch -c), keeping its options and their order. new must not
// exist.
func (c *Config) CopySubsection(section, old, new string) error {
	if !c.raw.HasSection(section) || !c.raw.Section(section).HasSubsection(old) {
		return fmt.Errorf("no [%s %q] to copy", section, old)
	}
	if c.raw.Section(section).HasSubsection(new) {
		return fmt.Errorf("[%s %q] exists", section, new)
	}
	text, err := copySectionText(c.text, section, old, new)
	if err != nil {
		return err
	}
	return c.save(text)
}

// HasSubsection says whether [section "sub"] is in the file.
func (c *Config) HasSubsection(section, sub string) bool {
	return c.raw.HasSection(section) && c.raw.Section(section).HasSubsection(sub)
}

// Subsections lists the subsection names of section, e.g. remotes.
func (c *Config) Subsections(section string) []string {
	if !c.raw.HasSection(section) {
		return nil
	}
	var out []string
	for _, s := range c.raw.Section(section).Subsections {
		out = append(out, s.Name)
	}
	return out
}

// Entry is one option as config --list shows it.
type Entry struct {
	Key     string // section.name or section.subsection.name
	Value   string
	NoValue bool // "key" alone, without "=" (a boolean true)
}

// Entries returns the options that set key, in file order, named as
// All names them (git config --get-all, which --type reads: a valueless
// one is a boolean true).
func (c *Config) Entries(key string) []Entry {
	section, sub, name, err := splitKey(key)
	if err != nil {
		return nil
	}
	var out []Entry
	for _, e := range c.All() {
		if e.Key == canonicalKey(section, sub, name) {
			out = append(out, e)
		}
	}
	return out
}

func canonicalKey(section, sub, name string) string {
	key := strings.ToLower(section)
	if sub != "" {
		key += "." + sub
	}
	return key + "." + strings.ToLower(name)
}

// All returns every option in file order, as git config --list: section
// and name lower-cased (they are case-insensitive), the subsection as
// written.
func (c *Config) All() []Entry {
	var out []Entry
	for _, v := range c.vars {
		h := c.headers[v.header]
		out = append(out, Entry{Key: canonicalKey(h.section, h.sub, v.key), Value: gitValue(v.raw), NoValue: v.valueless})
	}
	return out
}

// save writes the edited text atomically, once it decodes.
func (c *Config) save(text []byte) error {
	raw := gitconfig.New()
	if err := gitconfig.NewDecoder(bytes.NewReader(text)).Decode(raw); err != nil {
		return fmt.Errorf("%s: the edit would not read back: %w", c.name, err)
	}
	hs, vs, err := scanConfig(text)
	if err != nil {
		return fmt.Errorf("%s: the edit would not read back: %w", c.name, err)
	}
	// An existing file keeps its mode, as git's config edits keep it: a
	// ~/.gitconfig kept 0600 (it may hold tokens) stays so.
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(c.path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := atomicfile.Write(filepath.Dir(c.path), c.path, text, mode); err != nil {
		return err
	}
	c.text, c.raw, c.headers, c.vars = text, raw, hs, vs
	return nil
}
