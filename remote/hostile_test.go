package remote

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strata-sh/strata/repo"
)

// hostileRegistry implements just enough of the distribution API (ping,
// tag list, manifests, blobs) for a registry that lies, in repository env.
type hostileRegistry struct {
	srv  *httptest.Server
	host string // 127.0.0.1:PORT
	// user and pass: basic auth on every request when set; bearer: a
	// token server at /token instead, which takes user and pass.
	user, pass string
	bearer     bool
	tags       []string
	manifests  map[string][]byte // by tag and by digest
	// blobs serve GET /v2/env/blobs/<digest>; nil for an unknown blob.
	blobs map[digest.Digest]http.HandlerFunc
	// tagList serves GET /v2/env/tags/list when set.
	tagList http.HandlerFunc
	// endlessManifest: the manifest of tag main never ends.
	endlessManifest bool
	mu              sync.Mutex
	auths           []string // Authorization headers received
}

const bearerToken = "tok-3f9a"

func newHostileRegistry(t *testing.T) *hostileRegistry {
	h := &hostileRegistry{manifests: map[string][]byte{}, blobs: map[digest.Digest]http.HandlerFunc{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	h.host = strings.TrimPrefix(h.srv.URL, "http://")
	return h
}

func (h *hostileRegistry) authorized(w http.ResponseWriter, req *http.Request) bool {
	got := req.Header.Get("Authorization")
	h.mu.Lock()
	if got != "" {
		h.auths = append(h.auths, got)
	}
	h.mu.Unlock()
	if h.user == "" {
		return true
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(h.user+":"+h.pass))
	if req.URL.Path == "/token" {
		if got != basic {
			w.WriteHeader(http.StatusUnauthorized)
			return false
		}
		return true
	}
	want, challenge := basic, `Basic realm="hostile"`
	if h.bearer {
		want, challenge = "Bearer "+bearerToken, fmt.Sprintf(`Bearer realm="%s/token",service="hostile"`, h.srv.URL)
	}
	if got != want {
		w.Header().Set("WWW-Authenticate", challenge)
		w.WriteHeader(http.StatusUnauthorized)
		return false
	}
	return true
}

func (h *hostileRegistry) serve(w http.ResponseWriter, req *http.Request) {
	if !h.authorized(w, req) {
		return
	}
	p := req.URL.Path
	switch {
	case p == "/token":
		json.NewEncoder(w).Encode(map[string]string{"token": bearerToken})
	case p == "/v2/":
		w.WriteHeader(http.StatusOK)
	case p == "/v2/env/tags/list" && h.tagList != nil:
		h.tagList(w, req)
	case p == "/v2/env/tags/list":
		json.NewEncoder(w).Encode(map[string]any{"name": "env", "tags": h.tags})
	case p == "/v2/env/manifests/main" && h.endlessManifest:
		w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
		w.Write([]byte(`{"schemaVersion":2,"annotations":{"pad":"`))
		for i := 0; i < 1024; i++ { // 64 MiB, enough to be refused
			if _, err := w.Write(make([]byte, 64<<10)); err != nil {
				return
			}
		}
	case strings.HasPrefix(p, "/v2/env/manifests/"):
		b, ok := h.manifests[strings.TrimPrefix(p, "/v2/env/manifests/")]
		if !ok {
			http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
		w.Header().Set("Docker-Content-Digest", digest.FromBytes(b).String())
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		if req.Method == http.MethodGet {
			w.Write(b)
		}
	case strings.HasPrefix(p, "/v2/env/blobs/"):
		serve := h.blobs[digest.Digest(strings.TrimPrefix(p, "/v2/env/blobs/"))]
		if serve == nil {
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		serve(w, req)
	default:
		http.NotFound(w, req)
	}
}

func serveBytes(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	}
}

// hostileImage is an image of one layer: its manifest and blobs.
type hostileImage struct {
	manifest []byte
	id       digest.Digest
	config   ocispec.Descriptor
	layer    ocispec.Descriptor
	layerRaw []byte
}

// addImage serves an image under tags, its blobs served as they are.
func (h *hostileRegistry) addImage(t *testing.T, layer []byte, tags ...string) hostileImage {
	// A plain tar: its diff id is its digest. (fsck checks it: tests
	// that store the image and run fsck give a real one, tarLayer.)
	return h.addImageAs(t, layer, ocispec.MediaTypeImageLayer, digest.FromBytes(layer).String(), tags...)
}

// addImageAs is addImage for a layer of mediaType whose config claims
// diffID.
func (h *hostileRegistry) addImageAs(t *testing.T, layer []byte, mediaType, diffID string, tags ...string) hostileImage {
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}}})
	img := hostileImage{
		config:   ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))},
		layer:    ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(layer), Size: int64(len(layer))},
		layerRaw: layer,
	}
	m, err := json.Marshal(ocispec.Manifest{Versioned: specsV2, MediaType: ocispec.MediaTypeImageManifest,
		Config: img.config, Layers: []ocispec.Descriptor{img.layer}})
	if err != nil {
		t.Fatal(err)
	}
	img.manifest, img.id = m, digest.FromBytes(m)
	h.manifests[img.id.String()] = m
	for _, tag := range tags {
		h.manifests[tag] = m
		h.tags = append(h.tags, tag)
	}
	h.blobs[img.config.Digest] = serveBytes(cfg)
	h.blobs[img.layer.Digest] = serveBytes(layer)
	return img
}

