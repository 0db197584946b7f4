package gitdate

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// strftime formats t as C's strftime does in the C locale, the way git's
// --date=format:FMT does: %z is the date's own zone, %Z its name only
// for format-local (local), and a conversion it does not know is
// printed as written.
func strftime(t time.Time, f string, local bool) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		if s, ok := conversion(t, f[i], local); ok {
			b.WriteString(s)
		} else {
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

// conversion is strftime's %c, for c one of those it knows.
func conversion(t time.Time, c byte, local bool) (string, bool) {
	hour12 := (t.Hour()+11)%12 + 1
	switch c {
	case 'a':
		return t.Format("Mon"), true
	case 'A':
		return t.Format("Monday"), true
	case 'b', 'h':
		return t.Format("Jan"), true
	case 'B':
		return t.Format("January"), true
	case 'c':
		return t.Format("Mon Jan _2 15:04:05 2006"), true
	case 'C':
		return fmt.Sprintf("%02d", t.Year()/100), true
	case 'd':
		return t.Format("02"), true
	case 'D':
		return t.Format("01/02/06"), true
	case 'e':
		return t.Format("_2"), true
	case 'F':
		return t.Format("2006-01-02"), true
	case 'G':
		y, _ := t.ISOWeek()
		return strconv.Itoa(y), true
	case 'H':
		return t.Format("15"), true
	case 'I':
		return fmt.Sprintf("%02d", hour12), true
	case 'j':
		return fmt.Sprintf("%03d", t.YearDay()), true
	case 'k':
		return fmt.Sprintf("%2d", t.Hour()), true
	case 'l':
		return fmt.Sprintf("%2d", hour12), true
	case 'm':
		return t.Format("01"), true
	case 'M':
		return t.Format("04"), true
	case 'n':
		return "\n", true
	case 'p':
		return t.Format("PM"), true
	case 'R':
		return t.Format("15:04"), true
	case 's':
		return strconv.FormatInt(t.Unix(), 10), true
	case 'S':
		return t.Format("05"), true
	case 't':
		return "\t", true
	case 'T':
		return t.Format("15:04:05"), true
	case 'u':
		return strconv.Itoa((int(t.Weekday())+6)%7 + 1), true
	case 'U':
		return fmt.Sprintf("%02d", (t.YearDay()+6-int(t.Weekday()))/7), true
	case 'V':
		_, w := t.ISOWeek()
		return fmt.Sprintf("%02d", w), true
	case 'w':
		return strconv.Itoa(int(t.Weekday())), true
	case 'W':
		return fmt.Sprintf("%02d", (t.YearDay()+6-(int(t.Weekday())+6)%7)/7), true
	case 'y':
		return t.Format("06"), true
	case 'Y':
		return strconv.Itoa(t.Year()), true
	case 'z':
		return t.Format("-0700"), true
	case 'Z':
		if !local {
			return "", true // git: the zone's name is known only locally
		}
		return t.Format("MST"), true
	case '%':
		return "%", true
	}
	return "", false
}
