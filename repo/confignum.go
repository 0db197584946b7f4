package repo

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// errUnit and errRange are git's two reasons to refuse a number:
// "invalid unit" (no number, a sign, a suffix not k, m or g) and "out
// of range".
var (
	errUnit  = errors.New("invalid unit")
	errRange = errors.New("out of range")
)

// ParseSize reads an unsigned number as git's git_parse_ulong does:
// leading white space, an optional '+', decimal, 0x hexadecimal or
// 0-led octal (no digits at all is 0), then k, m or g in any case for
// KiB, MiB and GiB; no '-' anywhere. It fails, as git's, with "invalid
// unit" or "out of range".
func ParseSize(v string) (uint64, error) {
	if v == "" || strings.Contains(v, "-") {
		return 0, errUnit
	}
	s := strings.TrimLeft(v, " \t\n\v\f\r")
	s = strings.TrimPrefix(s, "+")
	base, digits := 10, "0123456789"
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") && isHex(s[2]):
		base, digits, s = 16, "0123456789abcdefABCDEF", s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, "01234567"
	}
	end := 0
	for end < len(s) && strings.IndexByte(digits, s[end]) >= 0 {
		end++
	}
	n := uint64(0)
	if end > 0 {
		var err error
		if n, err = strconv.ParseUint(s[:end], base, 64); err != nil {
			return 0, errRange
		}
	} else {
		s = v // strtoumax read nothing: the unit is all of v
	}
	factor := map[string]uint64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
	f, ok := factor[strings.ToLower(s[end:])]
	if !ok {
		return 0, errUnit
	}
	if hi, lo := bits.Mul64(n, f); hi != 0 {
		return 0, errRange
	} else {
		n = lo
	}
	return n, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// Size returns the number key is set to, read as git's
// git_config_ulong (ParseSize), and whether it is set. A bad value
// fails as git's: "bad numeric config value 'V' for 'KEY': invalid
// unit" (or "out of range"), KEY lower-cased.
func (c *Config) Size(key string) (v uint64, set bool, err error) {
	return configNumber(c, key, ParseSize)
}

// configNumber is key's value read by parse, and whether key is set; a
// value parse refuses, or none, fails in git's words.
func configNumber[T any](c *Config, key string, parse func(string) (T, error)) (v T, set bool, err error) {
	o := c.last(key)
	if o == nil {
		return v, false, nil
	}
	raw := gitValue(o.raw)
	if o.valueless {
		raw = ""
	}
	if v, err = parse(raw); err != nil {
		return v, true, fmt.Errorf("bad numeric config value '%s' for '%s': %w", raw, strings.ToLower(key), err)
	}
	return v, true, nil
}

func checkSize(v string) error {
	_, err := ParseSize(v)
	return err
}

// ParseInt reads a signed number as git's git_parse_int does (its
// strtoimax, base 0): leading white space, one optional sign, then what
// ParseSize reads, in git's range of an int, -(2^31-1) to 2^31-1.
func ParseInt(v string) (int, error) {
	s := strings.TrimLeft(v, " \t\n\v\f\r")
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if s == "" || neg && (s[0] == '+' || strings.ContainsAny(s[:1], " \t\n\v\f\r")) {
		return 0, errUnit
	}
	n, err := ParseSize(s)
	switch {
	case err != nil:
		return 0, err
	case n > 1<<31-1: // git's bound, -(2^31-1) to 2^31-1
		return 0, errRange
	case neg:
		return -int(n), nil
	}
	return int(n), nil
}

// Int returns the number key is set to, read as git's git_config_int
// (ParseInt), and whether it is set. A bad value, or none ("key" with
// no "= value"), fails as git's: "bad numeric config value 'V' for
// 'KEY': invalid unit" (or "out of range"), KEY lower-cased.
func (c *Config) Int(key string) (v int, set bool, err error) {
	return configNumber(c, key, ParseInt)
}