// fetchFrom fetches every tag of h's repository env into a new repository.
func fetchFrom(t *testing.T, h *hostileRegistry, o Options) (*repo.Repo, FetchResult, error) {
	r := newRepo(t)
	if o.Jobs == 0 {
		o.Jobs = 1
	}
	res, err := connect(t, r, "origin", h.host+"/env", o).Fetch(context.Background(), r, nil)
	return r, res, err
}

// assertNothingStored: no blob of img, no commit, no ref, an empty tmp.
func assertNothingStored(t *testing.T, r *repo.Repo, img hostileImage) {
	t.Helper()
	if r.Objects.Has(img.layer.Digest) {
		t.Error("the layer was stored")
	}
	if n, _ := r.Objects.CommitsWithPrefix(""); len(n) != 0 {
		t.Errorf("%d commits stored by a failed fetch", len(n))
	}
	if refs, _ := r.Refs.List("refs/remotes/"); len(refs) != 0 {
		t.Errorf("refs written by a failed fetch: %v", refs)
	}
	ents, err := os.ReadDir(r.Objects.TempDir())
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Errorf("%d files left in %s", len(ents), r.Objects.TempDir())
	}
	checkFsck(t, r)
}

// A layer of 100 bytes whose body never ends: the fetch stops past 100
// bytes and fails, and nothing stays on disk.
func TestHostileEndlessBlob(t *testing.T) {
	h := newHostileRegistry(t)
	img := h.addImage(t, []byte(strings.Repeat("L", 100)), "main")
	var mu sync.Mutex
	sent := 0
	h.blobs[img.layer.Digest] = func(w http.ResponseWriter, req *http.Request) {
		chunk := make([]byte, 32<<10)
		// "Endless" up to 64 MiB: were the size not enforced, the test
		// must fail without filling the disk.
		for i := 0; i < 2048; i++ {
			n, err := w.Write(chunk)
			mu.Lock()
			sent += n
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}
	r, _, err := fetchFrom(t, h, Options{})
	if err == nil || !strings.Contains(err.Error(), "longer than its descriptor's 100 bytes") || !strings.Contains(err.Error(), short(img.layer.Digest)) {
		t.Fatalf("fetch of an endless layer: %v", err)
	}
	assertNothingStored(t, r, img)
	h.srv.Close() // waits for the handler: the client hung up
	mu.Lock()
	t.Logf("the server wrote %d bytes before the client hung up", sent)
	mu.Unlock()
}

// A body longer or shorter than the descriptor says is refused, for a
// layer and for a config.
func TestHostileLyingSize(t *testing.T) {
	for _, c := range []struct {
		name, which, want string
		body              func([]byte) []byte
	}{
		{"layer-longer", "layer", "longer than its descriptor", func(b []byte) []byte { return append(b, "and more"...) }},
		{"layer-shorter", "layer", "", func(b []byte) []byte { return b[:len(b)-10] }},
		{"config-longer", "config", "longer than its descriptor", func(b []byte) []byte { return append(b, "        "...) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHostileRegistry(t)
			img := h.addImage(t, []byte(strings.Repeat("L", 1000)), "main")
			d := img.layer.Digest
			orig := img.layerRaw
			if c.which == "config" {
				d = img.config.Digest
				rec := httptest.NewRecorder()
				h.blobs[d](rec, httptest.NewRequest(http.MethodGet, "/", nil))
				orig = rec.Body.Bytes()
			}
			h.blobs[d] = serveBytes(c.body(orig))
			r, _, err := fetchFrom(t, h, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), short(d)) {
				t.Fatalf("fetch of a blob that lies about its size: %v", err)
			}
			if r.Objects.Has(d) {
				t.Fatal("the lying blob was stored")
			}
			assertNothingStored(t, r, img)
		})
	}
}

