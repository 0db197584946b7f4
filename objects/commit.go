package objects

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Manifest annotations strata writes.
const (
	// AnnotationParent names the parent commit's manifest digest.
	AnnotationParent = "dev.strata.parent"
	// AnnotationMergeParent names a merge commit's second parent (the
	// branch merged in); dev.strata.parent stays the first.
	AnnotationMergeParent = "dev.strata.merge-parent"
	// AnnotationAuthor and AnnotationMessage copy the commit's history
	// entry into the manifest, so that log reads one small blob a commit
	// instead of a config whose history grows with the depth.
	AnnotationAuthor  = "dev.strata.author"
	AnnotationMessage = "dev.strata.message"
	// MediaTypeAncestors is the artifact type of a commit's ancestor
	// list in a registry, and the media type of its one blob (see
	// docs/format.md, "Ancestor lists"). It is never part of a commit.
	MediaTypeAncestors = "application/vnd.strata.ancestors.v1+json"
	// MediaTypeHistoryBundle is the config of a full ancestor list's
	// artifact manifest: a tar of the manifests and configs the list
	// names (docs/format.md, "History bundles").
	MediaTypeHistoryBundle = "application/vnd.strata.history-bundle.v1.tar"
)

// ErrNotCommit is returned when a digest does not name a commit manifest.
var ErrNotCommit = errors.New("not a commit")

// Commit is a decoded commit: its manifest, its config and their digests.
type Commit struct {
	ID       digest.Digest
	Manifest ocispec.Manifest
	Config   ocispec.Image
}

// Parent is the parent commit id, or "" for a root commit.
func (c *Commit) Parent() digest.Digest {
	return digest.Digest(c.Manifest.Annotations[AnnotationParent])
}

// MergeParent is a merge commit's second parent, "" for any other commit.
func (c *Commit) MergeParent() digest.Digest {
	return digest.Digest(c.Manifest.Annotations[AnnotationMergeParent])
}

// ErrBadParent: a manifest names a parent that is not a digest.
var ErrBadParent = errors.New("a parent must be named by its digest")

// ErrNotUTF8 is wrapped when a commit's message or author is not UTF-8:
// the image config is JSON, which would store U+FFFD in place of each
// bad byte, silently changing the text.
var ErrNotUTF8 = errors.New("not valid UTF-8 (image configs are JSON, which holds UTF-8 text only)")

// CheckParents refuses annotations that name a parent other than by a
// valid digest. A registry could name one by a tag, which a fetch would
// follow unverified and which may change at every request (a history
// without end), and which every walk of the store would fail on later.
func CheckParents(a map[string]string) error {
	for _, k := range []string{AnnotationParent, AnnotationMergeParent} {
		if p := a[k]; p != "" && validate(digest.Digest(p)) != nil {
			if len(p) > 80 {
				p = p[:80] + "..."
			}
			return fmt.Errorf("%s %q: %w", k, p, ErrBadParent)
		}
	}
	return nil
}

// Short is how a digest is named in messages: its first 12 hex digits,
// or, for a string that is no digest, the string itself.
func Short(d digest.Digest) string {
	if i := strings.IndexByte(string(d), ':'); i >= 0 && len(d)-i-1 >= 12 {
		return string(d[i+1 : i+13])
	}
	return string(d)
}

// Parents lists the commit's parents, first parent first.
func (c *Commit) Parents() []digest.Digest {
	return parentsOf(c.Manifest.Annotations)
}

func parentsOf(a map[string]string) []digest.Digest {
	var out []digest.Digest
	if p := a[AnnotationParent]; p != "" {
		out = append(out, digest.Digest(p))
	}
	if p := a[AnnotationMergeParent]; p != "" {
		out = append(out, digest.Digest(p))
	}
	return out
}

// last is the history entry that describes this commit.
func (c *Commit) last() ocispec.History {
	if n := len(c.Config.History); n > 0 {
		return c.Config.History[n-1]
	}
	return ocispec.History{}
}

// Message is the commit message.
func (c *Commit) Message() string { return c.last().Comment }

// Author is the commit author, "Name <email>".
func (c *Commit) Author() string { return c.last().Author }

// Date is the commit date.
func (c *Commit) Date() time.Time {
	if t := c.last().Created; t != nil {
		return *t
	}
	if c.Config.Created != nil {
		return *c.Config.Created
	}
	return time.Time{}
}

