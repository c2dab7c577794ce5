package report_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/tcplab/tcplab/internal/mermaidjs"
	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/report"
)

var screenshots = flag.String("screenshots", "", "write the browser test's screenshots into `DIR` (default: a temporary directory)")

// pageCheck is what the browser test reads from an open report.
type pageCheck struct {
	Arrows     int      `json:"arrows"`
	Bands      []string `json:"bands"`
	EmptyBands int      `json:"emptyBands"`
	Details    int      `json:"details"`
	SegDetails int      `json:"segDetails"`
	TextEN     string   `json:"textEN"`
	TextZH     string   `json:"textZH"`
	LangAttr   string   `json:"langAttr"`
	PickedEN   string   `json:"pickedEN"`
	PickedZH   string   `json:"pickedZH"`
	Hidden     int      `json:"hidden"`
	Graphs     int      `json:"graphs"`
	ConnGraphs int      `json:"connGraphs"`
}

// checkScript measures the page as a reader would use it: it counts the
// arrows and bands the browser lays out, picks the first segment, switches
// to Chinese and back, and selects the first connection.
const checkScript = `(() => {
  const q = s => Array.from(document.querySelectorAll(s));
  const data = JSON.parse(document.getElementById("data").textContent);
  const out = {};
  out.arrows = q("#ladder g.seg").length;
  const bands = q("#ladder rect.band");
  out.bands = bands.map(b => b.getAttribute("data-state"));
  out.emptyBands = bands.filter(b => { const r = b.getBoundingClientRect(); return !(r.height > 0 && r.width > 0); }).length;
  out.details = data.details.length;
  out.segDetails = data.details.filter(d => d.k === "segment").length;
  out.graphs = q("figure.graph").length;
  out.connGraphs = q("figure.graph:not([data-g=queue])").length;
  const seg = document.querySelector("#ladder g.seg");
  if (seg) seg.dispatchEvent(new MouseEvent("click", {bubbles: true}));
  out.pickedEN = document.getElementById("detail-body").innerText;
  out.textEN = document.body.innerText;
  document.querySelector('[data-set-lang="zh"]').click();
  out.textZH = document.body.innerText;
  out.pickedZH = document.getElementById("detail-body").innerText;
  out.langAttr = document.documentElement.getAttribute("lang");
  document.querySelector('[data-set-lang="en"]').click();
  const sel = document.getElementById("conn");
  if (sel.options.length > 2) {
    sel.value = sel.options[1].value;
    sel.dispatchEvent(new Event("change"));
  }
  out.hidden = q("#ladder .hidden").length;
  sel.value = "0";
  sel.dispatchEvent(new Event("change"));
  return out;
})()`

