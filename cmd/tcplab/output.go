package main

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/report"
	"github.com/tcplab/tcplab/tap"
	"github.com/tcplab/tcplab/topology"
)

// output writes a run in one of the forms of --format: the timeline on
// stdout as the run goes (start adds the writer to the run's tap), then the
// end line and the expectations' results (finish).
type output struct {
	e    env
	r    *labs.Run
	lang i18n.Lang
	// outs are the expectations' outcomes; checked says they were checked
	// (the lab has expectations and the run was not interrupted).
	outs    []labs.Outcome
	checked bool
	// explain adds what the lab shows and checks ahead of the timeline
	// (--explain): in the text form's header, on stderr in the others.
	explain bool
	// quiet renders no timeline (--quiet): the end line and outcomes only.
	quiet bool
	// width and compact shape the text form (--width, --compact).
	width   int
	compact bool

	format  string
	html    *report.Writer
	text    *tap.TextWriter
	json    *tap.JSONWriter
	mermaid *tap.MermaidWriter
}

// say renders one of the listing's own messages in the output's language.
func (o *output) say(key string, args ...any) string {
	return i18n.M(key, args...).Text(o.lang, nil)
}

// start writes what comes before the rows and adds the writer of the
// timeline to the run's tap.
func (o *output) start(format string, color, notes bool) error {
	o.format = format
	r := o.r
	switch format {
	case "text":
		if o.quiet {
			return nil
		}
		h := tap.Header{Title: r.Lab.Name, Color: color, Lang: o.lang, MaxTime: r.Lab.TimeLimit, Width: o.width, Compact: o.compact, Fold: true}
		if r.Lab.Title != "" {
			h.Title += " — " + r.Lab.Title
		}
		if d := strings.TrimSpace(r.Lab.Description); d != "" {
			h.Lines = append(h.Lines, strings.Split(d, "\n")...)
			h.Lines = append(h.Lines, "")
		}
		if o.explain && len(r.Lab.Expect) > 0 {
			h.Lines = append(h.Lines, lookFor(r.Lab)...)
			h.Lines = append(h.Lines, "")
		}
		h.Lines = append(h.Lines, o.say("out.seed", r.Seed))
		o.text = r.Tap.NewTextWriter(o.e.stdout, h)
		r.Tap.AddSink(o.text)
	case "json":
		if err := o.explainOnStderr(); err != nil {
			return err
		}
		o.json = r.Tap.NewJSONWriter(o.e.stdout, o.lang)
		lab := jsonLab{Kind: "lab", Name: r.Lab.Name, Title: r.Lab.Title, Description: strings.TrimSpace(r.Lab.Description), Seed: r.Seed, Lang: o.lang.String(), Hosts: []jsonHost{}}
		for _, h := range r.Lab.Hosts {
			jh := jsonHost{Name: h.Name, Addrs: []string{}}
			for _, a := range []netip.Addr{h.IPv4, h.IPv6} {
				if a.IsValid() {
					jh.Addrs = append(jh.Addrs, a.String())
				}
			}
			lab.Hosts = append(lab.Hosts, jh)
		}
		if err := o.json.Encode(lab); err != nil {
			return err
		}
		r.Tap.AddSink(o.json)
	case "mermaid":
		if err := o.explainOnStderr(); err != nil {
			return err
		}
		title := r.Lab.Name
		if r.Lab.Title != "" {
			title += " — " + r.Lab.Title
		}
		o.mermaid = r.Tap.NewMermaidWriter(o.e.stdout, tap.MermaidOptions{Title: title, Notes: notes, Lang: o.lang})
		r.Tap.AddSink(o.mermaid)
	case "html":
		if err := o.explainOnStderr(); err != nil {
			return err
		}
		o.html = newReport(r, o.lang)
	}
	return nil
}

// finish writes what comes after the rows: in the text form the end line
// and the expectations' results on stdout; in the others the end object
// (JSON) on stdout and the end line and results on stderr.
func (o *output) finish() error {
	r := o.r
	switch o.format {
	case "text":
		w := bufio.NewWriter(o.e.stdout)
		if !o.quiet {
			if err := o.text.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(w)
		}
		o.endLine(w)
		o.outcomes(w)
		return w.Flush()
	case "json":
		end := jsonEnd{Kind: "end", T: fmtSeconds(r.Result.End), NS: int64(r.Result.End), Stop: stopName(r.Result.Reason), Events: r.Result.Events, Frames: r.Frames}
		if r.Result.Reason == topology.TimeLimit {
			end.NextT, end.NextNS = fmtSeconds(r.Result.Next), int64(r.Result.Next)
		}
		if o.checked {
			end.Expectations = &jsonExpectations{Passed: len(o.outs) - labs.Failed(o.outs), Total: len(o.outs)}
		}
		if err := o.json.Encode(end); err != nil {
			return err
		}
		if err := o.json.Flush(); err != nil {
			return err
		}
	case "mermaid":
		if err := o.mermaid.Flush(); err != nil {
			return err
		}
	case "html":
		if err := writeReport(o.e.stdout, o.html, r, o.outs, o.checked); err != nil {
			return err
		}
	}
	return o.report()
}

