package labs

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// Pos is a 1-based line and column in a lab file. Col counts bytes from the
// start of the line, like go/token, not runes: a key after "é = 1\n" on the
// same line would be one column further right than it looks.
type Pos struct{ Line, Col int }

// IsValid reports whether p points into a file.
func (p Pos) IsValid() bool { return p.Line > 0 && p.Col > 0 }

// String returns "line:col", or "-" for the zero Pos.
func (p Pos) String() string {
	if !p.IsValid() {
		return "-"
	}
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// positions maps a key path to where its key and value appear in a TOML
// document. A path is the dotted sequence of (unquoted) keys and array
// indices leading to a value, such as "hosts.1.steps.0.do". A quoted key that
// itself contains a dot cannot be told apart from a dotted key; lab files do
// not use such keys. The zero value and a nil *positions know no path.
type positions struct {
	entries map[string]posEntry
}

// posEntry is what positions records for one path.
type posEntry struct {
	key, val Pos
}

// indexPositions parses data and records, for every key-value pair, the
// position of its key and of its value, and for every table header ([a.b],
// [[a]]) the position of the header (its first '[', used as both key and
// value position).
//
// Paths use dots and array indices: "seed", "links.0.out.loss",
// "hosts.1.steps.0.do", and "hosts.0" for the [[hosts]] header of the first
// element. Array-of-tables entries are numbered in order of appearance per
// array; nested [[hosts.steps]] belong to the most recent [[hosts]] and are
// numbered from 0 within it. Elements of array values are numbered the same
// way (their key and value position is the start of the element), and inline
// tables are indexed like any other table, so
// steps = [{do = "listen"}, {do = "accept"}] gives "steps.1.do".
//
// For a dotted key (a.b = 1) the full path "a.b" records the start of the
// whole key; an intermediate path such as "a" that no header or key defines
// itself records the first place its own key part appears. An array of
// tables ("hosts") records its first [[hosts]] header.
//
// indexPositions checks syntax only (duplicate keys and the like are left to
// the decoder), and the nesting limit: a path deeper than maxDepth
// components stops it with a *posError whose tooDeep is set. If parsing fails
// it returns the parser's error as a *posError, at the parser's position when
// it gives one. It does not panic on any input, and its work is linear in the
// size of data.
func indexPositions(data []byte) (*positions, error) {
	p, _, err := indexPositionsCost(data)
	return p, err
}

// indexPositionsCost is indexPositions that also returns the estimated work
// of go-toml's duplicate check (see keyTree).
func indexPositionsCost(data []byte) (*positions, int, error) {
	ix := &posIndexer{
		data:   data,
		lines:  newLineIndex(data),
		pos:    &positions{entries: make(map[string]posEntry)},
		arrays: make(map[string]int),
	}
	var p unstable.Parser
	p.Reset(data)
	table := "" // path of the table the following key-values belong to
	node := &ix.keys.root
	for ix.err == nil && p.NextExpression() {
		n := p.Expression()
		switch n.Kind {
		case unstable.Table, unstable.ArrayTable:
			table, node = ix.header(n)
		case unstable.KeyValue:
			ix.keyValue(table, node, n)
		}
		if ix.err == nil && ix.keys.tooCostly() {
			ix.err = &posError{Pos: ix.exprPos(n), tooDeep: true,
				Msg: fmt.Sprintf("too many distinct keys (%d by here): checking this file for duplicate keys would take too long; a lab file needs far fewer", ix.keys.live())}
		}
	}
	if ix.err != nil {
		return nil, ix.keys.work, ix.err
	}
	if err := p.Error(); err != nil {
		perr := &posError{Msg: err.Error()}
		var uerr *unstable.ParserError
		if errors.As(err, &uerr) {
			if off, ok := subsliceOffset(data, uerr.Highlight); ok {
				perr.Pos = ix.lines.pos(off)
			}
		}
		return nil, ix.keys.work, perr
	}
	return ix.pos, ix.keys.work, nil
}

// maxDepth is how many components (keys and array indices) a path in a lab
// file may have. The deepest path of a valid lab has 9
// (hosts.0.apps.0.steps.0.each.0.do); the limit keeps the position index,
// whose paths are strings, linear in the size of the file.
const maxDepth = 24

// posError is a problem indexPositions found at a position.
type posError struct {
	Pos Pos
	Msg string
	// tooDeep tells that the file nests deeper than maxDepth.
	tooDeep bool
}

// Error implements error: "line:col: message", or the message alone when
// the position is unknown.
func (e *posError) Error() string {
	if !e.Pos.IsValid() {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// key returns the position of the key at path, or the nearest existing
// ancestor's position (trimming the path from the right one component at a
// time), or the zero Pos.
func (p *positions) key(path string) Pos {
	e, _ := p.lookup(path)
	return e.key
}

// value returns the position of the start of the value at path, falling
// back like key.
func (p *positions) value(path string) Pos {
	e, _ := p.lookup(path)
	return e.val
}

// lookup finds the entry for path or its nearest recorded ancestor.
func (p *positions) lookup(path string) (posEntry, bool) {
	if at, ok := p.nearest(path); ok {
		return p.entries[at], true
	}
	return posEntry{}, false
}

// nearest returns path if it is recorded, or else its nearest recorded
// ancestor.
func (p *positions) nearest(path string) (string, bool) {
	if p == nil {
		return "", false
	}
	for {
		if _, ok := p.entries[path]; ok {
			return path, true
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			return "", false
		}
		path = path[:i]
	}
}

// posIndexer holds the state of one indexPositions run.
type posIndexer struct {
	data   []byte
	lines  lineIndex
	pos    *positions
	arrays map[string]int // elements so far of each array of tables, by path
	keys   keyTree        // the keys as go-toml's duplicate check sees them
	err    *posError      // the first limit the document goes past
}

// exprPos returns the position of the first key of n, an expression.
func (ix *posIndexer) exprPos(n *unstable.Node) Pos {
	if it := n.Key(); it.Next() {
		return ix.lines.pos(int(it.Node().Raw.Offset))
	}
	return Pos{1, 1}
}

// depth returns the number of components of path.
func depth(path string) int {
	if path == "" {
		return 0
	}
	return strings.Count(path, ".") + 1
}

// tooDeep records, once, that the path at off goes deeper than maxDepth.
func (ix *posIndexer) tooDeep(off int, what string, n int) {
	if ix.err == nil {
		ix.err = &posError{Pos: ix.lines.pos(off), tooDeep: true,
			Msg: fmt.Sprintf("%s nests %d levels deep; a lab file nests at most %d", what, n, maxDepth)}
	}
}

// define records path's key and value positions, replacing what was there.
func (ix *posIndexer) define(path string, key, val Pos) {
	ix.pos.entries[path] = posEntry{key: key, val: val}
}

// implicit records at as path's position unless path already has one.
func (ix *posIndexer) implicit(path string, at Pos) {
	if _, ok := ix.pos.entries[path]; !ok {
		ix.pos.entries[path] = posEntry{key: at, val: at}
	}
}

// header records a [table] or [[array table]] header and returns the path of
// the table that the following key-values belong to, and its key node.
func (ix *posIndexer) header(n *unstable.Node) (string, *keyNode) {
	node := &ix.keys.root
	keys := keyNodes(n)
	if len(keys) == 0 {
		return "", node
	}
	if len(keys) > maxDepth {
		ix.tooDeep(int(keys[0].Raw.Offset), "this table header", len(keys))
		return "", node
	}
	for i, k := range keys {
		if c := node.children[string(k.Data)]; c != nil && i == len(keys)-1 && n.Kind == unstable.ArrayTable {
			ix.keys.work += ix.keys.live() + 1
			ix.keys.clear(c)
			node = c
		} else {
			node = ix.keys.child(node, string(k.Data))
		}
	}

	// The header node has no range of its own: walk back from its first key
	// over the whitespace and brackets to the opening '['.
	off := int(keys[0].Raw.Offset)
	for off > 0 && isBlank(ix.data[off-1]) {
		off--
	}
	brackets := 1
	if n.Kind == unstable.ArrayTable {
		brackets = 2
	}
	for ; brackets > 0 && off > 0 && ix.data[off-1] == '['; brackets-- {
		off--
	}
	at := ix.lines.pos(off)

	path := ""
	for i, k := range keys {
		path = join(path, string(k.Data))
		last := i == len(keys)-1
		switch count, isArray := ix.arrays[path]; {
		case last && n.Kind == unstable.ArrayTable:
			ix.arrays[path] = count + 1
			ix.implicit(path, at)
			path += "." + strconv.Itoa(count)
			ix.define(path, at, at)
		case isArray && count > 0:
			// [[a]] then [a.b] or [[a.b]]: a means its last element.
			ix.implicit(path, ix.lines.pos(int(k.Raw.Offset)))
			path += "." + strconv.Itoa(count-1)
		case last:
			ix.define(path, at, at)
		default:
			ix.implicit(path, ix.lines.pos(int(k.Raw.Offset)))
		}
	}
	return path, node
}

// keyValue records the key-value n that belongs to the table at prefix,
// including whatever arrays and inline tables its value contains; node is
// the table's key node.
func (ix *posIndexer) keyValue(prefix string, node *keyNode, n *unstable.Node) {
	v := n.Value()
	if !v.Valid() {
		return // the parser never builds such a node; Key would panic on it
	}
	keys := keyNodes(n)
	if len(keys) == 0 {
		return
	}
	if d := depth(prefix) + len(keys); d > maxDepth {
		ix.tooDeep(int(keys[0].Raw.Offset), "this key", d)
		return
	}
	path := prefix
	for i, k := range keys {
		node = ix.keys.child(node, string(k.Data))
		path = join(path, string(k.Data))
		if i < len(keys)-1 {
			ix.implicit(path, ix.lines.pos(int(k.Raw.Offset)))
		}
	}
	start := int(v.Raw.Offset)
	if v.Raw.Length == 0 {
		// Arrays have no range: skip "ws = ws" after the key to find '['.
		last := keys[len(keys)-1]
		start = ix.skipBlank(int(last.Raw.Offset + last.Raw.Length))
		if start < len(ix.data) && ix.data[start] == '=' {
			start++
		}
		start = ix.skipBlank(start)
	}
	ix.define(path, ix.lines.pos(int(keys[0].Raw.Offset)), ix.lines.pos(start))
	ix.walkValue(path, node, v, start)
}

// keyNodes returns the parts of the (possibly dotted) key of n, a KeyValue,
// Table or ArrayTable node.
func keyNodes(n *unstable.Node) []*unstable.Node {
	var keys []*unstable.Node
	for it := n.Key(); it.Next(); {
		keys = append(keys, it.Node())
	}
	return keys
}

// walkValue records the elements of v, the value at path (whose key node is
// node), which starts at offset start, and returns the offset just past v's end.
func (ix *posIndexer) walkValue(path string, node *keyNode, v *unstable.Node, start int) int {
	if ix.err != nil {
		return start
	}
	if d := depth(path); d >= maxDepth && (v.Kind == unstable.Array || v.Kind == unstable.InlineTable) {
		ix.tooDeep(start, "this value", d+1)
		return start
	}
	switch v.Kind {
	case unstable.Array:
		off := start + 1 // past '['
		i := 0
		for it := v.Children(); it.Next(); {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue // only with KeepComments, which is off
			}
			s := int(c.Raw.Offset)
			if c.Raw.Length == 0 { // a nested array: it has no range
				s = ix.skipFiller(off)
			}
			p := path + "." + strconv.Itoa(i)
			at := ix.lines.pos(s)
			ix.define(p, at, at)
			elem := node
			if c.Kind == unstable.Array || c.Kind == unstable.InlineTable {
				elem = ix.keys.anonymous(node)
			}
			off = ix.walkValue(p, elem, c, s)
			i++
		}
		return ix.closing(off, ']')
	case unstable.InlineTable:
		off := start + 1 // past '{'
		for it := v.Children(); it.Next(); {
			c := it.Node()
			if c.Kind != unstable.KeyValue {
				continue
			}
			ix.keyValue(path, node, c)
			off = int(c.Raw.Offset + c.Raw.Length)
		}
		return ix.closing(off, '}')
	default:
		return int(v.Raw.Offset + v.Raw.Length)
	}
}

// closing skips filler from off and then the closing delimiter c, returning
// the offset just past it.
func (ix *posIndexer) closing(off int, c byte) int {
	off = ix.skipFiller(off)
	if off < len(ix.data) && ix.data[off] == c {
		off++
	}
	return off
}

// skipBlank returns the offset of the first byte at or after off that is not
// a space or tab.
func (ix *posIndexer) skipBlank(off int) int {
	for off < len(ix.data) && isBlank(ix.data[off]) {
		off++
	}
	return off
}

// skipFiller returns the offset of the first byte at or after off that is
// not whitespace, a newline, a comma or part of a comment: what may separate
// the elements of an array or inline table.
func (ix *posIndexer) skipFiller(off int) int {
	for off < len(ix.data) {
		switch ix.data[off] {
		case ' ', '\t', '\r', '\n', ',':
			off++
		case '#':
			for off < len(ix.data) && ix.data[off] != '\n' {
				off++
			}
		default:
			return off
		}
	}
	return off
}

// isBlank reports whether c is TOML whitespace within a line.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// subsliceOffset returns the offset of sub within data, if sub is a slice of
// data's backing array within its length.
func subsliceOffset(data, sub []byte) (int, bool) {
	if cap(sub) == 0 || cap(sub) > cap(data) {
		return 0, false
	}
	off := cap(data) - cap(sub)
	if off > len(data) || off+len(sub) > len(data) || &data[:off+1][off] != &sub[:1][0] {
		return 0, false
	}
	return off, true
}

// lineIndex holds the byte offset at which each line of a document starts.
type lineIndex []int

// newLineIndex indexes the lines of data. Lines end at '\n' (so CRLF works:
// the '\r' is the last byte of its line), as in unstable.Parser.Shape.
func newLineIndex(data []byte) lineIndex {
	lines := lineIndex{0}
	for i, c := range data {
		if c == '\n' {
			lines = append(lines, i+1)
		}
	}
	return lines
}

// pos converts a byte offset into a Pos, exactly as unstable.Parser.Shape
// would but without rescanning the document each time.
func (l lineIndex) pos(off int) Pos {
	if off < 0 {
		off = 0
	}
	i := sort.Search(len(l), func(i int) bool { return l[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return Pos{Line: i + 1, Col: off - l[i] + 1}
}
