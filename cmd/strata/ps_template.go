package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
)

// psRow is a run as ps lists it. docker ps's keys: State is the word
// (running, exited), Status the sentence the STATUS column shows ("Up 1
// minute"); this Status hides the state file's.
type psRow struct {
	svcState
	State  string `json:"state"`
	Status string `json:"status"`
}

// psView is a run as ps's table and docker's --format templates show it,
// with docker's field names.
type psView struct {
	ID, Names, Image, Command, CreatedAt, RunningFor string
	Ports, State, Status, Labels, Mounts, Networks   string
}

// view is the row's columns: COMMAND quoted and cut at 30 characters
// unless noTrunc, PORTS only while it runs, as docker shows them.
func (x psRow) view(noTrunc bool) psView {
	rev := x.Rev
	if rev == "" {
		rev = "(checkout)"
	}
	command := strings.Join(x.Command, " ")
	if r := []rune(command); len(r) > 30 && !noTrunc {
		command = string(r[:29]) + "…" // whole characters
	}
	ports := ""
	if x.State == "running" || x.State == "paused" { // docker shows no ports of an ended run
		ports = strings.Join(x.Ports, ", ")
	}
	return psView{ID: x.Name, Names: x.Name, Image: rev, Command: fmt.Sprintf("%q", command),
		CreatedAt: x.Created.Local().Format("2006-01-02 15:04:05 -0700 MST"), RunningFor: humanSince(x.Created) + " ago",
		Ports: ports, State: x.State, Status: x.Status}
}

// psTemplate is docker ps --format TEMPLATE: a Go template run for each
// run; "table TEMPLATE" adds a header and aligns the columns.
type psTemplate struct {
	t     *template.Template
	table bool
}

// psHeaders are docker's column titles for the fields.
var psHeaders = map[string]string{"ID": "CONTAINER ID", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND",
	"CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
	"Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS"}

// templateFuncs are docker's template functions.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join":  strings.Join,
	"split": strings.Split,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"pad": func(s string, left, right int) string {
		return strings.Repeat(" ", left) + s + strings.Repeat(" ", right)
	},
	"truncate": func(s string, n int) string {
		if r := []rune(s); len(r) > n {
			return string(r[:n])
		}
		return s
	},
	"println": fmt.Sprintln,
}

// parsePsTemplate reads --format TEMPLATE, and runs it once on an empty
// run so that a field docker has not is an error before anything prints.
func parsePsTemplate(format string) (*psTemplate, error) {
	p := &psTemplate{}
	text := format
	if rest, ok := strings.CutPrefix(format, "table"); ok && (rest == "" || rest[0] == ' ') {
		// "table" alone is ps's own table, taken before this.
		p.table, text = true, rest
	}
	// As docker's: \t and \n typed in the shell's quotes are a tab and
	// a newline.
	text = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(strings.Trim(text, " "))
	t, err := template.New("").Funcs(templateFuncs).Parse(text)
	if err != nil {
		return nil, usagef("ps --format: %v", err)
	}
	if err := t.Execute(io.Discard, psView{}); err != nil {
		return nil, usagef("ps --format: %v", err)
	}
	p.t = t
	return p, nil
}

// print writes rows through the template; a table's header is the
// template run on the column titles.
func (p *psTemplate) print(w io.Writer, rows []psRow, noTrunc bool) error {
	out := w
	var tw *tabwriter.Writer
	if p.table {
		tw = tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
		out = tw
		if err := p.line(out, psHeaderView()); err != nil {
			return err
		}
	}
	for _, x := range rows {
		if err := p.line(out, x.view(noTrunc)); err != nil {
			return err
		}
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

func (p *psTemplate) line(w io.Writer, v any) error {
	var b bytes.Buffer
	if err := p.t.Execute(&b, v); err != nil {
		return fmt.Errorf("ps --format: %w", err)
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// psHeaderView holds each field's column title, for a table's header.
func psHeaderView() psView {
	h := psHeaders
	return psView{ID: h["ID"], Names: h["Names"], Image: h["Image"], Command: h["Command"], CreatedAt: h["CreatedAt"],
		RunningFor: h["RunningFor"], Ports: h["Ports"], State: h["State"], Status: h["Status"], Labels: h["Labels"],
		Mounts: h["Mounts"], Networks: h["Networks"]}
}
