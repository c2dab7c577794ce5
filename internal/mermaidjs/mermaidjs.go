// Package mermaidjs has Mermaid itself read sequence diagrams, for tests:
// it opens a page with Mermaid's own minified build (vendored here, gzip
// compressed, with its licence in LICENSE.mermaid) in headless Chromium,
// with the network cut off, and returns what Mermaid parsed from each
// diagram and whether it drew it. It is the oracle of the Mermaid form's
// tests; nothing in the tcplab binary imports it.
package mermaidjs

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Version is the version of Mermaid vendored here, from npm's mermaid
// package (dist/mermaid.min.js).
const Version = "11.17.2"

//go:embed mermaid.min.js.gz
var mermaidGz []byte

// Line types of Mermaid's sequence diagram parser (LINETYPE in
// sequenceDb), as Message.Type holds them.
const (
	Solid       = 0  // ->>
	Note        = 2  // Note over
	SolidCross  = 3  // -x
	DottedCross = 4  // --x
	RectStart   = 22 // rect
	RectEnd     = 23 // its end
)

// Actor is a participant as Mermaid read it: its id in the source and the
// name it draws, entity codes decoded.
type Actor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Message is an arrow, a note or a block's start or end as Mermaid read
// it, entity codes decoded; a rect's Text is its colour.
type Message struct {
	Type int    `json:"type"`
	From string `json:"from"`
	To   string `json:"to"`
	Text string `json:"text"`
}

// Diagram is what Mermaid made of one diagram's source.
type Diagram struct {
	// Error is Mermaid's complaint when it could not parse or draw the
	// diagram; empty when it could.
	Error string `json:"error"`
	// Kind is the diagram type Mermaid detected ("sequence").
	Kind     string    `json:"kind"`
	Title    string    `json:"title"`
	Actors   []Actor   `json:"actors"`
	Messages []Message `json:"messages"`
	// SVG is the size of the SVG Mermaid drew, in bytes; 0 when it was
	// not asked to draw it.
	SVG int `json:"svg"`
	// Drawn says Mermaid was asked to draw it.
	Drawn bool `json:"-"`
}

// script parses and draws every source of the array it is given. Mermaid
// writes an entity code as a placeholder ("ﬂ°°59¶ß") that its renderer
// decodes; the script decodes them as the renderer does.
const script = `(async (sources, draw) => {
  mermaid.initialize({ startOnLoad: false });
  const named = { lt: '<', gt: '>', amp: '&', quot: '"' };
  const decode = (s) => String(s ?? '')
    .replace(/\uFB02\u00B0\u00B0(\d+)\u00B6\u00DF/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/\uFB02\u00B0(\w+)\u00B6\u00DF/g, (m, n) => named[n] ?? m);
  const out = [];
  let n = 0;
  for (const src of sources) {
    const d = { error: '', kind: '', title: '', actors: [], messages: [], svg: 0 };
    try {
      const diagram = await mermaid.mermaidAPI.getDiagramFromText(src);
      const db = diagram.db;
      d.kind = diagram.type;
      d.title = decode(db.getDiagramTitle ? db.getDiagramTitle() : '');
      d.actors = db.getActorKeys().map((k) => ({ id: k, name: decode(db.getActor(k).description) }));
      d.messages = db.getMessages().map((m) => ({ type: m.type, from: m.from ?? '', to: m.to ?? '', text: decode(m.message ?? '') }));
      if (draw === null || draw[n]) {
        const r = await mermaid.render('d' + n, src);
        d.svg = r.svg.length;
        if (r.svg.includes('Syntax error') || r.svg.includes('Maximum text size')) d.error = 'drawn as an error';
      }
    } catch (e) {
      d.error = String((e && e.message) || e);
    }
    n++;
    out.push(d);
  }
  return out;
})`

// Browser returns the path of a Chromium the tests can drive (the Mermaid
// oracle and the HTML report's browser test). Without one
// it skips the test, or fails it when CI is set: CI must run the oracle.
func Browser(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH: CI must install it (apt-get install chromium), see .ci/run")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); this test fails instead when CI is set")
	return ""
}

