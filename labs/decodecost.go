package labs

import "fmt"

// go-toml checks a document for duplicate keys with a list of the keys
// defined so far (internal/tracker.SeenTracker), searched linearly from the
// parent of each key part: checking a document of n keys costs up to n² steps
// (100,000 distinct tables took 21 s). The position index walks the same
// expressions first and estimates that cost with keyTree, so that a file
// that would take too long is refused, at the place it gets too costly,
// before go-toml sees it.

// maxDecodeWork is the largest estimated cost, in keys visited, of go-toml's
// duplicate check that Load accepts: about a quarter of a second. The
// largest built-in lab costs under 10,000.
const maxDecodeWork = 1 << 26

// keyNode is a key of the document as go-toml's tracker records it: by name
// under its parent, array-of-tables elements not told apart (a new [[a]]
// element forgets the keys of the previous one).
type keyNode struct {
	parent   *keyNode
	children map[string]*keyNode
	size     int // keys below this one
}

// keyTree estimates the cost of go-toml's duplicate check.
type keyTree struct {
	root keyNode
	anon int // names anonymous elements (inline tables in arrays)
	work int // keys visited so far
}

// live is the number of keys the tracker holds: what each lookup may visit.
func (t *keyTree) live() int { return t.root.size }

// child finds or creates the key name below n, counting the lookup.
func (t *keyTree) child(n *keyNode, name string) *keyNode {
	t.work += t.live() + 1
	if c := n.children[name]; c != nil {
		return c
	}
	return t.add(n, name)
}

// add creates the key name below n without a lookup.
func (t *keyTree) add(n *keyNode, name string) *keyNode {
	c := &keyNode{parent: n}
	if n.children == nil {
		n.children = make(map[string]*keyNode)
	}
	n.children[name] = c
	for a := n; a != nil; a = a.parent {
		a.size++
	}
	return c
}

// anonymous creates an unnamed key below n: an inline table or array that
// is an element of an array.
func (t *keyTree) anonymous(n *keyNode) *keyNode {
	t.anon++
	return t.add(n, fmt.Sprintf("\x00%d", t.anon))
}

// clear forgets the keys below n, as the tracker does for each new element
// of an array of tables, counting the pass over every key it makes.
func (t *keyTree) clear(n *keyNode) {
	t.work += t.live()
	for a := n.parent; a != nil; a = a.parent {
		a.size -= n.size
	}
	n.size, n.children = 0, nil
}

// tooCostly tells whether the work so far is past maxDecodeWork.
func (t *keyTree) tooCostly() bool { return t.work > maxDecodeWork }
