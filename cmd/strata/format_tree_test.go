package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-sh/strata/internal/testregistry"
	"github.com/strata-sh/strata/internal/testrootfs"
)

// formatContent are the trees of .strata whose entries are content,
// not format: a work tree's files, overlayfs's own, an unpacked layer,
// staging. format.md names the directory; what lies below is not its.
var formatContent = []string{
	"worktree/upper/", "worktree/work/", "worktree/upper.next/", "worktree/work.next/",
	"worktree/upper.copy/", "worktree/detached/<time>/",
	"snapshots/<id>/fs/", "snapshots/.tmp-<...>/", "services/<key>/tree/", "tmp/",
}

// TestFormatNamesEveryRepositoryFile makes a repository with the usual
// commands (import, commit, branch, tag, a second work tree, stash, a
// detached run renamed, a build, a fetch, a gzip push, a merge stopped on a
// conflict, a bisection, log, gc, fsck) and walks its .strata: every
// path must be one the tree at the top of docs/format.md names, so that
// the format reference cannot leave out a file the code writes.
func TestFormatNamesEveryRepositoryFile(t *testing.T) {
	named := formatTreePatterns(t)
	work := t.TempDir()
	t.Cleanup(func() {
		killSupervisorsUnder(work)
		unmountUnder(work)
	})
	if err := testrootfs.BuildBusybox(filepath.Join(work, "rootfs")); err != nil {
		t.Fatal(err)
	}
	reg := testregistry.Start(t)
	sh := strataShell(t, work)
	out := sh(`mkdir env && cd env && strata init -q .
strata config user.name T && strata config user.email t@example.com
strata import -q ../rootfs -m base
strata checkout -q main
echo two > rootfs/etc/motd && strata commit -q -m two
strata branch dev && strata tag v1 main~1
strata remote add layout ../layout && strata push -q layout main dev
strata fetch -q layout
strata remote add origin ` + reg.Repo("team/env") + `
strata push -q --compression gzip origin dev
strata worktree add -q ../wt2 dev && strata worktree lock --reason test ../wt2
echo wip > rootfs/etc/wip && strata stash -q
strata run -d --name svc --rev main -- sh -c 'echo hi'
strata wait svc >/dev/null && strata rename svc web
mkdir ../ctx && printf 'FROM main\nRUN echo b > /b\n' > ../ctx/Dockerfile
strata build -q -t built ../ctx
strata checkout -q -b feat && echo f > rootfs/etc/feat && strata commit -q -m feat
strata checkout -q main && echo m > rootfs/etc/m && strata commit -q -m m
strata merge -q -m merged feat && strata push -q origin main
strata gc >/dev/null && strata fsck >/dev/null
i=0; while [ $i -lt 65 ]; do i=$((i+1)); echo $i > rootfs/etc/n; strata commit -q -m c$i; done
strata log --oneline -- /etc/n >/dev/null
strata reset -q --hard HEAD
strata -C ../wt2 checkout -q -b side && echo side > ../wt2/etc/motd && strata -C ../wt2 commit -q -m side
strata -C ../wt2 checkout -q dev && echo dev > ../wt2/etc/motd && strata -C ../wt2 commit -q -m dev
! strata -C ../wt2 merge side
strata bisect start main v1 >/dev/null`)
	t.Log(out)
	root := filepath.Join(work, "env", ".strata")
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if m, content := named.match(rel, d.IsDir()); content {
			seen[m] = true
			return filepath.SkipDir
		} else if m == "" {
			t.Errorf("docs/format.md does not name .strata/%s", rel)
		} else {
			seen[m] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkPushedFormat(t, reg, "team/env", 2)
	// Beneath a second work tree's mount, its marker alone.
	sh("strata -C env umount --path ../wt2 >/dev/null")
	ents, err := os.ReadDir(filepath.Join(work, "wt2"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "format.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.Contains(string(doc), "\n  "+e.Name()+" ") {
			t.Errorf("docs/format.md does not name %s, beneath a second work tree's mount", e.Name())
		}
	}
	if len(ents) == 0 {
		t.Error("no marker beneath the unmounted second work tree: the test no longer covers it")
	}
	// What the commands above must have written: without these the walk
	// proves less than it says.
	for _, want := range []string{"FETCH_HEAD", "ORIG_HEAD", "BISECT_LOG", "refs/bisect/bad", "refs/stash",
		"indexes/sha256/<hex>.gzip", "build/cache/<hex>", "services/<key>/state.json", "services/<key>/tree/", "services/<key>/name", "services/.names/<name>",
		"worktrees/<name>/locked", "worktree/sequence", "logs/refs/worktrees/<name>/HEAD",
		"snapshots/<id>/meta.json", "snapshots/tree-v2-<hex>.index", "indexes/summaries", "worktree/runs/<id>", "writers.lock"} {
		if !seen[want] {
			t.Errorf("the commands wrote no .strata/%s: the test no longer covers it", want)
		}
	}
}

// strataShell returns a function that runs a sh script in dir with
// this test binary as strata on PATH, failing the test if it fails.
func strataShell(t *testing.T, dir string) func(script string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nSTRATA_TEST_MAIN=1 exec %q \"$@\"\n", self)
	if err := os.WriteFile(filepath.Join(bin, "strata"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "HOME="+dir, "SOURCE_DATE_EPOCH=1700000000")
	return func(script string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-exc", script)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return string(out)
	}
}

// formatPatterns are the paths of the tree at the top of docs/format.md,
// below .strata/, each split into components.
type formatPatterns struct {
	patterns []formatPattern
}

type formatPattern struct {
	text  string           // as the doc writes it
	parts []*regexp.Regexp // one per component; nil for "...", any rest
	dir   bool             // written with a trailing "/"
}

// formatTreePatterns reads the tree: each line below ".strata/" names
// one or more paths before its description (two spaces or more), comma
// separated; a bare name after the first takes the first's directory
// ("refs/bisect/bad, good-<hex>").
func formatTreePatterns(t *testing.T) *formatPatterns {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "format.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "  .strata/\n")
	end := strings.Index(text, "  rootfs/ ")
	if start < 0 || end < start {
		t.Fatal("docs/format.md: no tree of .strata/ found")
	}
	p := &formatPatterns{}
	for _, line := range strings.Split(text[start:end], "\n")[1:] {
		line = strings.TrimPrefix(line, "    ")
		if line == "" || strings.HasPrefix(line, " ") {
			continue
		}
		names, _, _ := strings.Cut(line, "  ")
		items := strings.Split(names, ", ")
		dir := ""
		if i := strings.LastIndex(strings.TrimSuffix(items[0], "/"), "/"); i >= 0 {
			dir = items[0][:i+1]
		}
		for i, item := range items {
			if i > 0 && !strings.Contains(strings.TrimSuffix(item, "/"), "/") {
				item = dir + item
			}
			p.patterns = append(p.patterns, newFormatPattern(item))
		}
	}
	return p
}

var formatPlaceholder = regexp.MustCompile(`<[^>]+>`)

func newFormatPattern(text string) formatPattern {
	fp := formatPattern{text: text, dir: strings.HasSuffix(text, "/")}
	for _, c := range strings.Split(strings.TrimSuffix(text, "/"), "/") {
		if c == "..." {
			fp.parts = append(fp.parts, nil)
			continue
		}
		quoted := regexp.QuoteMeta(c)
		quoted = strings.ReplaceAll(quoted, `\*`, `[^/]*`)
		quoted = formatPlaceholder.ReplaceAllStringFunc(quoted, func(string) string { return `[^/]+` })
		fp.parts = append(fp.parts, regexp.MustCompile("^"+quoted+"$"))
	}
	return fp
}

// match says which pattern names rel: one that is rel itself, or, for a
// directory, one below it. content is true when rel is one of
// formatContent's trees, whose entries are not the format's. A path
// below worktrees/<name>/ is named as worktree/'s same path, as the
// doc says.
func (p *formatPatterns) match(rel string, isDir bool) (pattern string, content bool) {
	comps := strings.Split(rel, "/")
	best := math.MinInt
	for _, fp := range p.patterns {
		if fp.matches(comps) && fp.literal() > best {
			pattern, best = fp.text, fp.literal()
		}
	}
	if pattern != "" {
		return pattern, slices.Contains(formatContent, pattern)
	}
	if len(comps) > 2 && comps[0] == "worktrees" {
		m, content := p.match("worktree/"+strings.Join(comps[2:], "/"), isDir)
		if m != "" {
			return m, content
		}
	}
	if isDir {
		for _, fp := range p.patterns {
			if fp.below(comps) {
				return fp.text, false
			}
		}
	}
	return "", false
}

// literal is how much of the pattern is no placeholder: of two that
// match, the one with more ("<hex>.gzip" over "<hex>") names the path.
func (fp formatPattern) literal() int {
	n := len(formatPlaceholder.ReplaceAllString(fp.text, ""))
	if strings.Contains(fp.text, "...") {
		n -= 1000
	}
	return n
}

// matches: comps is the path the pattern names.
func (fp formatPattern) matches(comps []string) bool {
	for i, re := range fp.parts {
		if re == nil {
			return i < len(comps)
		}
		if i >= len(comps) || !re.MatchString(comps[i]) {
			return false
		}
	}
	return len(comps) == len(fp.parts)
}

// below: comps is a directory above a path the pattern names.
func (fp formatPattern) below(comps []string) bool {
	if len(comps) >= len(fp.parts) {
		return false
	}
	for i, c := range comps {
		if re := fp.parts[i]; re != nil && !re.MatchString(c) {
			return false
		}
	}
	return true
}

// checkPushedFormat reads every manifest a push left in repository
// name of reg, and every ancestor list: each media type, artifact type,
// annotation and list key must be one docs/format.md names. Fewer than
// lists ancestor lists is a push that wrote none, which would prove
// nothing about them.
func checkPushedFormat(t *testing.T, reg *testregistry.Registry, name string, lists int) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "format.md"))
	if err != nil {
		t.Fatal(err)
	}
	told := map[string]bool{}
	named := func(what, v string) {
		if told[v] {
			return
		}
		told[v] = true
		if !strings.Contains(string(doc), "`"+v+"`") && !strings.Contains(string(doc), `"`+v+`"`) {
			t.Errorf("docs/format.md does not name the %s %s of a pushed image", what, v)
		}
	}
	get := func(path string, v any) []byte {
		req, err := http.NewRequest("GET", "http://"+reg.Host+"/v2/"+name+"/"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v\n%s", path, resp.StatusCode, err, b)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return b
	}
	var tags struct{ Tags []string }
	get("tags/list", &tags)
	type descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Annotations map[string]string `json:"annotations"`
	}
	type manifest struct {
		descriptor
		ArtifactType string       `json:"artifactType"`
		Config       descriptor   `json:"config"`
		Layers       []descriptor `json:"layers"`
		Manifests    []struct {
			descriptor
			ArtifactType string `json:"artifactType"`
		} `json:"manifests"`
	}
	// check names what manifest or index ref holds, and the manifests an
	// index names that are no commit (a history bundle's).
	var check func(ref string) manifest
	check = func(ref string) manifest {
		var m manifest
		get("manifests/"+ref, &m)
		named("media type", m.MediaType)
		if m.ArtifactType != "" {
			named("artifact type", m.ArtifactType)
		}
		ds := append([]descriptor{m.descriptor}, m.Layers...)
		if m.Config.MediaType != "" {
			ds = append(ds, m.Config)
		}
		for _, e := range m.Manifests {
			ds = append(ds, e.descriptor)
			if e.ArtifactType != "" {
				named("artifact type", e.ArtifactType)
				check(e.Digest)
			}
		}
		for _, d := range ds {
			named("media type", d.MediaType)
			for k := range d.Annotations {
				named("annotation", k)
			}
		}
		return m
	}
	found := 0
	for _, tag := range tags.Tags {
		if m := check(tag); m.Annotations["dev.strata.ancestors"] != "" {
			found++
		}
	}
	if found < lists {
		t.Errorf("%d ancestor lists pushed, want %d: the test no longer covers them", found, lists)
	}
}
