package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tcplab/tcplab/labs"
)

// labDir writes lab files into a new directory: name → TOML text.
func labDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// builtinText returns a built-in lab's TOML, with replacements applied;
// each old text must occur exactly once.
func builtinText(t *testing.T, name string, oldNew ...string) string {
	t.Helper()
	data, err := labs.BuiltinSource(name)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i < len(oldNew); i += 2 {
		if n := strings.Count(s, oldNew[i]); n != 1 {
			t.Fatalf("%s: %q occurs %d times, want once", name, oldNew[i], n)
		}
		s = strings.Replace(s, oldNew[i], oldNew[i+1], 1)
	}
	return s
}

// junit is the part of a JUnit XML report the tests read, parsed
// independently of the types that write it.
type junit struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Tests int    `xml:"tests,attr"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			File      string `xml:"file,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// statusLine matches a lab's line in the report: status and reference.
var statusLine = regexp.MustCompile(`(?m)^(PASS|FAIL|ERR |SKIP|INT )  (\S+)`)

// statuses returns "STATUS ref" for every lab line of a report, in order.
func statuses(out string) []string {
	var s []string
	for _, m := range statusLine.FindAllStringSubmatch(out, -1) {
		s = append(s, strings.TrimSpace(m[1])+" "+m[2])
	}
	return s
}

