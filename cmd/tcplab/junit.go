package main

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
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
	Text    string `xml:",chardata"`
}

// junitReport builds the report of the tested labs: the same results,
// merged the same way, as the text report.
func junitReport(items []*testItem, wall time.Duration) junitSuites {
	suite := junitSuite{Name: "tcplab", Time: seconds(wall)}
	for _, it := range items {
		c := junitCase{Name: it.ref, Classname: "tcplab", File: it.file}
		if dir := filepath.Dir(it.file); it.file != "" && dir != "." {
			c.Classname = filepath.ToSlash(dir)
		}
		if it.lab != nil {
			c.Name = it.lab.Name
		}
		virtual, w, _ := it.totals()
		c.Time = seconds(w)
		var body strings.Builder
		it.writeFailures(&body)
		merged := it.failures()
		message := ""
		typ := ""
		if len(merged) > 0 {
			message, typ = merged[0].summary, merged[0].kind
			if len(merged) > 1 {
				message += fmt.Sprintf(" (and %d more)", len(merged)-1)
			}
		}
		switch it.status() {
		case statusInvalid:
			c.Error = &junitProblem{Message: "invalid lab: " + firstLine(it.invalid.Error()), Type: "invalid", Text: it.invalid.Error()}
			suite.Errors++
		case statusError:
			c.Error = &junitProblem{Message: message, Type: typ, Text: body.String()}
			suite.Errors++
		case statusFail:
			c.Failure = &junitProblem{Message: message, Type: typ, Text: body.String()}
			suite.Failures++
		case statusSkip:
			c.Skipped = &junitProblem{Message: "the lab has neither expectations nor golden timelines"}
			suite.Skipped++
		case statusInterrupted:
			c.Skipped = &junitProblem{Message: "not finished: the test run was interrupted"}
			suite.Skipped++
		}
		if it.lab != nil && len(it.runs) > 0 {
			c.SystemOut = fmt.Sprintf("%s; %s of virtual time", it.checked(false), fmtCovered(virtual))
		}
		suite.Cases = append(suite.Cases, c)
		suite.Tests++
	}
	return junitSuites{
		Name: "tcplab", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite},
	}
}

// writeJUnit writes the JUnit XML report to w.
func writeJUnit(w io.Writer, items []*testItem, wall time.Duration) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	eerr := enc.Encode(junitReport(items, wall))
	bw.WriteString("\n")
	return errors.Join(eerr, bw.Flush())
}

// seconds renders a duration as JUnit's time attribute: "0.123".
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// firstLine returns s up to its first line break, trimmed.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
