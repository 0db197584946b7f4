package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
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

func openLog(path string) (*logFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
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
			if f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err == nil {
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