// TestTestCatalogue runs `tcplab test` with no argument: every built-in lab
// passes, one line each in catalogue order, exit 0.
func TestTestCatalogue(t *testing.T) {
	r := tcplab(t, "test")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	entries, err := labs.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range entries {
		want = append(want, "PASS "+e.Name)
	}
	if got := statuses(r.stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("report lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !regexp.MustCompile(`(?m)^21 labs: 21 passed \(21 runs, .* of virtual time in .* wall\)$`).MatchString(r.stdout) {
		t.Errorf("no summary line:\n%s", r.stdout)
	}
}

// TestTestSourceLabsParallel tests the built-in labs' source files, so
// that their golden timelines are compared too, under several seeds and
// with labs running in parallel: the report is the same, in the same
// order, as with one job.
func TestTestSourceLabsParallel(t *testing.T) {
	one := tcplab(t, "test", "--jobs", "1", "../../labs")
	many := tcplab(t, "test", "--jobs", "4", "--seeds", "2", "../../labs")
	for _, r := range []cliRun{one, many} {
		if r.code != 0 {
			t.Fatalf("%q: exit %d, want 0\n%s%s", r.args, r.code, r.stdout, r.stderr)
		}
	}
	if a, b := statuses(one.stdout), statuses(many.stdout); len(a) != 21 || strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("one job:\n%s\nfour jobs:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if n := strings.Count(one.stdout, "golden en zh, seed 1\n"); n != 21 {
		t.Errorf("%d labs compared with golden timelines in both languages, want 21:\n%s", n, one.stdout)
	}
	if !strings.Contains(many.stdout, "seeds 1–2") {
		t.Errorf("--seeds 2 does not show the seeds:\n%s", many.stdout)
	}
}

// TestTestJUnit checks the report and the JUnit XML for a directory with a
// passing lab, a lab whose expectation fails, a lab with nothing to check
// and an invalid lab.
func TestTestJUnit(t *testing.T) {
	dir := labDir(t, map[string]string{
		"a-pass.toml": builtinText(t, "handshake"),
		"b-fail.toml": builtinText(t, "handshake",
			"segment = \"client > server SYN,!ACK\"\ncount = 1", "segment = \"client > server SYN,!ACK\"\ncount = 2"),
		"c-none.toml": "name = \"none\"\n[[hosts]]\nname = \"a\"\nipv4 = \"10.0.0.1\"\n",
		"d-bad.toml":  "name = \"bad\"\nbogus = 1\n",
	})
	report := filepath.Join(t.TempDir(), "junit.xml")
	r := tcplab(t, "test", "--junit", report, dir)
	if r.code != exitInvalid {
		t.Errorf("exit %d, want %d (an invalid lab)\n%s%s", r.code, exitInvalid, r.stdout, r.stderr)
	}
	want := []string{
		"PASS " + filepath.Join(dir, "a-pass.toml"),
		"FAIL " + filepath.Join(dir, "b-fail.toml"),
		"SKIP " + filepath.Join(dir, "c-none.toml"),
		"ERR " + filepath.Join(dir, "d-bad.toml"),
	}
	if got := statuses(r.stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("report lines:\n%s\nwant:\n%s\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), r.stdout)
	}
	for _, s := range []string{
		"b-fail.toml:40:1: segment \"client > server SYN,!ACK\" (exactly 2)",
		"why: handshake 1/3: one SYN from the client",
		"found 1, expected exactly 2",
		"client:46449 → server:80 SYN seq=0",
		"d-bad.toml:2:1: unknown key \"bogus\"",
	} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("report lacks %q:\n%s", s, r.stdout)
		}
	}

	// Under several seeds a failure is shown once, with the seeds.
	r = tcplab(t, "test", "--seeds", "3", filepath.Join(dir, "b-fail.toml"))
	if r.code != exitFailure || strings.Count(r.stdout, "b-fail.toml:40:1") != 1 || !strings.Contains(r.stdout, "failed under seeds 1–3 of 3") {
		t.Errorf("--seeds 3: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var j junit
	if err := xml.Unmarshal(data, &j); err != nil {
		t.Fatalf("JUnit report does not parse: %v\n%s", err, data)
	}
	if j.Tests != 4 || j.Failures != 1 || j.Errors != 1 || j.Skipped != 1 || len(j.Suites) != 1 || len(j.Suites[0].Cases) != 4 {
		t.Fatalf("JUnit counts: tests=%d failures=%d errors=%d skipped=%d suites=%d\n%s", j.Tests, j.Failures, j.Errors, j.Skipped, len(j.Suites), data)
	}
	cases := j.Suites[0].Cases
	if c := cases[0]; c.Name != "handshake" || c.File != filepath.Join(dir, "a-pass.toml") || c.Classname != filepath.ToSlash(dir) ||
		c.Failure != nil || c.Error != nil || c.Skipped != nil || !regexp.MustCompile(`^\d+\.\d{3}$`).MatchString(c.Time) {
		t.Errorf("passing case: %+v", c)
	}
	f := cases[1].Failure
	if f == nil || f.Type != "expectation" ||
		!strings.Contains(f.Message, "b-fail.toml:40:1") || !strings.Contains(f.Message, "found 1, expected exactly 2") ||
		!strings.Contains(f.Text, "client:46449 → server:80 SYN seq=0") {
		t.Errorf("failing case's failure: %+v", f)
	}
	if c := cases[2]; c.Skipped == nil || c.Failure != nil {
		t.Errorf("case with nothing to check: %+v", c)
	}
	if c := cases[3]; c.Error == nil || !strings.Contains(c.Error.Message, `unknown key "bogus"`) {
		t.Errorf("invalid case: %+v", c)
	}
}

// TestTestGoldenUpdate writes golden timelines with --update, passes
// against them, and fails once one of them is changed.
func TestTestGoldenUpdate(t *testing.T) {
	dir := labDir(t, map[string]string{"close.toml": builtinText(t, "close")})
	lab := filepath.Join(dir, "close.toml")
	if r := tcplab(t, "test", "--update", dir); r.code != 0 || !strings.Contains(r.stdout, "golden written en zh") {
		t.Fatalf("--update: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	en := filepath.Join(dir, "testdata", "golden", "close.en.txt")
	for _, f := range []string{en, filepath.Join(dir, "testdata", "golden", "close.zh.txt")} {
		if data, err := os.ReadFile(f); err != nil || !strings.Contains(string(data), "TIME_WAIT") {
			t.Fatalf("golden %s: %v\n%s", f, err, data)
		}
	}
	if r := tcplab(t, "test", lab); r.code != 0 || !strings.Contains(r.stdout, "golden en zh") {
		t.Fatalf("against fresh goldens: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	data, _ := os.ReadFile(en)
	if err := os.WriteFile(en, []byte(strings.Replace(string(data), "TIME_WAIT", "TIME-WAIT", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := tcplab(t, "test", lab)
	if r.code != exitFailure || !strings.Contains(r.stdout, "the en timeline differs from "+en) ||
		!strings.Contains(r.stdout, "tcplab test --update "+lab) {
		t.Errorf("changed golden: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Another seed gives another timeline: goldens are compared under the
	// lab's own seed only.
	if r := tcplab(t, "test", "--seed", "9", lab); r.code != 0 || strings.Contains(r.stdout, "golden") {
		t.Errorf("--seed 9: exit %d, want 0 without golden comparison\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestTestExitCodes checks the exit status and message of bad command
// lines and runaway labs.
func TestTestExitCodes(t *testing.T) {
	empty := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"test", "no-such-lab"}, exitInvalid, "no built-in lab \"no-such-lab\" and no such file"},
		{[]string{"test", empty}, exitInvalid, "no lab files (*.toml) in this directory"},
		{[]string{"test", "--seeds", "0"}, exitInvalid, "--seeds must be between 1 and 10000"},
		{[]string{"test", "--seeds", "10001"}, exitInvalid, "--seeds must be between 1 and 10000"},
		{[]string{"test", "--seed", "18446744073709551615", "--seeds", "2", "close"}, exitInvalid, "do not fit in 64 bits"},
		{[]string{"test", "--max-events", "-1"}, exitInvalid, "the event budget is a whole number from 1 to 1099511627776"},
		{[]string{"test", "--update"}, exitInvalid, "--update needs lab files or directories"},
		{[]string{"test", "--junit", filepath.Join(empty, "no", "such", "dir.xml"), "close"}, exitInvalid, "--junit: cannot write into"},
		{[]string{"test", "--jobs", "0"}, exitInvalid, "--jobs must be at least 1"},
		{[]string{"test", "--update", "handshake"}, exitInvalid, "built-in lab compiled into tcplab"},
		{[]string{"test", "--update", "--seed", "3", "../../labs"}, exitInvalid, "drop --seed"},
		{[]string{"test", "--max-events", "5", "close"}, exitFailure, "ran out of its event budget"},
		{[]string{"test", "close", "handshake", "close"}, exitOK, "2 labs: 2 passed"},
	} {
		r := tcplab(t, c.args...)
		if r.code != c.code || !strings.Contains(r.stdout+r.stderr, c.want) {
			t.Errorf("%q: exit %d, want %d with %q\n%s%s", c.args, r.code, c.code, c.want, r.stdout, r.stderr)
		}
	}
}

// TestTestArguments checks how arguments become labs: a directory's
// regular, visible *.toml files only; one file given in two spellings runs
// once; a name that is both a built-in lab and a path is refused.
func TestTestArguments(t *testing.T) {
	dir := labDir(t, map[string]string{
		"a.toml":       builtinText(t, "handshake"),
		".#a.toml":     "not a lab",
		"notes.txt":    "not a lab",
		"b.toml.orig":  "not a lab",
		"close.toml":   builtinText(t, "close"),
		"zz-also.toml": builtinText(t, "handshake"),
	})
	if err := os.Mkdir(filepath.Join(dir, "sub.toml"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a.toml"), filepath.Join(dir, "link.toml")); err != nil {
		t.Fatal(err)
	}
	r := tcplab(t, "test", dir, filepath.Join(dir, "a.toml"), filepath.Join(dir, "..", filepath.Base(dir), "close.toml"))
	want := []string{
		"PASS " + filepath.Join(dir, "a.toml"),
		"PASS " + filepath.Join(dir, "close.toml"),
		"PASS " + filepath.Join(dir, "zz-also.toml"),
	}
	if got := statuses(r.stdout); r.code != 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("exit %d, report lines:\n%s\nwant:\n%s\n%s%s", r.code, strings.Join(got, "\n"), strings.Join(want, "\n"), r.stdout, r.stderr)
	}

	// A directory named like a built-in lab.
	t.Chdir(t.TempDir())
	if err := os.Mkdir("close", 0o755); err != nil {
		t.Fatal(err)
	}
	r = tcplab(t, "test", "close")
	if r.code != exitInvalid || !strings.Contains(r.stdout, "close is both a built-in lab and a path here: write ./close for the path") {
		t.Errorf("ambiguous name: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestTestJUnitValidXML checks that the JUnit report stays well-formed XML
// whatever a lab's texts hold (markup, a CDATA end); control characters are
// refused when the lab is loaded, and the report of that error is
// well-formed too.
func TestTestJUnitValidXML(t *testing.T) {
	dir := labDir(t, map[string]string{
		"odd.toml": builtinText(t, "handshake",
			"why = \"handshake 1/3: one SYN from the client\"", "why = \"red <&> ]]> end\"",
			"segment = \"client > server SYN,!ACK\"\ncount = 1", "segment = \"client > server SYN,!ACK\"\ncount = 2"),
	})
	report := filepath.Join(t.TempDir(), "junit.xml")
	if r := tcplab(t, "test", "--junit", report, dir); r.code != exitFailure {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, exitFailure, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var j junit
	if err := xml.Unmarshal(data, &j); err != nil {
		t.Fatalf("JUnit report is not well-formed: %v\n%q", err, data)
	}
	if f := j.Suites[0].Cases[0].Failure; f == nil || !strings.Contains(f.Text, "red <&> ]]> end") {
		t.Errorf("failure text lost: %+v", f)
	}

	dir = labDir(t, map[string]string{
		"bell.toml": builtinText(t, "handshake", "why = \"handshake 1/3: one SYN from the client\"", "why = \"bell\\u0007 esc\\u001b[31m red\""),
	})
	if r := tcplab(t, "test", "--junit", report, dir); r.code != exitInvalid || strings.ContainsAny(r.stdout, "\a\x1b") {
		t.Fatalf("exit %d, want %d and no control characters in the report\n%q", r.code, exitInvalid, r.stdout)
	}
	data, err = os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var j2 junit
	if err := xml.Unmarshal(data, &j2); err != nil {
		t.Fatalf("JUnit report is not well-formed: %v\n%q", err, data)
	}
	if e := j2.Suites[0].Cases[0].Error; e == nil || !strings.Contains(e.Text, "why holds the control character U+0007") {
		t.Errorf("JUnit error = %+v, want the control character named", e)
	}
}

// TestTestTimeLimitNote checks that a lab stopped by its time limit says so
// under its line.
func TestTestTimeLimitNote(t *testing.T) {
	dir := labDir(t, map[string]string{"short.toml": builtinText(t, "close", `time_limit = "5m"`, `time_limit = "30s"`)})
	r := tcplab(t, "test", dir)
	if !strings.Contains(r.stdout, "note: the run stopped at the lab's time limit (30s) with more still to happen") {
		t.Errorf("exit %d, no time-limit note:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
