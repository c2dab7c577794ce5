package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/capture"
	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/tap"
)

// explainOptions are the flags of `tcplab explain`.
type explainOptions struct {
	file    string
	format  string
	lang    string
	conns   []string
	names   []string
	pcap    string
	color   bool
	noColor bool
	notes   bool
}

func newExplainCmd(e env) *cobra.Command {
	opts := &explainOptions{}
	cmd := &cobra.Command{
		Use:   "explain CAPTURE",
		Short: "Explain a real capture (pcap or pcapng) with the same annotated timeline",
		Long: `Explain a capture from tcpdump, Wireshark, tshark (or tcplab itself) with
the annotated timeline of tcplab run: every TCP segment with its note,
both ends' TCP states, and a summary line per connection.

CAPTURE is a pcap or pcapng file (gzip-compressed too). Link types:
Ethernet (with VLAN tags), Linux cooked capture v1 and v2, raw IPv4 and
IPv6, BSD loopback. Packets that are not TCP are skipped and counted; a
snap length that cut packets short is fine (their length comes from the IP
header).

A capture shows only the packets that passed one point, so everything a lab
run knows from its hosts is inferred here, and says so: which side the
capture was taken near (the side whose answers follow arrivals quickly),
when a segment reached the far side (about half its round trip after the
capture saw it: "its FIN_WAIT_2 begins when our ACK reaches it"), whether
it reached it at all (an ACK or an answer shows it did; a retransmission
before one leaves it unknown), and why each segment was sent (an
application call, the arrival it answers, a timer). Patterns are named
where they show: SYN retransmissions with no SYN-ACK, SYN-ACK
retransmissions answered by ACKs, a FIN then data then RST (a keep-alive
mismatch), many half-open connections (a SYN flood).

Hosts are known by address unless --names names them (tcplab's own
captures name them already). --conn picks connections: by index (1, 2 ...
in order of first appearance, as the summary numbers them), by port (:80)
or by both endpoints (10.0.0.1:40000-10.0.0.2:80, either order); give it
more than once, or comma-separated, for several.

--format is text (the default), json (JSON Lines: a capture object, one
object per row, one conn object per connection, an end object; the shape
is in docs/OUTPUT.md) or mermaid. --pcap writes the capture back as pcapng
with each segment's explanation as its packet comment and the host names,
which Wireshark shows (Edit > Preferences > Name Resolution, or tshark -N n).

The capture is read once, with bounded memory: a few seconds of packets
ahead of the one being explained, the live connections, and the rows whose
fate is not yet known. On a terminal, progress goes to standard error.`,
		Example: `  tcpdump -i eth0 -w web.pcap 'tcp port 80'
  tcplab explain web.pcap
  tcplab explain web.pcap --lang zh
  tcplab explain web.pcap --names 10.0.0.1=client,10.0.0.2=server
  tcplab explain web.pcap --conn 2 --conn :443
  tcplab explain web.pcap --conn 10.0.0.1:40000-10.0.0.2:80
  tcplab explain web.pcap --format json | jq -c 'select(.kind == "state")'
  tcplab explain web.pcap --pcap web-explained.pcapng && wireshark web-explained.pcapng
  tcplab run close --pcap close.pcapng && tcplab explain close.pcapng`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.file = args[0]
			return runExplain(cmd.Context(), e, opts)
		},
	}
	cmd.Flags().StringVar(&opts.format, "format", "text", "print the timeline in `FORMAT`: "+strings.Join(runFormats, ", "))
	cmd.Flags().StringVar(&opts.lang, "lang", "en", "write notes, headings and summaries in `LANG`: "+strings.Join(i18n.Langs, ", "))
	cmd.Flags().StringSliceVar(&opts.conns, "conn", nil, "explain only connection `SEL`: an index (3), a port (:80) or both endpoints (A:P-B:P)")
	cmd.Flags().StringSliceVar(&opts.names, "names", nil, "name hosts: `ADDR=NAME`,... (10.0.0.1=client,10.0.0.2=server)")
	cmd.Flags().StringVar(&opts.pcap, "pcap", "", "also write the capture back to `FILE` (pcapng) with each segment's explanation as its comment")
	cmd.Flags().BoolVar(&opts.color, "color", false, "colour the text timeline even when standard output is not a terminal")
	cmd.Flags().BoolVar(&opts.noColor, "no-color", false, "never colour the text timeline")
	cmd.Flags().BoolVar(&opts.notes, "notes", false, "with --format mermaid: draw each segment's note too")
	return cmd
}

