package refs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/regfile"
)

// LogEntry is one move of a ref.
type LogEntry struct {
	Old, New digest.Digest // "" when the ref was created or deleted
	Who      string
	When     time.Time
	Message  string
}

func (s *Store) logFile(name string) string {
	return filepath.Join(s.root, "logs", filepath.FromSlash(name))
}

// RemoveLogs removes the reflogs of every ref under prefix (a remote's
// refs/remotes/NAME, which git's remote remove and rename take away with
// the refs), and their directories.
func (s *Store) RemoveLogs(prefix string) error {
	if err := checkPath(prefix); err != nil {
		return err
	}
	return s.locked(func() error { return os.RemoveAll(s.logFile(prefix)) })
}

// appendLog records a move of ref name in its reflog. Callers hold the
// refs lock and append before the ref file is renamed into place, so that
// the reflog is in the order of the moves; undo takes the line back if the
// move then fails.
func (s *Store) appendLog(name string, old, new digest.Digest, msg string) (undo func(), err error) {
	p := s.logFile(name)
	f, err := s.openLog(p)
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) {
		s.dropDeletedLogs(name)
		f, err = s.openLog(p)
	}
	if err != nil {
		return nil, fmt.Errorf("reflog %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reflog %s: %w", name, err)
	}
	size := fi.Size()
	undo = func() { _ = os.Truncate(p, size) }
	line := formatLogLine(LogEntry{Old: old, New: new, Who: s.Who(), When: time.Now(), Message: msg})
	if _, err := f.WriteString(line); err != nil {
		undo()
		return nil, fmt.Errorf("reflog %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		undo()
		return nil, fmt.Errorf("reflog %s: %w", name, err)
	}
	return undo, nil
}

func (s *Store) openLog(p string) (*os.File, error) {
	if err := s.mkdirs(filepath.Dir(p)); err != nil {
		return nil, err
	}
	// Never through a link, and never waiting on a FIFO planted there.
	return regfile.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
}

// dropDeletedLogs removes the reflogs of deleted refs that stand where the
// reflog of ref name must go: deleted feat's where feat/x's directory
// goes, or deleted feat/x's below where feat's file goes. git deletes a
// reflog with its ref; strata keeps it until it expires, unless a new ref
// needs its place. Live refs below name keep their logs (the move then
// fails on the ref itself).
func (s *Store) dropDeletedLogs(name string) {
	if fi, err := os.Stat(s.file(name)); err == nil && fi.IsDir() {
		return
	}
	p := s.logFile(name)
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		os.RemoveAll(p)
	}
	top := filepath.Join(s.root, "logs")
	for d := filepath.Dir(p); strings.HasPrefix(d, top+string(filepath.Separator)); d = filepath.Dir(d) {
		if fi, err := os.Lstat(d); err == nil && !fi.IsDir() {
			os.Remove(d)
		}
	}
}

func formatLogLine(e LogEntry) string {
	return fmt.Sprintf("%s %s %d\t%s\t%s\n", orZero(e.Old), orZero(e.New), e.When.Unix(),
		strings.ReplaceAll(e.Who, "\t", " "), strings.ReplaceAll(firstLine(e.Message), "\t", " "))
}

func orZero(d digest.Digest) string {
	if d == "" {
		return "0"
	}
	return d.String()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// Log returns the reflog of ref name, newest first. Lines that are not
// entries are left out (LogChecked names them, for fsck).
func (s *Store) Log(name string) ([]LogEntry, error) {
	out, _, err := s.LogChecked(name)
	return out, err
}

// LogChecked is Log, and also returns the numbers (from 1, in file
// order) of the lines that are not reflog entries.
func (s *Store) LogChecked(name string) (entries []LogEntry, bad []int, err error) {
	f, err := regfile.Open(s.logFile(name))
	if os.IsNotExist(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var out []LogEntry
	br := bufio.NewReaderSize(f, 64*1024)
	for n := 1; ; n++ {
		line, long, err := readLogLine(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if e, ok := parseLogLine(line); ok && !long {
			out = append(out, e)
		} else {
			bad = append(bad, n)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, bad, nil
}

// maxLogLine is the longest reflog line read: a longer one (a hostile
// repository's) is no entry, read past in pieces.
const maxLogLine = 1 << 20

// readLogLine reads the next line of r without its newline; long says
// it was over maxLogLine (its text is then not kept). io.EOF: no more.
func readLogLine(r *bufio.Reader) (line string, long bool, err error) {
	var b []byte
	for {
		frag, err := r.ReadSlice('\n')
		if err == nil && b == nil && !long {
			return string(frag[:len(frag)-1]), false, nil // the common line, in one piece
		}
		if !long && len(b)+len(bytes.TrimSuffix(frag, []byte("\n"))) > maxLogLine {
			long, b = true, nil
		}
		if !long {
			b = append(b, frag...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && (len(b) > 0 || long):
			return string(b), long, nil // a last line without its newline
		case err != nil:
			return "", false, err
		}
		return strings.TrimSuffix(string(b), "\n"), long, nil
	}
}

func parseLogLine(line string) (LogEntry, bool) {
	fields := strings.SplitN(line, "\t", 3)
	if len(fields) != 3 {
		return LogEntry{}, false
	}
	head := strings.Fields(fields[0])
	if len(head) != 3 {
		return LogEntry{}, false
	}
	ts, err := strconv.ParseInt(head[2], 10, 64)
	if err != nil {
		return LogEntry{}, false
	}
	e := LogEntry{Who: fields[1], Message: fields[2], When: time.Unix(ts, 0)}
	for i, d := range []*digest.Digest{&e.Old, &e.New} {
		if head[i] == "0" {
			continue
		}
		if digest.Digest(head[i]).Validate() != nil {
			return LogEntry{}, false
		}
		*d = digest.Digest(head[i])
	}
	return e, true
}

// ReflogCommits returns every commit any reflog mentions; gc keeps them.
func (s *Store) ReflogCommits() ([]digest.Digest, error) {
	var out []digest.Digest
	base := filepath.Join(s.root, "logs")
	err := filepath.Walk(base, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if fi.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(s.root, p)
		entries, err := s.Log(filepath.ToSlash(rel[len("logs/"):]))
		if err != nil {
			return err
		}
		for _, e := range entries {
			for _, d := range []digest.Digest{e.Old, e.New} {
				if d != "" {
					out = append(out, d)
				}
			}
		}
		return nil
	})
	return out, err
}
