package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// writeManDir runs tcplab man into a temporary directory and returns it.
func writeManDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := execute(context.Background(), []string{"man", dir}, env{stdout: &stdout, stderr: &stderr}); code != exitOK {
		t.Fatalf("tcplab man %s: exit %d\n%s", dir, code, stderr.String())
	}
	return dir
}

// TestManPages writes the manual pages and checks each: one per command
// that tcplab help lists (and per completion shell), none for hidden
// commands or help; the .TH line and the sections in order; the command's
// name, synopsis and flags, with a flag's hyphens as \-, and no hidden
// flag.
func TestManPages(t *testing.T) {
	dir := writeManDir(t)
	root := newRootCmd(env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}})
	root.InitDefaultCompletionCmd() // as Execute adds it
	want := []string{"tcplab.1", "tcplab-completion.1", "tcplab-completion-bash.1", "tcplab-completion-fish.1", "tcplab-completion-powershell.1", "tcplab-completion-zsh.1"}
	cmds := map[string]*cobra.Command{"tcplab.1": root}
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		want = append(want, "tcplab-"+c.Name()+".1")
		cmds["tcplab-"+c.Name()+".1"] = c
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("tcplab man wrote %q, want %q", got, want)
	}
	if len(want) < 10 {
		t.Errorf("only %d commands", len(want))
	}
	sections := regexp.MustCompile(`(?m)^\.SH (.*)$`)
	for name, c := range cmds {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			page := string(b)
			c.InitDefaultHelpFlag() // as tcplab man does: --help is listed
			if !regexp.MustCompile(`^\.TH "TCPLAB" "1" "\d{4}-\d\d-\d\d" "tcplab [^"]+" "tcplab manual"\n`).MatchString(page) {
				t.Errorf("%s starts %q, want a .TH line", name, page[:min(len(page), 80)])
			}
			var heads []string
			for _, m := range sections.FindAllStringSubmatch(page, -1) {
				heads = append(heads, m[1])
			}
			wantHeads := []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXAMPLE", "SEE ALSO"}
			if !slices.Equal(heads, wantHeads) {
				t.Errorf("%s has sections %q, want %q", name, heads, wantHeads)
			}
			dashed := strings.ReplaceAll(strings.ReplaceAll(c.CommandPath(), " ", "-"), "-", `\-`)
			if !strings.Contains(page, ".SH NAME\n"+dashed+` \- `+roffEscape(c.Short)+"\n") {
				t.Errorf("%s: NAME is not %q", name, dashed+` \- `+c.Short)
			}
			if !strings.Contains(page, ".SH SYNOPSIS\n\\fB"+roffEscape(c.UseLine())+"\\fP\n") {
				t.Errorf("%s: SYNOPSIS is not %q", name, c.UseLine())
			}
			c.LocalFlags().VisitAll(func(f *pflag.Flag) {
				tag := `\fB\-\-` + strings.ReplaceAll(f.Name, "-", `\-`) + `\fP`
				if has := strings.Contains(page, tag); has == f.Hidden {
					t.Errorf("%s: has %s = %v, want %v (hidden %v)", name, tag, has, !f.Hidden, f.Hidden)
				}
			})
		})
	}
	// Spot checks of what the loop above covers in general.
	run, err := os.ReadFile(filepath.Join(dir, "tcplab-run.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		".TP\n\\fB\\-\\-format\\fP=\"text\"\nprint the timeline in \\fBFORMAT\\fR: text, json, mermaid, html\n",
		".TP\n\\fB\\-h\\fP, \\fB\\-\\-help\\fP[=false]\nhelp for run\n",
		".SH SEE ALSO\n\\fBtcplab(1)\\fP\n",
		"\n.EX\n  text     an aligned listing",
	} {
		if !strings.Contains(string(run), s) {
			t.Errorf("tcplab-run.1 does not have %q", s)
		}
	}
	if bytes.Contains(run, []byte("cpuprofile")) {
		t.Errorf("tcplab-run.1 shows the hidden --cpuprofile flag")
	}
}

