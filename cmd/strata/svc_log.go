package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A run's log holds one record a line: "<RFC3339Nano> <o|e> <text>". A
// line longer than the buffer, or left unfinished when the stream ends, is
// written as it is (a record without its newline ends with one).
const (
	logMaxSize = 10 << 20 // rotate log to log.1 beyond this
	logTimeFmt = "2006-01-02T15:04:05.000000000Z07:00"
)

type logFile struct {
	mu   sync.Mutex
	path string
	f    *os.File
	size int64
}

// logPath is the run's log: in its own directory, whatever its state
// records (svcState.Log). A state.json planted or rewritten with "log":
// "/etc/x" had the supervisor append the container's output to that host
// file, and logs print it.
func (s *svc) logPath() string { return s.path("log") }

func openLog(path string) (*logFile, error) {
	// Not through a symbolic link planted as the log.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &logFile{path: path, f: f, size: st.Size()}, nil
}

func (l *logFile) record(stream byte, line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.size > logMaxSize {
		// One old generation is kept: log.1.
		if os.Rename(l.path, l.path+".1") == nil {
			if f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600); err == nil {
				l.f.Close()
				l.f, l.size = f, 0
			}
		}
	}
	var b bytes.Buffer
	b.WriteString(time.Now().UTC().Format(logTimeFmt))
	b.WriteByte(' ')
	b.WriteByte(stream)
	b.WriteByte(' ')
	b.Write(line)
	if len(line) == 0 || line[len(line)-1] != '\n' {
		b.WriteByte('\n')
	}
	n, _ := l.f.Write(b.Bytes())
	l.size += int64(n)
}

func (l *logFile) Close() error { return l.f.Close() }

// stream returns a writer that cuts what it gets into lines for the log;
// the pipe's reader runs until the writer is closed.
func (l *logFile) stream(tag byte) (io.WriteCloser, *sync.WaitGroup) {
	r, w := io.Pipe()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			line, err := br.ReadSlice('\n')
			if len(line) > 0 {
				l.record(tag, line)
			}
			if err != nil && err != bufio.ErrBufferFull {
				return
			}
		}
	}()
	return w, &wg
}

// logRecord is one parsed line of a log.
type logRecord struct {
	time   string
	stream byte
	text   string // with its newline
}

func parseRecord(line string) (logRecord, bool) {
	ts, rest, ok := strings.Cut(line, " ")
	if !ok || len(rest) < 2 || rest[1] != ' ' {
		return logRecord{}, false
	}
	return logRecord{time: ts, stream: rest[0], text: rest[2:]}, true
}

// printRecord writes rec to stdout or stderr as its stream was.
func printRecord(g *globals, rec logRecord, timestamps bool) {
	w := g.stdout
	if rec.stream == 'e' {
		w = g.stderr
	}
	if timestamps {
		fmt.Fprintf(w, "%s %s", rec.time, rec.text)
		return
	}
	io.WriteString(w, rec.text)
}

// parseTail reads logs --tail: "all" (or a negative number, as docker
// takes it), or how many lines.
func parseTail(v string) (int, error) {
	if v == "all" {
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, usagef("logs --tail %s: want a number of lines or all", v)
	}
	return max(n, -1), nil
}

// parseLogTime reads a time as docker logs --since takes it: RFC 3339
// (local time without a zone; a date alone), Unix seconds with an
// optional fraction, or a duration before now.
func parseLogTime(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	if sec, frac, ok := unixSeconds(v); ok {
		return time.Unix(sec, frac), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("want an RFC 3339 time (2026-12-05T10:00:00Z), Unix seconds or a duration (10m)")
}

// unixSeconds reads "SECONDS[.FRACTION]".
func unixSeconds(v string) (sec, nsec int64, ok bool) {
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" || len(frac) > 9 {
		return 0, 0, false
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if frac != "" {
		f, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		nsec = f
	}
	return sec, nsec, true
}
