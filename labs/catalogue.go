package labs

import (
	"embed"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
)

//go:embed *.toml
var builtin embed.FS

// Entry is one built-in lab as `tcplab list` shows it.
type Entry struct {
	// Name is the lab's name, which `tcplab run` takes.
	Name string
	// Title is the lab's one-line summary.
	Title string
	// Topic is the lab's topic, one of ListTopics.
	Topic string
}

// ListTopic is one group of `tcplab list`.
type ListTopic struct {
	// Name is the topic as a lab file's topic key spells it.
	Name string
	// Summary says in a few words what the topic's labs show.
	Summary string
}

// ListTopics are the topics of the built-in labs, in the order `tcplab list`
// shows them. Every built-in lab has one of them; a lab file may also say
// "other" (see Topics), which no built-in lab uses.
var ListTopics = []ListTopic{
	{"handshake", "opening a connection"},
	{"close", "closing a connection: FIN, CLOSE_WAIT, FIN_WAIT_2, TIME_WAIT"},
	{"queues", "a listener's SYN and accept queues, and what fills them"},
	{"keepalive", "idle connections: keepalive probes and idle timeouts"},
	{"resets", "connections ended by RST"},
	{"loss", "lost segments and retransmission"},
	{"data", "sending data: delayed ACKs and Nagle's algorithm"},
}

// Catalogue lists the built-in labs, sorted by name.
func Catalogue() ([]Entry, error) {
	files, err := builtin.ReadDir(".")
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, f := range files {
		name := strings.TrimSuffix(f.Name(), ".toml")
		lab, err := Builtin(name)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Name: name, Title: lab.Title, Topic: lab.Topic})
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Builtin loads the built-in lab with the given name.
func Builtin(name string) (*Lab, error) {
	data, err := builtin.ReadFile(name + ".toml")
	if err != nil {
		return nil, fmt.Errorf("no built-in lab %q (tcplab list shows them)", name)
	}
	return Load(path.Join("labs", name+".toml"), data)
}

// BuiltinSource returns the TOML text of a built-in lab.
func BuiltinSource(name string) ([]byte, error) {
	data, err := builtin.ReadFile(name + ".toml")
	if err != nil {
		return nil, fmt.Errorf("no built-in lab %q (tcplab list shows them)", name)
	}
	return data, nil
}

// looksLikeName tells whether ref may name a built-in lab: it has no path
// separator and no .toml suffix.
func looksLikeName(ref string) bool {
	return !strings.ContainsRune(ref, os.PathSeparator) && !strings.HasSuffix(ref, ".toml")
}

// IsBuiltin tells whether Open takes ref as the name of a built-in lab: it
// looks like a name (no path separator, no .toml suffix) and a built-in lab
// has that name.
func IsBuiltin(ref string) bool {
	if !looksLikeName(ref) {
		return false
	}
	_, err := builtin.Open(ref + ".toml")
	return err == nil
}

// Open loads a lab given as a built-in name or a path to a .toml file. A
// reference with a path separator or a .toml suffix is always a file; any
// other reference is a built-in name if one exists, and a file otherwise.
func Open(ref string) (*Lab, error) {
	if IsBuiltin(ref) {
		return Builtin(ref)
	}
	if looksLikeName(ref) {
		if _, err := os.Stat(ref); err != nil {
			if near := nearestBuiltin(ref); near != "" {
				return nil, fmt.Errorf("no built-in lab %q and no such file (did you mean %q? tcplab list shows the built-in labs)", ref, near)
			}
			return nil, fmt.Errorf("no built-in lab %q and no such file (tcplab list shows the built-in labs)", ref)
		}
	}
	f, err := os.Open(ref)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a lab file", ref)
	}
	data, err := readLimited(f)
	if err != nil {
		return nil, err
	}
	return Load(ref, data)
}

// nearestBuiltin returns the built-in lab name closest to ref when ref is
// probably a slip of it (an edit distance of at most 2, or a prefix of a
// single name), or "".
func nearestBuiltin(ref string) string {
	files, err := builtin.ReadDir(".")
	if err != nil {
		return ""
	}
	var names, prefixed []string
	for _, f := range files {
		name := strings.TrimSuffix(f.Name(), ".toml")
		names = append(names, name)
		if strings.HasPrefix(name, ref) && ref != "" {
			prefixed = append(prefixed, name)
		}
	}
	best := nearest(ref, names)
	if best == "" && len(prefixed) == 1 {
		best = prefixed[0]
	}
	return best
}
