package labs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tcplab/tcplab/hosts"
)

// The "did you mean" of every name a lab file uses: keys, built-in labs,
// hosts, states, counters, note keys, analysis flags, steps. All of them
// rank candidates by editDistance (decode.go) through nearest.

// nearest returns the word of known that s is probably a slip of, or "":
// the closest one, ignoring case, that is fewer than three edits away and
// fewer edits away than s is long (so that "c" does not suggest "a").
// Ties go to a word of the same letters in another order ("fro" is "for"
// before "from": a swap is the likelier slip), then to the earlier word of
// known.
func nearest(s string, known []string) string {
	ls := strings.ToLower(s)
	best, bestD, bestSwap := "", 3, false
	for _, k := range known {
		if abs(len(k)-len(s)) >= bestD {
			continue // too far apart to be a slip, and a long word is costly
		}
		lk := strings.ToLower(k)
		d := editDistance(ls, lk)
		if d >= 3 || d >= len(s) {
			continue
		}
		swap := sameLetters(ls, lk)
		if d < bestD || d == bestD && swap && !bestSwap {
			best, bestD, bestSwap = k, d, swap
		}
	}
	return best
}

// sameLetters reports whether a and b hold the same letters, perhaps in
// another order.
func sameLetters(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := []byte(a), []byte(b)
	slices.Sort(x)
	slices.Sort(y)
	return string(x) == string(y)
}

// didYouMean returns ` (did you mean "x"?)` when s is probably a slip of
// the word x of known, or "".
func didYouMean(s string, known []string) string {
	if n := nearest(s, known); n != "" {
		return fmt.Sprintf(" (did you mean %q?)", n)
	}
	return ""
}

// undefinedHost words the error for a host name that no [[hosts]] table
// defines, in the message of what named it: `link names host "sever",
// which is not defined (did you mean "server"?)`.
func undefinedHost(what, name string, names []string) string {
	return fmt.Sprintf("%s names host %q, which is not defined%s", what, name, didYouMean(name, names))
}

// hostNames lists the names of the hosts.
func hostNames(all []hosts.Config) []string {
	out := make([]string, len(all))
	for i, h := range all {
		out[i] = h.Name
	}
	return out
}

// stateAliases are the names other tools give the TCP states, mapped to
// the Linux names a lab uses: ss(8) prints ESTAB and SYN-RECV, RFC 9293
// writes SYN-RECEIVED. Keys are normalized as normalState does.
var stateAliases = map[string]string{
	"ESTAB":        "ESTABLISHED",
	"SYN_RECV":     "SYN_RCVD",
	"SYN_RECEIVED": "SYN_RCVD",
	"UNCONN":       "CLOSED",
}

// normalState spells a state name as the lab language does: upper case,
// with '_' for '-' and spaces.
func normalState(s string) string {
	return strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToUpper(strings.TrimSpace(s)))
}

// unknownState words the error for a state name that is not one of
// StateNames, suggesting the one meant.
func unknownState(s string) string {
	msg := fmt.Sprintf("unknown TCP state %q", s)
	n := normalState(s)
	switch {
	case stateAliases[n] != "":
		return msg + fmt.Sprintf(" (did you mean %q?)", stateAliases[n])
	case n != s && slices.Contains(StateNames, n):
		return msg + fmt.Sprintf(" (did you mean %q?)", n)
	}
	if d := didYouMean(n, StateNames); d != "" {
		return msg + d
	}
	return msg + fmt.Sprintf(" (want one of %s)", strings.Join(StateNames, ", "))
}

// unknownCounter words the error for a counter name that is not one of
// hosts.CounterNames, suggesting the one meant.
func unknownCounter(s string) string {
	names := hosts.CounterNames()
	if d := didYouMean(s, names); d != "" {
		return fmt.Sprintf("unknown counter %q%s", s, d)
	}
	return fmt.Sprintf("unknown counter %q (want one of %s)", s, strings.Join(names, ", "))
}
