package dispwidth

import "testing"

// The widths git 2.39's git_wcwidth gives (its unicode-width.h).
func TestRune(t *testing.T) {
	for _, c := range []struct {
		r    rune
		want int
	}{
		{'a', 1},
		{'é', 1},
		{0, 0},
		{'\x01', -1},
		{'\x7f', -1},
		{0x85, -1},      // NEL, a C1 control
		{0xad, 1},       // the soft hyphen, a Cf git counts as one
		{0x301, 0},      // combining acute accent (Mn)
		{0x20dd, 0},     // combining enclosing circle (Me)
		{0x200b, 0},     // zero width space (Cf)
		{0x1160, 0},     // Hangul jungseong filler
		{0x11ff, 0},     // the last Hangul final jamo git counts as none
		{'日', 2},        // CJK (W)
		{'한', 2},        // Hangul syllable (W)
		{0xff21, 2},     // fullwidth A (F)
		{0xff61, 1},     // halfwidth ideographic full stop (H)
		{0x1f600, 2},    // grinning face (W)
		{0x3000, 2},     // ideographic space (F)
		{0x1100, 2},     // Hangul choseong kiyeok (W)
		{0x2e80, 2},     // CJK radical (W)
		{0x4e00 - 1, 1}, // a hexagram symbol (N)
	} {
		if got := Rune(c.r); got != c.want {
			t.Errorf("Rune(%U) = %d, want %d", c.r, got, c.want)
		}
	}
}

func TestString(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
	}{
		{"", 0},
		{"ab.txt", 6},
		{"日本語.txt", 10},
		{"ee\u0301x", 3},
		{"a\x01b", 2},
		{"a\xffb", 3}, // not UTF-8: its bytes
	} {
		if got := String(c.s); got != c.want {
			t.Errorf("String(%q) = %d, want %d", c.s, got, c.want)
		}
	}
}

func TestPad(t *testing.T) {
	for _, c := range []struct {
		s    string
		w    int
		want string
	}{
		{"日本", 6, "日本  "},
		{"ee\u0301x", 5, "ee\u0301x  "},
		{"abc", 2, "abc"},
	} {
		if got := Pad(c.s, c.w); got != c.want {
			t.Errorf("Pad(%q, %d) = %q, want %q", c.s, c.w, got, c.want)
		}
	}
}

func TestCutLeft(t *testing.T) {
	for _, c := range []struct {
		s    string
		w    int
		want string
	}{
		{"目录/子目录/文件名字.txt", 9, "名字.txt"},
		{"目录/子目录/文件名字.txt", 10, "件名字.txt"},
		{"目录/子目录/文件名字.txt", 11, "件名字.txt"},
		{"ab/cd", 5, "ab/cd"},
		{"ab/cd", 2, "cd"},
		{"ab", -1, ""},
		{"e\u0301e\u0301", 1, "\u0301e\u0301"}, // as git's loop: the e alone
	} {
		if got := CutLeft(c.s, c.w); got != c.want {
			t.Errorf("CutLeft(%q, %d) = %q, want %q", c.s, c.w, got, c.want)
		}
	}
}
