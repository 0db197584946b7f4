package repo

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/gcfg/scanner"
	"github.com/go-git/gcfg/token"
)

// The config file is edited in place, as git config edits it: the lines
// of the option set, unset or renamed change, and everything else (the
// user's comments, blank lines, layout, a valueless boolean "key" that
// means true) stays byte for byte. go-git's encoder would write the whole
// file anew from what it decoded, dropping comments and turning "key"
// into "key = " (false to git).

// cfgHeader is one [section "sub"] line; cfgVar one option in it.
type cfgHeader struct {
	section, sub string
	start, end   int // the header line, newline included
	last         int // the end of its last option line (end if none)
}

type cfgVar struct {
	header     int // index in the headers
	key        string
	start, end int    // its whole line(s), newline included
	valueless  bool   // "key" alone, which git takes as true
	raw        string // the value as written, for gitValue
}

// scanConfig finds the headers and options of a file go-git decoded.
func scanConfig(src []byte) ([]cfgHeader, []cfgVar, error) {
	fset := token.NewFileSet()
	file := fset.AddFile("config", fset.Base(), len(src))
	var errs scanner.ErrorList
	var s scanner.Scanner
	s.Init(file, src, func(p token.Position, m string) { errs.Add(p, m) }, 0)
	lineStart := func(off int) int { return bytes.LastIndexByte(src[:off], '\n') + 1 }
	// toEOL skips to the end of the line, past its newline.
	toEOL := func() int {
		for {
			pos, tok, _ := s.Scan()
			switch tok {
			case token.EOL:
				return file.Offset(pos) + 1
			case token.EOF:
				return len(src)
			}
		}
	}
	var hs []cfgHeader
	var vs []cfgVar
	for {
		pos, tok, lit := s.Scan()
		if errs.Len() > 0 {
			return nil, nil, errs.Err()
		}
		switch tok {
		case token.EOF:
			return hs, vs, nil
		case token.LBRACK:
			h := cfgHeader{start: lineStart(file.Offset(pos))}
			if _, tok, lit = s.Scan(); tok != token.IDENT {
				return nil, nil, errors.New("section header without a name")
			}
			h.section = lit
			if _, tok, lit = s.Scan(); tok == token.STRING {
				h.sub = unquoteSubsection(lit)
			}
			h.end = toEOL()
			h.last = h.end
			hs = append(hs, h)
		case token.IDENT:
			if len(hs) == 0 {
				return nil, nil, errors.New("option outside a section")
			}
			v := cfgVar{header: len(hs) - 1, key: lit, start: lineStart(file.Offset(pos))}
			pos, tok, _ = s.Scan()
			switch tok {
			case token.EOL:
				v.valueless, v.end = true, file.Offset(pos)+1
			case token.EOF:
				v.valueless, v.end = true, len(src)
			default:
				// "= value": the scanner gives the value (maybe empty)
				// as one STRING, continuation lines included.
				if tok == token.ASSIGN {
					if _, tok, lit = s.Scan(); tok == token.STRING {
						v.raw = lit
					}
				}
				v.end = toEOL()
			}
			hs[v.header].last = v.end
			vs = append(vs, v)
		}
	}
}

