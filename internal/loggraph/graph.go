package loggraph

import "strings"

// Graph draws the lines of git log --graph, one commit at a time, in the
// order Sort gives with graphOrder. It follows git's graph.c state
// machine (v2.39) so that the same history draws the same picture; a
// strata commit has at most two parents, so octopus rows are not drawn.
type Graph struct {
	commit     string
	parents    []string
	columns    []string // the branch lines before this commit's row
	newColumns []string // after it
	// mapping[i] is the column the branch line at screen position i goes
	// to, -1 for none; oldMapping is the previous collapsing row's.
	mapping, oldMapping []int
	mappingSize         int
	width               int

	state, prevState             state
	commitIndex, prevCommitIndex int
	mergeLayout                  int
	edgesAdded, prevEdgesAdded   int

	// Mark is drawn for the next Entry's commit instead of '*' (git's
	// --left-right marks, < and >); 0 is '*'.
	Mark byte
}

type state int

const (
	padding state = iota
	skip
	commitRow
	postMerge
	collapsing
)

// Entry draws commit id with parents (those shown, first parent first)
// beside text, its log entry: lines that each end in "\n". The graph's
// row goes before the first line, its following lines before the others,
// and what is left of the picture after them. sep says entries are
// separated by a blank line (git's default format) and one came before.
func (g *Graph) Entry(id string, parents []string, text string, sep bool) string {
	var b strings.Builder
	g.update(id, parents)
	if sep {
		b.WriteString(g.paddingLine() + "\n")
	}
	for {
		line, isCommit := g.nextLine()
		b.WriteString(line)
		if isCommit {
			break
		}
		b.WriteString("\n")
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		if i > 0 {
			line, _ := g.nextLine()
			b.WriteString(line)
		}
		b.WriteString(l)
	}
	for g.state != padding {
		line, _ := g.nextLine()
		b.WriteString(line + "\n")
	}
	return b.String()
}

// paddingLine is the line between two entries: the branch lines going on
// unchanged (graph_padding_line).
func (g *Graph) paddingLine() string {
	if g.state != commitRow {
		line, _ := g.nextLine()
		return line
	}
	var b strings.Builder
	for range g.columns {
		b.WriteString("| ")
	}
	g.prevState = padding
	line := b.String()
	if n := g.width - len(line); n > 0 {
		line += strings.Repeat(" ", n)
	}
	return line
}

func (g *Graph) setState(s state) {
	g.prevState = g.state
	g.state = s
}

func (g *Graph) findNew(c string) int {
	for i, x := range g.newColumns {
		if x == c {
			return i
		}
	}
	return -1
}

// insert adds parent c of the commit (or a passing branch line) to the
// next row's columns and records where screen position goes; idx is
// the commit's column for its parents, -1 for other lines.
func (g *Graph) insert(c string, idx int) {
	i := g.findNew(c)
	if i < 0 {
		i = len(g.newColumns)
		g.newColumns = append(g.newColumns, c)
	}
	var at int
	switch {
	case len(g.parents) > 1 && idx > -1 && g.mergeLayout == -1:
		// The first parent of a merge: lean the merge's edges towards
		// where that parent's line is.
		dist := idx - i
		shift := 1
		if dist > 1 {
			shift = 2*dist - 3
		}
		g.mergeLayout = 1
		if dist > 0 {
			g.mergeLayout = 0
		}
		g.edgesAdded = len(g.parents) + g.mergeLayout - 2
		at = g.width + (g.mergeLayout-1)*shift
		g.width += 2 * g.mergeLayout
	case g.edgesAdded > 0 && g.width >= 2 && i == g.mapping[g.width-2]:
		// A merge's new edge meets the line just left of it at once.
		at = g.width - 2
		g.edgesAdded = -1
	default:
		at = g.width
		g.width += 2
	}
	g.grow(at + 1)
	g.mapping[at] = i
}

// grow makes the mapping arrays at least n long.
func (g *Graph) grow(n int) {
	for len(g.mapping) < n {
		g.mapping = append(g.mapping, -1)
	}
	for len(g.oldMapping) < len(g.mapping) {
		g.oldMapping = append(g.oldMapping, -1)
	}
}

func (g *Graph) update(id string, parents []string) {
	g.commit, g.parents = id, parents
	g.prevCommitIndex = g.commitIndex
	g.columns, g.newColumns = g.newColumns, nil
	g.mappingSize = 2 * (len(g.columns) + len(parents))
	g.grow(g.mappingSize)
	for i := range g.mapping {
		g.mapping[i] = -1
	}
	g.width = 0
	g.prevEdgesAdded, g.edgesAdded = g.edgesAdded, 0
	seen := false
	for i := 0; i <= len(g.columns); i++ {
		var c string
		if i == len(g.columns) {
			if seen {
				break
			}
			c = id
		} else {
			c = g.columns[i]
		}
		if c != id {
			g.insert(c, -1)
			continue
		}
		seen = true
		g.commitIndex = i
		g.mergeLayout = -1
		for _, p := range parents {
			g.insert(p, i)
		}
		if len(parents) == 0 {
			g.width += 2 // a root still takes its column
		}
	}
	for g.mappingSize > 1 && g.mapping[g.mappingSize-1] < 0 {
		g.mappingSize--
	}
	// No line of this state was printed, so prevState stays.
	if g.state != padding {
		g.state = skip
	} else {
		g.state = commitRow
	}
}

