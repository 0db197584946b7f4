package objects

import (
	"bytes"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// decodeHead decodes b into a ManifestHead as json.Unmarshal would, for
// the JSON that strata and other OCI writers produce: a commit's head
// (its layers cut: cutLayers) is a few hundred bytes, and encoding/json,
// which goes through reflection and checks every byte twice, took a
// fifth of a cold log's CPU time on real commits, as much as reading
// the manifests did. ok is false for anything outside the plain JSON this knows,
// which the caller then gives to encoding/json: malformed JSON, a
// surrogate escape (\ud83d), invalid UTF-8, a null or a value of another
// type where a field has a string, an object nested deeper than
// maxHeadDepth. What it does decode it checks as strictly as
// encoding/json (FuzzDecodeHead compares the two).
func decodeHead(b []byte) (m ManifestHead, ok bool) {
	p := headParser{b: b}
	p.space()
	if !p.object(0, func(key []byte) bool { return p.headMember(&m, key) }) {
		return ManifestHead{}, false
	}
	if p.space(); p.i != len(b) {
		return ManifestHead{}, false
	}
	return m, true
}

// maxHeadDepth bounds the nesting decodeHead follows in members it
// skips; deeper ones go to encoding/json.
const maxHeadDepth = 32

// headParser walks b from b[i]; each method consumes one JSON token or
// value and reports whether it was what it expects.
type headParser struct {
	b       []byte
	i       int
	escaped []byte // a string's value when it has escapes (str)
}

// headMember decodes the value of the manifest's member key into m.
// Fields match their names as encoding/json matches them, ignoring case.
func (p *headParser) headMember(m *ManifestHead, key []byte) bool {
	switch {
	case bytes.EqualFold(key, []byte("mediaType")):
		return p.stringInto(&m.MediaType)
	case bytes.EqualFold(key, []byte("config")):
		if p.null() {
			return true // a struct is left as it is
		}
		return p.object(1, func(key []byte) bool {
			if bytes.EqualFold(key, []byte("digest")) {
				s := string(m.Config.Digest)
				ok := p.stringInto(&s)
				m.Config.Digest = digest.Digest(s)
				return ok
			}
			return p.skip(2)
		})
	case bytes.EqualFold(key, []byte("annotations")):
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		return p.object(1, func(key []byte) bool {
			k := known(key)
			v, ok := p.str()
			if ok {
				m.Annotations[k] = known(v)
			}
			return ok
		})
	}
	return p.skip(1)
}

// known is string(b), without a copy for the words every strata
// manifest has.
func known(b []byte) string {
	switch string(b) {
	case AnnotationParent:
		return AnnotationParent
	case AnnotationAuthor:
		return AnnotationAuthor
	case AnnotationMessage:
		return AnnotationMessage
	case ocispec.AnnotationCreated:
		return ocispec.AnnotationCreated
	case ocispec.MediaTypeImageManifest:
		return ocispec.MediaTypeImageManifest
	}
	return string(b)
}

// stringInto sets *s to the string value at p; null leaves it as it is
// (as encoding/json does).
func (p *headParser) stringInto(s *string) bool {
	if p.null() {
		return true
	}
	v, ok := p.str()
	if ok {
		*s = known(v)
	}
	return ok
}

// object consumes an object, calling member with each key, p just past
// the colon, to consume its value.
func (p *headParser) object(depth int, member func(key []byte) bool) bool {
	if depth > maxHeadDepth || !p.byte('{') {
		return false
	}
	p.space()
	if p.byte('}') {
		return true
	}
	for {
		key, ok := p.str()
		if !ok {
			return false
		}
		p.space()
		if !p.byte(':') {
			return false
		}
		p.space()
		if !member(key) {
			return false
		}
		p.space()
		if p.byte('}') {
			return true
		}
		if !p.byte(',') {
			return false
		}
		p.space()
	}
}

// skip consumes any value, checking it.
func (p *headParser) skip(depth int) bool {
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '{':
		return p.object(depth, func([]byte) bool { return p.skip(depth + 1) })
	case c == '[':
		return p.array(depth)
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	}
	return p.word("true") || p.word("false") || p.word("null")
}

// array consumes an array, checking its values.
func (p *headParser) array(depth int) bool {
	if depth > maxHeadDepth || !p.byte('[') {
		return false
	}
	p.space()
	if p.byte(']') {
		return true
	}
	for {
		if !p.skip(depth + 1) {
			return false
		}
		p.space()
		if p.byte(']') {
			return true
		}
		if !p.byte(',') {
			return false
		}
		p.space()
	}
}

// number consumes a number as JSON writes one:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *headParser) number() bool {
	p.byte('-')
	if p.byte('0') {
		// no more digits before the fraction
	} else if !p.digits() {
		return false
	}
	if p.byte('.') && !p.digits() {
		return false
	}
	if p.byte('e') || p.byte('E') {
		if !p.byte('+') {
			p.byte('-')
		}
		if !p.digits() {
			return false
		}
	}
	return true
}

// digits consumes one digit or more.
func (p *headParser) digits() bool {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// str consumes a string and gives its value, valid until the next call
// (it is in b or p.escaped). Escapes other than a surrogate's are
// decoded; a surrogate, a control character and invalid UTF-8 (which
// encoding/json would replace) are refused.
func (p *headParser) str() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start, ascii := p.i, true
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if !ascii && !utf8.Valid(raw) {
				return nil, false
			}
			return raw, true
		case c == '\\':
			return p.unescape(start)
		case c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// unescape finishes str of a string that started at b[start] once it
// meets a backslash.
func (p *headParser) unescape(start int) ([]byte, bool) {
	out := append(p.escaped[:0], p.b[start:p.i]...)
	defer func() { p.escaped = out[:0] }()
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return out, utf8.Valid(out)
		case c < 0x20:
			return nil, false
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			return nil, false
		}
		e := p.b[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok || 0xd800 <= r && r < 0xe000 {
				return nil, false
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, false
		}
	}
	return nil, false
}

// hex4 consumes the four hex digits of a \u escape.
func (p *headParser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	p.i += 4
	return r, true
}

// byte consumes c if it is next.
func (p *headParser) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// word consumes w if it is next.
func (p *headParser) word(w string) bool {
	if len(p.b)-p.i < len(w) || string(p.b[p.i:p.i+len(w)]) != w {
		return false
	}
	p.i += len(w)
	return true
}

// null consumes a null if it is next.
func (p *headParser) null() bool { return p.word("null") }

// space consumes white space as JSON defines it.
func (p *headParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}