// Layers pairs each layer descriptor of the manifest with its diff id
// from the config, bottom first; nil for a nil commit. ReadCommit and
// WriteCommit guarantee the two lists are the same length and every diff
// id a digest; a layer of a Commit built in memory without one gets no
// diff id, which no check accepts.
func (c *Commit) Layers() []Layer {
	if c == nil || len(c.Manifest.Layers) == 0 {
		return nil
	}
	diffs := c.Config.RootFS.DiffIDs
	out := make([]Layer, len(c.Manifest.Layers))
	for i, d := range c.Manifest.Layers {
		out[i].Desc = d
		if i < len(diffs) {
			out[i].DiffID = diffs[i]
		}
	}
	return out
}

// ReadCommit loads commit id from the store.
func (s *Store) ReadCommit(id digest.Digest) (*Commit, error) {
	b, err := s.ReadJSONBlob(id)
	if err != nil {
		return nil, err
	}
	return s.CommitFromManifest(id, b)
}

// CommitFromManifest loads commit id from b, its manifest as ReadBlob
// returned it (verified), reading its config from the store.
func (s *Store) CommitFromManifest(id digest.Digest, b []byte) (*Commit, error) {
	m, err := parseManifest(id, b)
	if err != nil {
		return nil, err
	}
	c := &Commit{ID: id, Manifest: *m}
	if err := s.ReadJSON(m.Config.Digest, &c.Config); err != nil {
		return nil, fmt.Errorf("commit %s: config: %w", id.Encoded()[:12], err)
	}
	if err := checkDiffIDs(len(m.Layers), c.Config.RootFS.DiffIDs); err != nil {
		return nil, fmt.Errorf("commit %s: %w", id.Encoded()[:12], err)
	}
	return c, nil
}

// checkDiffIDs checks that a commit's config lists one diff id, a digest,
// for each of its n layers. A config from elsewhere may hold anything: a
// diff id that is not a digest would name no snapshot (and made checkout
// panic).
func checkDiffIDs(n int, diffs []digest.Digest) error {
	if len(diffs) != n {
		return fmt.Errorf("%d layers but %d diff ids", n, len(diffs))
	}
	for i, d := range diffs {
		if err := validate(d); err != nil { // the fast path: a deep config lists thousands
			return fmt.Errorf("diff id %d %q: %w", i, d, err)
		}
	}
	return nil
}

// CheckCommit checks commit id as ReadCommit reads it, from b, its
// manifest as ReadBlob returned it, and returns its layers; of the config
// it decodes only the diff IDs (fsck: a deep history's configs list every
// commit below them). Its errors do not name the commit: the caller does.
func (s *Store) CheckCommit(id digest.Digest, b []byte) ([]Layer, error) {
	m, err := parseManifest(id, b)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		RootFS struct {
			DiffIDs []digest.Digest `json:"diff_ids"`
		} `json:"rootfs"`
	}
	b, err = s.ReadJSONBlob(m.Config.Digest)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if int64(len(b)) != m.Config.Size {
		return nil, fmt.Errorf("config %s is %d bytes, the commit says %d", m.Config.Digest, len(b), m.Config.Size)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("config: blob %s: bad JSON: %w", m.Config.Digest, err)
	}
	if err := checkDiffIDs(len(m.Layers), cfg.RootFS.DiffIDs); err != nil {
		return nil, err
	}
	layers := make([]Layer, len(m.Layers))
	for i, l := range m.Layers {
		layers[i] = Layer{Desc: l, DiffID: cfg.RootFS.DiffIDs[i]}
	}
	return layers, nil
}

// Layer is a layer in the store, as a commit lists it.
type Layer struct {
	Desc   ocispec.Descriptor // the compressed blob, as a manifest lists it
	DiffID digest.Digest      // sha256 of the uncompressed tar, as the config lists it
}

// NewCommit describes a commit to write.
type NewCommit struct {
	Parent  *Commit // nil for a root commit
	Layers  []Layer // layers added on top of the parent's
	Config  *ocispec.ImageConfig
	Author  string
	Date    time.Time
	Message string
	// Platform for a root commit; a child inherits its parent's.
	OS, Architecture string
	// The rest of a root commit's platform, as an imported image gives
	// it: CPU variant ("v7" of arm), OS version and features.
	Variant, OSVersion string
	OSFeatures         []string
	// History replaces the inherited history before this commit's entry
	// is added (used by import of images that carry their own, and by a
	// fold).
	History []ocispec.History
	// Base, if set, replaces the parent's layers below Layers: the
	// parent's with a run of them folded into one (package fold), which
	// also sets History.
	Base []Layer
	// Annotations added to the manifest.
	Annotations map[string]string
	// MergeParent, if set, is recorded as the second parent.
	MergeParent digest.Digest
	// CreatedBy is the history entry's created_by; "strata commit" if empty.
	CreatedBy string
}

