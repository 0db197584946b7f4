package mountopt

import "testing"

func TestGet(t *testing.T) {
	// As the kernel showed a mount of upperdir=Escape(`/tmp/a\b c`).
	opts := `rw,lowerdir+=/tmp/a\134b\040c/l,upperdir=/tmp/a\134\134b\040c/u,workdir=/tmp/a\134\134b\040c/w`
	for key, want := range map[string]string{"lowerdir+": `/tmp/a\b c/l`, "upperdir": `/tmp/a\b c/u`, "workdir": `/tmp/a\b c/w`, "nope": ""} {
		if got := Get(opts, key); got != want {
			t.Errorf("Get(%s) = %q, want %q", key, got, want)
		}
	}
	if got := Escape(`/a\b`); got != `/a\\b` {
		t.Errorf("Escape = %q", got)
	}
}