// A manifest over 4 MiB is refused, whether it says how long it is or
// never ends.
func TestHostileManifestTooLarge(t *testing.T) {
	for _, endless := range []bool{false, true} {
		t.Run(fmt.Sprintf("endless=%v", endless), func(t *testing.T) {
			h := newHostileRegistry(t)
			img := h.addImage(t, []byte("layer"), "other")
			big, _ := json.Marshal(ocispec.Manifest{Versioned: specsV2, MediaType: ocispec.MediaTypeImageManifest,
				Config: img.config, Layers: []ocispec.Descriptor{img.layer},
				Annotations: map[string]string{"pad": strings.Repeat("x", 5<<20)}})
			h.manifests["main"] = big
			h.tags = []string{"main"}
			h.endlessManifest = endless
			r, _, err := fetchFrom(t, h, Options{})
			if err == nil || !strings.Contains(err.Error(), "4 MiB") {
				t.Fatalf("fetch of a manifest over 4 MiB: %v", err)
			}
			assertNothingStored(t, r, img)
		})
	}
}

// An invalid tag in the registry's list is skipped; the others arrive.
func TestHostileInvalidTagNames(t *testing.T) {
	h := newHostileRegistry(t)
	img := h.addImage(t, tarLayer(t), "a..b", "good", "HEAD", "x.lock", "v1.")
	r, res, err := fetchFrom(t, h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	invalid := map[string]bool{}
	for _, u := range res.Tags {
		if u.Invalid {
			invalid[u.Tag] = true
		}
	}
	if len(invalid) != 4 || !invalid["a..b"] || !invalid["HEAD"] || !invalid["x.lock"] || !invalid["v1."] {
		t.Fatalf("invalid tags reported: %v (%+v)", invalid, res.Tags)
	}
	list, err := r.Refs.List("refs/remotes/")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "refs/remotes/origin/good" || list[0].Target != img.id {
		t.Fatalf("remote-tracking refs: %+v", list)
	}
	checkFsck(t, r)
}

var specsV2 = specs.Versioned{SchemaVersion: 2}

// A parent named by a tag, not a digest, is refused before anything is
// stored: followed, it was fetched unverified, could name a new manifest
// at every request (a history without end), and broke gc, fsck and show
// afterwards. A parent named by a digest must be what the registry sends
// for it.
func TestHostileParentNotADigest(t *testing.T) {
	for _, c := range []struct{ name, key, want string }{
		{"parent-tag", "dev.strata.parent", "a parent must be named by its digest"},
		{"merge-parent-tag", "dev.strata.merge-parent", "a parent must be named by its digest"},
		{"parent-swapped", "dev.strata.parent", "does not match"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHostileRegistry(t)
			other := h.addImage(t, []byte("other layer"), "other")
			img := h.addImage(t, []byte("layer"))
			parent := "other"
			if c.name == "parent-swapped" {
				// A digest the registry answers with other's manifest.
				parent = digest.FromString("a commit the registry does not have").String()
				h.manifests[parent] = other.manifest
			}
			m, err := json.Marshal(ocispec.Manifest{Versioned: specsV2, MediaType: ocispec.MediaTypeImageManifest,
				Config: img.config, Layers: []ocispec.Descriptor{img.layer},
				Annotations: map[string]string{c.key: parent}})
			if err != nil {
				t.Fatal(err)
			}
			h.manifests["main"] = m
			h.tags = []string{"main"}
			r, _, err := fetchFrom(t, h, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("fetch of a commit whose %s is %q: %v, want %q", c.key, parent, err, c.want)
			}
			assertNothingStored(t, r, img)
			assertNothingStored(t, r, other)
		})
	}
}