// gitValue decodes a value as git's parse_value does: outside quotes,
// runs of blanks inside the value become as many spaces and blanks at
// either end go, a backslash before a newline joins the lines, and \t
// \b \n \\ \" are escapes. go-git's decoder keeps tabs and the joined
// newline: "a\\\nb" read as "a\nb" where git reads "ab".
func gitValue(raw string) string {
	var b strings.Builder
	quote, space := false, 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if !quote && (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if b.Len() > 0 {
				space++
			}
			continue
		}
		if !quote && (c == ';' || c == '#') {
			break
		}
		for ; space > 0; space-- {
			b.WriteByte(' ')
		}
		if c == '\\' && i+1 < len(raw) {
			i++
			switch raw[i] {
			case '\n':
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'n':
				b.WriteByte('\n')
			default: // \\ and \"; the scanner refused any other
				b.WriteByte(raw[i])
			}
			continue
		}
		if c == '"' {
			quote = !quote
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// unquoteSubsection reads "name" of [section "name"]: a backslash
// escapes the character after it.
func unquoteSubsection(lit string) string {
	lit = strings.TrimSuffix(strings.TrimPrefix(lit, `"`), `"`)
	var b strings.Builder
	for i := 0; i < len(lit); i++ {
		if lit[i] == '\\' && i+1 < len(lit) {
			i++
		}
		b.WriteByte(lit[i])
	}
	return b.String()
}

func (h cfgHeader) is(section, sub string) bool {
	return strings.EqualFold(h.section, section) && h.sub == sub
}

// headerLine is [section] or [section "sub"], as git writes them.
func headerLine(section, sub string) string {
	if sub == "" {
		return "[" + section + "]\n"
	}
	return fmt.Sprintf("[%s \"%s\"]\n", section, strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(sub))
}

// optionLine is "\tname = value", the value quoted where it must be.
func optionLine(name, value string) string {
	if strings.ContainsAny(value, "#;\"\t\n\\") || strings.HasPrefix(value, " ") || strings.HasSuffix(value, " ") {
		value = `"` + strings.NewReplacer(`"`, `\"`, `\`, `\\`, "\n", `\n`, "\t", `\t`, "\b", `\b`).Replace(value) + `"`
	}
	return "\t" + name + " = " + value + "\n"
}

// edit is one replacement of src[start:end].
type edit struct {
	start, end int
	text       string
}

// apply makes the edits, which do not overlap, in any order.
func apply(src []byte, edits []edit) []byte {
	// Sort by start, last first, so offsets stay valid.
	for i := 1; i < len(edits); i++ {
		for j := i; j > 0 && edits[j].start > edits[j-1].start; j-- {
			edits[j], edits[j-1] = edits[j-1], edits[j]
		}
	}
	out := bytes.Clone(src)
	for _, e := range edits {
		out = append(out[:e.start:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	return out
}

// setText sets section.sub.name to value in src: the one line that sets
// it now changes; else the line goes after the last option of the last
// such section; else a new section goes at the end. With keep, only the
// lines whose values it keeps count (git config KEY VALUE VALUE_REGEX);
// with all, every one of them goes and the new line takes the last one's
// place (--replace-all).
func setText(src []byte, section, sub, name, value string, keep func(string) bool, all bool) ([]byte, error) {
	hs, vs, err := scanConfig(src)
	if err != nil {
		return nil, err
	}
	match := keepValues(matching(hs, vs, section, sub, name), keep)
	switch {
	case len(match) > 1 && !all:
		return nil, fmt.Errorf("%w (%d): one value cannot replace them; use --replace-all, or a VALUE_REGEX that matches one", ErrMultipleValues, len(match))
	case len(match) > 0:
		var edits []edit
		for _, v := range match[:len(match)-1] {
			edits = append(edits, edit{v.start, v.end, ""})
		}
		last := match[len(match)-1]
		return apply(src, append(edits, edit{last.start, last.end, optionLine(name, value)})), nil
	}
	return addText(src, hs, section, sub, name, value), nil
}

// keepValues are the options of vs whose values keep keeps (a valueless
// one as ""), all of them when keep is nil.
func keepValues(vs []cfgVar, keep func(string) bool) []cfgVar {
	if keep == nil {
		return vs
	}
	var out []cfgVar
	for _, v := range vs {
		value := gitValue(v.raw)
		if v.valueless {
			value = ""
		}
		if keep(value) {
			out = append(out, v)
		}
	}
	return out
}

// matching are the options that set section.sub.name.
func matching(hs []cfgHeader, vs []cfgVar, section, sub, name string) []cfgVar {
	var match []cfgVar
	for _, v := range vs {
		if hs[v.header].is(section, sub) && strings.EqualFold(v.key, name) {
			match = append(match, v)
		}
	}
	return match
}

// addText adds a line setting section.sub.name after the last option of
// the last such section, or a new section at the end.
func addText(src []byte, hs []cfgHeader, section, sub, name, value string) []byte {
	line := optionLine(name, value)
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].is(section, sub) {
			at := hs[i].last
			if at > 0 && src[at-1] != '\n' {
				line = "\n" + line
			}
			return apply(src, []edit{{at, at, line}})
		}
	}
	text := headerLine(section, sub) + line
	if len(src) > 0 && src[len(src)-1] != '\n' {
		text = "\n" + text
	}
	return apply(src, []edit{{len(src), len(src), text}})
}

// ErrMultipleValues: a key set several times, which one value cannot
// replace (git config refuses it too).
var ErrMultipleValues = errors.New("the key has multiple values")

// unsetText removes the lines that set section.sub.name (those whose
// values keep keeps, if set): the one, or with all every one.
func unsetText(src []byte, section, sub, name string, keep func(string) bool, all bool) ([]byte, error) {
	hs, vs, err := scanConfig(src)
	if err != nil {
		return nil, err
	}
	match := keepValues(matching(hs, vs, section, sub, name), keep)
	if len(match) > 1 && !all {
		return nil, fmt.Errorf("%w (%d): --unset-all removes them all", ErrMultipleValues, len(match))
	}
	var edits []edit
	for _, v := range match {
		edits = append(edits, edit{v.start, v.end, ""})
	}
	return apply(src, edits), nil
}

// removeSectionText removes every [section "sub"] with its options; the
// comments after its last option stay, with the next section.
func removeSectionText(src []byte, section, sub string) ([]byte, error) {
	hs, _, err := scanConfig(src)
	if err != nil {
		return nil, err
	}
	var edits []edit
	for _, h := range hs {
		if h.is(section, sub) {
			edits = append(edits, edit{h.start, h.last, ""})
		}
	}
	return apply(src, edits), nil
}

// renameSectionText rewrites the header lines of [section "old"].
func renameSectionText(src []byte, section, old, new string) ([]byte, error) {
	hs, _, err := scanConfig(src)
	if err != nil {
		return nil, err
	}
	var edits []edit
	for _, h := range hs {
		if h.is(section, old) {
			edits = append(edits, edit{h.start, h.end, headerLine(h.section, new)})
		}
	}
	return apply(src, edits), nil
}

// copySectionText puts a copy of every [section "old"] with its options
// after it, headed [section "new"], as git's config copy-section does.
func copySectionText(src []byte, section, old, new string) ([]byte, error) {
	hs, _, err := scanConfig(src)
	if err != nil {
		return nil, err
	}
	var edits []edit
	for _, h := range hs {
		if !h.is(section, old) {
			continue
		}
		text := headerLine(h.section, new) + string(src[h.end:h.last])
		if h.last > 0 && src[h.last-1] != '\n' {
			text = "\n" + text
		}
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		edits = append(edits, edit{h.last, h.last, text})
	}
	return apply(src, edits), nil
}