func (g *Graph) mappingCorrect() bool {
	for i := 0; i < g.mappingSize; i++ {
		if t := g.mapping[i]; t >= 0 && t != i/2 {
			return false
		}
	}
	return true
}

func (g *Graph) nextLine() (string, bool) {
	var b strings.Builder
	isCommit := false
	switch g.state {
	case padding:
		for range g.newColumns {
			b.WriteString("| ")
		}
	case skip:
		b.WriteString("...")
		g.setState(commitRow)
	case commitRow:
		g.commitLine(&b)
		isCommit = true
	case postMerge:
		g.postMergeLine(&b)
	case collapsing:
		g.collapsingLine(&b)
	}
	line := b.String()
	if n := g.width - len(line); n > 0 {
		line += strings.Repeat(" ", n)
	}
	return line, isCommit
}

func (g *Graph) commitLine(b *strings.Builder) {
	seen := false
	for i := 0; i <= len(g.columns); i++ {
		var c string
		if i == len(g.columns) {
			if seen {
				break
			}
			c = g.commit
		} else {
			c = g.columns[i]
		}
		switch {
		case c == g.commit:
			seen = true
			if g.Mark == 0 {
				b.WriteByte('*')
			} else {
				b.WriteByte(g.Mark)
			}
		case seen && g.edgesAdded > 1:
			b.WriteByte('\\')
		case seen && g.edgesAdded == 1:
			// The line into a right-leaning merge may have been '\'
			// on the previous merge's last row: keep it so.
			if g.prevState == postMerge && g.prevEdgesAdded > 0 && g.prevCommitIndex < i {
				b.WriteByte('\\')
			} else {
				b.WriteByte('|')
			}
		case g.prevState == collapsing && 2*i+1 < len(g.oldMapping) && g.oldMapping[2*i+1] == i && g.mapping[2*i] < i:
			b.WriteByte('/')
		default:
			b.WriteByte('|')
		}
		b.WriteByte(' ')
	}
	switch {
	case len(g.parents) > 1:
		g.setState(postMerge)
	case g.mappingCorrect():
		g.setState(padding)
	default:
		g.setState(collapsing)
	}
}

func (g *Graph) postMergeLine(b *strings.Builder) {
	const chars = "/|\\"
	seen := false
	parentCol := false // the first parent's line is left of here
	for i := 0; i <= len(g.columns); i++ {
		var c string
		if i == len(g.columns) {
			if seen {
				break
			}
			c = g.commit
		} else {
			c = g.columns[i]
		}
		switch {
		case c == g.commit:
			seen = true
			idx := g.mergeLayout
			for j := range g.parents {
				b.WriteByte(chars[idx])
				if idx == 2 {
					if g.edgesAdded > 0 || j < len(g.parents)-1 {
						b.WriteByte(' ')
					}
				} else {
					idx++
				}
			}
			if g.edgesAdded == 0 {
				b.WriteByte(' ')
			}
		case seen:
			if g.edgesAdded > 0 {
				b.WriteByte('\\')
			} else {
				b.WriteByte('|')
			}
			b.WriteByte(' ')
		default:
			b.WriteByte('|')
			if g.mergeLayout != 0 || i != g.commitIndex-1 {
				if parentCol {
					b.WriteByte('_')
				} else {
					b.WriteByte(' ')
				}
			}
		}
		if len(g.parents) > 0 && c == g.parents[0] {
			parentCol = true
		}
	}
	if g.mappingCorrect() {
		g.setState(padding)
	} else {
		g.setState(collapsing)
	}
}

func (g *Graph) collapsingLine(b *strings.Builder) {
	usedHorizontal := false
	horizEdge, horizTarget := -1, -1
	g.mapping, g.oldMapping = g.oldMapping, g.mapping
	for i := 0; i < g.mappingSize; i++ {
		g.mapping[i] = -1
	}
	for i := 0; i < g.mappingSize; i++ {
		target := g.oldMapping[i]
		if target < 0 {
			continue
		}
		// Lines only ever move left: where they cross, one line bends.
		switch {
		case target*2 == i:
			g.mapping[i] = target
		case g.mapping[i-1] < 0:
			g.mapping[i-1] = target
			if horizEdge == -1 {
				horizEdge, horizTarget = i, target
				for j := target*2 + 3; j < i-2; j += 2 {
					g.mapping[j] = target
				}
			}
		case g.mapping[i-1] == target:
			// Joins the line to its left: same parent.
		default:
			g.mapping[i-2] = target
			if horizEdge == -1 {
				horizEdge, horizTarget = i-1, target
				for j := target*2 + 3; j < i-2; j += 2 {
					g.mapping[j] = target
				}
			}
		}
	}
	copy(g.oldMapping, g.mapping)
	if g.mapping[g.mappingSize-1] < 0 {
		g.mappingSize--
	}
	for i := 0; i < g.mappingSize; i++ {
		target := g.mapping[i]
		switch {
		case target < 0:
			b.WriteByte(' ')
		case target*2 == i:
			b.WriteByte('|')
		case target == horizTarget && i != horizEdge-1:
			// Only the first segment of a horizontal run goes on.
			if i != target*2+3 {
				g.mapping[i] = -1
			}
			usedHorizontal = true
			b.WriteByte('_')
		default:
			if usedHorizontal && i < horizEdge {
				g.mapping[i] = -1
			}
			b.WriteByte('/')
		}
	}
	if g.mappingCorrect() {
		g.setState(padding)
	}
}