// The manifests a fetch spools while it plans, and what it holds of them,
// are bounded: a registry could pad each of a long history's (gzip makes
// that cheap on the wire) and make the fetch fill a disk or hold
// gigabytes. Past either bound, the fetch fails and stores nothing.
func TestHostileManifestsOverBudget(t *testing.T) {
	old := maxPlannedBytes
	maxPlannedBytes = 8 << 10
	t.Cleanup(func() { maxPlannedBytes = old })
	h := newHostileRegistry(t)
	img := h.addImage(t, []byte("layer"))
	m, err := json.Marshal(ocispec.Manifest{Versioned: specsV2, MediaType: ocispec.MediaTypeImageManifest,
		Config: img.config, Layers: []ocispec.Descriptor{img.layer},
		Annotations: map[string]string{"pad": strings.Repeat("x", 10<<10)}})
	if err != nil {
		t.Fatal(err)
	}
	h.manifests["main"] = m
	h.tags = []string{"main"}
	r, _, err := fetchFrom(t, h, Options{})
	if err == nil || !strings.Contains(err.Error(), "the history's manifests come to more than 8 KiB") {
		t.Fatalf("fetch of manifests over the bound: %v", err)
	}
	assertNothingStored(t, r, img)
	// What is held in memory of them (here the padded annotations) has a
	// bound of its own, below the spooled bytes'.
	maxPlannedBytes = old
	oldHeld := maxPlannedHeld
	maxPlannedHeld = 8 << 10
	t.Cleanup(func() { maxPlannedHeld = oldHeld })
	r, _, err = fetchFrom(t, h, Options{})
	if err == nil || !strings.Contains(err.Error(), "the history's manifests hold more than 8 KiB") {
		t.Fatalf("fetch of manifests holding more than the bound: %v", err)
	}
	assertNothingStored(t, r, img)
}

// A registry that accepts connections and never answers fails a fetch
// once responseTimeout has passed, instead of holding it forever.
func TestHostileSilentRegistry(t *testing.T) {
	old := responseTimeout
	responseTimeout = 500 * time.Millisecond
	t.Cleanup(func() { responseTimeout = old })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	r := newRepo(t)
	done := make(chan error, 1)
	go func() {
		_, err := connect(t, r, "origin", ln.Addr().String()+"/env", Options{Jobs: 1}).Fetch(context.Background(), r, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), ": timed out (the registry does not answer)") {
			t.Fatalf("fetch from a silent registry: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("fetch from a silent registry still waits after 60 s")
	}
}

// A registry that stops sending in the middle of a blob (or sends a byte
// now and then) fails a fetch once a read has waited bodyIdleTimeout,
// naming the registry, instead of holding it forever; nothing is stored.
func TestHostileStalledBody(t *testing.T) {
	old := bodyIdleTimeout
	bodyIdleTimeout = 300 * time.Millisecond
	t.Cleanup(func() { bodyIdleTimeout = old })
	h := newHostileRegistry(t)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) }) // before the server closes
	img := h.addImage(t, []byte(strings.Repeat("layer ", 1000)), "main")
	h.blobs[img.layer.Digest] = func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(img.layerRaw)))
		w.Write(img.layerRaw[:100])
		w.(http.Flusher).Flush()
		select { // and nothing more
		case <-req.Context().Done():
		case <-stop:
		}
	}
	done := make(chan error, 1)
	var r *repo.Repo
	go func() {
		var err error
		r, _, err = fetchFrom(t, h, Options{})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), h.host+" sent nothing for 300ms") {
			t.Fatalf("fetch from a stalled registry: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("fetch from a stalled registry still waits after 60 s")
	}
	assertNothingStored(t, r, img)
}

// tarLayer is a real layer, a plain tar of one file.
func tarLayer(t *testing.T) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: "etc/hello", Mode: 0o644, Size: 5, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("hello"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
