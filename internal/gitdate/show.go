package gitdate

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A Style is how a date is shown, as git's --date=STYLE names it.
type Style string

// The styles git's --date takes that strata shows as git does; "local"
// is the default in the local zone.
const (
	Default    Style = "default"
	Relative   Style = "relative"
	ISO        Style = "iso"
	ISOStrict  Style = "iso-strict"
	RFC        Style = "rfc"
	Short      Style = "short"
	Unix       Style = "unix"
	Raw        Style = "raw"
	LocalStyle Style = "local"
)

// styles maps each name git takes (aliases included) to its style.
var styles = map[string]Style{
	"default": Default, "relative": Relative, "iso": ISO, "iso8601": ISO,
	"iso-strict": ISOStrict, "iso8601-strict": ISOStrict, "rfc": RFC,
	"rfc2822": RFC, "short": Short, "unix": Unix, "raw": Raw, "local": LocalStyle,
}

// ParseStyle reads a --date value; an unknown one is an error naming
// those known, where git guesses nothing either.
// "format:FMT" (and "format-local:FMT", in the local zone) is a strftime
// format, as git's.
func ParseStyle(s string) (Style, error) {
	if st, ok := styles[s]; ok {
		return st, nil
	}
	if strings.HasPrefix(s, formatPrefix) || strings.HasPrefix(s, formatLocalPrefix) {
		return Style(s), nil
	}
	return "", fmt.Errorf("unknown date format %q: use default, relative, local, iso, iso-strict, rfc, short, unix, raw or format:STRFTIME", s)
}

const formatPrefix, formatLocalPrefix = "format:", "format-local:"

// Show prints t in style st, as git log prints a date: in the zone the
// date was recorded in (the local zone for "local"), and "relative" as
// seen from now.
func Show(t time.Time, st Style, now time.Time) string {
	if f, ok := strings.CutPrefix(string(st), formatPrefix); ok {
		return strftime(t, f, false)
	}
	if f, ok := strings.CutPrefix(string(st), formatLocalPrefix); ok {
		return strftime(t.Local(), f, true)
	}
	switch st {
	case Relative:
		return showRelative(now.Sub(t))
	case ISO:
		return t.Format("2006-01-02 15:04:05 -0700")
	case ISOStrict:
		return t.Format("2006-01-02T15:04:05-07:00")
	case RFC:
		return t.Format("Mon, 2 Jan 2006 15:04:05 -0700")
	case Short:
		return t.Format("2006-01-02")
	case Unix:
		return strconv.FormatInt(t.Unix(), 10)
	case Raw:
		return strconv.FormatInt(t.Unix(), 10) + t.Format(" -0700")
	case LocalStyle:
		return t.Local().Format("Mon Jan 2 15:04:05 2006")
	}
	return t.Format("Mon Jan 2 15:04:05 2006 -0700")
}

// showRelative is git's show_date_relative: the same roundings and
// thresholds, so that "strata log --date=relative" reads as git's.
func showRelative(d time.Duration) string {
	if d < 0 {
		return "in the future"
	}
	n := int64(d / time.Second)
	if n < 90 {
		return plural(n, "second") + " ago"
	}
	if n = (n + 30) / 60; n < 90 { // minutes
		return plural(n, "minute") + " ago"
	}
	if n = (n + 30) / 60; n < 36 { // hours
		return plural(n, "hour") + " ago"
	}
	n = (n + 12) / 24 // days
	switch {
	case n < 14:
		return plural(n, "day") + " ago"
	case n < 70:
		return plural((n+3)/7, "week") + " ago"
	case n < 365:
		return plural((n+15)/30, "month") + " ago"
	case n < 1825:
		months := (n*12*2 + 365) / (365 * 2)
		years, months := months/12, months%12
		if months == 0 {
			return plural(years, "year") + " ago"
		}
		return plural(years, "year") + ", " + plural(months, "month") + " ago"
	}
	return plural((n+183)/365, "year") + " ago"
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}
