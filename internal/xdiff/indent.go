package xdiff

// The indent heuristic of xdiffi.c (git diff's default since git 2.14): a
// run of added or removed lines that can slide is put where the two
// splits it makes, above and below it, look most like the boundaries of
// blocks of text. The weights are git's, found on a corpus of real
// diffs; they only matter compared with each other.
const (
	maxIndent = 200 // an indent is counted up to this
	maxBlanks = 20  // blank lines are counted up to this

	startOfFilePenalty              = 1
	endOfFilePenalty                = 21
	totalBlankWeight                = -30
	postBlankWeight                 = 6
	relativeIndentPenalty           = -4
	relativeIndentWithBlankPenalty  = 10
	relativeOutdentPenalty          = 24
	relativeOutdentWithBlankPenalty = 17
	relativeDedentPenalty           = 23
	relativeDedentWithBlankPenalty  = 17
	indentWeight                    = 60

	indentMaxSliding = 100 // the farthest a group is slid up to score it
)

// lineIndent is a line's indent, a tab to the next multiple of 8, or -1
// for a line of white space only.
func lineIndent(l []byte) int {
	n := 0
	for _, c := range l {
		switch c {
		case ' ':
			n++
		case '\t':
			n += 8 - n%8
		case '\n', '\v', '\f', '\r':
		default:
			return n
		}
		if n >= maxIndent {
			return maxIndent
		}
	}
	return -1
}

// splitMeasure describes the place above line split (measure_split).
type splitMeasure struct {
	endOfFile  bool
	indent     int // of the line below the split; -1 blank
	preBlank   int // blank lines right above the split
	preIndent  int // of the nearest non-blank line above; -1 none
	postBlank  int // blank lines after the line below the split
	postIndent int // of the nearest non-blank line after that one; -1 none
}

func measureSplit(s *side, split int) splitMeasure {
	m := splitMeasure{indent: -1, preIndent: -1, postIndent: -1}
	if split >= len(s.lines) {
		m.endOfFile = true
	} else {
		m.indent = lineIndent(s.lines[split])
	}
	for i := split - 1; i >= 0; i-- {
		if m.preIndent = lineIndent(s.lines[i]); m.preIndent != -1 {
			break
		}
		if m.preBlank++; m.preBlank == maxBlanks {
			m.preIndent = 0
			break
		}
	}
	for i := split + 1; i < len(s.lines); i++ {
		if m.postIndent = lineIndent(s.lines[i]); m.postIndent != -1 {
			break
		}
		if m.postBlank++; m.postBlank == maxBlanks {
			m.postIndent = 0
			break
		}
	}
	return m
}

// splitScore is the badness of a place: smaller is better.
type splitScore struct {
	effectiveIndent int
	penalty         int
}

// add adds the badness of the split m (score_add_split).
func (sc *splitScore) add(m splitMeasure) {
	if m.preIndent == -1 && m.preBlank == 0 {
		sc.penalty += startOfFilePenalty
	}
	if m.endOfFile {
		sc.penalty += endOfFilePenalty
	}
	postBlank := 0
	if m.indent == -1 {
		postBlank = 1 + m.postBlank
	}
	totalBlank := m.preBlank + postBlank
	sc.penalty += totalBlankWeight*totalBlank + postBlankWeight*postBlank
	indent := m.indent
	if indent == -1 {
		indent = m.postIndent
	}
	anyBlanks := totalBlank != 0
	sc.effectiveIndent += indent
	pick := func(withBlank, without int) int {
		if anyBlanks {
			return withBlank
		}
		return without
	}
	switch {
	case indent == -1, m.preIndent == -1, indent == m.preIndent:
	case indent > m.preIndent: // deeper than the line above
		sc.penalty += pick(relativeIndentWithBlankPenalty, relativeIndentPenalty)
	case m.postIndent != -1 && m.postIndent > indent: // a block starts here
		sc.penalty += pick(relativeOutdentWithBlankPenalty, relativeOutdentPenalty)
	default: // a block ended above
		sc.penalty += pick(relativeDedentWithBlankPenalty, relativeDedentPenalty)
	}
}

// cmp is negative when sc is better than o, zero when as good (score_cmp).
func (sc splitScore) cmp(o splitScore) int {
	c := 0
	switch {
	case sc.effectiveIndent > o.effectiveIndent:
		c = 1
	case sc.effectiveIndent < o.effectiveIndent:
		c = -1
	}
	return indentWeight*c + sc.penalty - o.penalty
}

// bestShift returns the end the group of size lines, slid down to end
// and able to slide up to earliestEnd, scores best at; of equal scores
// the one farthest down wins, as git's loop keeps the last it sees.
func bestShift(s *side, end, size, earliestEnd int) int {
	best := -1
	var bestScore splitScore
	for shift := max(earliestEnd, end-size-1, end-indentMaxSliding); shift <= end; shift++ {
		var sc splitScore
		sc.add(measureSplit(s, shift))
		sc.add(measureSplit(s, shift-size))
		if best == -1 || sc.cmp(bestScore) <= 0 {
			best, bestScore = shift, sc
		}
	}
	return best
}
