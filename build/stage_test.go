package build

import (
	"context"
	"strings"
	"testing"

	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
)

// COPY --from naming a stage not built yet (a later one, by name or
// index, or its own) is refused, as buildkit refuses a cycle and strata
// builds stages in order. Before the fix a branch of that name stood in
// for the stage, silently: the image got the branch's files.
func TestCopyFromLaterStageRefused(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"a": "branch", "g": "stage"})
	r := newRepo(t, false)
	res, err := buildIn(t, r, ctxDir, "FROM scratch\nCOPY a /f\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"later", "1", "self"} {
		if err := r.Refs.Update(refs.Heads+name, res.Commit.ID, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	for from, want := range map[string]string{
		"later": `COPY --from=later: stage later (line 3) is not built yet: a stage can use only those before it`,
		"1":     `COPY --from=1: stage 1 (line 3) is not built yet: a stage can use only those before it`,
		"self":  `COPY --from=self: stage self (line 1) is not built yet: a stage can use only those before it`,
	} {
		recipe := "FROM scratch AS self\nCOPY --from=" + from + " /f /f\nFROM scratch AS later\nCOPY g /f\n"
		if _, err := buildIn(t, r, ctxDir, recipe); err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("--from=%s: %v, want ...%s", from, err, want)
		}
	}
	// A stage before, and a revision no stage is named after, still are
	// what they name; FROM names only the stages before it (FROM x AS x
	// is the revision x).
	for _, recipe := range []string{
		"FROM scratch AS one\nCOPY g /f\nFROM scratch\nCOPY --from=one /f /f\n",
		"FROM scratch\nCOPY --from=later /f /f\n",
		"FROM later AS later\nCOPY g /g\n",
	} {
		if _, err := buildIn(t, r, ctxDir, recipe); err != nil {
			t.Errorf("%q: %v", recipe, err)
		}
	}
}

// FROM an earlier stage that committed nothing (FROM scratch alone, or
// with only ARGs) is an empty image, as docker and buildah build on it;
// it once dereferenced the stage's missing commit (an internal error).
func TestFromEmptyStage(t *testing.T) {
	ctxDir := ctxWith(t, map[string]string{"a": "a"})
	r := newRepo(t, false)
	for _, recipe := range []string{
		"FROM scratch AS empty\nFROM empty\nCOPY a /a\n",
		"FROM scratch AS empty\nARG V=1\nFROM empty AS next\nFROM next\nCOPY a /a\n",
	} {
		res, err := buildIn(t, r, ctxDir, recipe)
		if err != nil {
			t.Fatalf("%q: %v", recipe, err)
		}
		if n := len(res.Commit.Layers()); res.Commit.Parent() != "" || n != 1 {
			t.Errorf("%q: parent %q, %d layers: want a root commit of one layer", recipe, res.Commit.Parent(), n)
		}
	}
}

// COPY --from=IMAGE fetches a registry reference as FROM does (docker
// pulls it), rather than refusing it as no stage or revision; a name
// that cannot be a reference is still not fetched.
func TestCopyFromPullsAnImage(t *testing.T) {
	r := newRepo(t, true)
	main, err := r.Resolve("main")
	if err != nil {
		t.Fatal(err)
	}
	var pulled []string
	o := Options{Repo: r, Context: t.TempDir(), Date: epoch, Mtime: clamp,
		Pull: func(ctx context.Context, ref string) (*objects.Commit, error) {
			pulled = append(pulled, ref)
			return main, nil
		}}
	o.Dockerfile = []byte("FROM scratch\nCOPY --from=registry.example.com/tools:v1 /bin/busybox /bb\n")
	res, err := Build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(pulled) != 1 || pulled[0] != "registry.example.com/tools:v1" {
		t.Fatalf("pulled %q", pulled)
	}
	if len(res.Commit.Layers()) != 1 {
		t.Fatalf("%d layers", len(res.Commit.Layers()))
	}
	o.Dockerfile = []byte("FROM scratch\nCOPY --from=nostage /x /x\n")
	if _, err := Build(context.Background(), o); err == nil || !strings.Contains(err.Error(), "no such stage or revision") {
		t.Fatalf("got %v", err)
	}
	if len(pulled) != 1 {
		t.Fatalf("pulled %q", pulled)
	}
}
