//go:build !strata_front

package main

import (
	"github.com/strata-sh/strata/internal/dispwidth"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/remote"
)

// fetchColumns are the columns of fetch's lines, as git's
// format_display lays them out: " F SUMMARY TAG -> LOCAL", SUMMARY
// ("[new branch]", "OLD..NEW", "branch") padded to summary and TAG to
// ref.
type fetchColumns struct{ summary, ref int }

// shortIDLen is the length of shortID's ids.
const shortIDLen = 12

// columnsFor is git's columns for res on a terminal of term columns:
// summary, as git's transport_summary_width, room for "OLD...NEW" (27
// with strata's 12-digit ids, where git's 7 give 17); ref, as git's
// refcol_width, 10, or the widest tag of a ref res moved (not pruned,
// not up to date) whose line would fit the terminal (git's estimate:
// 21 + TAG + 4 + LOCAL columns).
func columnsFor(res remote.FetchResult, term int) fetchColumns {
	c := fetchColumns{summary: 2*shortIDLen + 3, ref: 10}
	for _, u := range res.Tags {
		if u.Invalid || u.Skipped != "" || u.Ref == "" || u.New == "" || u.Old == u.New {
			continue
		}
		rlen := dispwidth.String(u.Tag)
		if 21+rlen+4+dispwidth.String(refs.ShortName(u.Ref)) >= term {
			continue
		}
		c.ref = max(c.ref, rlen)
	}
	return c
}

// line is one line of fetch's report: change, refChange's " F SUMMARY",
// padded, then tag padded and "-> local". git pads both with printf's
// %-*s, in bytes (registry tags are ASCII: bytes are columns).
func (c fetchColumns) line(change, tag, local string) string {
	return padBytes(change, 3+c.summary) + " " + padBytes(tag, c.ref) + " -> " + local
}
