package main

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The JUnit XML report, in the shape CI systems (GitHub Actions reporters,
// GitLab, Jenkins) read: one testsuite, one testcase per lab.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

// junitReport builds the report of the tested labs.
func junitReport(items []*testItem, wall time.Duration) junitSuites {
	suite := junitSuite{Name: "tcplab", Time: seconds(wall)}
	for _, it := range items {
		c := junitCase{Name: it.ref, Classname: "tcplab", File: it.file}
		if it.file != "" {
			c.Classname = filepath.ToSlash(filepath.Dir(it.file))
		}
		if it.lab != nil {
			c.Name = it.lab.Name
		}
		_, w := it.totals()
		c.Time = seconds(w)
		var text strings.Builder
		var first string
		typ := "expectation"
		for _, r := range it.runs {
			if r.problem != "" && first == "" {
				first = r.problem
			}
			for _, f := range r.failures {
				if len(it.runs) > 1 {
					fmt.Fprintf(&text, "seed %d:\n", r.seed)
				}
				text.WriteString(f.detail)
				if first == "" {
					first = f.summary
					if f.golden {
						typ = "golden"
					}
				}
			}
		}
		switch st := it.status(); st {
		case "ERR":
			msg := first
			if it.invalid != nil {
				msg = "invalid lab: " + firstLine(it.invalid.Error())
				text.WriteString(it.invalid.Error())
			} else {
				text.WriteString(first)
			}
			c.Error = &junitProblem{Message: msg, Type: "error", Text: text.String()}
			suite.Errors++
		case "FAIL":
			n := 0
			for _, r := range it.runs {
				n += len(r.failures)
			}
			msg := first
			if n > 1 {
				msg += fmt.Sprintf(" (and %d more)", n-1)
			}
			c.Failure = &junitProblem{Message: msg, Type: typ, Text: text.String()}
			suite.Failures++
		case "SKIP":
			c.Skipped = &junitProblem{Message: "the lab has neither expectations nor golden timelines"}
			suite.Skipped++
		case "INT":
			c.Skipped = &junitProblem{Message: "not finished: the test run was interrupted"}
			suite.Skipped++
		}
		if it.lab != nil && len(it.runs) > 0 {
			v, _ := it.totals()
			c.SystemOut = fmt.Sprintf("%s; %s of virtual time", it.checked(false), fmtCovered(v))
		}
		suite.Cases = append(suite.Cases, c)
		suite.Tests++
	}
	return junitSuites{
		Name: "tcplab", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite},
	}
}

// writeJUnit writes the JUnit XML report to path.
func writeJUnit(path string, items []*testItem, wall time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString(xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	eerr := enc.Encode(junitReport(items, wall))
	w.WriteString("\n")
	ferr := w.Flush()
	cerr := f.Close()
	for _, err := range []error{eerr, ferr, cerr} {
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// seconds renders a duration as JUnit's time attribute: "0.123".
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// firstLine returns s up to its first line break, trimmed.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
