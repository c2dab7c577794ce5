package labs

import (
	"slices"
	"testing"
	"time"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/internal/event"
	"github.com/tcplab/tcplab/tap"
)

// TestWorldErrors covers the errors of [[crashes]] and [[middleboxes]]:
// each at the position of the offending key or value.
func TestWorldErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"crash without host", withAB(`[[crashes]]`, `at = "1s"`),
			`x.toml:7:1: a crash needs host = "server"`},
		{"crash of an undefined host", withAB(`[[crashes]]`, `host = "c"`, `at = "1s"`),
			`x.toml:8:8: crash names host "c", which is not defined`},
		{"crash without at", withAB(`[[crashes]]`, `host = "a"`),
			`x.toml:7:1: a crash needs at = "10s" (when the host crashes)`},
		{"negative crash time", withAB(`[[crashes]]`, `host = "a"`, `at = "-1s"`),
			`x.toml:9:6: crash time -1s is negative`},
		{"zero reboot_after", withAB(`[[crashes]]`, `host = "a"`, `at = "1s"`, `reboot_after = "0s"`),
			`x.toml:10:16: reboot_after must be positive; leave it out for a host that never comes back`},
		{"negative reboot_after", withAB(`[[crashes]]`, `host = "a"`, `at = "1s"`, `reboot_after = "-2s"`),
			`x.toml:10:16: reboot_after -2s is negative`},
		{"overlapping crashes", withAB(`[[crashes]]`, `host = "a"`, `at = "1s"`, `reboot_after = "5s"`, `[[crashes]]`, `host = "a"`, `at = "3s"`),
			`x.toml:13:6: host "a" is already down 1s–6s (an earlier crash); its crashes must not overlap`},
		{"middlebox without kind", withAB(`[[middleboxes]]`, `link = "a"`, `idle_timeout = "5s"`),
			`x.toml:7:1: a middlebox needs kind = "nat|conntrack"`},
		{"unknown middlebox kind", withAB(`[[middleboxes]]`, `kind = "firewall"`, `link = "a"`, `idle_timeout = "5s"`),
			`x.toml:8:8: unknown middlebox kind "firewall" (want nat, conntrack)`},
		{"middlebox on an undefined host", withAB(`[[middleboxes]]`, `kind = "nat"`, `link = "c"`, `idle_timeout = "5s"`),
			`x.toml:9:8: middlebox names host "c", which is not defined`},
		{"middlebox without idle_timeout", withAB(`[[middleboxes]]`, `kind = "nat"`, `link = "a"`),
			`x.toml:7:1: a middlebox needs idle_timeout = "350s" (how long a flow may stay idle before the box forgets it)`},
		{"zero idle_timeout", withAB(`[[middleboxes]]`, `kind = "nat"`, `link = "a"`, `idle_timeout = "0s"`),
			`x.toml:10:16: idle_timeout 0s must be positive`},
		{"unknown on_forgotten", withAB(`[[middleboxes]]`, `kind = "nat"`, `link = "a"`, `idle_timeout = "5s"`, `on_forgotten = "reset"`),
			`x.toml:11:16: unknown on_forgotten action "reset" (want drop, rst)`},
		{"two boxes on one link", withAB(`[[middleboxes]]`, `name = "one"`, `kind = "nat"`, `link = "a"`, `idle_timeout = "5s"`,
			`[[middleboxes]]`, `kind = "conntrack"`, `link = "a"`, `idle_timeout = "5s"`),
			`x.toml:14:8: the link of "a" already has middlebox one; a link has at most one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadErrors(t, tt.src).Error(); got != tt.want {
				t.Errorf("Load(%q) =\n%s\nwant\n%s", tt.src, got, tt.want)
			}
		})
	}
}

// worldCase pins the note keys of one row of a crash or middlebox lab:
// a segment row by frame number, any other row by kind, host and time.
type worldCase struct {
	lab   string
	kind  tap.Kind
	frame int
	host  string
	at    time.Duration
	want  []string
	// dropped is the key of the reason in the row's sw.dropped note.
	dropped string
}

var worldCases = []worldCase{
	// The crash: endpoints closed by it, one world row, drops at the host
	// that is down, the RSTs of the rebooted host.
	{lab: "peer-reboot", kind: tap.KindState, host: "server", at: 10 * time.Second, want: []string{"st.closed.crash.listener"}},
	{lab: "peer-reboot", kind: tap.KindWorld, host: "server", at: 10 * time.Second, want: []string{"world.crash"}},
	{lab: "peer-reboot", frame: 18, want: []string{"seg.data.psh", "sw.dropped"}, dropped: "sw.hostdown"},
	{lab: "peer-reboot", kind: tap.KindWorld, host: "server", at: 15 * time.Second, want: []string{"world.reboot"}},
	{lab: "peer-reboot", frame: 24, want: []string{"seg.rst.rebooted"}},
	{lab: "peer-reboot", frame: 26, want: []string{"seg.rst.rebooted"}},
	// The middlebox: the flows it forgets, the segments it drops, the
	// RSTs it forges.
	{lab: "nat-idle-pool", kind: tap.KindWorld, host: "client-drop", at: 351025 * time.Millisecond, want: []string{"world.forgot"}},
	{lab: "nat-idle-pool", frame: 25, want: []string{"seg.data.psh", "sw.dropped"}, dropped: "sw.box.forgot"},
	{lab: "nat-idle-pool", frame: 28, want: []string{"seg.rst.box"}},
	{lab: "nat-idle-pool", frame: 47, want: []string{"seg.rst.box"}},
	{lab: "conntrack-lb", frame: 2, want: []string{"seg.hs1", "sw.dropped"}, dropped: "sw.box.unknown"},
	{lab: "conntrack-lb", frame: 20, want: []string{"seg.rst.box"}},
}

// TestWorldNotes runs the crash and middlebox labs and checks the note
// keys of their rows, and that the drops and forged RSTs carry their
// typed ground truth: the drop reason, the middlebox, the verdict.
func TestWorldNotes(t *testing.T) {
	runs := map[string]*Run{}
	for _, c := range worldCases {
		run := runs[c.lab]
		if run == nil {
			run = runLab(t, "testdata/"+c.lab+".toml")
			runs[c.lab] = run
			for _, o := range Check(run) {
				if !o.OK {
					t.Errorf("%s: %s: %s", c.lab, o.Exp, o.Message)
				}
			}
		}
		var row *tap.Row
		for _, r := range run.Rows {
			if c.frame > 0 && r.Kind == tap.KindSegment && r.No == c.frame ||
				c.frame == 0 && r.Kind == c.kind && r.Host == c.host && r.At == c.at && slices.ContainsFunc(c.want, r.HasNote) {
				row = r
				break
			}
		}
		if row == nil {
			t.Errorf("%s: no row for %+v", c.lab, c)
			continue
		}
		for _, k := range c.want {
			if !row.HasNote(k) {
				t.Errorf("%s: %s: note keys %v, want %s", c.lab, run.Tap.RowText(row, i18n.EN), row.NoteKeys(), k)
			}
		}
		if c.dropped != "" {
			i := slices.IndexFunc(row.Notes, func(m i18n.Msg) bool { return m.Key == "sw.dropped" })
			if i < 0 || len(row.Notes[i].Args) == 0 {
				t.Errorf("%s: frame %d has no drop reason", c.lab, c.frame)
			} else if m, ok := row.Notes[i].Args[0].(i18n.Msg); !ok || m.Key != c.dropped {
				t.Errorf("%s: frame %d dropped for %v, want %s", c.lab, c.frame, row.Notes[i].Args[0], c.dropped)
			}
		}
	}
	// Typed ground truth behind the notes.
	reasons := map[string][]event.DropReason{}
	for lab, run := range runs {
		for _, r := range run.Rows {
			if r.Kind == tap.KindSegment && r.Dropped != nil {
				reasons[lab] = append(reasons[lab], r.Dropped.Reason)
				if r.Dropped.Reason == event.Middlebox && r.Dropped.Box == nil {
					t.Errorf("%s: frame %d dropped by a middlebox that is not named", lab, r.No)
				}
			}
			if r.Kind == tap.KindSegment && r.HasNote("seg.rst.box") && r.Box == nil {
				t.Errorf("%s: frame %d explained as forged by a middlebox, but no middlebox forged it", lab, r.No)
			}
			if r.Kind == tap.KindSegment && r.HasNote("seg.rst.rebooted") {
				if r.Cause.Kind != event.ByArrival {
					t.Errorf("%s: frame %d: a rebooted host's RST caused by %v, want an arrival", lab, r.No, r.Cause)
				}
			}
		}
	}
	if !slices.Contains(reasons["peer-reboot"], event.HostDown) {
		t.Errorf("peer-reboot: drop reasons %v, want host_down among them", reasons["peer-reboot"])
	}
	for _, lab := range []string{"nat-idle-pool", "conntrack-lb"} {
		if !slices.Contains(reasons[lab], event.Middlebox) {
			t.Errorf("%s: drop reasons %v, want middlebox among them", lab, reasons[lab])
		}
	}
}
