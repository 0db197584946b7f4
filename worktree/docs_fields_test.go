package worktree

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestCheckoutDocNamesStateFields: every JSON field of a work tree's
// state and of the sequence of an operation under way is named in
// docs/checkout.md (as `name`), so that a field added to either file
// cannot go undocumented.
func TestCheckoutDocNamesStateFields(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "checkout.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{State{}, Sequence{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("docs/checkout.md does not name %s's field %q", typ.Name(), name)
			}
		}
	}
}