// firstPackets is how many TCP packets explain reads before it starts
// writing, to size the listing's columns.
const firstPackets = 2000

func runExplain(ctx context.Context, e env, opts *explainOptions) error {
	if !slices.Contains(runFormats, opts.format) {
		return &exitError{exitInvalid, fmt.Errorf("unknown format %q (valid: %s)", opts.format, strings.Join(runFormats, ", "))}
	}
	lang, err := i18n.ParseLang(opts.lang)
	if err != nil {
		return &exitError{exitInvalid, fmt.Errorf("--lang: %w", err)}
	}
	if opts.color && opts.noColor {
		return &exitError{exitInvalid, errors.New("--color and --no-color contradict each other")}
	}
	if opts.notes && opts.format != "mermaid" {
		return &exitError{exitInvalid, fmt.Errorf("--notes needs --format mermaid (the %s form always has the notes)", opts.format)}
	}
	names, err := capture.ParseNames(opts.names)
	if err != nil {
		return &exitError{exitInvalid, fmt.Errorf("--names: %w", err)}
	}
	sel, err := capture.ParseSelection(opts.conns)
	if err != nil {
		return &exitError{exitInvalid, fmt.Errorf("--conn: %w", err)}
	}
	f, err := os.Open(opts.file)
	if err != nil {
		return &exitError{exitInvalid, err}
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	counted := &countingReader{r: f}
	rd, err := capture.NewReader(counted)
	if err != nil {
		return &exitError{exitInvalid, fmt.Errorf("%s: %w", opts.file, err)}
	}
	prog := newMeter(e, size)
	packets := 0
	// main collects garbage at 4x the live heap, which suits a lab run; an
	// explanation allocates steadily per packet, and at 2x it peaks at
	// half the memory and runs as fast (bench/explain-memory.sh). GOGC in
	// the environment still wins.
	if e.lookup("GOGC") == "" {
		debug.SetGCPercent(100)
	}
	keep := opts.pcap != ""

	// Read the first packets before writing anything: the capture's own
	// host names come with them, and they set the listing's widths.
	var first []*capture.Packet
	var readErr error
	tcp := 0
	for tcp < firstPackets {
		p, err := rd.Next()
		if err != nil {
			readErr = err
			break
		}
		if !keep {
			p.Trim()
		}
		first = append(first, p)
		if p.Seg != nil {
			tcp++
		}
	}
	t := tap.New()
	x := capture.New(t, capture.Options{Names: names, Select: sel.Match})
	x.AddNames(rd.Names())
	out := &explainOutput{e: e, t: t, x: x, lang: lang, file: opts.file, format: rd.Format()}
	if err := out.start(opts.format, useColor(e, &runOptions{color: opts.color, noColor: opts.noColor}), opts.notes, endpointWidth(t, first)); err != nil {
		return &exitError{exitFailure, err}
	}
	var wb *capture.Writeback
	var wbFile *os.File
	var wbBuf *bufio.Writer
	if keep {
		wbFile, err = createOutput(opts.pcap)
		if err != nil {
			return &exitError{exitFailure, err}
		}
		defer wbFile.Close()
		wbBuf = bufio.NewWriterSize(wbFile, 1<<16)
		wb = capture.NewWriteback(wbBuf, rd, t, lang, names, opts.conns != nil)
		x.AddSink(wb)
	}
	feed := func(p *capture.Packet) {
		if wb != nil {
			wb.Packet(p)
		}
		x.Packet(p)
		// The clock is read once every 4096 packets (every packet in
		// tests, whose progress has no throttle).
		if packets++; packets%4096 == 0 || e.progress.every == 0 {
			// The reader runs ahead of the packets explained: short of
			// the end, the bar stays short of full (a full bar is gone).
			prog.update(min(counted.n, size-1), fmt.Sprintf("%s: %d MB, %s", filepath.Base(opts.file), counted.n>>20, plural(packets, "packet")))
		}
	}
	for _, p := range first {
		feed(p)
	}
	first = nil
	for readErr == nil {
		if ctx.Err() != nil {
			readErr = ctx.Err()
			break
		}
		p, err := rd.Next()
		if err != nil {
			readErr = err
			break
		}
		if !keep {
			p.Trim()
		}
		feed(p)
	}
	prog.done()
	interrupted := errors.Is(readErr, context.Canceled)
	if readErr != nil && !errors.Is(readErr, io.EOF) && !interrupted {
		// A capture cut short (still being written, or copied in part)
		// is explained up to where it ends.
		fmt.Fprintf(e.stderr, "tcplab: %s: %v; explaining what was read\n", opts.file, readErr)
	}
	if err := x.Finish(); err != nil {
		return &exitError{exitFailure, err}
	}
	if wb != nil {
		if err := wb.Close(); err != nil {
			return &exitError{exitFailure, fmt.Errorf("write %s: %w", opts.pcap, err)}
		}
		if err := wbBuf.Flush(); err != nil {
			return &exitError{exitFailure, fmt.Errorf("write %s: %w", opts.pcap, err)}
		}
		if err := wbFile.Close(); err != nil {
			return &exitError{exitFailure, fmt.Errorf("write %s: %w", opts.pcap, err)}
		}
	}
	if err := out.finish(); err != nil {
		return &exitError{exitFailure, err}
	}
	if wb != nil {
		fmt.Fprintf(e.stderr, "tcplab: wrote %s\n", opts.pcap)
	}
	if interrupted {
		return &exitError{exitInterrupted, fmt.Errorf("%s: interrupted; the timeline was written up to there", opts.file)}
	}
	return nil
}

// endpointWidth returns the width of the widest endpoint among the first
// packets, as the listing writes it.
func endpointWidth(t *tap.Tap, ps []*capture.Packet) int {
	n := 0
	for _, p := range ps {
		if p.Seg == nil {
			continue
		}
		for _, ap := range []netip.AddrPort{p.Seg.Src, p.Seg.Dst} {
			n = max(n, len(t.Name(ap.Addr()))+1+len(strconv.Itoa(int(ap.Port()))))
		}
	}
	return n
}

// explainOutput writes an explained capture in one of the forms of
// --format: the timeline as it goes, then the connections' summaries and
// the end line.
type explainOutput struct {
	e      env
	t      *tap.Tap
	x      *capture.Explainer
	lang   i18n.Lang
	file   string
	format string

	form    string
	text    *tap.TextWriter
	json    *tap.JSONWriter
	mermaid *tap.MermaidWriter
}

func (o *explainOutput) say(key string, args ...any) string {
	return i18n.M(key, args...).Text(o.lang, o.t.Names)
}

// start writes what comes before the rows and adds the writer.
func (o *explainOutput) start(form string, color, notes bool, width int) error {
	o.form = form
	title := o.say("cap.title", filepath.Base(o.file), o.format)
	switch form {
	case "text":
		o.text = o.t.NewTextWriter(o.e.stdout, tap.Header{Title: title, Lines: []string{o.say("cap.lines")}, Color: color, Lang: o.lang})
		o.text.SetEndpointWidth(width)
		o.x.AddSink(o.text)
	case "json":
		o.json = o.t.NewJSONWriter(o.e.stdout, o.lang)
		names, addrs := o.t.Hosts()
		c := jsonCapture{Kind: "capture", File: o.file, Format: o.format, Lang: o.lang.String(), Hosts: []jsonHost{}}
		for i, n := range names {
			h := jsonHost{Name: n, Addrs: []string{}}
			for _, a := range addrs[i] {
				h.Addrs = append(h.Addrs, a.String())
			}
			c.Hosts = append(c.Hosts, h)
		}
		if err := o.json.Encode(c); err != nil {
			return err
		}
		o.x.AddSink(o.json)
	case "mermaid":
		o.mermaid = o.t.NewMermaidWriter(o.e.stdout, tap.MermaidOptions{Title: title, Notes: notes, Lang: o.lang})
		o.x.AddSink(o.mermaid)
	}
	return nil
}

// finish writes the summaries and the end line: after the listing in the
// text form, as objects in the JSON form, on standard error with mermaid.
func (o *explainOutput) finish() error {
	sums, more := o.x.Summaries()
	st := o.x.Stats()
	switch o.form {
	case "text":
		if err := o.text.Flush(); err != nil {
			return err
		}
		w := bufio.NewWriter(o.e.stdout)
		fmt.Fprintln(w)
		o.report(w, sums, more, st)
		return w.Flush()
	case "json":
		for i := range sums {
			if err := o.json.Encode(o.jsonConn(&sums[i])); err != nil {
				return err
			}
		}
		end := jsonCaptureEnd{Kind: "end", T: fmtSeconds(st.End), NS: int64(st.End), Packets: st.Packets, TCP: st.TCP, Connections: st.Conns,
			Explained: st.Explained, Truncated: st.Truncated, Skipped: map[string]int{}, PeakHalfOpen: o.x.PeakHalfOpen(), MoreConns: more}
		for k, v := range st.Skipped {
			end.Skipped[k] = v
		}
		if err := o.json.Encode(end); err != nil {
			return err
		}
		return o.json.Flush()
	case "mermaid":
		if err := o.mermaid.Flush(); err != nil {
			return err
		}
		w := bufio.NewWriter(o.e.stderr)
		o.report(w, sums, more, st)
		return w.Flush()
	}
	return nil
}

// report writes the summaries and the end line.
func (o *explainOutput) report(w io.Writer, sums []capture.Summary, more int, st capture.Stats) {
	if len(sums) > 0 {
		fmt.Fprintln(w, o.say("cap.sum.head", len(sums)+more))
		for i := range sums {
			fmt.Fprintln(w, "  "+sums[i].Text(o.lang, o.t.Names))
		}
		if more > 0 {
			fmt.Fprintln(w, "  "+o.say("cap.sum.more", more))
		}
		if n := o.x.PeakHalfOpen(); n > 1 {
			fmt.Fprintln(w, "  "+o.say("cap.sum.flood", n))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, o.say("cap.end", fmtSeconds(st.End), st.Packets, st.TCP, st.Conns))
	if st.Explained != st.Conns {
		fmt.Fprintln(w, o.say("cap.end.explained", st.Explained, st.Conns))
	}
	if len(st.Skipped) > 0 {
		var parts []string
		keys := mapsKeys(st.Skipped)
		slices.Sort(keys)
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, st.Skipped[k]))
		}
		fmt.Fprintln(w, o.say("cap.skipped", strings.Join(parts, ", ")))
	}
	if st.Truncated > 0 {
		fmt.Fprintln(w, o.say("cap.truncated", st.Truncated))
	}
}

