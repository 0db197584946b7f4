package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"text/template"
	"time"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/strata-sh/strata/exec"
)

func init() { register("stats", newStatsCommand) }

func newStatsCommand(g *globals) *cobra.Command {
	var noStream, all bool
	var format string
	cmd := &cobra.Command{
		Use:   "stats [--no-stream] [-a] [--format json|TEMPLATE] [NAME...]",
		Short: "Show what detached runs use: CPU, memory, network, storage, tasks",
		Long: `Show what detached runs use, as docker stats: the named ones, else every
running one (-a: every one), refreshed once a second until interrupted
(exit 130 on ^C, as logs -f), or once with --no-stream (after a second:
CPU % is over that second).

  NAME  CPU %  MEM USAGE / LIMIT  MEM %  NET I/O  BLOCK I/O  PIDS

CPU % is of one CPU (200% is two busy). MEM USAGE is the run's cgroup's
memory less its inactive file cache, as docker's, where it has a memory
cgroup (cgroup v2 with the memory controller on, v1 with a --memory
limit), else its processes' resident memory summed; LIMIT is --memory,
else the host's memory. NET I/O is received / sent through the run's
private network (0B for --network host); BLOCK I/O is what its
processes read from and wrote to storage; PIDS its tasks (threads),
with --init the tiny init as one, as docker's tini counts. A
run that has ended uses nothing, and so shows a rootless run without
limits, which has no cgroup to read.

--format TEMPLATE prints each run through a Go template, as docker stats
--format does: {{.Name}} (also {{.Container}} and {{.ID}}: runs are
named), {{.CPUPerc}}, {{.MemUsage}}, {{.MemPerc}}, {{.NetIO}},
{{.BlockIO}}, {{.PIDs}}, as the columns show them; the functions of ps
--format; "table TEMPLATE" adds a header row and aligns the columns.

--format json prints an array (one a refresh), one object a run:
"name", "cpu_percent", "memory_bytes", "memory_limit_bytes" (0: none
but the host's), "memory_percent", "net_rx_bytes", "net_tx_bytes",
"block_read_bytes", "block_write_bytes", "pids".

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			tmpl := statsTable()
			if format != "" && format != "json" && format != "table" && format != "text" {
				var err error
				if tmpl, err = parseRowTemplate("stats", format, statsView{}); err != nil {
					return err
				}
			}
			if len(args) > 0 && all {
				return usagef("stats: -a lists every run; it does not combine with names")
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			runs := func() ([]*svc, error) {
				if len(args) > 0 {
					var out []*svc
					for _, n := range args {
						s, err := loadSvc(r, n)
						if err != nil {
							return nil, err
						}
						out = append(out, s)
					}
					return out, nil
				}
				svcs, err := listSvcs(r)
				if err != nil || all {
					return svcs, err
				}
				var out []*svc
				for _, s := range svcs {
					if _, ok := s.containerPid(); ok {
						out = append(out, s)
					}
				}
				return out, nil
			}
			if format == "json" {
				tmpl = nil
			}
			return streamStats(cmd.Context(), g, runs, tmpl, !noStream)
		},
	}
	cmd.Flags().BoolVar(&noStream, "no-stream", false, "print once, and return")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "every run, also those that have ended")
	cmd.Flags().StringVar(&format, "format", "", "table (default), json, or a Go template as docker's: '{{.Name}}\\t{{.CPUPerc}}', 'table {{.Name}}\\t{{.MemUsage}}'")
	return cmd
}

// statsRow is one run's line of stats: its JSON object.
type statsRow struct {
	Name          string  `json:"name"`
	CPUPercent    float64 `json:"cpu_percent"`
	Memory        uint64  `json:"memory_bytes"`
	MemoryLimit   uint64  `json:"memory_limit_bytes"`
	MemoryPercent float64 `json:"memory_percent"`
	NetRx         uint64  `json:"net_rx_bytes"`
	NetTx         uint64  `json:"net_tx_bytes"`
	BlockRead     uint64  `json:"block_read_bytes"`
	BlockWrite    uint64  `json:"block_write_bytes"`
	Pids          int     `json:"pids"`
	live          bool    // running: an ended run's figures are all 0B / 0B
}

// sample is a run's usage and when it was read.
type sample struct {
	u    exec.Usage
	at   time.Time
	live bool
}

// streamStats prints the stats of runs() each second, or once after a
// second when !stream: CPU % needs two samples. Each refresh is a table
// through tmpl, or JSON if tmpl is nil.
func streamStats(ctx context.Context, g *globals, runs func() ([]*svc, error), tmpl *rowTemplate, stream bool) error {
	host := hostMemory()
	prev := map[string]sample{}
	for first := true; ; first = false {
		svcs, err := runs()
		if err != nil {
			return err
		}
		rows := make([]statsRow, 0, len(svcs))
		next := map[string]sample{}
		for _, s := range svcs {
			now := readSample(g, s)
			next[s.st.Name] = now
			rows = append(rows, statsFor(s.st.Name, prev[s.st.Name], now, host))
		}
		prev = next
		if !first {
			if stream && tmpl != nil {
				fmt.Fprint(g.stdout, "\033[2J\033[H") // docker's: clear, then from the top
			}
			if err := printStats(g, rows, tmpl, host); err != nil || !stream {
				return err
			}
		}
		if !sleepCtx(ctx, time.Second) {
			return context.Cause(ctx)
		}
	}
}

// readSample reads the usage of the run s if it runs. With --init its
// pid 1 is the tiny init, which counts as one task (exec.ReadUsage).
func readSample(g *globals, s *svc) sample {
	pid, ok := s.containerPid()
	if !ok {
		return sample{}
	}
	tinyInit, _ := runFlagsOf(g, s.st.Argv).GetBool("init")
	u, err := exec.ReadUsage(s.id, pid, tinyInit)
	if err != nil {
		return sample{} // it has just ended, or has no cgroup (rootless)
	}
	return sample{u: u, at: time.Now(), live: true}
}

// statsFor is a run's row from two samples of its usage; an ended run's
// is all zeros.
func statsFor(name string, before, now sample, hostMem uint64) statsRow {
	row := statsRow{Name: name, live: now.live}
	if !now.live {
		return row
	}
	u := now.u
	row.Memory, row.MemoryLimit, row.Pids = u.MemoryBytes, u.MemoryLimit, u.Pids
	row.NetRx, row.NetTx, row.BlockRead, row.BlockWrite = u.NetRx, u.NetTx, u.BlockRead, u.BlockWrite
	if before.live && now.at.After(before.at) && u.CPUNanos >= before.u.CPUNanos {
		row.CPUPercent = float64(u.CPUNanos-before.u.CPUNanos) / float64(now.at.Sub(before.at).Nanoseconds()) * 100
	}
	if limit := memoryLimit(row, hostMem); limit > 0 {
		row.MemoryPercent = float64(row.Memory) / float64(limit) * 100
	}
	return row
}

// memoryLimit is what a run's memory is a share of: its limit, else the
// host's memory.
func memoryLimit(row statsRow, hostMem uint64) uint64 {
	if row.MemoryLimit > 0 && (hostMem == 0 || row.MemoryLimit < hostMem) {
		return row.MemoryLimit
	}
	return hostMem
}

// statsView is a run as stats' table and docker's --format templates
// show it, with docker's field names.
type statsView struct {
	Container, Name, ID, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO, PIDs string
}

// statsHeader holds each field's column title, docker's.
var statsHeader = statsView{Container: "CONTAINER", Name: "NAME", ID: "CONTAINER ID", CPUPerc: "CPU %",
	MemUsage: "MEM USAGE / LIMIT", MemPerc: "MEM %", NetIO: "NET I/O", BlockIO: "BLOCK I/O", PIDs: "PIDS"}

// statsTable is stats' own table, parsed when stats runs: at package
// initialisation, every command of the front paid for it.
var statsTable = sync.OnceValue(func() *rowTemplate {
	return &rowTemplate{what: "stats", table: true,
		t: template.Must(template.New("").Parse("{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"))}
})

// view is the row's columns; an ended run's memory limit is docker's 0B.
func (x statsRow) view(hostMem uint64) statsView {
	var limit uint64 // ended: docker's 0B / 0B
	if x.live {
		limit = memoryLimit(x, hostMem)
	}
	return statsView{Container: x.Name, Name: x.Name, ID: x.Name, CPUPerc: fmt.Sprintf("%.2f%%", x.CPUPercent),
		MemUsage: units.BytesSize(float64(x.Memory)) + " / " + units.BytesSize(float64(limit)),
		MemPerc:  fmt.Sprintf("%.2f%%", x.MemoryPercent),
		NetIO:    decimalSize(x.NetRx) + " / " + decimalSize(x.NetTx), BlockIO: decimalSize(x.BlockRead) + " / " + decimalSize(x.BlockWrite),
		PIDs: strconv.Itoa(x.Pids)}
}

// printStats prints rows through tmpl, or as JSON if tmpl is nil.
func printStats(g *globals, rows []statsRow, tmpl *rowTemplate, hostMem uint64) error {
	if tmpl == nil {
		return writeJSON(g.stdout, rows)
	}
	views := make([]statsView, len(rows))
	for i, x := range rows {
		views[i] = x.view(hostMem)
	}
	return printRows(g.stdout, tmpl, statsHeader, views, func(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 10, 1, 3, ' ', 0) }) // docker's
}

// decimalSize is docker stats' I/O figure: "1.2kB", "0B".
func decimalSize(n uint64) string {
	return units.HumanSizeWithPrecision(float64(n), 3)
}

// hostMemory is MemTotal of /proc/meminfo in bytes, 0 if unknown.
func hostMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}
