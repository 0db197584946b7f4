package pathquote

import "testing"

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/passwd":        "/etc/passwd",
		"/a b":               "/a b",
		"/café":              "/café",
		"/x\nD /etc/passwd":  `"/x\nD /etc/passwd"`,
		"/tab\there":         `"/tab\there"`,
		`/q"uote`:            `"/q\"uote"`,
		`/back\slash`:        `"/back\\slash"`,
		"/esc\x1b[31m":       `"/esc\033[31m"`,
		"/del\x7f":           `"/del\177"`,
		"/bad\xff\xfeutf8":   `"/bad\377\376utf8"`,
		"/mixed\n\xffcafé\r": `"/mixed\n\377café\r"`,
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"fix the build":                       "fix the build",
		"subject\n\n\tbody café":              "subject\n\n\tbody café",
		"title\x1b]0;owned\x07":               `title\033]0;owned\a`,
		"clip\x1b]52;c;ZWNobyBoaQ==\x07":      `clip\033]52;c;ZWNobyBoaQ==\a`,
		"over\rwrite":                         `over\rwrite`,
		"c1 \u009b31m csi":                    `c1 \302\23331m csi`,
		"bidi \u202etxt.exe":                  `bidi \342\200\256txt.exe`,
		"isolate \u2066x\u2069":               `isolate \342\201\246x\342\201\251`,
		"rtl \u05e9\u05dc\u05d5\u05dd \u200f": "rtl \u05e9\u05dc\u05d5\u05dd \u200f",
		`keeps "quotes" and \ slashes`:        `keeps "quotes" and \ slashes`,
		"bad\xffutf8":                         `bad\377utf8`,
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %s, want %s", in, got, want)
		}
	}
	if got, want := Quote("/c1\u0085"), `"/c1\302\205"`; got != want {
		t.Errorf("Quote of a C1 control = %s, want %s", got, want)
	}
}
