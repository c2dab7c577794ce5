package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tcplab/tcplab/labs"
)

// listOptions are the flags of `tcplab list`.
type listOptions struct {
	topic string
	names bool
}

func newListCmd(e env) *cobra.Command {
	opts := &listOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the built-in labs",
		Long: `List the built-in labs by topic: handshake, close, queues, keepalive,
resets, loss. Each topic is a heading line; below it, one line per lab with
its name and title, sorted by name. Run a lab with tcplab run NAME; add
--explain to read what it shows and checks first.

--topic shows one topic only. --names prints nothing but the names, one per
line, in the same order, for scripts.`,
		Example: `  tcplab list
  tcplab list --topic close
  tcplab run handshake --explain
  for lab in $(tcplab list --names); do tcplab run "$lab" > "$lab.txt"; done`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runList(e, opts)
		},
	}
	cmd.Flags().StringVar(&opts.topic, "topic", "", "list only the labs of `TOPIC`: "+strings.Join(topicNames(), ", "))
	cmd.Flags().BoolVar(&opts.names, "names", false, "print only the lab names, one per line")
	return cmd
}

func runList(e env, opts *listOptions) error {
	if opts.topic != "" && !slices.Contains(topicNames(), opts.topic) {
		return &exitError{exitInvalid, fmt.Errorf("unknown topic %q (valid: %s)", opts.topic, strings.Join(topicNames(), ", "))}
	}
	entries, err := labs.Catalogue()
	if err != nil {
		return err
	}
	width := 0
	for _, en := range entries {
		width = max(width, len(en.Name))
	}
	first := true
	for _, t := range labs.ListTopics {
		if opts.topic != "" && t.Name != opts.topic {
			continue
		}
		group := slices.DeleteFunc(slices.Clone(entries), func(en labs.Entry) bool { return en.Topic != t.Name })
		if len(group) == 0 {
			continue
		}
		if opts.names {
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
