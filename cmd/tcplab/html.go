package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tcplab/tcplab/i18n"
	"github.com/tcplab/tcplab/labs"
	"github.com/tcplab/tcplab/report"
	"github.com/tcplab/tcplab/topology"
)

// executeTest runs a lab for tcplab test: with an HTML directory, a report
// writer joins the run of the lab's first seed.
func executeTest(ctx context.Context, it *testItem, seed uint64, ro labs.RunOptions, dir string) (*labs.Run, *report.Writer, error) {
	r, err := labs.PrepareContext(ctx, it.lab, ro)
	if err != nil {
		return nil, nil, err
	}
	var rw *report.Writer
	if dir != "" && seed == it.seeds[0] {
		rw = newReport(r, i18n.EN)
	}
	if err := r.Go(ctx); err != nil {
		return nil, nil, err
	}
	return r, rw, nil
}

// newReport adds an HTML report writer to the run's tap.
func newReport(r *labs.Run, lang i18n.Lang) *report.Writer {
	rw := report.New(r.Tap, report.Meta{Name: r.Lab.Name, Title: r.Lab.Title, Description: r.Lab.Description, Seed: r.Seed, Lang: lang}, report.Options{})
	r.Tap.AddSink(rw)
	return rw
}

// writeReport writes the HTML report of a finished run: its end and the
// expectations' outcomes (checked says they were checked).
func writeReport(w io.Writer, rw *report.Writer, r *labs.Run, outs []labs.Outcome, checked bool) error {
	res := report.Result{End: r.Result.End, Stop: stopMsg(r), Checked: checked}
	for _, o := range outs {
		res.Outcomes = append(res.Outcomes, report.Outcome{Where: o.Exp.Where, Check: o.Exp.String(), Why: o.Exp.Why, Found: o.Message, OK: o.OK})
	}
	return rw.WriteHTML(w, res)
}

// stopMsg says why a run stopped, as a message.
func stopMsg(r *labs.Run) i18n.Msg {
	switch r.Result.Reason {
	case topology.TimeLimit:
		return i18n.M("out.stop.timelimit", fmtSeconds(r.Result.Next))
	case topology.EventLimit:
		return i18n.M("out.stop.eventlimit")
	case topology.Interrupted:
		return i18n.M("out.stop.interrupt")
	}
	return i18n.M("out.stop.idle")
}

// reportFile is where `tcplab test --html DIR` writes the report of a lab:
// DIR/NAME.html, NAME being the lab file's name without .toml, or the
// built-in lab's name.
func reportFile(dir string, it *testItem) string {
	name := it.ref
	if it.file != "" {
		name = strings.TrimSuffix(filepath.Base(it.file), ".toml")
	}
	return filepath.Join(dir, name+".html")
}

// saveReport writes a report to file.
func saveReport(file string, rw *report.Writer, r *labs.Run, outs []labs.Outcome, checked bool) error {
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	if err := writeReport(f, rw, r, outs, checked); err != nil {
		f.Close()
		return fmt.Errorf("--html: write %s: %w", file, err)
	}
	return f.Close()
}