// WriteCommit writes the config and manifest of nc and returns the commit.
func (s *Store) WriteCommit(nc NewCommit) (*Commit, error) {
	c, blobs, err := ComposeCommit(nc)
	if err != nil {
		return nil, err
	}
	if _, err := s.PutBytes(ocispec.MediaTypeImageConfig, blobs[0]); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	if _, err := s.PutBytes(ocispec.MediaTypeImageManifest, blobs[1]); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	s.NoteCommits(c)
	return c, nil
}

// ComposeCommit makes the config and manifest of nc without storing them:
// it returns the commit and the two blobs, config first, for a caller
// that stores many commits at once (PutAllBytes: one sync for all).
func ComposeCommit(nc NewCommit) (*Commit, [][]byte, error) {
	for what, text := range map[string]string{"message": nc.Message, "author": nc.Author} {
		if !utf8.ValidString(text) {
			return nil, nil, fmt.Errorf("commit %s: %w", what, ErrNotUTF8)
		}
	}
	var img ocispec.Image
	var layers []ocispec.Descriptor
	if p := nc.Parent; p != nil {
		img = p.Config
		img.RootFS.DiffIDs = append([]digest.Digest(nil), p.Config.RootFS.DiffIDs...)
		img.History = append([]ocispec.History(nil), p.Config.History...)
		layers = append(layers, p.Manifest.Layers...)
		if nc.Base != nil {
			layers, img.RootFS.DiffIDs = nil, nil
			for i, l := range nc.Base {
				if err := validate(l.DiffID); err != nil {
					return nil, nil, fmt.Errorf("write commit: base layer %d (%s): diff id %q: %w", i, l.Desc.Digest, l.DiffID, err)
				}
				layers = append(layers, l.Desc)
				img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, l.DiffID)
			}
		}
	} else {
		img.OS, img.Architecture = nc.OS, nc.Architecture
		img.Variant, img.OSVersion, img.OSFeatures = nc.Variant, nc.OSVersion, nc.OSFeatures
		img.RootFS.Type = "layers"
	}
	if nc.History != nil {
		img.History = append([]ocispec.History(nil), nc.History...)
	}
	if nc.Config != nil {
		img.Config = *nc.Config
	}
	for i, l := range nc.Layers {
		// Every reader refuses a diff id that is not a digest; refuse
		// to write one too.
		if err := validate(l.DiffID); err != nil {
			return nil, nil, fmt.Errorf("write commit: layer %d (%s): diff id %q: %w", i, l.Desc.Digest, l.DiffID, err)
		}
		layers = append(layers, l.Desc)
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, l.DiffID)
	}
	date := nc.Date.UTC()
	img.Created = &date
	img.History = append(img.History, ocispec.History{
		Created:   &date,
		Author:    nc.Author,
		Comment:   nc.Message,
		CreatedBy: createdBy(nc.CreatedBy),
		// OCI pairs non-empty history entries with layers: this entry
		// stands for a layer only if the history does not cover them all
		// yet (an imported image's own history usually does).
		EmptyLayer: nonEmpty(img.History) >= len(img.RootFS.DiffIDs),
	})
	if img.RootFS.DiffIDs == nil {
		img.RootFS.DiffIDs = []digest.Digest{}
	}
	if layers == nil {
		layers = []ocispec.Descriptor{}
	}
	cfgBytes, err := json.Marshal(img)
	if err != nil {
		return nil, nil, fmt.Errorf("write config: %w", err)
	}
	cfg := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfgBytes), Size: int64(len(cfgBytes))}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    cfg,
		Layers:    layers,
	}
	ann := map[string]string{}
	for k, v := range nc.Annotations {
		ann[k] = v
	}
	if nc.Parent != nil {
		ann[AnnotationParent] = nc.Parent.ID.String()
	}
	if nc.MergeParent != "" {
		ann[AnnotationMergeParent] = nc.MergeParent.String()
	}
	ann[ocispec.AnnotationCreated] = date.Format(time.RFC3339Nano)
	ann[AnnotationAuthor] = nc.Author
	ann[AnnotationMessage] = nc.Message
	m.Annotations = ann
	mBytes, err := json.Marshal(m)
	if err != nil {
		return nil, nil, fmt.Errorf("write manifest: %w", err)
	}
	return &Commit{ID: digest.FromBytes(mBytes), Manifest: m, Config: img}, [][]byte{cfgBytes, mBytes}, nil
}

