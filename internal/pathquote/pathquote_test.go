package pathquote

import "testing"

func TestQuote(t *testing.T) {
	// want: core.quotePath on (git's default); off: with it off, where it
	// differs. Both as git 2.39 prints them, but a byte that is not UTF-8
	// with quotePath off, which git prints raw.
	for _, tc := range []struct{ in, want, off string }{
		{in: "/etc/passwd", want: "/etc/passwd"},
		{in: "/a b", want: "/a b"},
		{in: "/café", want: `"/caf\303\251"`, off: "/café"},
		{in: "/x\nD /etc/passwd", want: `"/x\nD /etc/passwd"`},
		{in: "/tab\there", want: `"/tab\there"`},
		{in: `/q"uote`, want: `"/q\"uote"`},
		{in: `/back\slash`, want: `"/back\\slash"`},
		{in: "/esc\x1b[31m", want: `"/esc\033[31m"`},
		{in: "/del\x7f", want: `"/del\177"`},
		{in: "/bad\xff\xfeutf8", want: `"/bad\377\376utf8"`},
		{in: "/mixed\n\xffcafé\r", want: `"/mixed\n\377caf\303\251\r"`, off: `"/mixed\n\377café\r"`},
		{in: "/c1\u0085", want: `"/c1\302\205"`},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if tc.off == "" {
			tc.off = tc.want
		}
		SetQuotePath(false)
		got := Quote(tc.in)
		SetQuotePath(true)
		if got != tc.off {
			t.Errorf("core.quotePath off: Quote(%q) = %s, want %s", tc.in, got, tc.off)
		}
	}
}

func TestQuoteSpaced(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/passwd": "/etc/passwd",
		"/a b":        `"/a b"`,
		"/a\tb c":     `"/a\tb c"`,
	} {
		if got := QuoteSpaced(in); got != want {
			t.Errorf("QuoteSpaced(%q) = %s, want %s", in, got, want)
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
