package buildcache

import (
	"strings"
	"testing"
)

func TestMemoKeyOnlyForItsOwnStatKey(t *testing.T) {
	stat, other := "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64)
	key := "sha256:" + strings.Repeat("3", 64)
	for _, c := range []struct {
		name string
		memo string
		ok   bool
	}{
		{"its own", string(Memo(stat, key)), true},
		{"another stat key's", string(Memo(other, key)), false},
		{"empty (lost in a power cut)", "", false},
		{"cut short", string(Memo(stat, key))[:100], false},
		{"zeros", strings.Repeat("\x00", 136), false},
		{"the old format, the content key alone", key + "\n", false},
	} {
		got, ok := MemoKey([]byte(c.memo), stat)
		if ok != c.ok || (ok && got != key) {
			t.Errorf("%s: got %q, %v", c.name, got, ok)
		}
	}
}