// mapsKeys returns a map's keys.
func mapsKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// jsonCapture is the first object of the JSON form of explain.
type jsonCapture struct {
	Kind   string     `json:"kind"` // "capture"
	File   string     `json:"file"`
	Format string     `json:"format"`
	Lang   string     `json:"lang"`
	Hosts  []jsonHost `json:"hosts"`
}

// jsonConn is a connection's summary.
type jsonConn struct {
	Kind     string    `json:"kind"` // "conn"
	ID       int       `json:"id"`
	Client   string    `json:"client"`
	Server   string    `json:"server"`
	Opened   string    `json:"opened"`
	Ended    string    `json:"ended"`
	Bytes    [2]int64  `json:"bytes"`
	Packets  [2]int    `json:"packets"`
	Retrans  [2]int    `json:"retransmissions"`
	States   [2]string `json:"states"`
	History  string    `json:"history"`
	Near     string    `json:"near,omitempty"`
	Patterns []string  `json:"patterns"`
	FirstT   string    `json:"first_t"`
	LastT    string    `json:"last_t"`
	Text     string    `json:"text"`
}

func (o *explainOutput) jsonConn(s *capture.Summary) jsonConn {
	j := jsonConn{Kind: "conn", ID: s.ID, Client: s.Ends[0], Server: s.Ends[1], Opened: o.say(s.Opened.Key, s.Opened.Args...), Ended: o.say(s.Ended.Key, s.Ended.Args...),
		Bytes: s.Bytes, Packets: s.Packets, Retrans: s.Retrans, States: [2]string{s.States[0].String(), s.States[1].String()}, History: s.History,
		Patterns: []string{}, FirstT: fmtSeconds(s.First), LastT: fmtSeconds(s.Last), Text: s.Text(o.lang, o.t.Names)}
	if s.Near >= 0 {
		j.Near = s.Ends[s.Near]
	}
	j.Patterns = append(j.Patterns, s.PatternNames()...)
	return j
}

// jsonCaptureEnd is the last object of the JSON form of explain.
type jsonCaptureEnd struct {
	Kind         string         `json:"kind"` // "end"
	T            string         `json:"t"`
	NS           int64          `json:"ns"`
	Packets      int            `json:"packets"`
	TCP          int            `json:"tcp"`
	Connections  int            `json:"connections"`
	Explained    int            `json:"explained"`
	MoreConns    int            `json:"unlisted_connections"`
	Truncated    int            `json:"truncated"`
	Skipped      map[string]int `json:"skipped"`
	PeakHalfOpen int            `json:"peak_half_open"`
}

// countingReader counts the bytes read through it, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