// TestBrowser opens the report of every built-in lab, and of a 10 MB bulk
// transfer, in headless Chromium with the network cut off, and checks what
// a reader sees: no console error or exception, nothing fetched but the
// page itself, one arrow per segment drawn, a band for every state an
// endpoint entered, details on a click, and the language switch changing
// the texts (and the picked segment's explanation) to Chinese. It writes a
// screenshot of each for review (not compared).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	chrome := mermaidjs.Browser(t)
	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pages := t.TempDir()
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1400, 1000),
		// No network: every host name fails and any proxy is a dead end.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.Flag("proxy-server", "127.0.0.1:9"),
		chromedp.Flag("font-render-hinting", "none"),
	)
	defer cancel()
	bctx, bcancel := chromedp.NewContext(alloc)
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}

	entries, err := labs.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	refs := []string{}
	for _, e := range entries {
		refs = append(refs, e.Name)
	}
	refs = append(refs, "../labs/testdata/bulk.toml")
	for _, ref := range refs {
		name := strings.TrimSuffix(filepath.Base(ref), ".toml")
		t.Run(name, func(t *testing.T) {
			page, rows := reportRun(t, ref, report.Options{})
			file := filepath.Join(pages, name+".html")
			if err := os.WriteFile(file, page, 0o644); err != nil {
				t.Fatal(err)
			}
			want := expect(rows)
			got, problems, shot := openReport(t, bctx, file)
			for _, p := range problems {
				t.Errorf("%s: %s", name, p)
			}
			if name == "bulk" {
				if got.Arrows != got.SegDetails || got.Details != report.DefaultMaxRows {
					t.Errorf("bulk: %d arrows for %d segments drawn of %d rows drawn, want one arrow each and %d rows", got.Arrows, got.SegDetails, got.Details, report.DefaultMaxRows)
				}
			} else {
				if got.Arrows != want.segments {
					t.Errorf("arrows = %d, want %d (one per segment)", got.Arrows, want.segments)
				}
				bands := map[string]int{}
				for _, b := range got.Bands {
					bands[b]++
				}
				for st, n := range want.bands {
					if bands[st] != n {
						t.Errorf("bands of %s = %d, want %d", st, bands[st], n)
					}
				}
				if len(got.Bands) != sum(want.bands) {
					t.Errorf("bands = %d, want %d", len(got.Bands), sum(want.bands))
				}
			}
			if got.EmptyBands > 0 {
				t.Errorf("%d bands have no size on the page", got.EmptyBands)
			}
			checkLanguages(t, got)
			if got.Graphs == 0 && want.segments > 0 && slices.Contains([]string{"loss-recovery", "bulk", "keepalive-mismatch"}, name) {
				t.Errorf("no graph drawn")
			}
			for i, png := range shot {
				file := filepath.Join(dir, name+[]string{".png", "-graphs.png"}[i])
				if err := os.WriteFile(file, png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	t.Logf("screenshots in %s", dir)
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// checkLanguages checks that the switch to Chinese changed the page's
// texts and the picked segment's explanation.
func checkLanguages(t *testing.T, got pageCheck) {
	t.Helper()
	if got.TextEN == got.TextZH {
		t.Error("switching to 中文 did not change the page's text")
	}
	if !strings.Contains(got.TextEN, "Ladder diagram") || strings.Contains(got.TextEN, "时序图") {
		t.Errorf("English page text = %.200q..., want the English headings only", got.TextEN)
	}
	if !strings.Contains(got.TextZH, "时序图") || strings.Contains(got.TextZH, "Ladder diagram") {
		t.Errorf("Chinese page text = %.200q..., want the Chinese headings only", got.TextZH)
	}
	if got.LangAttr != "zh-CN" {
		t.Errorf("lang attribute after the switch = %q, want zh-CN", got.LangAttr)
	}
	if got.Arrows > 0 {
		if !strings.Contains(got.PickedEN, "seq") || got.PickedEN == got.PickedZH {
			t.Errorf("details of the first segment: English %.120q, Chinese %.120q; want its fields, in each language", got.PickedEN, got.PickedZH)
		}
	}
}

// openReport loads a report file in a new tab and returns what the page
// shows, the problems seen (console errors, exceptions, requests for
// anything but the page) and a screenshot.
func openReport(t *testing.T, bctx context.Context, file string) (pageCheck, []string, [][]byte) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	defer cancel()
	ctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	defer tcancel()
	var mu sync.Mutex
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	url := "file://" + file
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			problem("exception: %s", text)
		case *runtime.EventConsoleAPICalled:
			if typ := string(e.Type); typ == "error" || typ == "warning" || typ == "assert" {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problem("console %s: %s", typ, strings.Join(args, " "))
			}
		case *log.EventEntryAdded:
			if string(e.Entry.Level) == "error" {
				problem("log error: %s %s", e.Entry.Text, e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			if u := e.Request.URL; u != url && !strings.HasPrefix(u, "data:") {
				problem("the page requested %s", u)
			}
		}
	})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	enable := chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, log.Enable, cdp.Empty{})
		return err
	})
	if err := chromedp.Do(ctx, enable, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("#ladder"))); err != nil {
		t.Fatalf("open %s: %v", file, err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[pageCheck](checkScript))
	if err != nil {
		t.Fatalf("check %s: %v", file, err)
	}
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS("nav"))); err != nil {
		t.Fatalf("scroll %s: %v", file, err)
	}
	top, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", file, err)
	}
	shot := [][]byte{top}
	if got.ConnGraphs > 0 {
		if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS("#graphs figure.graph:not([data-g=queue])"))); err != nil {
			t.Fatalf("scroll %s: %v", file, err)
		}
		graphs, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", file, err)
		}
		shot = append(shot, graphs)
	}
	mu.Lock()
	defer mu.Unlock()
	return got, slices.Clone(problems), shot
}
