package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/labs"
)

// validateOptions are the flags of `tcplab validate`.
type validateOptions struct {
	refs   []string
	format string
}

func newValidateCmd(e env) *cobra.Command {
	opts := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate LAB...",
		Short: "Check lab files without running them",
		Long: `Check lab files without running them: syntax, unknown keys, types,
hosts, addresses, links, faults, injections and expectations. Every problem
of every file is printed as file:line:col: message. The exit code is 0 when
all labs are valid and 2 otherwise. LAB is a path, a directory (its *.toml
files, as tcplab test takes them) or a built-in lab's name.

--format json prints one JSON object per lab on standard output, valid or
not, with each problem's file, line, column and message (the shape is in
docs/OUTPUT.md).`,
		Example: `  tcplab validate my-lab.toml
  tcplab validate labs/*.toml
  tcplab validate ci/labs/
  tcplab validate ci/labs/ --format json | jq -r '.errors[]? | "\(.file):\(.line): \(.message)"'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.refs = args
			return runValidate(e, opts)
		},
		ValidArgsFunction: completeLabs,
	}
	cmd.Flags().StringVar(&opts.format, "format", "text", "print the results in `FORMAT`: "+strings.Join(listFormats, ", "))
	completeFlags(cmd, listFormats...)
	return cmd
}

// jsonValidated is one line of tcplab validate --format json.
type jsonValidated struct {
	Lab          string         `json:"lab"`
	File         string         `json:"file,omitempty"`
	Valid        bool           `json:"valid"`
	Name         string         `json:"name,omitempty"`
	Hosts        int            `json:"hosts,omitempty"`
	Expectations int            `json:"expectations,omitempty"`
	Errors       []jsonLabError `json:"errors,omitempty"`
}

// jsonLabError is one problem of a lab file; line and col are 0 when the
// problem has no position (the file cannot be read).
type jsonLabError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

// labErrors converts an error of labs.Open into its problems.
func labErrors(ref string, err error) []jsonLabError {
	var el labs.ErrorList
	if !errors.As(err, &el) {
		return []jsonLabError{{File: ref, Message: err.Error()}}
	}
	out := make([]jsonLabError, 0, len(el))
	for _, e := range el {
		out = append(out, jsonLabError{File: e.File, Line: e.Pos.Line, Col: e.Pos.Col, Message: e.Msg})
	}
	return out
}

func runValidate(e env, opts *validateOptions) error {
	if err := checkFormat(opts.format, listFormats); err != nil {
		return err
	}
	items := collectLabs(opts.refs)
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	bad := 0
	for _, it := range items {
		if it.invalid != nil {
			bad++
		}
		if opts.format == "json" {
			v := jsonValidated{Lab: it.ref, File: it.file, Valid: it.invalid == nil}
			if it.lab != nil {
				v.Name, v.Hosts, v.Expectations = it.lab.Name, len(it.lab.Hosts), len(it.lab.Expect)
			} else {
				v.Errors = labErrors(it.ref, it.invalid)
			}
			if err := enc.Encode(v); err != nil {
				return err
			}
			continue
		}
		if it.invalid != nil {
			var el labs.ErrorList
			if errors.As(it.invalid, &el) || strings.HasPrefix(it.invalid.Error(), it.ref) {
				fmt.Fprintln(e.stderr, it.invalid.Error())
			} else {
				fmt.Fprintf(e.stderr, "%s: %v\n", it.ref, it.invalid)
			}
			continue
		}
		fmt.Fprintf(e.stdout, "ok  %s (%s, %s)\n", it.ref, plural(len(it.lab.Hosts), "host"), plural(len(it.lab.Expect), "expectation"))
	}
	if bad > 0 {
		return &exitError{exitInvalid, fmt.Errorf("%d of %d labs are invalid", bad, len(items))}
	}
	return nil
}
