package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
)

// Problem is one thing fsck found wrong.
type Problem struct {
	Object string `json:"object"` // a blob digest, a ref name or a file
	What   string `json:"problem"`
}

// String is the problem on one line: a ref name from a repository handed
// over may hold a newline, which would forge a line of its own.
func (p Problem) String() string { return pathquote.Quote(p.Object) + ": " + pathquote.Name(p.What) }

// FsckResult is what fsck checked and found.
type FsckResult struct {
	Blobs    int       `json:"blobs"`
	Refs     int       `json:"refs"`
	Commits  int       `json:"commits"`
	Problems []Problem `json:"problems"`
	// Strays are the files in the blob directory, relative to the store,
	// whose names are not digests: warned about, not problems (as git's
	// "bad sha1 file").
	Strays []string `json:"strays"`
	// Warnings are what fsck names but that is no damage: a summary
	// journal with a torn entry, which a killed commit may leave; a gzip
	// twin record push would not take.
	Warnings []Problem `json:"warnings,omitempty"`
	// BadIndexes are the layers whose file index does not match them
	// (named LayerIndexObject in Problems): fsck --repair rebuilds them.
	BadIndexes []objects.Layer `json:"-"`
}

// Fsck verifies every blob against its digest, and that every ref, HEAD
// and reflog entry points at a complete commit whose history is complete
// (gc keeps them all), and that every reflog line is an entry. The blobs are
// rehashed on every core while the history is walked; the walk follows
// parents from manifests and checks each commit's config and layers on
// other goroutines, so its cost a commit stays flat with depth.
func (r *Repo) Fsck(ctx context.Context) (FsckResult, error) {
	res := FsckResult{Problems: []Problem{}}
	var (
		bad     []Problem
		n       int
		blobErr error
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		bad, n, blobErr = r.verifyBlobs(ctx)
	}()
	h := r.newHistoryCheck()
	all, broken, err := r.Refs.ListAll("refs/")
	if err != nil {
		h.finish()
		<-done
		return res, err
	}
	res.Refs = len(all) + len(broken)
	for _, b := range broken {
		h.problem(b.Name, "broken ref: "+strings.TrimPrefix(b.Err.Error(), "ref "+b.Name+": ")+"; "+fixBroken(b.Name))
	}
	for _, ref := range all {
		h.walk(ref.Name, ref.Target)
	}
	if hd, err := r.Refs.ReadHead(); err != nil {
		h.problem("HEAD", strings.TrimPrefix(err.Error(), "HEAD: "))
	} else if hd.Detached() {
		h.walk("HEAD", hd.Commit)
	}
	if err := h.walkReflogs(); err != nil {
		h.finish()
		<-done
		return res, err
	}
	history := h.finish()
	<-done
	if blobErr != nil {
		return res, blobErr
	}
	res.Blobs = n
	res.Problems = append(res.Problems, bad...)
	res.Problems = append(res.Problems, history...)
	badBlob := map[digest.Digest]bool{}
	for _, p := range bad {
		badBlob[digest.Digest(p.Object)] = true
	}
	res.Problems = append(res.Problems, h.misSizedLayers(badBlob)...)
	if len(bad) > 0 {
		res.Problems = append(res.Problems, h.corruptLayers(badBlob)...)
	}
	if res.Strays, err = r.Objects.StrayNames(); err != nil {
		return res, err
	}
	res.Commits = len(h.checked)
	res.BadIndexes = h.badIndexes
	res.Problems = append(res.Problems, r.checkLayoutIndex()...)
	if err := r.Objects.CheckSummariesFile(); err != nil {
		res.Problems = append(res.Problems, Problem{".strata/indexes/summaries", err.Error() + SummaryCacheFix})
	}
	switch err := r.Objects.CheckSummaryJournal(); {
	case errors.Is(err, objects.ErrJournalNotFile):
		res.Problems = append(res.Problems, Problem{SummaryJournalObject, err.Error() + "; delete it"})
	case err != nil:
		// What a killed commit may leave: not a problem (killed at any
		// instant, fsck finds a repository clean), but said.
		res.Warnings = append(res.Warnings, Problem{SummaryJournalObject, err.Error() + " (or delete it)"})
	}
	// A gzip twin record push would not take: no damage (the push
	// converts the layer again), but a record cut or rewritten is said.
	twins, err := r.Objects.CheckGzipTwins()
	if err != nil {
		return res, err
	}
	for _, t := range twins {
		res.Warnings = append(res.Warnings, Problem{".strata/" + t.Path, "gzip twin record " + t.Err.Error() + "; push --compression gzip converts the layer again (or delete it)"})
	}
	res.Problems = append(res.Problems, r.checkUnreachedSummaries(h.checked)...)
	sort.Slice(res.Problems, func(i, j int) bool {
		a, b := res.Problems[i], res.Problems[j]
		return a.Object < b.Object || a.Object == b.Object && a.What < b.What
	})
	return res, nil
}

// checkUnreachedSummaries compares the summary cache's entries of the
// commits the history walk did not reach (log shows them when named by
// id) with their manifests; the walk compared the others.
func (r *Repo) checkUnreachedSummaries(checked map[digest.Digest]string) []Problem {
	var problems []Problem
	reached := func(id digest.Digest) bool { _, ok := checked[id]; return ok }
	for _, id := range r.Objects.DifferingSummaries(reached) {
		problems = append(problems, Problem{id.String(), "summary cache entry differs from the commit" + SummaryCacheFix})
	}
	return problems
}

// SummaryJournalObject names the summary journal in fsck's lines.
const SummaryJournalObject = ".strata/indexes/summaries-journal"

// SummaryCacheFix ends a problem of the summary cache: what to do.
const SummaryCacheFix = "; delete .strata/indexes/summaries and .strata/indexes/summaries-journal: log writes the cache again"

// verifyBlobs rehashes every blob, using every core.
func (r *Repo) verifyBlobs(ctx context.Context) ([]Problem, int, error) {
	ds, err := r.Objects.Digests()
	if err != nil {
		return nil, 0, err
	}
	var (
		mu   sync.Mutex
		bad  []Problem
		gone atomic.Int64
		wg   sync.WaitGroup
		work = make(chan digest.Digest, 256)
	)
	for i := 0; i < runtime.NumCPU(); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			for d := range work {
				err := hashFile(r.Objects.BlobPath(d), d, buf)
				switch {
				case errors.Is(err, fs.ErrNotExist):
					gone.Add(1) // removed since it was listed (gc)
				case err != nil:
					mu.Lock()
					bad = append(bad, Problem{d.String(), err.Error()})
					mu.Unlock()
				}
			}
		}()
	}
	for _, d := range ds {
		if err = ctx.Err(); err != nil {
			break
		}
		work <- d
	}
	close(work)
	wg.Wait()
	return bad, len(ds) - int(gone.Load()), err
}

// hashFile checks the file at path against want, reading through buf
// with plain system calls (os.Open costs five more a file, and fsck opens
// every blob).
func hashFile(path string, want digest.Digest, buf []byte) error {
	var fd int
	var err error
	for {
		// A symbolic link would read another file, a FIFO would wait
		// for a writer: both are refused, as is a device (no end).
		if fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0); err != syscall.EINTR {
			break
		}
	}
	if err == syscall.ELOOP {
		return fmt.Errorf("a symbolic link: %w", objects.ErrNotRegular)
	}
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return objects.ErrNotRegular
	}
	h := sha256.New()
	for {
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			break
		}
		h.Write(buf[:n])
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want.Encoded() {
		return fmt.Errorf("content does not match its digest (it hashes to sha256:%s)", got[:12])
	}
	return nil
}
