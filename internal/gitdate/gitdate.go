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
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// ErrNotADate is wrapped by Parse's errors.
var ErrNotADate = errors.New("not a date")

// layouts are the absolute forms, tried in order; a time without a zone
// is in loc, as git reads it in the local zone.
var layouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02", "2006/01/02", "2006.01.02"}

// hint lists the forms Parse reads, for its errors.
const hint = "2024-05-01, 2024-05-01T12:00:00Z, 2 weeks ago, yesterday, last monday"

var (
	units    = []string{"second", "minute", "hour", "day", "week", "month", "year"}
	weekdays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
	// numbers are the words git's approxidate reads as numbers.
	numbers = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
	// clock is a time of day: 15:00, 15:00:05, 10am, 3pm.
	clock = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(\d{1,2})(?::(\d{2})(?::(\d{2}))?|(am|pm))$`)
	})
)

// Parse reads s as a point in time, relative to now, as git's
// approxidate reads the forms people type: an RFC 3339 time,
// "YYYY-MM-DD[ HH:MM[:SS]]" (or with / or . between the date's parts) in
// loc, "@SECONDS" since the epoch; or words, with spaces or dots between
// them: "now", "today", "yesterday" (24 hours ago, as git), "N unit(s)
// [ago]" for units second to year (months and years by the calendar, as
// git counts them; N may be a word, one to ten), "last UNIT" (one unit
// ago), "last monday" (the latest Monday before today), and a time of day
// ("noon", "midnight", "tea" for 17:00, "15:00", "3pm"; the day before
// when it is later than now and no day was given), keeping now's time of
// day where none is given. Unlike git, a word it does not know is an
// error naming it, not a silent "now".
func Parse(s string, now time.Time, loc *time.Location) (time.Time, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if secs, ok := strings.CutPrefix(v, "@"); ok {
		if n, err := strconv.ParseInt(secs, 10, 64); err == nil {
			return time.Unix(n, 0), nil
		}
	}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, strings.TrimSpace(s), loc); err == nil {
			return t, nil
		}
	}
	t, err := Words(v, now.In(loc))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %w: %w (%s)", s, ErrNotADate, err, hint)
	}
	return t, nil
}

// Words reads the relative forms of Parse, the words, in now's zone;
// its errors name the word it does not know.
func Words(s string, now time.Time) (time.Time, error) {
	ws := tokens(s)
	if len(ws) == 0 {
		return time.Time{}, errors.New("no words")
	}
	t, dayGiven := now, false
	var hms []int // a time of day
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		n, isNum := number(w)
		switch {
		case w == "now" || w == "today":
		case w == "yesterday":
			t, dayGiven = t.Add(-24*time.Hour), true
		case w == "noon":
			hms = []int{12, 0, 0}
		case w == "midnight":
			hms = []int{0, 0, 0}
		case w == "tea":
			hms = []int{17, 0, 0}
		case clock().MatchString(w):
			var ok bool
			if hms, ok = timeOfDay(w); !ok {
				return time.Time{}, fmt.Errorf("no time of day %q", w)
			}
		case (isNum || w == "last") && i+1 < len(ws):
			if w == "last" {
				n = 1
			}
			i++
			if u := unit(ws[i]); u != "" {
				t, dayGiven = back(t, n, u), true
				if i+1 < len(ws) && ws[i+1] == "ago" {
					i++
				}
			} else if d := slices.Index(weekdays, ws[i]); d >= 0 && w == "last" {
				// git's "last monday": the latest before today.
				days := (int(t.Weekday())-d+6)%7 + 1
				t, dayGiven = t.AddDate(0, 0, -days), true
			} else {
				return time.Time{}, fmt.Errorf("unknown word %q after %q", ws[i], w)
			}
		default:
			return time.Time{}, fmt.Errorf("unknown word %q", w)
		}
	}
	if hms != nil {
		at := time.Date(t.Year(), t.Month(), t.Day(), hms[0], hms[1], hms[2], 0, t.Location())
		if !dayGiven && at.After(now) {
			at = at.AddDate(0, 0, -1) // git's "noon" before noon: yesterday's
		}
		t = at
	}
	return t, nil
}

// tokens splits s into Words' words: at spaces, dots and commas, and
// where digits meet letters, as git's approxidate reads "3days" (a
// clock's "3pm" stays whole, and so does a word with other characters,
// such as a mistyped date, to be named whole).
func tokens(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ' ' || r == '.' || r == ',' }) {
		if clock().MatchString(f) || strings.ContainsFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			out = append(out, f)
			continue
		}
		start := 0
		for i := 1; i < len(f); i++ {
			if isDigit(f[i]) != isDigit(f[i-1]) {
				out, start = append(out, f[start:i]), i
			}
		}
		out = append(out, f[start:])
	}
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number reads w as a count: digits, or one of git's number words.
func number(w string) (int, bool) {
	if i := slices.Index(numbers, w); i >= 0 {
		return i, true
	}
	n, err := strconv.Atoi(w)
	return n, err == nil && n >= 0
}

// unit is w as a unit of back (second ... year, or their plurals), or "".
func unit(w string) string {
	u := strings.TrimSuffix(w, "s")
	if slices.Contains(units, u) {
		return u
	}
	return ""
}

// timeOfDay reads a clock word: hour, minute, second.
func timeOfDay(w string) ([]int, bool) {
	m := clock().FindStringSubmatch(w)
	var hms [3]int // an empty minute or second is 0
	for i := range hms {
		hms[i], _ = strconv.Atoi(m[i+1])
	}
	h, mi, sec := hms[0], hms[1], hms[2]
	if m[4] != "" {
		if h < 1 || h > 12 {
			return nil, false
		}
		h %= 12
		if m[4] == "pm" {
			h += 12
		}
	}
	return []int{h, mi, sec}, h < 24 && mi < 60 && sec < 60
}

// back is t, n units earlier.
func back(t time.Time, n int, u string) time.Time {
	switch u {
	case "second":
		return t.Add(-time.Duration(n) * time.Second)
	case "minute":
		return t.Add(-time.Duration(n) * time.Minute)
	case "hour":
		return t.Add(-time.Duration(n) * time.Hour)
	case "day":
		return t.AddDate(0, 0, -n)
	case "week":
		return t.AddDate(0, 0, -7*n)
	case "month":
		return t.AddDate(0, -n, 0)
	}
	return t.AddDate(-n, 0, 0)
}