// TestRoffText turns help text into roff: paragraphs, a literal block,
// a heading, and the characters roff would read otherwise escaped.
func TestRoffText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"one paragraph", "Run a lab\nand print it.\n", "Run a lab\nand print it.\n"},
		{"paragraphs", "One.\n\n\nTwo.", "One.\n.PP\nTwo.\n"},
		{"leading dot", "See the\n.toml file\n'quoted' too", "See the\n\\&.toml file\n\\&'quoted' too\n"},
		{"backslash and hyphens", `a\b --flag -x well-known`, `a\eb \-\-flag \-x well\-known` + "\n"},
		{"literal block", "Forms:\n\n  text  aligned\n  json  lines\n\nEnd.", "Forms:\n.PP\n.EX\n  text  aligned\n  json  lines\n.EE\n.PP\nEnd.\n"},
		{"literal then text", "List:\n  a\n  b\nafter", "List:\n.EX\n  a\n  b\n.EE\nafter\n"},
		{"literal dot", "  .hidden", ".EX\n  .hidden\n.EE\n"},
		{"tab", "\tsource x\n", ".EX\n        source x\n.EE\n"},
		{"heading", "Once:\n\n#### Linux:\n\n\tcmd\n", "Once:\n.SS \"Linux:\"\n.EX\n        cmd\n.EE\n"},
		{"trailing spaces", "a  \n\n  \nb", "a\n.PP\nb\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := roffText(tt.in); got != tt.want {
				t.Errorf("roffText(%q) =\n%s\nwant\n%s", tt.in, got, tt.want)
			}
		})
	}
}

// TestRoffUsage makes a flag's usage roff: a name in back quotes bold, an
// odd back quote kept.
func TestRoffUsage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"write to `FILE`", `write to \fBFILE\fR`},
		{"`N` of `M`-ish", `\fBN\fR of \fBM\fR\-ish`},
		{"a ` alone", "a ` alone"},
		{".starts `X", "\\&.starts `X"},
		{`back\slash`, `back\eslash`},
	}
	for _, tt := range tests {
		if got := roffUsage(tt.in); got != tt.want {
			t.Errorf("roffUsage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestManPageRenders writes the page of a command whose help has every
// character roff treats specially, and the pages of tcplab, and checks
// them with mandoc -T lint and groff's warnings (both must be quiet) and
// that the rendered text shows the help as written.
func TestManPageRenders(t *testing.T) {
	mandoc := needTool(t, "mandoc")
	groff := needTool(t, "groff")
	root := &cobra.Command{Use: "tcplab", Short: "Test - root"}
	odd := &cobra.Command{
		Use:   "odd FILE",
		Short: "A \"quoted\" command, back\\slash",
		Long: `.starts with a dot
'starts with a quote
a \fB not bold, \\ two, --flag -x

  .literal dot
  \e literal backslash

#### Heading "quoted":

End.`,
		Example: "  tcplab odd x.toml\n.dot x\n  jq '\\(.no)'",
		Run:     func(*cobra.Command, []string) {},
	}
	odd.Flags().String("pcap-at", "send", "capture point: `POINT` is send, recv, both")
	odd.Flags().BoolP("quiet", "q", false, ".quiet: less")
	root.PersistentFlags().Int("seed", 0, "the `SEED`")
	root.AddCommand(odd)
	dir := t.TempDir()
	h := manHeader{title: "TCPLAB", section: "1", date: "2025-01-01", source: `tcplab "v1" \ x`, manual: "tcplab manual"}
	if err := writeManPages(root, h, dir); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "tcplab-odd.1")
	pages, _ := filepath.Glob(filepath.Join(writeManDir(t), "*.1"))
	pages = append(pages, page, filepath.Join(dir, "tcplab.1"))
	lint, err := exec.Command(mandoc, append([]string{"-T", "lint", "-W", "warning"}, pages...)...).CombinedOutput()
	if err != nil || len(lint) > 0 {
		t.Errorf("mandoc -T lint: %v\n%s", err, lint)
	}
	for _, p := range pages {
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", p)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("groff -man -ww %s: %v\n%s", filepath.Base(p), err, out)
		}
	}
	out, err := exec.Command(mandoc, "-T", "utf8", "-O", "width=200", page).Output()
	if err != nil {
		t.Fatalf("mandoc -T utf8 %s: %v", page, err)
	}
	text := regexp.MustCompile(".\b").ReplaceAllString(string(out), "") // bold and underline
	for _, s := range []string{
		"tcplab-odd - A \"quoted\" command, back\\slash",
		"tcplab odd FILE [flags]",
		".starts with a dot 'starts with a quote a \\fB not bold, \\\\ two, --flag -x",
		"  .literal dot\n",
		"  \\e literal backslash\n",
		"Heading \"quoted\":",
		"--pcap-at=\"send\"",
		"capture point: POINT is send, recv, both",
		"-q, --quiet[=false]",
		".quiet: less",
		"--seed=0",
		"OPTIONS INHERITED FROM PARENT COMMANDS",
		".dot x\n",
		"jq '\\(.no)'",
		"tcplab(1)",
		`tcplab "v1" \ x`,
	} {
		if !strings.Contains(text, s) {
			t.Errorf("the rendered page does not show %q:\n%s", s, text)
		}
	}
}
