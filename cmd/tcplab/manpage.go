package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// manHeader is what the .TH line of every manual page says.
type manHeader struct {
	title   string // "TCPLAB"
	section string // "1"
	date    string // "2025-01-01"
	source  string // the version line
	manual  string // "tcplab manual"
}

// writeManPages writes a roff manual page for cmd and one for each of its
// commands, recursively, into dir, named after the command's path with
// dashes and the section: tcplab.1, tcplab-run.1, tcplab-completion-bash.1.
// Hidden and deprecated commands, help and help topics get none, as
// github.com/spf13/cobra/doc's GenManTree decided before tcplab wrote its
// own pages.
func writeManPages(cmd *cobra.Command, h manHeader, dir string) error {
	for _, c := range cmd.Commands() {
		if !manVisible(c) {
			continue
		}
		if err := writeManPages(c, h, dir); err != nil {
			return err
		}
	}
	name := manName(cmd) + "." + h.section
	return os.WriteFile(filepath.Join(dir, name), []byte(manPage(cmd, h)), 0o644)
}

// manName is the name of c's page: its command path with dashes,
// "tcplab-completion-bash".
func manName(c *cobra.Command) string { return strings.ReplaceAll(c.CommandPath(), " ", "-") }

// manVisible says whether c gets a manual page and a place in its
// parent's SEE ALSO.
func manVisible(c *cobra.Command) bool {
	return c.IsAvailableCommand() && !c.IsAdditionalHelpTopicCommand()
}

// manPage is the manual page of cmd: NAME, SYNOPSIS, DESCRIPTION (its
// long help, else its short), OPTIONS, OPTIONS INHERITED FROM PARENT
// COMMANDS, EXAMPLE and SEE ALSO, each when it has something to say.
func manPage(cmd *cobra.Command, h manHeader) string {
	cmd.InitDefaultHelpFlag() // -h, --help, as the command's --help lists it
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %s %s %s %s %s\n", roffArg(h.title), roffArg(h.section), roffArg(h.date), roffArg(h.source), roffArg(h.manual))
	b.WriteString(".nh\n") // no hyphenation: flags and commands stay whole
	dashed := manName(cmd)
	b.WriteString(".SH NAME\n")
	b.WriteString(roffLine(dashed+" - "+cmd.Short) + "\n")
	b.WriteString(".SH SYNOPSIS\n")
	b.WriteString(`\fB` + roffEscape(cmd.UseLine()) + `\fP` + "\n")
	b.WriteString(".SH DESCRIPTION\n")
	desc := cmd.Long
	if desc == "" {
		desc = cmd.Short
	}
	b.WriteString(roffText(desc))
	if flags := cmd.NonInheritedFlags(); flags.HasAvailableFlags() {
		b.WriteString(".SH OPTIONS\n")
		b.WriteString(roffFlags(flags))
	}
	if flags := cmd.InheritedFlags(); flags.HasAvailableFlags() {
		b.WriteString(".SH OPTIONS INHERITED FROM PARENT COMMANDS\n")
		b.WriteString(roffFlags(flags))
	}
	if cmd.Example != "" {
		b.WriteString(".SH EXAMPLE\n.EX\n")
		for _, l := range strings.Split(strings.Trim(expandTabs(cmd.Example), "\n"), "\n") {
			b.WriteString(roffLine(strings.TrimRight(l, " ")) + "\n")
		}
		b.WriteString(".EE\n")
	}
	var seeAlso []string
	if cmd.HasParent() {
		seeAlso = append(seeAlso, manName(cmd.Parent()))
	}
	children := slices.Clone(cmd.Commands())
	slices.SortFunc(children, func(a, b *cobra.Command) int { return strings.Compare(a.Name(), b.Name()) })
	for _, c := range children {
		if manVisible(c) {
			seeAlso = append(seeAlso, dashed+"-"+c.Name())
		}
	}
	if len(seeAlso) > 0 {
		b.WriteString(".SH SEE ALSO\n")
		for i, name := range seeAlso {
			seeAlso[i] = `\fB` + roffEscape(name) + "(" + h.section + `)\fP`
		}
		b.WriteString(strings.Join(seeAlso, ", ") + "\n")
	}
	return b.String()
}

