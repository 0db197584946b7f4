package gitdate

import (
	"testing"
	"time"
)

// The expected strings are git 2.39's, for a commit dated
// 2024-05-01T12:00:00+02:00 (git log --date=STYLE --format=%ad, and
// GIT_TEST_DATE_NOW for "relative").
func TestShowIsGits(t *testing.T) {
	when := time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("", 2*3600))
	for st, want := range map[Style]string{
		Default:   "Wed May 1 12:00:00 2024 +0200",
		ISO:       "2024-05-01 12:00:00 +0200",
		ISOStrict: "2024-05-01T12:00:00+02:00",
		RFC:       "Wed, 1 May 2024 12:00:00 +0200",
		Short:     "2024-05-01",
		Unix:      "1714557600",
		Raw:       "1714557600 +0200",
	} {
		if got := Show(when, st, time.Now()); got != want {
			t.Errorf("Show(%s) = %q, want git's %q", st, got, want)
		}
	}
	for after, want := range map[int64]string{
		0: "0 seconds ago", 45: "45 seconds ago", 89: "89 seconds ago",
		90: "2 minutes ago", 3000: "50 minutes ago", 5399: "2 hours ago",
		100000: "28 hours ago", 129599: "2 days ago", 600000: "7 days ago",
		1209600: "2 weeks ago", 5000000: "8 weeks ago", 6048000: "2 months ago",
		20000000: "8 months ago", 31536000: "1 year ago",
		40000000: "1 year, 3 months ago", 60000000: "1 year, 11 months ago",
		157680000: "5 years ago", 200000000: "6 years ago", -5: "in the future",
	} {
		now := when.Add(time.Duration(after) * time.Second)
		if got := Show(when, Relative, now); got != want {
			t.Errorf("%d seconds later: %q, want git's %q", after, got, want)
		}
	}
}

func TestParseStyle(t *testing.T) {
	for in, want := range map[string]Style{"iso8601": ISO, "rfc2822": RFC, "relative": Relative, "iso8601-strict": ISOStrict} {
		if got, err := ParseStyle(in); err != nil || got != want {
			t.Errorf("ParseStyle(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseStyle("isoo"); err == nil {
		t.Error(`ParseStyle("isoo") took a typo`)
	}
}

func TestShowFormat(t *testing.T) {
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.FixedZone("CET", 3600)
	d := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for style, want := range map[string]string{
		"format:%H:%M %z|%Z|":         "10:00 +0000||",
		"format-local:%H:%M %z|%Z|":   "11:00 +0100|CET|",
		"format:%Y%%%q%":              "2024%%q%",
		"format:%e|%k|%l|%I %p|%j|%u": " 1|10|10|10 AM|122|3",
	} {
		st, err := ParseStyle(style)
		if err != nil {
			t.Fatal(err)
		}
		if got := Show(d, st, d); got != want {
			t.Errorf("Show(%q) = %q, want %q", style, got, want)
		}
	}
}
