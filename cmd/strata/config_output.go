package main

import (
	"fmt"
	"strconv"

	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/repo"
)

// configOutput is how config prints values: git's --type (bool or int:
// values read as git reads them, written back so), -z (NUL after each
// value, a newline between a key and its value), and --show-scope and
// --show-origin (where each entry comes from, before it).
type configOutput struct {
	null bool
	typ  string // "", "bool" or "int"
	// scope and origin: git's "local" and the config file's path, for
	// --show-scope and --show-origin; "": not shown.
	scope, origin string
}

// setSource takes where the entries come from, for --show-origin and
// --show-scope.
func (o *configOutput) setSource(src configSource, showOrigin, showScope bool) {
	if showScope {
		o.scope = src.scope
	}
	if showOrigin {
		o.origin = src.path
	}
}

// lead is what goes before each entry printed: the scope, then
// "file:PATH", each ended by a tab (-z: a NUL), as git's. As git's, the
// path is quoted when it has a double quote, a backslash or a control
// character, but not under -z.
func (o configOutput) lead() string {
	sep, path := "\t", pathquote.Quote(o.origin)
	if o.null {
		sep, path = "\x00", o.origin
	}
	lead := ""
	if o.scope != "" {
		lead += o.scope + sep
	}
	if o.origin != "" {
		lead += "file:" + path + sep
	}
	return lead
}

// setType takes --bool and --int as git's spellings of --type.
func (o *configOutput) setType(boolType, intType bool) error {
	given := 0
	for _, t := range []bool{o.typ != "", boolType, intType} {
		if t {
			given++
		}
	}
	if given > 1 {
		return usagef("config: --type, --bool and --int exclude each other")
	}
	switch {
	case boolType:
		o.typ = "bool"
	case intType:
		o.typ = "int"
	}
	if o.typ != "" && o.typ != "bool" && o.typ != "int" {
		return usagef("config: unrecognized --type argument, %s (bool or int)", o.typ)
	}
	return nil
}

// typed is value as --type reads it (a valueless key, a boolean true):
// git's "bad boolean config value" or "bad numeric config value" for
// one it cannot.
func (o configOutput) typed(key string, e repo.Entry) (string, error) {
	switch o.typ {
	case "bool":
		if e.NoValue {
			return "true", nil
		}
		v, err := repo.ParseBool(e.Value)
		if err != nil {
			return "", fmt.Errorf("config: bad boolean config value '%s' for '%s'", e.Value, key)
		}
		return strconv.FormatBool(v), nil
	case "int":
		n, err := repo.ParseInt(e.Value)
		if err != nil {
			return "", fmt.Errorf("config: bad numeric config value '%s' for '%s': %w", e.Value, key, err)
		}
		return strconv.Itoa(n), nil
	}
	return e.Value, nil
}

// written is the value config writes for VALUE under --type: true or
// false, a plain number.
func (o configOutput) written(key, value string) (string, error) {
	return o.typed(key, repo.Entry{Key: key, Value: value})
}

func (o configOutput) end() string {
	if o.null {
		return "\x00"
	}
	return "\n"
}

// printValue prints a value of --get or --get-all.
func (o configOutput) printValue(g *globals, e repo.Entry) error {
	v, err := o.typed(e.Key, e)
	if err != nil {
		return err
	}
	fmt.Fprint(g.stdout, o.lead()+v+o.end())
	return nil
}

// printEntries writes entries as git config does: "KEY=VALUE" for
// --list (sep '='), "KEY VALUE" for --get-regexp (sep ' '), KEY alone
// for a key with no value (unless --type says what it is) or with
// --name-only; -z puts a newline between KEY and VALUE and a NUL after
// each entry.
func (o configOutput) printEntries(g *globals, entries []repo.Entry, sep string, nameOnly bool) error {
	if o.null {
		sep = "\n"
	}
	for _, e := range entries {
		if nameOnly || e.NoValue && o.typ == "" {
			fmt.Fprint(g.stdout, o.lead()+e.Key+o.end())
			continue
		}
		v, err := o.typed(e.Key, e)
		if err != nil {
			return err
		}
		fmt.Fprint(g.stdout, o.lead()+e.Key+sep+v+o.end())
	}
	return nil
}