// roffFlags lists the flags that are neither hidden nor deprecated, in
// the flag set's order, one tagged paragraph each: the flag with its
// default, as --flag=DEFAULT (a string's default quoted, "[=DEFAULT]"
// for a flag that may go without a value), then its usage, where a
// `NAME` in back quotes is bold.
func roffFlags(flags *pflag.FlagSet) string {
	var b strings.Builder
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Deprecated != "" || f.Hidden {
			return
		}
		tag := `\fB\-\-` + roffEscape(f.Name) + `\fP`
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			tag = `\fB\-` + roffEscape(f.Shorthand) + `\fP, ` + tag
		}
		def := f.DefValue
		if f.Value.Type() == "string" {
			def = fmt.Sprintf("%q", def)
		}
		if f.NoOptDefVal != "" {
			tag += "[=" + roffEscape(def) + "]"
		} else {
			tag += "=" + roffEscape(def)
		}
		b.WriteString(".TP\n" + tag + "\n")
		b.WriteString(roffUsage(strings.Join(strings.Fields(f.Usage), " ")) + "\n")
	})
	return b.String()
}

// roffUsage is a flag's usage as a line of roff text, where a name in back
// quotes, which --help shows as the flag's value (`FILE`), is bold.
func roffUsage(s string) string {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		switch {
		case i%2 == 0:
			b.WriteString(roffEscape(p))
		case i == len(parts)-1: // an odd back quote, without its pair
			b.WriteString("`" + roffEscape(p))
		default:
			b.WriteString(`\fB` + roffEscape(p) + `\fR`)
		}
	}
	return roffLineStart(b.String())
}

// roffText turns plain help text into roff: paragraphs, separated by blank
// lines, are filled; lines that start with a space (a list, a table, a
// command) are kept as they are, in a literal block; a line of its own
// that starts with "#" and a space (as cobra's completion help writes
// them) is a subsection heading.
func roffText(s string) string {
	var b strings.Builder
	literal := false  // inside .EX
	paragraph := true // a paragraph is open: .SH or .SS opened one
	text := false     // the open paragraph has text
	endLiteral := func() {
		if literal {
			b.WriteString(".EE\n")
			literal = false
		}
	}
	for _, l := range strings.Split(strings.Trim(expandTabs(s), "\n"), "\n") {
		l = strings.TrimRight(l, " ")
		switch {
		case l == "":
			endLiteral()
			paragraph = !text
			continue
		case strings.HasPrefix(l, "#") && strings.HasPrefix(strings.TrimLeft(l, "#"), " "):
			endLiteral()
			b.WriteString(".SS " + roffArg(strings.TrimSpace(strings.TrimLeft(l, "#"))) + "\n")
			paragraph, text = true, false // the heading opens one
			continue
		}
		if !paragraph {
			b.WriteString(".PP\n")
			paragraph, text = true, false
		}
		text = true
		indented := strings.HasPrefix(l, " ")
		if indented && !literal {
			b.WriteString(".EX\n")
			literal = true
		} else if !indented {
			endLiteral()
		}
		b.WriteString(roffLine(l) + "\n")
	}
	endLiteral()
	return b.String()
}

// expandTabs replaces each tab with the spaces to the next multiple of
// eight columns, as a terminal shows it.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		switch r {
		case '\t':
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case '\n':
			b.WriteRune(r)
			col = 0
		default:
			b.WriteRune(r)
			col++
		}
	}
	return b.String()
}

// roffLine escapes s to be a line of text: roffEscape, then
// roffLineStart.
func roffLine(s string) string {
	return roffLineStart(roffEscape(s))
}

// roffLineStart makes the escaped text s a line of text: one that would
// start with a control character, '.' or '\”, and be read as a request,
// starts with the zero-width \& instead.
func roffLineStart(s string) string {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		return `\&` + s
	}
	return s
}

// roffEscape escapes s to appear as it is in roff text: a backslash as
// \e, and a hyphen as \-, the minus sign that a flag is typed with (roff
// would print a hyphen, which cannot be pasted into a shell).
func roffEscape(s string) string {
	if !strings.ContainsAny(s, `\-`) {
		return s
	}
	return strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
}

// roffArg quotes s to be one argument of a macro: in double quotes, a
// backslash in it as \e and a double quote as \(dq. (Its hyphens stay:
// the date of .TH must read as one.)
func roffArg(s string) string {
	return `"` + strings.NewReplacer(`\`, `\e`, `"`, `\(dq`).Replace(s) + `"`
}
