package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tcplab/tcplab/labs"
)

// lookFor returns the lines --explain adds after a lab's description: the
// heading "What to look for:", then per expectation a bullet with its why
// and, below it, what it checks. Nil for a lab without expectations.
func lookFor(lab *labs.Lab) []string {
	if len(lab.Expect) == 0 {
		return nil
	}
	lines := []string{"What to look for:"}
	for i := range lab.Expect {
		x := &lab.Expect[i]
		if x.Why == "" {
			lines = append(lines, "  - "+x.String())
			continue
		}
		lines = append(lines, "  - "+x.Why, "    check: "+x.String())
	}
	return lines
}

// writeExplanation writes what --explain prints ahead of a json or mermaid
// timeline, on w (standard error): the lab's name and title, its
// description and lookFor's lines, each part only if the lab has it, then a
// blank line.
func writeExplanation(w io.Writer, lab *labs.Lab) error {
	bw := bufio.NewWriter(w)
	title := lab.Name
	if lab.Title != "" {
		title += " — " + lab.Title
	}
	fmt.Fprintln(bw, title)
	d := strings.TrimSpace(lab.Description)
	if d != "" {
		fmt.Fprintln(bw, d)
		fmt.Fprintln(bw)
	}
	l := lookFor(lab)
	for _, line := range l {
		fmt.Fprintln(bw, line)
	}
	if l != nil || d == "" {
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}
