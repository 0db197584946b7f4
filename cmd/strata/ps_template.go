package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
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
	labels                                           map[string]string
}

// Label is docker ps's {{.Label "KEY"}}: the value of the run's label
// KEY, "" if it has none.
func (v psView) Label(key string) string { return v.labels[key] }

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
		Ports: ports, State: x.State, Status: x.Status, Labels: labelList(x.svcState.Labels), labels: x.svcState.Labels}
}

// psHeaders are docker's column titles for the fields.
var psHeaders = map[string]string{"ID": "CONTAINER ID", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND",
	"CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
	"Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS"}

// printPsTemplate writes rows through ps --format's template p.
func printPsTemplate(w io.Writer, p *rowTemplate, rows []psRow, noTrunc bool) error {
	views := make([]psView, len(rows))
	for i, x := range rows {
		views[i] = x.view(noTrunc)
	}
	return printRows(w, p, psHeaderView(), views, func(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 3, ' ', 0) })
}

// psHeaderView holds each field's column title, for a table's header.
func psHeaderView() psView {
	h := psHeaders
	return psView{ID: h["ID"], Names: h["Names"], Image: h["Image"], Command: h["Command"], CreatedAt: h["CreatedAt"],
		RunningFor: h["RunningFor"], Ports: h["Ports"], State: h["State"], Status: h["Status"], Labels: h["Labels"],
		Mounts: h["Mounts"], Networks: h["Networks"]}
}
