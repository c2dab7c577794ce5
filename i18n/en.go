package i18n

// en holds the English texts. Keys are grouped by who says them: sw.* the
// switch, seg.* a segment, st.* a state change, cause.* what caused it,
// q.* queue and counter rows, ui.* the listing itself.
var en = map[string]string{
	// The switch.
	"sw.dropped":         "DROPPED by the switch: %s",
	"sw.corrupt":         "corrupted on %s (bit flip; the receiver's checksum check will fail)",
	"sw.reorder":         "reordered on %s (held back %s)",
	"sw.duplicate":       "duplicated on %s",
	"sw.unroutable":      "not routable: %s",
	"sw.fault.drop":      "dropped by %s (%s)",
	"sw.fault.delay":     "delayed %s by %s (%s)",
	"sw.fault.hold":      "held by %s until %s (%s)",
	"sw.fault.duplicate": "duplicated by %s (%s); copy arrives %s later",
	"sw.nohost":          "no host has address %s",
	"sw.down":            "link %s down (outage %s)",
	"sw.copy.dropped":    "copy dropped: %s",
	"sw.copy":            "copy %s",
	"sw.loss":            "loss on %s",
	"sw.queuefull":       "queue full on %s (%d packets)",
	"sw.match":           "match #%d",
	"sw.match.flags":     "match %s #%d",
	"sw.inject":          "injected by %s from %s",
	"sw.inject.spoofed":  "injected by %s from %s (spoofed source %s)",
	"sw.inject.noseq":    "nothing seen from %s to %s yet, so seq counts from 0",
	"sw.inject.noack":    "nothing seen from %s to %s yet, so ack is 0",

	// What caused a state change.
	"cause.step":        "step: %s",
	"cause.app":         "app: %s",
	"cause.recv":        "received %s from %s",
	"cause.recv.packet": "received packet",
	"cause.timer":       "timer",

	// The listing.
	"raw":         "%s",
	"seg.nottcp":  "not a TCP segment: %s",
	"ui.cause":    "%s",
	"ui.app":      "app: %s → %s",
	"ui.app.err":  "app: %s → error: %s",
	"ui.frame":    "frame %d: %s",
	"ui.queue":    "queues of %s: accept queue %d/%d, half-open %d",
	"ui.counters": "counters: %s",
}
