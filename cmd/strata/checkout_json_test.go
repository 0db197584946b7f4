package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestCheckoutDocNamesJSONKeys: every key that status, diff, blame and
// worktree list print with --format json is named in docs/checkout.md
// (as "key"), so that a key added to a listing cannot go undocumented.
func TestCheckoutDocNamesJSONKeys(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "checkout.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() && !f.Anonymous {
				continue
			}
			if name != "" && !strings.Contains(string(doc), `"`+name+`"`) && !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("docs/checkout.md does not name the key %q of %s", name, typ.Name())
			}
			walk(f.Type)
		}
	}
	for _, v := range []any{statusJSON{}, changeJSON{}, blameJSON{}, worktreeEntry{}} {
		walk(reflect.TypeOf(v))
	}
}
