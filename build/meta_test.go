package build

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/exec"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
)

// ENTRYPOINT clears an inherited CMD but keeps one set earlier in its
// stage: the same parent and instruction give two configs, and a cache
// hit must not return the other's, whichever order they are built in.
func TestEntrypointKeyHoldsCmdOfTheStage(t *testing.T) {
	for _, order := range []string{"cmd first", "inherited first"} {
		t.Run(order, func(t *testing.T) {
			r := newRepo(t, true)
			ctxDir := t.TempDir()
			// base: main with CMD ["c"], the parent of both ENTRYPOINTs.
			res, err := buildIn(t, r, ctxDir, "FROM main\nCMD [\"c\"]\n")
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Refs.Update(refs.Heads+"base", res.Commit.ID, "", "test"); err != nil {
				t.Fatal(err)
			}
			same := "FROM main\nCMD [\"c\"]\nENTRYPOINT [\"e\"]\n" // CMD set in the stage: kept
			inherited := "FROM base\nENTRYPOINT [\"e\"]\n"         // CMD inherited: cleared
			recipes := []string{same, inherited}
			if order != "cmd first" {
				recipes = []string{inherited, same}
			}
			for _, rc := range recipes {
				res, err := buildIn(t, r, ctxDir, rc)
				if err != nil {
					t.Fatal(err)
				}
				cmd := res.Commit.Config.Config.Cmd
				if want := rc == same; (len(cmd) == 1 && cmd[0] == "c") != want {
					t.Errorf("%q: Cmd %q", rc, cmd)
				}
			}
		})
	}
}

// WORKDIR makes its directory in the image, as docker does: the step's
// layer, with missing parents, owned by the stage's USER; none when it
// exists.
func TestWorkdirMakesItsDirectory(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{
		"passwd": "root:x:0:0::/root:/bin/sh\nbob:x:1000:1001::/home/bob:/bin/sh\n",
		"group":  "root:x:0:\nbobs:x:1001:\nstaff:x:50:\n",
	})
	r := newRepo(t, true)
	res, err := buildIn(t, r, ctxDir, "FROM main\nCOPY passwd group /etc/\nWORKDIR /app\nUSER bob\nWORKDIR /w/sub\nUSER bob:staff\nWORKDIR g\nWORKDIR /app\n")
	if err != nil {
		t.Fatal(err)
	}
	if wd := res.Commit.Config.Config.WorkingDir; wd != "/app" {
		t.Errorf("WorkingDir %q", wd)
	}
	readImage(t, r, res.Commit, func(root string) {
		for name, want := range map[string]string{"app": "0:0 755", "w": "1000:1001 755", "w/sub": "1000:1001 755", "w/sub/g": "1000:50 755"} {
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join(root, name), &st); err != nil {
				t.Errorf("/%s: %v", name, err)
				continue
			}
			if got := fmt.Sprintf("%d:%d %o", st.Uid, st.Gid, st.Mode&0o7777); got != want || st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
				t.Errorf("/%s: %s, want %s", name, got, want)
			}
		}
	})
	// The last WORKDIR (/app, which exists) adds no layer.
	parent, err := r.Objects.ReadCommit(res.Commit.Parent())
	if err != nil {
		t.Fatal(err)
	}
	if len(parent.Layers()) != len(res.Commit.Layers()) {
		t.Errorf("WORKDIR of an existing directory added a layer")
	}
	// A USER that the image does not know fails the step.
	if _, err := buildIn(t, r, ctxDir, "FROM main\nUSER nobody2\nWORKDIR /x\n"); err == nil || !strings.Contains(err.Error(), "USER nobody2: nobody2: not in /etc/passwd") {
		t.Errorf("unknown USER: %v", err)
	}
}

// A stage's first commit carries the default PATH its base lacks, so a
// commit cached without it, under the key its parent and instruction
// alone give (as a strata that added no PATH cached it), is not reused.
func TestDefaultPathIsInTheKey(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"f": "x"})
	r := newRepo(t, false)
	ents, root, err := collectIn(t, ctxDir, []string{"f"}, "/f")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := digestEntries(root, ents, 0)
	if err != nil {
		t.Fatal(err)
	}
	key := stepKey(nil, "COPY f /f", sum)
	stale, err := r.Objects.WriteCommit(objects.NewCommit{Config: &ocispec.ImageConfig{}, Date: epoch, Message: "COPY f /f",
		OS: runtime.GOOS, Architecture: runtime.GOARCH, Annotations: map[string]string{AnnotationKey: key}})
	if err != nil {
		t.Fatal(err)
	}
	if err := openCache(r).put(key, stale.ID); err != nil {
		t.Fatal(err)
	}
	res, err := buildIn(t, r, ctxDir, "FROM scratch\nCOPY f /f\n")
	if err != nil {
		t.Fatal(err)
	}
	if env := res.Commit.Config.Config.Env; res.Steps[1].Cached || len(env) != 1 || env[0] != "PATH="+exec.DefaultPath {
		t.Fatalf("cached %v, Env %q: want the default PATH", res.Steps[1].Cached, env)
	}
}
