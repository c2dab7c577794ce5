package capture

import (
	"strings"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/tap"
)

// The Explainer's own sink: the tap releases each row to it, and it passes
// the row on to the writers with what only the Explainer knows (its notes
// on the row's frame) and without what applies only to netstack.

// netstackKeys are the tap's notes that describe netstack and have a
// text for a real stack instead.
var netstackKeys = map[string]string{
	"seg.syn.retrans": "cap.syn.retrans",
	"seg.simopen.ack": "cap.simopen.ack",
}

// fanout is the sink the Explainer adds to its tap.
type fanout struct {
	x     *Explainer
	sinks []tap.Sink
}

var _ tap.Sink = (*fanout)(nil)

// Row implements tap.Sink.
func (f *fanout) Row(r *tap.Row) error {
	f.x.adjust(r)
	var first error
	for _, s := range f.sinks {
		if err := s.Row(r); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// AddSink adds a writer of the timeline: it gets each row as the tap
// releases it, with the Explainer's notes. Use it instead of the tap's
// AddSink.
func (x *Explainer) AddSink(s tap.Sink) {
	if x.fan == nil {
		x.fan = &fanout{x: x}
		x.tap.AddSink(x.fan)
	}
	x.fan.sinks = append(x.fan.sinks, s)
}

// adjust gives a row the Explainer's notes on its frame and takes out
// the notes about netstack, which a real capture did not run.
func (x *Explainer) adjust(r *tap.Row) {
	notes := r.Notes[:0:0]
	for _, m := range r.Notes {
		if strings.HasPrefix(m.Key, "diff.") {
			continue
		}
		if k, ok := netstackKeys[m.Key]; ok {
			m = i18n.Msg{Key: k, Args: m.Args}
		}
		notes = append(notes, m)
	}
	if r.Kind == tap.KindSegment {
		notes = append(notes, x.Notes(r.No)...)
	}
	r.Notes = notes
}
