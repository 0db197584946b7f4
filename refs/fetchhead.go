package refs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/regfile"
)

// FetchHead is git's FETCH_HEAD: what the last fetch (or pull) received,
// one line per remote tag, "ID\t[not-for-merge]\tbranch 'T' of URL". As
// a revision it names the commit of its first line, as git reads it. It
// is a file beside HEAD (a linked work tree keeps its own), with no
// reflog; gc does not keep its commits, as git's does not.
const FetchHead = "FETCH_HEAD"

// notForMerge marks a FETCH_HEAD line that pull would not merge: a tag
// the remote's configured refspecs fetched, not the branch's upstream.
const notForMerge = "not-for-merge"

// FetchHeadEntry is a line of FETCH_HEAD.
type FetchHeadEntry struct {
	ID          digest.Digest
	NotForMerge bool
	// Desc says what was fetched from where, git's "branch 'main' of
	// URL" or "tag 'v1' of URL".
	Desc string
}

// String is the entry's line, without its newline.
func (e FetchHeadEntry) String() string {
	mark := ""
	if e.NotForMerge {
		mark = notForMerge
	}
	return e.ID.String() + "\t" + mark + "\t" + e.Desc
}

// WriteFetchHead replaces FETCH_HEAD (the current work tree's: a linked
// one's own) with es, or adds es to its end when appending (fetch
// --all, after its first remote). It is written as a ref is: under the
// refs lock, through a lock file renamed over it.
func (s *Store) WriteFetchHead(es []FetchHeadEntry, appending bool) error {
	file := s.fetchHeadFile()
	var b strings.Builder
	for _, e := range es {
		if err := e.ID.Validate(); err != nil {
			return fmt.Errorf("write %s: %w", FetchHead, err)
		}
		if strings.ContainsAny(e.Desc, "\n") {
			return fmt.Errorf("write %s: %q: a newline in a description", FetchHead, e.Desc)
		}
		b.WriteString(e.String() + "\n")
	}
	return s.locked(func() error {
		if err := s.CheckFetchHead(appending); err != nil {
			return err
		}
		data := b.String()
		if appending {
			// Not through a symbolic link: what it points at, a host
			// file a planted repository names, would be copied into
			// the repository.
			old, err := regfile.ReadFileNoFollow(file)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("read %s: %w", FetchHead, err)
			}
			data = string(old) + data
		}
		l, err := s.acquire(file)
		if err != nil {
			return err
		}
		if err := l.commit([]byte(data)); err != nil {
			return fmt.Errorf("write %s: %w", FetchHead, err)
		}
		return nil
	})
}

// CheckFetchHead fails if WriteFetchHead could not write FETCH_HEAD for
// what it is: a directory, or, appending, a file it does not read (a
// symbolic link, a FIFO). A fetch asks it before it asks the remote
// anything, as git's fetch opens FETCH_HEAD first, so that it fails
// before it moves a ref.
func (s *Store) CheckFetchHead(appending bool) error {
	file := s.fetchHeadFile()
	fi, err := os.Lstat(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("write %s: %w", FetchHead, err)
	case fi.IsDir():
		return fmt.Errorf("write %s: %w", FetchHead, &fs.PathError{Op: "open", Path: file, Err: syscall.EISDIR})
	case !appending:
		return nil // renamed over, whatever it is
	}
	f, err := regfile.OpenNoFollow(file)
	if err != nil {
		return fmt.Errorf("read %s: %w", FetchHead, err)
	}
	return f.Close()
}

// ReadFetchHead reads the current work tree's FETCH_HEAD; a fetch that
// fetched nothing left it empty.
func (s *Store) ReadFetchHead() ([]FetchHeadEntry, error) {
	b, err := regfile.ReadFile(s.fetchHeadFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNothingFetched
	}
	if err != nil {
		return nil, err
	}
	return parseFetchHead(string(b))
}

var errNothingFetched = fmt.Errorf("%s: %w: nothing has been fetched yet", FetchHead, ErrUnknownRevision)

// ForMerge are FETCH_HEAD's lines for merge, in order, as git's merge
// FETCH_HEAD takes them: the lines marked not-for-merge are left out,
// wherever they are (a fetch -a adds lines for merge after others).
func ForMerge(es []FetchHeadEntry) []FetchHeadEntry {
	var out []FetchHeadEntry
	for _, e := range es {
		if !e.NotForMerge {
			out = append(out, e)
		}
	}
	return out
}

// parseFetchHead reads FETCH_HEAD's lines; one that is not
// "ID\t[not-for-merge]\tDESC" is an error that names its line.
func parseFetchHead(data string) ([]FetchHeadEntry, error) {
	var out []FetchHeadEntry
	for i, line := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
		if line == "" && i == 0 && data == "" {
			break
		}
		f := strings.SplitN(line, "\t", 3)
		bad := func(why string) error {
			return fmt.Errorf("%s: bad content on line %d: %s", FetchHead, i+1, why)
		}
		if len(f) != 3 {
			return nil, bad("not ID<tab>[not-for-merge]<tab>DESCRIPTION")
		}
		d := digest.Digest(f[0])
		if err := d.Validate(); err != nil {
			return nil, bad(fmt.Sprintf("%.80q: not a commit id", f[0]))
		}
		if f[1] != "" && f[1] != notForMerge {
			return nil, bad(fmt.Sprintf("%.80q: neither empty nor %s", f[1], notForMerge))
		}
		out = append(out, FetchHeadEntry{ID: d, NotForMerge: f[1] != "", Desc: f[2]})
	}
	return out, nil
}

// resolveFetchHead is FETCH_HEAD as a revision: its first line's
// commit, as git reads it (the lines pull would merge come first). As
// git's, it reads that line alone: what follows, however long or
// broken, is merge's business.
func (s *Store) resolveFetchHead() (digest.Digest, error) {
	f, err := regfile.Open(s.fetchHeadFile())
	if errors.Is(err, fs.ErrNotExist) {
		return "", errNothingFetched
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(io.LimitReader(f, maxFetchHeadLine), maxFetchHeadLine).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read %s: %w", FetchHead, err)
	}
	if line == "" {
		return "", fmt.Errorf("%s: %w: the last fetch fetched nothing", FetchHead, ErrUnknownRevision)
	}
	es, err := parseFetchHead(line) // one line, with its newline or none
	if err != nil {
		return "", err
	}
	return es[0].ID, nil
}

// maxFetchHeadLine bounds what resolveFetchHead reads of FETCH_HEAD's
// first line: an id and a description, a few hundred bytes, where a
// planted file may be gigabytes with no newline.
const maxFetchHeadLine = 64 << 10

// fetchHeadFile is the FETCH_HEAD of where the command runs: a linked
// work tree's own, else the repository's.
func (s *Store) fetchHeadFile() string {
	if s.Linked != nil && s.Linked.FetchHead != "" {
		return s.Linked.FetchHead
	}
	return filepath.Join(s.root, FetchHead)
}