// explainOnStderr writes the explanation on stderr when asked to, for the
// forms whose stdout holds nothing but the timeline.
func (o *output) explainOnStderr() error {
	if !o.explain {
		return nil
	}
	return writeExplanation(o.e.stderr, o.r.Lab)
}

// report writes the end line and the expectations' results on stderr, for
// the forms whose stdout holds nothing but the timeline.
func (o *output) report() error {
	w := bufio.NewWriter(o.e.stderr)
	o.endLine(w)
	o.outcomes(w)
	return w.Flush()
}

// endLine writes "end of run at 0.031000 s: nothing left to happen".
func (o *output) endLine(w io.Writer) {
	fmt.Fprintln(w, o.say("out.end", fmtSeconds(o.r.Result.End), o.stopText()))
}

// stopText says why the run stopped, in the output's language.
func (o *output) stopText() string {
	r := o.r
	switch r.Result.Reason {
	case topology.Idle:
		return o.say("out.stop.idle")
	case topology.TimeLimit:
		return o.say("out.stop.timelimit", fmtSeconds(r.Result.Next))
	case topology.EventLimit:
		return o.say("out.stop.eventlimit")
	case topology.Interrupted:
		return o.say("out.stop.interrupt")
	}
	return r.Result.Reason.String()
}

// outcomes writes the expectations' results: a count, then each failure
// with what was found and the rows that show it. Nothing when the
// expectations were not checked.
func (o *output) outcomes(w io.Writer) {
	if !o.checked {
		return
	}
	failed := labs.Failed(o.outs)
	fmt.Fprintln(w, o.say("out.expect", len(o.outs)-failed, len(o.outs)))
	for _, out := range o.outs {
		if out.OK {
			continue
		}
		writeFailure(w, "  ", o.r.Tap, out)
	}
}

// writeFailure writes a failed expectation, each line after indent: where
// it is and what it checks, why the lab expects it, what was found and the
// timeline rows that show it.
func writeFailure(w io.Writer, indent string, t *tap.Tap, out labs.Outcome) {
	fmt.Fprintf(w, "%sFAIL %s: %s\n", indent, out.Exp.Where, out.Exp)
	if out.Exp.Why != "" {
		fmt.Fprintf(w, "%s     why: %s\n", indent, out.Exp.Why)
	}
	fmt.Fprintf(w, "%s     %s\n", indent, out.Message)
	for _, row := range out.Rows {
		fmt.Fprintf(w, "%s       %s\n", indent, t.RowText(row, i18n.EN))
	}
}

// jsonLab is the first object of the JSON form.
type jsonLab struct {
	Kind        string     `json:"kind"` // "lab"
	Name        string     `json:"name"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Seed        uint64     `json:"seed"`
	Lang        string     `json:"lang"`
	Hosts       []jsonHost `json:"hosts"`
}

// jsonHost is one host of the lab object, in the lab's host order.
type jsonHost struct {
	Name  string   `json:"name"`
	Addrs []string `json:"addrs"`
}

// jsonEnd is the last object of the JSON form.
type jsonEnd struct {
	Kind         string            `json:"kind"` // "end"
	T            string            `json:"t"`
	NS           int64             `json:"ns"`
	Stop         string            `json:"stop"`
	NextT        string            `json:"next_t,omitempty"`
	NextNS       int64             `json:"next_ns,omitempty"`
	Events       int               `json:"events"`
	Frames       int               `json:"frames"`
	Expectations *jsonExpectations `json:"expectations,omitempty"`
}

// jsonExpectations counts the expectations that passed.
type jsonExpectations struct {
	Passed int `json:"passed"`
	Total  int `json:"total"`
}

// stopName is the end object's "stop": idle, time_limit, event_limit or
// interrupted.
func stopName(r topology.StopReason) string {
	return strings.ReplaceAll(r.String(), " ", "_")
}

// fmtSeconds renders virtual time in seconds with microseconds, as the
// timeline does: "60.061000".
func fmtSeconds(d time.Duration) string {
	us := d / time.Microsecond
	return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
}