// Parse has Mermaid parse each source, and draw those whose draw is true
// (every one when draw is nil), in one headless Chromium without network,
// and returns what it made of each, in order. Drawing takes most of the
// time: about half a second a diagram.
func Parse(t testing.TB, sources []string, draw []bool) []Diagram {
	t.Helper()
	chrome := Browser(t)
	dir := t.TempDir()
	zr, err := gzip.NewReader(bytes.NewReader(mermaidGz))
	if err != nil {
		t.Fatalf("mermaid.min.js.gz: %v", err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("mermaid.min.js.gz: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mermaid.min.js"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "page.html")
	if err := os.WriteFile(page, []byte(`<!doctype html><html><head><meta charset="utf-8"><script src="mermaid.min.js"></script></head><body></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// No network: every host name fails and any proxy is a dead end.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.Flag("proxy-server", "127.0.0.1:9"),
	)
	defer cancel()
	ctx, bcancel := chromedp.NewContext(alloc)
	defer bcancel()
	ctx, tcancel := context.WithTimeout(ctx, 5*time.Minute)
	defer tcancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("open %s in %s: %v", page, chrome, err)
	}
	arg, err := json.Marshal(sources)
	if err != nil {
		t.Fatal(err)
	}
	drawArg, err := json.Marshal(draw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]Diagram](script+"("+string(arg)+", "+string(drawArg)+")", chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("Mermaid in %s: %v", chrome, err)
	}
	if len(got) != len(sources) {
		t.Fatalf("Mermaid read %d diagrams, want %d", len(got), len(sources))
	}
	for i := range got {
		got[i].Drawn = draw == nil || draw[i]
	}
	return got
}

// Diagrams splits the Mermaid form of a timeline into its diagrams: the
// whole text when it is one diagram, or the body of each fenced mermaid
// block when it is Markdown with one diagram per connection group.
func Diagrams(out string) []string {
	if !strings.HasPrefix(out, "```mermaid\n") {
		return []string{out}
	}
	var ds []string
	var cur strings.Builder
	in := false
	for line := range strings.Lines(out) {
		switch {
		case line == "```mermaid\n":
			in = true
			cur.Reset()
		case line == "```\n" && in:
			in = false
			ds = append(ds, cur.String())
		case in:
			cur.WriteString(line)
		}
	}
	return ds
}

var (
	participantLine = regexp.MustCompile(`^    participant (\w+)(?: as (.+))?$`)
	arrowLine       = regexp.MustCompile(`^    (\w+)(->>|--x|-x)(\w+): (.+)$`)
	noteLine        = regexp.MustCompile(`^    Note over (\w+)(?:,(\w+))?: (.+)$`)
	rectLine        = regexp.MustCompile(`^    rect (.+)$`)
	titleLine       = regexp.MustCompile(`^    title (.+)$`)
)

// Unescape undoes the entity codes tcplab writes (#35; #59; #lt; #gt;
// #37;), as Mermaid decodes them when it draws.
func Unescape(s string) string {
	return strings.NewReplacer("#35;", "#", "#59;", ";", "#lt;", "<", "#gt;", ">", "#37;", "%").Replace(s)
}

// Want reads what Mermaid should make of a diagram that tcplab wrote,
// line by line: its title, its participants and its messages (arrows,
// notes, rects and their ends). A line it does not know is an error.
func Want(src string) (title string, actors []Actor, msgs []Message, err error) {
	for i, l := range strings.Split(strings.TrimSuffix(src, "\n"), "\n") {
		switch {
		case l == "sequenceDiagram" || strings.HasPrefix(l, "%%"):
		case titleLine.MatchString(l):
			title = Unescape(titleLine.FindStringSubmatch(l)[1])
		case participantLine.MatchString(l):
			m := participantLine.FindStringSubmatch(l)
			name := m[1]
			if m[2] != "" {
				name = Unescape(m[2])
			}
			actors = append(actors, Actor{ID: m[1], Name: name})
		case arrowLine.MatchString(l):
			m := arrowLine.FindStringSubmatch(l)
			typ := map[string]int{"->>": Solid, "-x": SolidCross, "--x": DottedCross}[m[2]]
			msgs = append(msgs, Message{Type: typ, From: m[1], To: m[3], Text: Unescape(m[4])})
		case noteLine.MatchString(l):
			m := noteLine.FindStringSubmatch(l)
			to := m[2]
			if to == "" {
				to = m[1]
			}
			msgs = append(msgs, Message{Type: Note, From: m[1], To: to, Text: Unescape(m[3])})
		case rectLine.MatchString(l):
			msgs = append(msgs, Message{Type: RectStart, Text: rectLine.FindStringSubmatch(l)[1]})
		case l == "    end":
			msgs = append(msgs, Message{Type: RectEnd})
		default:
			return "", nil, nil, fmt.Errorf("line %d: %q is none of the lines tcplab writes", i+1, l)
		}
	}
	return title, actors, msgs, nil
}

// Check compares what Mermaid made of src with what src says (Want) and
// reports each difference as a test error, naming the diagram name.
func Check(t testing.TB, name, src string, got Diagram) {
	t.Helper()
	if got.Error != "" {
		t.Errorf("%s: Mermaid cannot read it: %s\n%s", name, got.Error, src)
		return
	}
	title, actors, msgs, err := Want(src)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	if got.Kind != "sequence" {
		t.Errorf("%s: Mermaid read a %q diagram, want sequence", name, got.Kind)
	}
	if got.Drawn && got.SVG == 0 {
		t.Errorf("%s: Mermaid drew nothing", name)
	}
	if got.Title != title {
		t.Errorf("%s: Mermaid's title = %q, want %q", name, got.Title, title)
	}
	if !slices.Equal(got.Actors, actors) {
		t.Errorf("%s: Mermaid's participants = %v, want %v", name, got.Actors, actors)
	}
	if len(got.Messages) != len(msgs) {
		t.Errorf("%s: Mermaid read %d arrows, notes and rects, want %d", name, len(got.Messages), len(msgs))
		return
	}
	for i := range msgs {
		if got.Messages[i] != msgs[i] {
			t.Errorf("%s: message %d = %+v, want %+v", name, i+1, got.Messages[i], msgs[i])
		}
	}
}