// Parent returns the parent of commit id, "" for a root commit. Like
// Parents, it reads the manifest's head (ReadManifestHead), checked as
// ReadManifest checks it.
func (s *Store) Parent(id digest.Digest) (digest.Digest, error) {
	m, err := s.ReadManifestHead(id)
	if err != nil {
		return "", err
	}
	return digest.Digest(m.Annotations[AnnotationParent]), nil
}

// Parents returns the parents of commit id, first parent first; none for
// a root commit. It decodes the manifest's head alone: a walk for
// parents (gc's reflog expiry, describe, bisect, a push's check behind
// what it found) decoded every layer of every commit, each listing
// every layer below it, up to 128.
func (s *Store) Parents(id digest.Digest) ([]digest.Digest, error) {
	m, err := s.ReadManifestHead(id)
	if err != nil {
		return nil, err
	}
	return parentsOf(m.Annotations), nil
}

// CommitsWithPrefix returns the commits whose hex digest starts with prefix.
func (s *Store) CommitsWithPrefix(prefix string) ([]digest.Digest, error) {
	names, err := s.blobNames()
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) {
			continue
		}
		d := digest.NewDigestFromEncoded(digest.SHA256, n)
		if _, err := s.ReadManifest(d); err == nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// Summary is what log shows of a commit.
type Summary struct {
	ID     digest.Digest
	Parent digest.Digest
	// MergeParent is a merge's second parent, else "".
	MergeParent digest.Digest
	Author      string
	Date        time.Time
	Message     string
}

// ReadSummary reads what log needs of commit id: from the summary cache
// when it has it (summaries.go), else from the manifest's annotations
// when strata wrote it, else from the config's history.
func (s *Store) ReadSummary(id digest.Digest) (Summary, error) {
	if sum, ok := s.cachedSummary(id); ok {
		return sum, nil
	}
	sum, err := s.readSummary(id)
	if err == nil {
		s.noteSummary(sum)
	}
	return sum, err
}

// readSummary is ReadSummary from the commit's blobs.
func (s *Store) readSummary(id digest.Digest) (Summary, error) {
	m, err := s.ReadManifestHead(id)
	if err != nil {
		return Summary{}, err
	}
	sum, complete := summaryOf(id, m)
	if complete {
		return sum, nil
	}
	return s.withConfigSummary(sum)
}

// CommitSummary is the summary of commit c, which was read and checked:
// what ReadSummary gives, but from c itself, never from the summary
// cache, whose records a repository handed over may have forged (fsck
// finds them; log, which reads no commit whole, believes them).
func CommitSummary(c *Commit) Summary {
	sum, complete := summaryOf(c.ID, &ManifestHead{Annotations: c.Manifest.Annotations})
	if !complete {
		sum.Author, sum.Date, sum.Message = c.Author(), c.Date(), c.Message()
	}
	return sum
}

// summaryOf is the summary of commit id that its manifest head m holds:
// its parents always, and its author, date and message when the
// annotations hold a message and a date (strata wrote them: complete).
func summaryOf(id digest.Digest, m *ManifestHead) (sum Summary, complete bool) {
	a := m.Annotations
	sum = Summary{ID: id, Parent: digest.Digest(a[AnnotationParent]), MergeParent: digest.Digest(a[AnnotationMergeParent])}
	msg, hasMsg := a[AnnotationMessage]
	date, dateErr := time.Parse(time.RFC3339Nano, a[ocispec.AnnotationCreated])
	if !hasMsg || dateErr != nil {
		return sum, false
	}
	sum.Author, sum.Date, sum.Message = a[AnnotationAuthor], date, msg
	return sum, true
}

// withConfigSummary is sum with its author, date and message taken
// from the commit's config history.
func (s *Store) withConfigSummary(sum Summary) (Summary, error) {
	c, err := s.ReadCommit(sum.ID)
	if err != nil {
		return Summary{}, err
	}
	sum.Author, sum.Date, sum.Message = c.Author(), c.Date(), c.Message()
	return sum, nil
}

func createdBy(s string) string {
	if s == "" {
		return "strata commit"
	}
	return s
}

func nonEmpty(h []ocispec.History) int {
	n := 0
	for _, e := range h {
		if !e.EmptyLayer {
			n++
		}
	}
	return n
}
