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
