package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/labs"
)

// listOptions are the flags of `tcplab list`.
type listOptions struct {
	topic  string
	names  bool
	format string
}

// listFormats are the values of list's and validate's --format.
var listFormats = []string{"text", "json"}

func newListCmd(e env) *cobra.Command {
	opts := &listOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the built-in labs",
		Long: `List the built-in labs by topic: handshake, close, queues, keepalive,
resets, loss, data. Each topic is a heading line; below it, one line per lab with
its name and title, sorted by name. Run a lab with tcplab run NAME; add
--explain to read what it shows and checks first.

--topic shows one topic only. --names prints nothing but the names, one per
line, in the same order, for scripts. --format json prints one JSON object
per lab instead (name, title, topic; the shape is in docs/OUTPUT.md).`,
		Example: `  tcplab list
  tcplab list --topic close
  tcplab run handshake --explain
  for lab in $(tcplab list --names); do tcplab run "$lab" > "$lab.txt"; done
  tcplab list --format json | jq -r 'select(.topic == "loss") | .name'`,
		Args: noArgs("to run a lab: tcplab run NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runList(e, opts)
		},
	}
	cmd.Flags().StringVar(&opts.topic, "topic", "", "list only the labs of `TOPIC`: "+strings.Join(topicNames(), ", "))
	cmd.Flags().BoolVar(&opts.names, "names", false, "print only the lab names, one per line")
	cmd.Flags().StringVar(&opts.format, "format", "text", "print the list in `FORMAT`: "+strings.Join(listFormats, ", "))
	completeFlags(cmd, listFormats...)
	return cmd
}

// noArgs is cobra.NoArgs with a hint at what the user may have meant.
func noArgs(hint string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("%s takes no arguments, but was given %q (%s)", cmd.CommandPath(), args[0], hint)
		}
		return nil
	}
}

// checkFormat checks the value of --format against the command's forms.
func checkFormat(format string, valid []string) error {
	if !slices.Contains(valid, format) {
		return &exitError{exitInvalid, fmt.Errorf("unknown format %q (valid: %s)", format, strings.Join(valid, ", "))}
	}
	return nil
}

// jsonListLab is one line of tcplab list --format json.
type jsonListLab struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	Topic string `json:"topic"`
}

func runList(e env, opts *listOptions) error {
	if err := checkFormat(opts.format, listFormats); err != nil {
		return err
	}
	if opts.topic != "" && !slices.Contains(topicNames(), opts.topic) {
		return &exitError{exitInvalid, fmt.Errorf("unknown topic %q (valid: %s)", opts.topic, strings.Join(topicNames(), ", "))}
	}
	if opts.names && opts.format != "text" {
		return &exitError{exitInvalid, fmt.Errorf("--names is a form of its own; drop --format %s", opts.format)}
	}
	entries, err := labs.Catalogue()
	if err != nil {
		return err
	}
	width := 0
	for _, en := range entries {
		width = max(width, len(en.Name))
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	first := true
	for _, t := range labs.ListTopics {
		if opts.topic != "" && t.Name != opts.topic {
			continue
		}
		group := slices.DeleteFunc(slices.Clone(entries), func(en labs.Entry) bool { return en.Topic != t.Name })
		if len(group) == 0 {
			continue
		}
		switch {
		case opts.format == "json":
			for _, en := range group {
				if err := enc.Encode(jsonListLab{Name: en.Name, Title: en.Title, Topic: en.Topic}); err != nil {
					return err
				}
			}
			continue
		case opts.names:
			for _, en := range group {
				fmt.Fprintln(e.stdout, en.Name)
			}
			continue
		}
		if !first {
			fmt.Fprintln(e.stdout)
		}
		first = false
		fmt.Fprintf(e.stdout, "%s — %s\n", t.Name, t.Summary)
		for _, en := range group {
			fmt.Fprintf(e.stdout, "  %-*s  %s\n", width, en.Name, en.Title)
		}
	}
	return nil
}

// topicNames are the names of labs.ListTopics, the values of --topic.
func topicNames() []string {
	var names []string
	for _, t := range labs.ListTopics {
		names = append(names, t.Name)
	}
	return names
}
