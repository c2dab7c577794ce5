package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var updateExplain = flag.Bool("update", false, "rewrite the golden explanations in testdata/explain and the Mermaid samples of README.md and docs/OUTPUT.md")

// goldenCaptures are the captures whose explanations are pinned, and the
// names given to their hosts: two real captures on the machine's kernel
// (capture/netns_test.go made them; the client's side and the server's),
// tcplab's own capture of keepalive-mismatch, which names its hosts, and
// capture's synthetic.pcap (a far server, a capture begun mid-connection, a
// dropped final ACK, an old duplicate SYN, a SYN flood).
var goldenCaptures = []struct {
	file  string
	names string
}{
	{"linux-client.pcap", "10.77.0.1=client,10.77.0.2=server"},
	{"linux-server.pcap", ""},
	{"keepalive-mismatch.pcapng", ""},
	{"synthetic.pcap", ""},
}

// TestExplainGolden pins the text of `tcplab explain` on real captures, in
// each language (go test ./cmd/tcplab -run TestExplainGolden -update
// rewrites them).
func TestExplainGolden(t *testing.T) {
	for _, c := range goldenCaptures {
		for _, lang := range []string{"en", "zh"} {
			name := strings.TrimSuffix(c.file, filepath.Ext(c.file)) + "." + lang + ".txt"
			t.Run(name, func(t *testing.T) {
				args := []string{"explain", filepath.Join("../../capture/testdata", c.file), "--lang", lang}
				if c.names != "" {
					args = append(args, "--names", c.names)
				}
				r := tcplab(t, args...)
				if r.code != 0 {
					t.Fatalf("explain: exit %d\n%s", r.code, r.stderr)
				}
				golden := filepath.Join("testdata/explain", name)
				if *updateExplain {
					if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (go test ./cmd/tcplab -run TestExplainGolden -update writes it)", err)
				}
				if r.stdout != string(want) {
					got, wantLines := strings.Split(r.stdout, "\n"), strings.Split(string(want), "\n")
					for i := range max(len(got), len(wantLines)) {
						g, w := "", ""
						if i < len(got) {
							g = got[i]
						}
						if i < len(wantLines) {
							w = wantLines[i]
						}
						if g != w {
							t.Fatalf("%s differs at line %d:\ngot  %s\nwant %s\n(rerun with -update if the change is intended)", golden, i+1, g, w)
						}
					}
				}
			})
		}
	}
}

// TestExplainJSON checks the shape of the JSON form: a capture object, one
// object per row, a conn object per connection, an end object; a segment
// row for every TCP frame of the connections picked, state rows with
// address:port endpoints, and every cause marked as inferred.
func TestExplainJSON(t *testing.T) {
	file := "../../capture/testdata/linux-client.pcap"
	r := tcplab(t, "explain", file, "--format", "json", "--conn", ":7007,:7005")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var kinds []string
	ports := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var o struct {
			Kind          string `json:"kind"`
			From, To      string
			Local, Remote string
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		json.Unmarshal(sc.Bytes(), &o)
		kinds = append(kinds, o.Kind)
		switch o.Kind {
		case "segment", "state":
			cause := raw["cause"]
			if o.Kind == "state" {
				cause = raw["cause_of"]
			}
			if !strings.Contains(string(cause), `"inferred":`) {
				t.Errorf("%s row's cause %s is not marked inferred", o.Kind, cause)
			}
			for _, ep := range []string{o.From, o.To, o.Local, o.Remote} {
				if ep == "" {
					continue
				}
				if !strings.HasPrefix(ep, "10.77.0.") {
					t.Errorf("endpoint %q is not address:port", ep)
				}
				ports[ep[strings.LastIndexByte(ep, ':')+1:]] = true
			}
		}
	}
	if len(kinds) < 4 || kinds[0] != "capture" || kinds[len(kinds)-1] != "end" {
		t.Fatalf("kinds %v: want capture first and end last", kinds)
	}
	counts := map[string]int{}
	for _, k := range kinds {
		counts[k]++
	}
	// Connection 7007 has 13 segments, 7005 two (SYN and RST).
	if counts["segment"] != 15 || counts["conn"] != 2 || counts["state"] < 8 {
		t.Errorf("kinds %v: want 15 segments, 2 conns and the state rows of both", counts)
	}
	if !ports["7007"] || !ports["7005"] || ports["7001"] {
		t.Errorf("ports %v: want only the connections to 7007 and 7005", ports)
	}
}

func TestExplainErrors(t *testing.T) {
	file := "../../capture/testdata/linux-client.pcap"
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"explain", file, "--format", "xml"}, exitInvalid, `unknown format "xml"`},
		{[]string{"explain", file, "--conn", "x"}, exitInvalid, "--conn"},
		{[]string{"explain", file, "--names", "10.0.0.1"}, exitInvalid, "--names"},
		{[]string{"explain", file, "--notes"}, exitInvalid, "--notes needs --format mermaid"},
		{[]string{"explain", "no-such-file.pcap"}, exitInvalid, "no-such-file.pcap"},
		{[]string{"explain", "explain_test.go"}, exitInvalid, "not a pcap or pcapng file"},
	} {
		r := tcplab(t, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("tcplab %q: exit %d, stderr %q; want exit %d mentioning %q", c.args, r.code, r.stderr, c.code, c.msg)
		}
	}
}

// TestExplainWriteback writes a capture back with its explanations and
// reads the comments with tshark.
func TestExplainWriteback(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the capture back with tshark: not with -short")
	}
	tshark := needTool(t, "tshark")
	out := filepath.Join(t.TempDir(), "out.pcapng")
	r := tcplab(t, "explain", "../../capture/testdata/linux-client.pcap", "--pcap", out, "--names", "10.77.0.1=client,10.77.0.2=server")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	tr := runTool(t, tshark, "-r", out, "-N", "n", "-T", "fields", "-e", "frame.number", "-e", "ip.src_host", "-e", "frame.comment")
	if tr.code != 0 {
		t.Fatalf("%s: exit %d\n%s", tr.call, tr.code, tr.stderr)
	}
	lines := strings.Split(strings.TrimSpace(tr.stdout), "\n")
	if len(lines) != 69 {
		t.Fatalf("tshark read %d frames, want all 69", len(lines))
	}
	commented := 0
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) == 3 && f[2] != "" {
			commented++
			if f[1] != "client" && f[1] != "server" {
				t.Errorf("frame %s: source %q, want a host name from the Name Resolution Block", f[0], f[1])
			}
		}
	}
	if commented != 67 {
		t.Errorf("%d frames have a comment, want the 67 TCP frames", commented)
	}
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, "handshake 1/3: client asks server to connect") }) {
		t.Errorf("no comment explains a handshake")
	}
}
