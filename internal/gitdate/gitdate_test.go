package gitdate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2024, 5, 31, 12, 30, 0, 0, time.UTC)
	loc := time.FixedZone("X", 2*3600)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"now", now},
		{"yesterday", now.Add(-24 * time.Hour)},
		{"3 days ago", now.AddDate(0, 0, -3)},
		{"2 weeks ago", now.AddDate(0, 0, -14)},
		{"2.weeks.ago", now.AddDate(0, 0, -14)},
		{"1 week", now.AddDate(0, 0, -7)},
		{"1 hour ago", now.Add(-time.Hour)},
		{"90 seconds ago", now.Add(-90 * time.Second)},
		{"1 month ago", time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC)}, // April 31st is May 1st, as in C's mktime
		{"1 year 2 months ago", time.Date(2023, 3, 31, 12, 30, 0, 0, time.UTC)},
		{"2024-05-01", time.Date(2024, 5, 1, 0, 0, 0, 0, loc)},
		{"2024-05-01 10:00", time.Date(2024, 5, 1, 10, 0, 0, 0, loc)},
		{"2024-05-01T10:00:05", time.Date(2024, 5, 1, 10, 0, 5, 0, loc)},
		{"2024-05-01T10:00:00Z", time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{"2024-05-01T10:00:00+01:00", time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)},
		{"@1700000000", time.Unix(1700000000, 0)},
		{"2024/05/01", time.Date(2024, 5, 1, 0, 0, 0, 0, loc)},
		{"2024.05.01", time.Date(2024, 5, 1, 0, 0, 0, 0, loc)},
		{"today", now},
		{"two days ago", now.AddDate(0, 0, -2)},
		{"3days ago", now.AddDate(0, 0, -3)},
		{"2weeks.ago", now.AddDate(0, 0, -14)},
		{"2 weeks 3 days ago", now.AddDate(0, 0, -17)},
		{"last week", now.AddDate(0, 0, -7)},
		{"last.month", time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC)},
		// now is Friday 14:30 in loc.
		{"last monday", now.AddDate(0, 0, -4)},
		{"last friday", now.AddDate(0, 0, -7)},
		{"last saturday", now.AddDate(0, 0, -6)},
		{"yesterday noon", time.Date(2024, 5, 30, 12, 0, 0, 0, loc)},
		{"noon", time.Date(2024, 5, 31, 12, 0, 0, 0, loc)},
		{"midnight", time.Date(2024, 5, 31, 0, 0, 0, 0, loc)},
		{"tea", time.Date(2024, 5, 30, 17, 0, 0, 0, loc)}, // 17:00 today is to come
		{"3pm yesterday", time.Date(2024, 5, 30, 15, 0, 0, 0, loc)},
		{"last monday 10am", time.Date(2024, 5, 27, 10, 0, 0, 0, loc)},
		{"yesterday 15:00", time.Date(2024, 5, 30, 15, 0, 0, 0, loc)},
		{"12am", time.Date(2024, 5, 31, 0, 0, 0, 0, loc)},
	} {
		got, err := Parse(tc.in, now, loc)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseRefusesWhatItDoesNotKnow(t *testing.T) {
	for _, in := range []string{"", "tomorrowish", "2 fortnights ago", "2024-13-01", "ago", "last", "monday", "last fortnight", "3 days ago please", "a week ago", "25:00", "13pm", "@x"} {
		if got, err := Parse(in, time.Now(), time.UTC); !errors.Is(err, ErrNotADate) {
			t.Errorf("Parse(%q) = %v, %v; want ErrNotADate", in, got, err)
		}
	}
	// The word it does not know is named.
	for in, word := range map[string]string{"3 days ago please": `"please"`, "last mondya": `"mondya" after "last"`, "junk": `"junk"`, "2024-13-01": `"2024-13-01"`} {
		if _, err := Parse(in, time.Now(), time.UTC); err == nil || !strings.Contains(err.Error(), "unknown word "+word) {
			t.Errorf("Parse(%q) = %v; want it to name %s", in, err, word)
		}
	}
}
