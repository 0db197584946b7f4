package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/internal/regfile"
	"github.com/strata-sh/strata/repo"
)

func newLogsCommand(g *globals) *cobra.Command {
	var o logsOptions
	var tail, since, until string
	cmd := &cobra.Command{
		Use:   "logs [-f] [--tail N] [--since TIME] [--until TIME] [--timestamps] NAME",
		Short: "Print a detached run's output (stdout and stderr as they were)",
		Long: `Print a detached run's output: stdout and stderr, each on its own stream,
as the run wrote them, from its log (rotated at 10 MiB, with one older
file kept: the last 10 to 20 MiB).

--since and --until take a time as docker's do: RFC 3339
(2026-12-05T10:00:00Z, or without a zone: local time; a date alone), Unix
seconds (1764928800, fractions allowed), or a duration before now (10m,
1h30m). --tail N prints the last N lines of those ("all": every one).

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.tail, err = parseTail(tail); err != nil {
				return err
			}
			now := time.Now()
			if since != "" {
				if o.since, err = parseLogTime(since, now); err != nil {
					return usagef("logs --since %s: %v", since, err)
				}
			}
			if until != "" {
				if o.until, err = parseLogTime(until, now); err != nil {
					return usagef("logs --until %s: %v", until, err)
				}
			}
			return forEachRun(cmd.Context(), g, args, func(r *repo.Repo, s *svc) error {
				return printLogs(cmd.Context(), g, s, o)
			})
		},
	}
	cmd.Flags().BoolVarP(&o.follow, "follow", "f", false, "keep printing new output until the run ends (or --until)")
	cmd.Flags().BoolVarP(&o.timestamps, "timestamps", "t", false, "prefix each line with its time (RFC 3339)")
	cmd.Flags().StringVarP(&tail, "tail", "n", "all", "print only the last N lines (all: every one)")
	cmd.Flags().StringVar(&since, "since", "", "only lines written at or after `TIME` (RFC 3339, Unix seconds, or a duration before now: 10m)")
	cmd.Flags().StringVar(&until, "until", "", "only lines written before `TIME` (as --since)")
	return cmd
}

// logsOptions are what logs prints: a zero since or until is no bound,
// a negative tail every line.
type logsOptions struct {
	follow, timestamps bool
	tail               int
	since, until       time.Time
}

// keeps reports whether a record lies within --since and --until (a
// record whose time does not parse is kept).
func (o logsOptions) keeps(rec logRecord) bool {
	if o.since.IsZero() && o.until.IsZero() {
		return true
	}
	t, err := time.Parse(time.RFC3339Nano, rec.time)
	if err != nil {
		return true
	}
	return (o.since.IsZero() || !t.Before(o.since)) && (o.until.IsZero() || t.Before(o.until))
}

func printLogs(ctx context.Context, g *globals, s *svc, o logsOptions) error {
	var recs []logRecord
	add := func(rd io.Reader) {
		br := bufio.NewReaderSize(rd, 64<<10)
		for {
			line, err := br.ReadString('\n')
			if rec, ok := parseRecord(line); ok && strings.HasSuffix(line, "\n") && o.keeps(rec) {
				recs = append(recs, rec)
			}
			if err != nil {
				return
			}
		}
	}
	if old, err := regfile.OpenNoFollow(s.logPath() + ".1"); err == nil {
		add(old)
		old.Close()
	}
	cur, err := regfile.OpenNoFollow(s.logPath())
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var offset int64
	if cur != nil {
		defer func() { cur.Close() }()
		b, _ := io.ReadAll(cur)
		// Only whole lines: a partial one is printed when it is complete.
		if i := strings.LastIndexByte(string(b), '\n'); i >= 0 {
			offset = int64(i + 1)
			add(strings.NewReader(string(b[:i+1])))
		}
	}
	if o.tail >= 0 && len(recs) > o.tail {
		recs = recs[len(recs)-o.tail:]
	}
	for _, rec := range recs {
		printRecord(g, rec, o.timestamps)
	}
	if !o.follow {
		return nil
	}
	for {
		ended := !s.live() || !o.until.IsZero() && !time.Now().Before(o.until)
		if cur == nil {
			cur, _ = regfile.OpenNoFollow(s.logPath())
			offset = 0
		}
		if cur != nil {
			followFrom(g, o, cur, &offset)
			if followRotated(g, o, s.logPath(), cur, &offset) {
				cur.Close()
				cur = nil
				continue
			}
		}
		if ended {
			return nil
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return context.Cause(ctx)
		}
	}
}

// followFrom prints the whole lines of f from *offset on, and moves
// *offset past them.
func followFrom(g *globals, o logsOptions, f *os.File, offset *int64) {
	f.Seek(*offset, io.SeekStart)
	b, _ := io.ReadAll(f)
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		return
	}
	*offset += int64(i + 1)
	for _, line := range strings.SplitAfter(string(b[:i+1]), "\n") {
		if rec, ok := parseRecord(line); ok && o.keeps(rec) {
			printRecord(g, rec, o.timestamps)
		}
	}
}

// followRotated reports whether the log at path is no longer cur (the
// supervisor renamed it to path.1 and writes a new one). Then it first
// prints what cur got after the last read (the rename comes after the
// write that filled it), and path.1 if that is a later generation than
// cur (rotated twice since): a fast writer's lines were lost between
// generations.
func followRotated(g *globals, o logsOptions, path string, cur *os.File, offset *int64) bool {
	now, err := os.Stat(path)
	if err != nil {
		return false
	}
	mine, err := cur.Stat()
	if err != nil || os.SameFile(now, mine) {
		return false
	}
	followFrom(g, o, cur, offset)
	if old, err := regfile.OpenNoFollow(path + ".1"); err == nil {
		if st, err := old.Stat(); err == nil && !os.SameFile(st, mine) {
			var from int64
			followFrom(g, o, old, &from)
		}
		old.Close()
	}
	return true
}
