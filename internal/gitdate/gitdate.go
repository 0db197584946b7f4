// Package gitdate reads the dates git's log options take (--since,
// --until): absolute dates and the relative forms people type, such as
// "2 weeks ago" or "yesterday"; and shows dates in the styles of git's
// --date (Show). git's own reader (approxidate) guesses
// at anything; this one refuses what it does not know, so that a typo is
// an error rather than a silent "now".
package gitdate

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNotADate is wrapped by Parse's errors.
var ErrNotADate = errors.New("not a date")

// layouts are the absolute forms, tried in order; a time without a zone
// is in loc, as git reads it in the local zone.
var layouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

// relative is one or more "N unit" pairs, with spaces or dots between
// words and an optional "ago" (git's "2.weeks.ago", "1 year 2 months").
var (
	relative = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:\d+[. ]*(?:second|minute|hour|day|week|month|year)s?[. ]*)+(?:ago)?$`)
	})
	pair = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(\d+)[. ]*(second|minute|hour|day|week|month|year)`)
	})
)

// Parse reads s as a point in time, relative to now: "now",
// "yesterday" (24 hours ago, as git), "N unit(s) ago" for units second
// to year (months and years by the calendar, as git counts them), an
// RFC 3339 time, "YYYY-MM-DD[ HH:MM[:SS]]" in loc, or "@SECONDS" since
// the epoch.
func Parse(s string, now time.Time, loc *time.Location) (time.Time, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	switch v {
	case "now":
		return now, nil
	case "yesterday":
		return now.Add(-24 * time.Hour), nil
	}
	if secs, ok := strings.CutPrefix(v, "@"); ok {
		if n, err := strconv.ParseInt(secs, 10, 64); err == nil {
			return time.Unix(n, 0), nil
		}
	}
	if relative().MatchString(v) {
		return ago(v, now)
	}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, strings.TrimSpace(s), loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: %w (2024-05-01, 2024-05-01T12:00:00Z, 2 weeks ago, yesterday)", s, ErrNotADate)
}

// ago subtracts each "N unit" of v from now.
func ago(v string, now time.Time) (time.Time, error) {
	t := now
	for _, m := range pair().FindAllStringSubmatch(v, -1) {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: %w: %w", v, ErrNotADate, err)
		}
		switch m[2] {
		case "second":
			t = t.Add(-time.Duration(n) * time.Second)
		case "minute":
			t = t.Add(-time.Duration(n) * time.Minute)
		case "hour":
			t = t.Add(-time.Duration(n) * time.Hour)
		case "day":
			t = t.AddDate(0, 0, -n)
		case "week":
			t = t.AddDate(0, 0, -7*n)
		case "month":
			t = t.AddDate(0, -n, 0)
		case "year":
			t = t.AddDate(-n, 0, 0)
		}
	}
	return t, nil
}
